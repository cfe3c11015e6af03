"""Data-parallel DCGAN training under torchrun: every process trains on its share of each batch.

    torchrun --nproc_per_node 4 -m semantic_inpaint.cli -- train --data celeba:DIR --out runs/celeba ...

The result is the training of one process on the whole batch, not an approximation of it:
- every process draws the whole batch (faces, z, damage, augmentations) from the same seeded
  generator and keeps its share (`share`), so the draws are those of a single process;
- batch norm, in G and in D, normalises by the statistics of the whole batch, summed across
  the processes (`GlobalBatchNorm2d`; torch's SyncBatchNorm needs a GPU, this runs on gloo too);
- gradients are averaged across processes before each Adam step (`World.all_mean_`).
Rank 0 alone writes the checkpoint, log and samples; every rank resumes from the checkpoint,
so across machines the run folder must be shared.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.distributed.nn.functional import all_reduce

from semantic_inpaint.errors import InpaintInputError


class GlobalBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose training statistics are those of the whole batch across the processes.

    Outside a process group, or in eval mode, exactly nn.BatchNorm2d. The sums go through
    torch.distributed.nn's all_reduce, which is differentiable, so the gradient is that of the
    whole batch's normalisation. Two passes (mean, then squared deviations), as torch computes it.
    """

    def forward(self, x: Tensor) -> Tensor:
        if not (self.training and torch.distributed.is_initialized() and torch.distributed.get_world_size() > 1):
            return super().forward(x)
        count = all_reduce(x.new_tensor([x.numel() / x.shape[1]]))
        mean = all_reduce(x.sum((0, 2, 3))) / count
        centred = x - mean[:, None, None]
        var = all_reduce(centred.square().sum((0, 2, 3))) / count  # biased, as batch norm divides by it
        with torch.no_grad():
            self.num_batches_tracked.add_(1)
            momentum = self.momentum if self.momentum is not None else 1 / float(self.num_batches_tracked)
            self.running_mean.lerp_(mean.detach(), momentum)
            self.running_var.lerp_(var.detach() * count / (count - 1), momentum)  # unbiased, as torch keeps it
        scale = self.weight * torch.rsqrt(var + self.eps)
        return centred * scale[:, None, None] + self.bias[:, None, None]


def sync_batch_norm(module: nn.Module) -> nn.Module:
    """`module` with every BatchNorm2d replaced by a GlobalBatchNorm2d holding the same state."""
    for name, child in module.named_children():
        if type(child) is nn.BatchNorm2d:
            synced = GlobalBatchNorm2d(child.num_features, child.eps, child.momentum, child.affine, child.track_running_stats)
            synced.load_state_dict(child.state_dict())
            synced.train(child.training)
            setattr(module, name, synced.to(child.weight.device))
        else:
            sync_batch_norm(child)
    return module


def share(n: int, rank: int, size: int) -> slice:
    """Rank `rank`'s rows of a batch of `n` split across `size` processes."""
    if n % size:
        raise InpaintInputError(f"a batch of {n} does not split evenly across {size} processes: choose a batch size (and damaged negatives) divisible by {size}")
    return slice(rank * n // size, (rank + 1) * n // size)


def rows_of(groups: list[tuple[int, slice]]) -> Tensor:
    """This process's rows of a batch made of `groups` laid end to end, each given as its size
    and this process's share of it (`share`)."""
    rows, start = [], 0
    for size, mine in groups:
        rows.append(torch.arange(size)[mine] + start)
        start += size
    return torch.cat(rows)


__all__ = ["GlobalBatchNorm2d", "rows_of", "share", "sync_batch_norm"]

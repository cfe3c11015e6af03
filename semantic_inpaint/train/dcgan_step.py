"""One step of DCGAN training (`dcgan.train`): D on a batch of [real, fake, damaged] faces, then
G through D, then (with `reconstruction`) G and the encoder on real faces with holes, on this
process's share of the batch (`parallel`); the run's state that the step advances and the
checkpoint saves; and the damaged real faces D learns to score as fake (`damaged_negatives`)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from semantic_inpaint import distributed
from semantic_inpaint.models.dcgan import Discriminator, Generator, sample_z
from semantic_inpaint.models.encoder import Encoder
from semantic_inpaint.train import checkpoint
from semantic_inpaint.train.augment import diff_augment
from semantic_inpaint.train.encoder import random_masks
from semantic_inpaint.train.parallel import rows_of, share
from semantic_inpaint.validate import to_float

# The training log's column for rebuild_step's error, which train() writes and the model card plots.
REBUILD_COLUMN = "rebuild_mse"


@dataclass(frozen=True)
class BatchLayout:
    """D's batch, [real, fake, damaged], and this process's share of it (`parallel`)."""

    n_real: int  # real faces (and fakes) in the whole batch
    n_damaged: int  # damaged real faces in the whole batch
    mine: slice  # this process's real faces and z
    mine_damaged: slice  # this process's damaged faces
    rows: torch.Tensor | None  # this process's rows of D's batch, for the augmentation draws (None: one process)
    d_batch: int  # rows in D's whole batch
    n_rebuilt: int  # real faces with holes the encoder and G rebuild (`reconstruction`; 0 = off)
    mine_rebuilt: slice  # this process's share of them

    @classmethod
    def of(cls, batch_size: int, damaged_negatives: float, team: distributed.World, reconstruction: bool = False) -> BatchLayout:
        """Batches of `batch_size` real faces and `damaged_negatives` damaged ones per real face
        (and, with `reconstruction`, half a batch of faces to rebuild), refused if they do not
        split evenly across `team`."""
        n_damaged, n_rebuilt = round(damaged_negatives * batch_size), batch_size // 2 if reconstruction else 0
        mine, mine_damaged, mine_rebuilt = (share(n, team.rank, team.size) for n in (batch_size, n_damaged, n_rebuilt))
        groups = [(batch_size, mine), (batch_size, mine), (n_damaged, mine_damaged)]
        rows = None if team.size == 1 else rows_of(groups)
        return cls(batch_size, n_damaged, mine, mine_damaged, rows, sum(n for n, _ in groups), n_rebuilt, mine_rebuilt)


@dataclass
class Run:
    """A training run's state: the networks, their optimisers, the draws and the step reached."""

    g: Generator
    d: Discriminator
    opt_g: torch.optim.Adam
    opt_d: torch.optim.Adam
    trainable_d: list[torch.nn.Parameter]  # D's parameters but those of FreezeD's frozen convolutions
    data_gen: torch.Generator  # faces, z, damage and augmentations, drawn alike by every process
    encoder: Encoder | None = None  # trained with G on `reconstruction` (None: off)
    opt_e: torch.optim.Adam | None = None
    step: int = 0

    def state(self, config: object) -> dict:
        """What the checkpoint holds, with the training `config`'s recipe: enough to go on with
        the very arithmetic of a run not interrupted."""
        return {
            "step": self.step,
            "g": self.g.state_dict(),
            "d": self.d.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            **({"encoder": self.encoder.state_dict(), "opt_e": self.opt_e.state_dict()} if self.encoder is not None else {}),
            "data_rng": self.data_gen.get_state(),
            "torch_rng": torch.get_rng_state(),
            "config": checkpoint.recipe(config),
        }

    def restore(self, state: dict) -> None:
        """Back to where the checkpoint's `state` left off."""
        self.g.load_state_dict(state["g"]), self.d.load_state_dict(state["d"])
        self.opt_g.load_state_dict(state["opt_g"]), self.opt_d.load_state_dict(state["opt_d"])
        if self.encoder is not None:
            self.encoder.load_state_dict(state["encoder"]), self.opt_e.load_state_dict(state["opt_e"])
        self.data_gen.set_state(state["data_rng"])
        torch.set_rng_state(state["torch_rng"])
        self.step = int(state["step"])


def train_step(
    run: Run, data: torch.Tensor, layout: BatchLayout, policy: tuple[str, ...], d_only: bool, team: distributed.World, reconstruction: float = 0.0
) -> list[float]:
    """One Adam step of D on [real, fake, damaged] faces drawn from `data` (uint8), then, unless
    `d_only`, one of G (non-saturating loss) and, with `reconstruction` > 0, one of G and the
    encoder (`rebuild_step`). Returns the whole batch's loss_d, loss_g, D's mean probability of
    "real" on each of the three groups and, with `reconstruction`, the rebuilt faces' MSE."""
    # Every process draws the whole batch alike and keeps its share (`parallel`).
    idx = torch.randint(0, len(data), (layout.n_real,), generator=run.data_gen).to(data.device)
    real = to_float(data[idx], (-1, 1))
    z = sample_z(layout.n_real, run.g.z_dim, run.data_gen).to(data.device)[layout.mine]
    with torch.set_grad_enabled(not d_only):
        fake = run.g(z)
    damaged = damage(real[: layout.n_damaged], run.data_gen)[layout.mine_damaged] if layout.n_damaged else real[:0]
    real = real[layout.mine]
    groups = [real, fake.detach(), damaged]
    # One draw of augmentations per step, used in D's and G's passes alike.
    aug_state = run.data_gen.get_state()
    logits = run.d(diff_augment(torch.cat(groups), policy, run.data_gen, layout.rows, layout.d_batch)).split([len(x) for x in groups])
    loss_d = F.binary_cross_entropy_with_logits(logits[0], torch.ones_like(logits[0])) + F.binary_cross_entropy_with_logits(
        logits[1], torch.zeros_like(logits[1])
    )
    if layout.n_damaged:
        loss_d = loss_d + F.binary_cross_entropy_with_logits(logits[2], torch.zeros_like(logits[2]))
    run.opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    team.all_mean_([p.grad for p in run.trainable_d])
    run.opt_d.step()
    loss_g = torch.zeros((), device=loss_d.device)
    if not d_only:
        run.d.requires_grad_(False)
        after = run.data_gen.get_state()
        run.data_gen.set_state(aug_state)
        logits_g = run.d(diff_augment(torch.cat([real, fake, damaged]), policy, run.data_gen, layout.rows, layout.d_batch)).split([len(x) for x in groups])[1]
        run.data_gen.set_state(after)
        loss_g = F.binary_cross_entropy_with_logits(logits_g, torch.ones_like(logits_g))  # non-saturating
        run.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        team.all_mean_([p.grad for p in run.g.parameters()])
        run.opt_g.step()
        for p in run.trainable_d:
            p.requires_grad_(True)
    figures = [loss_d.detach(), loss_g.detach()] + [torch.sigmoid(x.detach()).mean() for x in logits]
    if reconstruction:
        figures.append(rebuild_step(run, data, layout, reconstruction, team) if not d_only else torch.zeros((), device=loss_d.device))
    # The whole batch's figures: each process's, averaged (its shares are equal).
    stacked = torch.stack(figures)
    team.all_mean_([stacked])
    return stacked.tolist()


def rebuild_step(run: Run, data: torch.Tensor, layout: BatchLayout, weight: float, team: distributed.World) -> torch.Tensor:
    """One Adam step of G and the encoder E on `weight` * ||G(E(x * m, m)) - x||^2 (mean squared
    error, images in [-1, 1]) for real faces x of `data` with holes m from the library's mask
    families (`random_masks`); why, in `dcgan`'s docstring. G is in eval mode here, batch norm
    on its running statistics, as the search draws. Returns this process's MSE."""
    idx = torch.randint(0, len(data), (layout.n_rebuilt,), generator=run.data_gen).to(data.device)
    m = random_masks(layout.n_rebuilt, run.data_gen).to(data.device)[layout.mine_rebuilt]
    x = to_float(data[idx[layout.mine_rebuilt]], (-1, 1))
    run.g.eval()
    error = (run.g(run.encoder(x, m)) - x).square().mean()
    run.g.train()
    run.opt_g.zero_grad(set_to_none=True), run.opt_e.zero_grad(set_to_none=True)
    (weight * error).backward()
    team.all_mean_([p.grad for p in (*run.g.parameters(), *run.encoder.parameters())])
    run.opt_g.step(), run.opt_e.step()
    return error.detach()


def damage(real: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Each face damaged one of five ways; values in [-1, 1], grey = 0."""
    n, _, h, w = real.shape
    dev = real.device
    kind = torch.randint(0, 5, (n,), generator=gen)
    out = real.clone()
    for i in range(n):
        k = int(kind[i])
        if k in (0, 4):  # a rectangular hole: grey (0) or filled from another face (4, a splice)
            hh, ww = (int(v) for v in torch.randint(12, 40, (2,), generator=gen))
            y, x = int(torch.randint(0, h - hh + 1, (1,), generator=gen)), int(torch.randint(0, w - ww + 1, (1,), generator=gen))
            out[i, :, y : y + hh, x : x + ww] = 0 if k == 0 else real[(i + 1) % n, :, y : y + hh, x : x + ww]
        elif k == 1:  # pixels dropped to grey independently
            p = float(torch.empty(1).uniform_(0.2, 0.9, generator=gen))
            keep = (torch.rand(1, h, w, generator=gen) > p).to(dev)
            out[i] *= keep
        elif k == 2:  # half of the image grey
            side = int(torch.randint(0, 4, (1,), generator=gen))
            sl = [(slice(None), slice(0, w // 2)), (slice(None), slice(w // 2, w)), (slice(0, h // 2), slice(None)), (slice(h // 2, h), slice(None))][side]
            out[i, :, sl[0], sl[1]] = 0
        else:  # additive Gaussian noise
            sigma = float(torch.empty(1).uniform_(0.1, 0.5, generator=gen))
            out[i] = (out[i] + sigma * torch.randn(out[i].shape, generator=gen).to(dev)).clamp(-1, 1)
    return out

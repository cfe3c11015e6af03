"""Evaluation and training across processes and machines with torch.distributed, launched by torchrun.

    torchrun --nproc_per_node 4 -m semantic_inpaint.cli -- evaluate --out results/ ...
    torchrun --nproc_per_node 4 -m semantic_inpaint.cli -- train --out runs/celeba ...

torchrun sets WORLD_SIZE, RANK, LOCAL_RANK and the rendezvous address. With WORLD_SIZE > 1,
`init` joins the process group (gloo on the CPU; nccl on CUDA, each process on
cuda:LOCAL_RANK); otherwise it does nothing and `world()` describes a single process,
for which every method here is trivial. The evaluation shards images by index (image i goes
to rank i % world_size); rank 0 reads the rows already done, gathers the other ranks' new rows
and writes per_image.csv and results.md. Each rank saves its own PNGs under OUT/images, so
across machines OUT should be a shared folder for rank 0's figures to find them all. Training
is data-parallel (`train.parallel`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TypeVar

import torch
import torch.distributed as dist

T = TypeVar("T")


@dataclass(frozen=True)
class World:
    """This process's place among the evaluation's processes."""

    rank: int = 0
    size: int = 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that reads and writes the result files."""
        return self.rank == 0

    def owns(self, index: int) -> bool:
        """Whether image `index` is this rank's: image i goes to rank i % size."""
        return index % self.size == self.rank

    def gather_others(self, items: list[T]) -> list[T]:
        """On rank 0, the `items` of every other rank, in rank order; [] on the other ranks.
        A collective: every rank must call it, the same number of times."""
        if self.size == 1:
            return []
        parts: list[list[T]] | None = [[] for _ in range(self.size)] if self.is_main else None
        dist.gather_object(items, parts, dst=0)
        return [x for part in parts[1:] for x in part] if parts is not None else []

    def all_mean_(self, tensors: list[torch.Tensor]) -> None:
        """Each tensor replaced, in place, by its mean over the ranks (one all_reduce for all).
        A collective, like `gather_others`."""
        if self.size == 1 or not tensors:
            return
        flat = torch.cat([t.reshape(-1) for t in tensors])
        dist.all_reduce(flat)
        flat /= self.size
        for t, part in zip(tensors, flat.split([t.numel() for t in tensors])):
            t.copy_(part.view_as(t))

    def barrier(self) -> None:
        """Wait until every rank has got here."""
        if self.size > 1:
            dist.barrier()

    def broadcast(self, obj: T) -> T:
        """Rank 0's `obj` on every rank (e.g. the rows already done, read from rank 0's disk)."""
        if self.size == 1:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]


def init(device: str | None = None) -> str | None:
    """Join torchrun's process group if WORLD_SIZE > 1; returns the device this process should use.

    `device` as asked by the user (None: CUDA when available). On CUDA each process takes
    cuda:LOCAL_RANK and the group uses nccl; on the CPU, gloo. A single process gets `device`
    back unchanged and starts nothing.
    """
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        return device
    on_cuda = device == "cuda" or (device is None and torch.cuda.is_available())
    if on_cuda:
        local = int(os.environ["LOCAL_RANK"])
        torch.cuda.set_device(local)  # gather_object's nccl buffers go to the current device
        device = f"cuda:{local}"
    dist.init_process_group("nccl" if on_cuda else "gloo")
    return device


def world() -> World:
    """The process group joined by `init`, or a single process."""
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size())
    return World()


def finish() -> None:
    """Leave the process group, if `init` joined one, once every rank has got here, so that
    no rank tears the group down while another still works in it. (Without the barrier a
    worker rank once aborted at the end with "terminate called without an active exception",
    on a 2-core CPU shared with other processes; 7 further runs did not show it.)"""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


__all__ = ["World", "finish", "init", "world"]

"""Schedules the loop consults after each step (ours; off in every preset): early stopping and
successive halving. Each keeps the state it needs; neither changes the path of a candidate it
lets go on."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor


class EarlyStopping:
    """Stop once no candidate's loss has improved by more than `min_improvement` (relative)
    over the last `patience` steps; `patience` = 0 never stops.

    It checks once per `patience` steps, so the loop has no per-step host-device
    synchronisation: in between it only keeps each candidate's lowest loss, on the device."""

    def __init__(self, patience: int, min_improvement: float, shape: tuple[int, int], device: torch.device) -> None:
        self.patience, self.min_improvement = patience, min_improvement
        self.best = torch.full(shape, float("inf"), device=device)  # each candidate's lowest loss so far
        self.mark = self.best.clone()  # `best` at the last check

    def should_stop(self, t: int, loss: Tensor) -> bool:
        """Note `loss` (N, k), the loss minimised at step t; True if the search should stop after it."""
        if not self.patience:
            return False
        torch.minimum(self.best, loss, out=self.best)
        if (t + 1) % self.patience:
            return False
        # The first check only sets the mark: there is no earlier window to compare with.
        improved = self.best < self.mark - self.min_improvement * self.mark.abs()
        if t + 1 > self.patience and not improved.any():
            return True
        self.mark.copy_(self.best)
        return False

    def keep(self, keep: Tensor) -> None:
        """Follow a halving: keep the records of the candidates at `keep` (N, k') of each image."""
        self.best, self.mark = self.best.gather(1, keep), self.mark.gather(1, keep)


class SuccessiveHalving:
    """At each of `steps`, every image keeps the better half (ceil(k / 2)) of its remaining
    candidates, ranked by the loss being minimised, and searches on with those alone.

    Candidates never interact, so with their z and Adam's moments carried over the survivors
    follow exactly the paths they would follow in the full search, and the dropped ones keep
    the z they had. `alive` (N, k) holds the original index of each remaining candidate."""

    def __init__(self, steps: Iterable[int], z: Tensor) -> None:
        n, k = z.shape[:2]
        self.steps = frozenset(steps)
        self.alive = torch.arange(k, device=z.device).expand(n, k)
        self._z_all = z.detach().clone()  # every candidate's z; a dropped one keeps the z it had

    def due(self, t: int) -> bool:
        return t in self.steps

    def halve(self, z: Tensor, opt: torch.optim.Adam, ranking: Tensor) -> tuple[Tensor, torch.optim.Adam, Tensor]:
        """The better half (lower `ranking`, (N, k)) of the candidates `z` (N, k, d) that `opt`
        steps: their z as a new leaf, a new Adam carrying their moments, and their indices
        `keep` (N, ceil(k / 2)) among the k, in order."""
        self.full(z)
        keep = ranking.topk((ranking.shape[1] + 1) // 2, dim=1, largest=False).indices.sort(dim=1).values
        state = opt.state[z]

        def gather(t: Tensor) -> Tensor:
            return t.gather(1, keep[..., None].expand(-1, -1, t.shape[-1]))

        z = gather(z.detach()).requires_grad_(True)
        new = torch.optim.Adam([z], **opt.defaults)
        # Adam starts its state only when it finds none, so these moments (and step count) carry on.
        new.state[z] = {"step": state["step"].clone(), "exp_avg": gather(state["exp_avg"]), "exp_avg_sq": gather(state["exp_avg_sq"])}
        self.alive = self.alive.gather(1, keep)
        return z, new, keep

    def full(self, z: Tensor) -> Tensor:
        """(N, K, d) every candidate's z: the remaining ones' current `z` (N, k, d), the
        dropped ones' as they were when dropped."""
        return self._z_all.scatter_(1, self.alive[..., None].expand_as(z), z.detach())

    def survivors(self) -> Tensor:
        """(N, K) bool: the candidates still searched."""
        n, k = self._z_all.shape[:2]
        return torch.zeros(n, k, dtype=torch.bool, device=self.alive.device).scatter_(1, self.alive, True)

"""`Completion`: what `complete` returns, built from the search's result (`Completion.of`)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from PIL import Image
from torch import Tensor

from semantic_inpaint.blend import HoleSystems, put_back
from semantic_inpaint.config import SearchConfig
from semantic_inpaint.io import to_pil
from semantic_inpaint.search import LossHistory, LossTerms, SearchResult, best_survivor, candidate_weights, combine


@dataclass(frozen=True)
class Completion:
    """What `complete` returns. Images are in [0, 1]; masks use 1 = known, 0 = missing.

    images      (N, 3, 64, 64) the completed images: known pixels of the input, the hole from the best candidate
                (pick='mean': from the candidates mixed by `weights`; with refine_steps: the refined best
                candidate's completion near the known pixels, search.refine.combine)
    best        (N,) index of the best candidate (lowest total loss, eq. 20, among the survivors)
    weights     (N, K) each candidate's share in the hole, summing to 1 (pick='best': 1 for the best)
    candidates  (N, K, 3, 64, 64) every candidate G(z) (recoloured with adapt='colour'), before the overlay
    losses      per-candidate loss terms at the final z, each (N, K)
    history     the loss terms along the search (NaN after a candidate was dropped by halving)
    z           (N, K, 100) the final latent vectors (a dropped candidate's z when it was dropped)
    colour      (N, K, 6) each candidate's colour numbers with adapt='colour' (search.apply_colour), else (N, K, 0)
    survivors   (N, K) bool, the candidates searched to the end: all, unless `halve_at` was set
    refined     (N, 3, 64, 64) with refine_steps: the best candidate drawn by its copy of G fine-tuned on
                the known pixels (search.refine); else None
    inputs, masks, config: what the search ran on
    """

    images: Tensor
    best: Tensor
    candidates: Tensor
    losses: LossTerms
    history: LossHistory
    z: Tensor
    colour: Tensor
    inputs: Tensor
    masks: Tensor
    config: SearchConfig
    survivors: Tensor
    weights: Tensor
    refined: Tensor | None = None

    @classmethod
    def of(cls, result: SearchResult, x: Tensor, m: Tensor, config: SearchConfig, systems: HoleSystems | None = None) -> Completion:
        """`result` on the CPU, candidates in [0, 1], and each image's hole in `x` filled as config.pick
        says (Poisson-blended with the holes' `systems` where they were factorised ahead, blend.factorise)."""
        candidates = ((result.candidates.cpu() + 1) / 2).clamp(0, 1)
        best, survivors = result.best.cpu(), result.survivors.cpu()
        refined = None if result.refined is None else ((result.refined.cpu() + 1) / 2).clamp(0, 1)
        weights = candidate_weights(result.losses.total.cpu(), survivors, config.pick, config.pick_temperature)
        images = filled(candidates, weights, refined, x, m, config, systems)
        losses, history = result.losses, result.history
        return cls(
            images=images,
            best=best,
            candidates=candidates,
            losses=LossTerms(*(t.cpu() for t in (losses.context, losses.prior, losses.landmark, losses.total))),
            history=LossHistory(history.context.cpu(), history.prior.cpu(), history.landmark.cpu(), history.landmark_steps),
            z=result.z.cpu(),
            colour=result.colour.cpu(),
            inputs=x,
            masks=m,
            config=config,
            survivors=survivors,
            weights=weights,
            refined=refined,
        )

    def image(self, i: int = 0) -> Image.Image:
        """The i-th completed image as a PIL picture."""
        return to_pil(self.images[i])

    @property
    def best_candidates(self) -> Tensor:
        """(N, 3, 64, 64) the best candidate of each image, before the overlay (and before the refinement)."""
        return self.candidates[torch.arange(len(self.best)), self.best]

    def repicked(self, pick: str, temperature: float | None = None) -> Completion:
        """The result of the same search with the hole filled by `pick` ('best' or 'mean', at
        `temperature`, default this config's pick_temperature; see SearchConfig.pick), to compare
        the two without searching again. The refinement's rendering is the best candidate's either
        way, so it stays."""
        temperature = self.config.pick_temperature if temperature is None else temperature
        config = self.config.with_overrides(pick=pick, pick_temperature=temperature)
        weights = candidate_weights(self.losses.total, self.survivors, config.pick, config.pick_temperature)
        return replace(self, images=filled(self.candidates, weights, self.refined, self.inputs, self.masks, config), weights=weights, config=config)

    def without_landmark_ranking(self) -> Completion:
        """The result `yeh2017` gives for the same search: the hard landmark loss has no gradient,
        so the z trajectory is the same with or without it, and only the choice of the best
        candidate (and so the output) changes. Ranks by lambda_1 (context + prior) instead.
        Not for 'soft': that loss steers z, so yeh2017 needs a search of its own."""
        if self.config.loss.landmark == "soft":
            raise ValueError("the soft landmark loss changed the z trajectory: run preset='yeh2017' to compare, not a re-ranking")
        if self.refined is not None:
            raise ValueError("the refinement fine-tuned G for the candidate the landmark loss picked: run the search again with landmark='none'")
        total = self.config.loss.weight * (self.losses.context + self.losses.prior)
        best = best_survivor(total, self.survivors)
        config = self.config.with_overrides(landmark="none", landmark_every=0)
        weights = candidate_weights(total, self.survivors, config.pick, config.pick_temperature)
        return replace(
            self,
            images=filled(self.candidates, weights, None, self.inputs, self.masks, config),
            best=best,
            weights=weights,
            losses=LossTerms(self.losses.context, self.losses.prior, torch.zeros_like(total), total),
            history=LossHistory(self.history.context, self.history.prior, self.history.landmark[:0], []),
            config=config,
        )

    def __repr__(self) -> str:
        n, k = self.candidates.shape[:2]
        return (
            f"Completion({n} image(s), {k} candidates, {self.config.iterations} iterations, "
            f"landmark={self.config.loss.landmark!r}, blend={self.config.blend!r}, pick={self.config.pick!r}, best={self.best.tolist()})"
        )


def mix(candidates: Tensor, weights: Tensor) -> Tensor:
    """(N, 3, H, W) the candidates (N, K, 3, H, W) mixed by `weights` (N, K): the rendering that
    fills the hole before the blend (Completion.weights; SearchConfig.pick)."""
    return torch.einsum("nk,nkchw->nchw", weights, candidates)


def filled(
    candidates: Tensor, weights: Tensor, refined: Tensor | None, x: Tensor, m: Tensor, config: SearchConfig, systems: HoleSystems | None = None
) -> Tensor:
    """(N, 3, H, W) the images `x` with their holes (`m` == 0) filled from the candidates (N, K,
    3, H, W) mixed by `weights` (N, K), by config.blend; with `refined` (N, 3, H, W), its completion
    near the known pixels (search.refine.combine). One-hot weights give the one candidate exactly
    (the other terms of the mix are zeros)."""
    picked = mix(candidates, weights)
    if refined is None:
        return put_back(picked, x, m, config.blend, systems)
    # (N, 2, 3, H, W): both renderings of a face in one call, so its Poisson system is factorised once
    both = put_back(torch.stack([refined, picked], 1), x[:, None].expand(-1, 2, -1, -1, -1), m[:, None], config.blend, systems)
    return combine(both[:, 0], both[:, 1], m, config.refine_reach)


__all__ = ["Completion", "mix"]

"""The search (eq. 14, section 3.3): Adam on a batch of K latent vectors per image, each
clamped back into [-1, 1] after every step, with the loss terms recorded along the way."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import torch
from torch import Tensor

from semantic_inpaint.config import SearchConfig
from semantic_inpaint.losses.landmarks import LandmarkDetector
from semantic_inpaint.machine import cpu_computes_bf16
from semantic_inpaint.models.landmarks import LandmarkNet
from semantic_inpaint.search.objective import LossTerms, Objective, Terms, best_survivor, check_landmark_models
from semantic_inpaint.search.refine import first_tuned, refine
from semantic_inpaint.search.schedules import EarlyStopping, SuccessiveHalving
from semantic_inpaint.search.start import initial_latents


@dataclass(frozen=True)
class LossHistory:
    """Loss terms along the search. context, prior: (T, N, K), at z before step t (T < the
    configured iterations if the search stopped early).
    landmark: (R, N, K) at the steps in landmark_steps: every step for 'soft'; for 'hard' every
    landmark_every steps (empty if 0)."""

    context: Tensor
    prior: Tensor
    landmark: Tensor
    landmark_steps: list[int]


@dataclass(frozen=True)
class SearchResult:
    z: Tensor  # (N, K, z_dim), final
    colour: Tensor  # (N, K, 6) in [-1, 1] with adapt='colour' (see apply_colour), else (N, K, 0)
    candidates: Tensor  # (N, K, 3, H, W) in [-1, 1]: G(z)
    losses: LossTerms  # at the final z
    best: Tensor  # (N,) index of the surviving candidate with the lowest total
    history: LossHistory  # a candidate dropped by halving has NaN from then on
    survivors: Tensor  # (N, K) bool: searched to the end (all True unless config.halve_at)
    refined: Tensor | None = None  # (N, 3, H, W) with config.refine_steps: the best candidate drawn by its fine-tuned G (search.refine)


class _Recorder:
    """Collects the loss terms step by step into (T, N, K) tensors that stay on the device
    (no host sync per step), each candidate at its original index; NaN marks the steps after
    halving dropped it."""

    def __init__(self, steps: int, n: int, k: int, device: torch.device, soft: bool) -> None:
        self.context, self.prior = (torch.full((steps, n, k), float("nan"), device=device) for _ in range(2))
        self.is_soft = soft
        self.soft = torch.full((steps if soft else 0, n, k), float("nan"), device=device)
        self.hard: list[Tensor] = []
        self.hard_steps: list[int] = []

    def terms(self, t: int, alive: Tensor, terms: Terms) -> None:
        self.context[t].scatter_(1, alive, terms.context)
        self.prior[t].scatter_(1, alive, terms.prior)
        if terms.landmark is not None:
            self.soft[t].scatter_(1, alive, terms.landmark)

    def hard_landmark(self, t: int, alive: Tensor, landmark: Tensor) -> None:
        self.hard.append(torch.full(self.context.shape[1:], float("nan"), device=landmark.device).scatter_(1, alive, landmark))
        self.hard_steps.append(t)

    def history(self, ran: int) -> LossHistory:
        """The record of the first `ran` steps."""
        if self.is_soft:
            landmark, steps = self.soft[:ran], list(range(ran))
        else:
            landmark = torch.stack(self.hard) if self.hard else self.context.new_empty(0, *self.context.shape[1:])
            steps = self.hard_steps
        return LossHistory(self.context[:ran], self.prior[:ran], landmark, steps)


@contextmanager
def _deterministic_cudnn() -> Iterator[None]:
    """cuDNN's deterministic convolution algorithms, for the duration of a `with` block or of a
    call of the function it decorates (nothing changes on the CPU).

    Some of cuDNN's algorithms add partial sums in a varying order, and the search amplifies
    any such difference: Adam's early steps move each coordinate of z by about lr whatever
    the size of its gradient, so a near-zero gradient that changes sign changes the path.
    Measured on an H100 before this: the same 128 centre-mask searches, run twice, differed
    on every face (PSNR of the pick by up to 4.3 dB). The setting is global in PyTorch, so
    it is restored on the way out."""
    before = torch.backends.cudnn.deterministic
    torch.backends.cudnn.deterministic = True
    try:
        yield
    finally:
        torch.backends.cudnn.deterministic = before


@_deterministic_cudnn()
def search(
    generator: torch.nn.Module,
    discriminator: torch.nn.Module,
    image: Tensor,
    mask: Tensor,
    config: SearchConfig,
    detector: LandmarkDetector | None = None,
    on_step: Callable[[int], None] | None = None,
    weights: Tensor | None = None,
    landmark_net: LandmarkNet | None = None,
    start: Tensor | None = None,
) -> SearchResult:
    """Search z for `image` (N, 3, H, W) in [-1, 1] with `mask` (N, 1, H, W), 1 = known.

    G and D (and `landmark_net`) must be frozen (see models.freeze). `detector` is required
    when config.loss.landmark == 'hard', `landmark_net` when it is 'soft'. `on_step(t)` is
    called after each step t = 0, 1, ... has moved and clamped z (and then after each step of
    the refinement, t = iterations, ...), e.g. to advance a progress bar: the search itself
    prints nothing (`complete` shows the bar).
    `weights` (N, 1, H, W) replaces the importance weights of eq. 15, e.g. all ones to
    project a whole image into G's range. `start` (N, z_dim): the encoder's guesses, which
    config.init == 'encoder' starts the candidates around (`start_points`).
    The search runs G and D with batch norm folded into their convolutions
    (models.dcgan.fold_batchnorm), and on CUDA asks cuDNN for its deterministic algorithms
    (see `_deterministic_cudnn`), so that the same inputs and seed repeat on the same device.
    """
    if on_step is not None and not callable(on_step):
        raise TypeError("search() prints nothing: pass on_step, a function of the step number, to follow it (complete() shows a bar)")
    check_landmark_models(config.loss, detector, landmark_net)
    if config.precision == "bf16" and image.device.type == "cpu" and not cpu_computes_bf16():
        warnings.warn(
            "precision='bf16' on a CPU without native bf16 (AVX-512): torch emulates it and the search runs many "
            "times slower than in fp32 (40x on a 2-core AMD EPYC, docs/performance.md); use precision='fp32', the default",
            stacklevel=3,  # past the cuDNN decorator: the caller of search()
        )
    z = initial_latents(config, generator.z_dim, len(image), start).to(image.device)
    objective = Objective.build(generator, discriminator, image, mask, config.loss, detector, landmark_net, weights)
    if config.refine_steps:
        first_tuned(objective.generator, config.refine_layers)  # a refine_layers G lacks is refused now, not after the search
    result = _adam(objective, z, config, on_step)
    if not config.refine_steps:
        return result
    z_best = torch.cat([result.z, result.colour], -1)[torch.arange(len(image)), result.best]
    later = None if on_step is None else (lambda t: on_step(config.iterations + t))
    return replace(result, refined=refine(objective, z_best, config.refine_steps, config.refine_lr, later, config.refine_layers))


def _adam(objective: Objective, z0: Tensor, config: SearchConfig, on_step: Callable[[int], None] | None) -> SearchResult:
    """Adam on z from `z0` (N, K, d), the clamp after every step, the schedules, and the
    ranking of the final candidates (eq. 20)."""
    n, k = z0.shape[:2]
    z = z0.clone().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=config.lr, betas=config.betas)
    halving = SuccessiveHalving(config.halve_at, z)
    stopping = EarlyStopping(config.patience, config.min_improvement, (n, k), z.device)
    record = _Recorder(config.iterations, n, k, z.device, soft=config.loss.landmark == "soft")
    every = config.loss.landmark_every if config.loss.landmark == "hard" else 0
    ran = config.iterations
    for t in range(config.iterations):
        # bf16 networks in the steps only, and not in the last fp32_last of them.
        terms = objective(z, bf16=config.precision == "bf16" and t < config.iterations - config.fp32_last)
        loss = objective.minimised(terms)
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()  # candidates never interact: each z gets its own gradient
        opt.step()
        with torch.no_grad():
            z.clamp_(-1, 1)
            record.terms(t, halving.alive, terms)
            if every and t % every == 0:  # the hard landmark loss, for the record only
                record.hard_landmark(t, halving.alive, objective.hard_landmark(terms.x))
        if on_step is not None:
            on_step(t)
        with torch.no_grad():
            if stopping.should_stop(t, loss):
                ran = t + 1
                break
            if halving.due(t):
                # Ranked by the loss being minimised at z before this step (the hard landmark
                # loss, which only ranks, waits for the end), so thesis and yeh2017 keep the
                # same survivors.
                z, opt, keep = halving.halve(z, opt, loss)
                stopping.keep(keep)
    with torch.no_grad():
        z = halving.full(z)
        survivors = halving.survivors()
        # In fp32 whatever the precision: a bf16 search returns the images and losses of its z.
        x, losses = objective.final(z)
    zd = objective.z_dim
    best = best_survivor(losses.total, survivors)
    return SearchResult(z=z[..., :zd], colour=z[..., zd:], candidates=x, losses=losses, best=best, history=record.history(ran), survivors=survivors)

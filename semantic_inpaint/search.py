"""The latent search (eq. 14, section 3.3): Adam on a batch of K latent vectors per image.

z starts uniform in [-1, 1] and is clamped back into [-1, 1] after every step. Each step
minimises lambda_1 (L_c + L_p) summed over candidates; the candidates do not interact (G and
D are frozen, in eval mode), so summing gives each z its own gradient, and Adam's per-element
update keeps them independent. The hard landmark loss L_d has no gradient, so it cannot change
the z trajectory: it is computed on the final candidates to rank them (eq. 20) and, if asked,
every `landmark_every` steps for the record. The soft landmark loss (losses.soft_landmarks) is
differentiable and joins the objective at every step. With `patience` > 0 the search stops early
once no candidate improves; it checks once per `patience` steps, so the loop has no per-step
host-device synchronisation. With `halve_at` (successive halving, ours; off in every preset)
each image keeps only the better half of its remaining candidates at the given steps, ranked by
the loss being minimised; since candidates never interact, the survivors follow exactly the
paths they would follow in the full search, and the dropped ones keep the z they had.
With `adapt='colour'` (ours) each candidate also carries six colour numbers c in [-1, 1],
searched and clamped with z (`apply_colour`). With `init='encoder'` (ours) the candidates start
around each image's `start`, the encoder's guess (`start_points`).
This module does no I/O and no printing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor
from tqdm.auto import tqdm

from semantic_inpaint.config import SearchConfig
from semantic_inpaint.losses.context import context_loss, importance_weights
from semantic_inpaint.losses.landmarks import LandmarkDetector, landmark_loss, masked_frames
from semantic_inpaint.losses.prior import prior_loss
from semantic_inpaint.losses.soft_landmarks import masked_points, soft_landmark_loss
from semantic_inpaint.models.dcgan import Discriminator, Generator, fold_batchnorm, sample_z
from semantic_inpaint.models.landmarks import LandmarkNet


@dataclass(frozen=True)
class LossTerms:
    """Per-candidate loss terms, each (N, K): context (eq. 16), prior (eq. 19), landmark
    (eqs. 17-18; zeros when off) and total = lambda_1 (context + prior + landmark) (eq. 20)."""

    context: Tensor
    prior: Tensor
    landmark: Tensor
    total: Tensor


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


COLOUR_DIMS = 6  # gain and bias per RGB channel
GAIN_RANGE, BIAS_RANGE = 0.5, 0.5  # c in [-1, 1] maps to gain in [0.5, 1.5], bias in [-0.5, 0.5]


def apply_colour(x: Tensor, c: Tensor) -> Tensor:
    """`x` (..., 3, H, W) in [-1, 1] with a gain and a bias per channel from `c` (..., 6) in
    [-1, 1]: gain = 1 + 0.5 c[:3], bias = 0.5 c[3:], clipped back to [-1, 1]; c = 0 is the
    identity. The ranges cover a white balance or exposure off by half, and no more: the
    transform is the same for every pixel, so it can only recolour what G draws."""
    gain = 1 + GAIN_RANGE * c[..., :3, None, None]
    bias = BIAS_RANGE * c[..., 3:, None, None]
    return (x * gain + bias).clamp(-1, 1)


def start_points(config: SearchConfig, z_dim: int, start: Tensor | None = None) -> Tensor:
    """The K starting latents, (K, z_dim) for init='uniform' or (N, K, z_dim) around `start`
    (N, z_dim) for init='encoder'; on the CPU, drawn from config.seed.

    Uniform starts are the same K draws for every image, so an image's result does not depend on
    the batch it is in; with the encoder, the first K - round(K * init_uniform) candidates start
    at the guess (candidate 0) and at the guess plus the same seeded noise for every image."""
    gen = torch.Generator().manual_seed(config.seed)
    k = config.candidates
    uniform = sample_z(k, z_dim, gen)
    if config.init == "uniform":
        return uniform
    if start is None or start.ndim != 2 or start.shape[1] != z_dim:
        raise ValueError(f"init='encoder' needs start (N, {z_dim}), the encoder's guesses")
    guided = k - round(k * config.init_uniform)
    noise = torch.randn(guided, z_dim, generator=gen) * config.init_spread
    noise[0] = 0
    around = (start.detach().float().cpu()[:, None] + noise).clamp(-1, 1)
    return torch.cat([around, uniform[guided:].expand(len(start), -1, -1)], dim=1)


def best_survivor(total: Tensor, survivors: Tensor) -> Tensor:
    """(N,) index of the lowest `total` (N, K) among each image's `survivors` (N, K) bool: the
    output of eq. 20's ranking when halving dropped some candidates (all survive otherwise)."""
    return total.masked_fill(~survivors, float("inf")).argmin(dim=1)


def _landmark_terms(x: Tensor, mask: Tensor, reference: Tensor, detector: LandmarkDetector, threshold: float) -> Tensor:
    n, k = x.shape[:2]
    frames = masked_frames(x.flatten(0, 1), mask.repeat_interleave(k, 0))
    points = torch.from_numpy(detector(frames)).view(n, k, 68, 2)
    return landmark_loss(points, reference[:, None], threshold).to(x.device)


def _halve(
    z: Tensor, opt: torch.optim.Adam, alive: Tensor, ranking: Tensor, z_all: Tensor, lr: float, betas: tuple[float, float]
) -> tuple[Tensor, torch.optim.Adam, Tensor, Tensor]:
    """Keep each image's better half (lower `ranking`, (N, k)) of the candidates: z and Adam's
    moments are gathered, so every survivor goes on exactly as it would have. Writes the
    current z of all k into `z_all` (N, K, z_dim) at their original indices `alive` first."""
    z_all.scatter_(1, alive[..., None].expand_as(z), z.detach())
    keep = ranking.topk((ranking.shape[1] + 1) // 2, dim=1, largest=False).indices.sort(dim=1).values
    state = opt.state[z]

    def gather(t: Tensor) -> Tensor:
        return t.gather(1, keep[..., None].expand(-1, -1, t.shape[-1]))

    z = gather(z.detach()).requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr, betas=betas)
    # Adam starts its state only when it finds none, so these moments (and step count) carry on.
    opt.state[z] = {"step": state["step"].clone(), "exp_avg": gather(state["exp_avg"]), "exp_avg_sq": gather(state["exp_avg_sq"])}
    return z, opt, alive.gather(1, keep), keep


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
    generator: Generator,
    discriminator: Discriminator,
    image: Tensor,
    mask: Tensor,
    config: SearchConfig,
    detector: LandmarkDetector | None = None,
    progress: bool | None = None,
    weights: Tensor | None = None,
    landmark_net: LandmarkNet | None = None,
    start: Tensor | None = None,
) -> SearchResult:
    """Search z for `image` (N, 3, H, W) in [-1, 1] with `mask` (N, 1, H, W), 1 = known.

    G and D (and `landmark_net`) must be frozen (see models.freeze). `detector` is required
    when config.loss.landmark == 'hard', `landmark_net` when it is 'soft'. `progress`: None
    shows a bar only in interactive runs.
    `weights` (N, 1, H, W) replaces the importance weights of eq. 15, e.g. all ones to
    project a whole image into G's range. `start` (N, z_dim): the encoder's guesses, which
    config.init == 'encoder' starts the candidates around (`start_points`).
    The search runs G and D with batch norm folded into their convolutions
    (models.dcgan.fold_batchnorm), and on CUDA asks cuDNN for its deterministic algorithms
    (see `_deterministic_cudnn`), so that the same inputs and seed repeat on the same device.
    """
    lc_cfg = config.loss
    n, k, device = image.shape[0], config.candidates, image.device
    # Batch norm folded into the convolutions: the same function up to round-off, without
    # batch norm's passes over the activations: a step 1.2x (fp32) to 1.4x (bf16) faster on an
    # H100, about 1.07x on the 2-core CPU (docs/performance.md).
    generator, discriminator = (fold_batchnorm(m) if isinstance(m, (Generator, Discriminator)) else m for m in (generator, discriminator))
    use_landmarks, soft = lc_cfg.landmark == "hard", lc_cfg.landmark == "soft"
    if use_landmarks and detector is None:
        raise ValueError("config.loss.landmark == 'hard' needs a LandmarkDetector")
    if soft and landmark_net is None:
        raise ValueError("config.loss.landmark == 'soft' needs a LandmarkNet")

    # Drawn on the CPU from the seed, so the start is the same on every device, and it does
    # not depend on the batch an image is in (evaluation numbers stay the same whatever the
    # batch size or number of processes).
    zd = generator.z_dim
    z0 = start_points(config, zd, start).expand(n, k, zd)
    if config.adapt == "colour":
        # The colour numbers ride along as extra coordinates of z, starting at the identity:
        # Adam, the clamp to [-1, 1] and halving then treat them as they treat z.
        z0 = torch.cat([z0, torch.zeros(n, k, COLOUR_DIMS)], dim=2)
    z = z0.to(device).clone().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=config.lr, betas=config.betas)
    if weights is None:
        weights = importance_weights(mask, lc_cfg.window)
    # bf16: only the networks run under autocast, and only in the search steps; their outputs
    # go back to fp32 before the losses, so the loss sums, the gradient reaching z and Adam's
    # state stay fp32. The soft loss's reference points and the final candidates are computed
    # in fp32, so a bf16 search returns exactly the images and losses of the z it found.
    low = config.precision == "bf16"

    def net(fn: Callable[..., Tensor], *args: object, bf16: bool = False) -> Tensor:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            return fn(*args).float()

    reference = None
    if use_landmarks:
        ref_points = detector(masked_frames(image, mask))
        detector.check_readable(ref_points)
        reference = torch.from_numpy(ref_points)
    elif soft:
        with torch.no_grad():
            reference = net(masked_points, landmark_net, image, mask)[:, None]  # (N, 1, 68, 2)

    def evaluate(zz: Tensor, bf16: bool = False) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
        kk = zz.shape[1]  # k, or fewer after halving
        x = net(generator, zz[..., :zd].flatten(0, 1), bf16=bf16).view(n, kk, *image.shape[1:])
        if zz.shape[-1] > zd:
            x = apply_colour(x, zz[..., zd:])
        lc = context_loss(x, image, weights)
        lp = prior_loss(net(discriminator, x.flatten(0, 1), bf16=bf16).view(n, kk), lc_cfg.prior_weight)
        ld = None
        if soft:
            points = net(masked_points, landmark_net, x.flatten(0, 1), mask.repeat_interleave(kk, 0), bf16=bf16).view(n, kk, 68, 2)
            ld = soft_landmark_loss(points, reference, lc_cfg.landmark_threshold, lc_cfg.landmark_tau)
        return x, lc, lp, ld

    steps = config.iterations
    # NaN marks the steps after a candidate was dropped by halving.
    hist_c = torch.full((steps, n, k), float("nan"), device=device)
    hist_p = torch.full((steps, n, k), float("nan"), device=device)
    hist_l, landmark_steps = [], []
    hist_soft = torch.full((steps if soft else 0, n, k), float("nan"), device=device)
    alive = torch.arange(k, device=device).expand(n, k)  # (N, k now): original index of each candidate
    z_all = z.detach().clone()  # every candidate's z; a dropped one keeps the z it had
    halve_at = set(config.halve_at)
    best = torch.full((n, k), float("inf"), device=device)  # each candidate's lowest loss so far
    best_at_check = best.clone()
    ran = steps
    for t in tqdm(range(steps), disable=None if progress is None else not progress, desc="search", leave=False):
        x, lc, lp, ld = evaluate(z, bf16=low and t < steps - config.fp32_last)
        per_candidate = lc_cfg.weight * (lc + lp + (ld if soft else 0))
        loss = per_candidate.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            z.clamp_(-1, 1)
            hist_c[t].scatter_(1, alive, lc)  # stays on the device: no host sync per step
            hist_p[t].scatter_(1, alive, lp)
            if soft:
                hist_soft[t].scatter_(1, alive, ld)
            if use_landmarks and lc_cfg.landmark_every and t % lc_cfg.landmark_every == 0:
                ld_t = _landmark_terms(x, mask, reference, detector, lc_cfg.landmark_threshold)
                hist_l.append(torch.full((n, k), float("nan"), device=device).scatter_(1, alive, ld_t))
                landmark_steps.append(t)
            if config.patience:
                torch.minimum(best, per_candidate, out=best)
                if (t + 1) % config.patience == 0:
                    # One host sync per `patience` steps: has any candidate improved enough
                    # since the last check? (The first check only sets the mark.)
                    improved = best < best_at_check - config.min_improvement * best_at_check.abs()
                    if t + 1 > config.patience and not improved.any():
                        ran = t + 1
                        break
                    best_at_check.copy_(best)
            if t in halve_at:
                # Ranked by the loss being minimised at z before this step (the hard landmark
                # loss, which only ranks, waits for the end), so thesis and yeh2017 keep the
                # same survivors.
                z, opt, alive, keep = _halve(z, opt, alive, per_candidate, z_all, config.lr, config.betas)
                best, best_at_check = best.gather(1, keep), best_at_check.gather(1, keep)

    with torch.no_grad():
        z = z_all.scatter_(1, alive[..., None].expand_as(z), z.detach())
        survivors = torch.zeros(n, k, dtype=torch.bool, device=device).scatter_(1, alive, True)
        x, lc, lp, ld = evaluate(z)
        if use_landmarks:
            ld = _landmark_terms(x, mask, reference, detector, lc_cfg.landmark_threshold)
        elif not soft:
            ld = torch.zeros_like(lc)
        total = lc_cfg.weight * (lc + lp + ld)
    if soft:
        hist_landmark, landmark_steps = hist_soft[:ran], list(range(ran))
    else:
        hist_landmark = torch.stack(hist_l) if hist_l else torch.empty(0, n, k, device=device)
    return SearchResult(
        z=z[..., :zd],
        colour=z[..., zd:],
        candidates=x,
        losses=LossTerms(lc, lp, ld, total),
        best=best_survivor(total, survivors),
        history=LossHistory(hist_c[:ran], hist_p[:ran], hist_landmark, landmark_steps),
        survivors=survivors,
    )

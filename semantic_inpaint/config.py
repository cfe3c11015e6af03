"""Configuration as small frozen dataclasses, with the named presets of the method.

`thesis`  context + prior + hard dlib landmark loss (eqs. 15-20), K = 64, 1000 Adam steps.
`yeh2017` context + prior only: Yeh et al. 2017, "Semantic Image Inpainting" (SI in the tables).
`structure` context + prior + the soft landmark loss (the project's extension): a CNN distilled
          from dlib and a sigmoid threshold, so the landmark term steers z.
`adapt`   yeh2017 plus a colour transform per candidate searched with z (ours): for real
          photos whose lighting the generator has not seen.
`fast`    yeh2017 started from the encoder's guess (ours, the learned start), K = 16 and 100
          steps (a tenth of the steps, a quarter of the candidates), then the refinement (ours:
          G fine-tuned on the known pixels, search.refine), Poisson blending.
Override any field: `complete(img, mask, preset="thesis", iterations=200, seed=3)`, or
`dataclasses.replace(THESIS, ...)`.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field, fields, replace
from typing import Literal

from semantic_inpaint.errors import InpaintInputError

Landmark = Literal["none", "hard", "soft"]
Blend = Literal["overlay", "poisson"]
Precision = Literal["fp32", "bf16"]
Adapt = Literal["none", "colour"]
Init = Literal["uniform", "encoder"]
Pick = Literal["best", "mean"]


def check_numbers(config: object, ints: tuple[str, ...], floats: tuple[str, ...]) -> None:
    """Refuse a field of the dataclass `config` among `ints` that is not a whole number, or among
    `floats` that is not a number (a bool is neither, though Python counts it as an int), naming
    the field and an example; store them as plain int and float (numpy's kinds would not go into
    settings.json or a checkpoint's record)."""
    defaults = {f.name: f.default for f in fields(config)}
    for names, kind, want in ((ints, numbers.Integral, "a whole number (int)"), (floats, numbers.Real, "a number")):
        for name in names:
            value = getattr(config, name)
            if isinstance(value, bool) or not isinstance(value, kind):
                raise InpaintInputError(f"{name} must be {want}, got {value!r} ({type(value).__name__}); e.g. {name}={defaults[name]!r}")
            object.__setattr__(config, name, int(value) if kind is numbers.Integral else float(value))


def check_ranges(config: object, bounds: dict[str, tuple[float, float]], positive: tuple[str, ...] = ()) -> None:
    """Refuse a number field of `config` outside its [low, high] in `bounds`, or one of
    `positive` that is not > 0; NaN and infinity are refused too. The message names the field,
    what it must be and its default. Run `check_numbers` first."""
    defaults = {f.name: f.default for f in fields(config)}
    wants = {name: (low, high, f">= {low}" if high == math.inf else f"in [{low}, {high}]") for name, (low, high) in bounds.items()}
    wants |= {name: (0.0, math.inf, "> 0") for name in positive}
    for name, (low, high, want) in wants.items():
        value = getattr(config, name)
        if not (math.isfinite(value) and low <= value <= high) or (name in positive and value == 0):
            raise InpaintInputError(f"{name} must be {want}, got {value!r}; e.g. {name}={defaults[name]!r}")


def check_betas(config: object) -> None:
    """Refuse `config.betas` unless it is two numbers in [0, 1) (Adam's decay rates); store it as a
    tuple of floats."""
    betas = tuple(config.betas) if isinstance(config.betas, (tuple, list)) else ()
    if len(betas) != 2 or not all(isinstance(b, numbers.Real) and not isinstance(b, bool) and 0 <= b < 1 for b in betas):
        default = next(f.default for f in fields(config) if f.name == "betas")
        raise InpaintInputError(f"betas must be two numbers in [0, 1) (Adam's decay rates), got {config.betas!r}; e.g. betas={default!r}")
    object.__setattr__(config, "betas", tuple(float(b) for b in betas))


@dataclass(frozen=True)
class LossConfig:
    """The loss of eq. 20, L = lambda_1 (L_c + L_p + L_d)."""

    window: int = 7  # eq. 15: side of the importance-weight window N(i)
    prior_weight: float = 0.003  # eq. 19: lambda
    weight: float = 1.0  # eq. 20: lambda_1, the common weight
    landmark: Landmark = "hard"  # eqs. 17-18: 'hard' dlib (thesis), 'soft' distilled CNN (ours), 'none' (Yeh et al.)
    landmark_threshold: float = 3.0  # eqs. 17-18: px off before a coordinate costs 0.5
    landmark_tau: float = 1.0  # 'soft' only: width (px) of the sigmoid that replaces the step
    landmark_every: int = 0  # also report L_d every this many steps (0: only at the end, for ranking)

    def __post_init__(self) -> None:
        check_numbers(self, ("window", "landmark_every"), ("prior_weight", "weight", "landmark_threshold", "landmark_tau"))
        if self.window < 1 or self.window % 2 == 0:
            raise InpaintInputError(f"window must be a positive odd number (a centred window), got {self.window}")
        if self.landmark not in ("none", "hard", "soft"):
            raise InpaintInputError(f"landmark must be 'none', 'hard' or 'soft', got {self.landmark!r}")
        if not (math.isfinite(self.prior_weight) and self.prior_weight >= 0):
            raise InpaintInputError(f"prior_weight (lambda, eq. 19) must be finite and >= 0 (0 = no prior loss), got {self.prior_weight}")
        if not (math.isfinite(self.weight) and self.weight > 0):
            raise InpaintInputError(
                f"weight (lambda_1, eq. 20) must be finite and > 0, got {self.weight}: it scales every loss, so 0 leaves nothing to search; use 1.0"
            )
        if not (math.isfinite(self.landmark_threshold) and self.landmark_threshold > 0):
            raise InpaintInputError(f"landmark_threshold must be > 0 px (how far off a landmark may be before it costs), got {self.landmark_threshold}")
        if not self.landmark_tau > 0:
            raise InpaintInputError(f"landmark_tau must be > 0 px, got {self.landmark_tau}")
        if self.landmark_every < 0:
            raise InpaintInputError(f"landmark_every must be >= 0 (0 = only at the end), got {self.landmark_every}")


@dataclass(frozen=True)
class SearchConfig:
    """The Adam search on z (eq. 14, section 3.3) and what happens to its result."""

    iterations: int = 1000
    candidates: int = 64  # K latent vectors searched per image
    lr: float = 0.01
    betas: tuple[float, float] = (0.9, 0.999)
    seed: int = 0  # z's initialisation; the same seed gives the same output on the same device
    blend: Blend = "overlay"  # 'poisson': Pérez et al. 2003, as Yeh et al.; the thesis skipped it
    # Early stopping (ours; off in every preset): stop once no candidate's loss has improved by
    # more than `min_improvement` (relative) over the last `patience` steps. 0 = run all steps.
    patience: int = 0
    min_improvement: float = 1e-3
    # Successive halving (ours; off in every preset): at each of these steps every image keeps
    # the better half of its remaining candidates, ranked by the loss being minimised, and
    # searches on with those alone. (400, 700) runs 62.6 % of the candidate-steps of a
    # 1000-step search and measured the same picks on the CPU (on a GPU the smaller batch also
    # changes the round-off, which moves some picks either way); earlier halving drops
    # candidates that win late (docs/performance.md).
    halve_at: tuple[int, ...] = ()
    # 'bf16': the networks under bf16 autocast in the search steps (z, the losses, Adam's state
    # and the final render stay fp32). It pays where bf16 runs faster than fp32: GPUs, and CPUs
    # such as AMD Zen 4 (1.9x per step measured); on an Intel Xeon without AMX it measured
    # 0.94x. It changes which candidate wins on some faces (docs/performance.md), so every
    # preset stays fp32.
    precision: Precision = "fp32"
    # With 'bf16': the last this many steps run in fp32, so that the final losses settle closer
    # to fp32's before the ranking (bf16 leaves them ~1 % higher; 300 steps took the median
    # offset to +0.2 - 0.9 %). It does not restore fp32's picks (docs/performance.md).
    fp32_last: int = 0
    # 'colour' (ours; off in thesis and yeh2017): each candidate also carries a gain and a bias
    # per colour channel, searched with z, so a generator that has not seen this face's
    # lighting and white balance can still match its known pixels. Six numbers a candidate
    # cannot copy the context into the hole (see search.apply_colour).
    adapt: Adapt = "none"
    # 'encoder' (ours; the `fast` preset): candidates start around the encoder's guess for each
    # image (models.encoder) instead of uniformly; `init_uniform` of them keep a uniform start,
    # so the search still explores. Candidate 0 starts at the guess itself, the others at the
    # guess plus Gaussian noise of standard deviation `init_spread`, clamped to [-1, 1].
    init: Init = "uniform"
    init_uniform: float = 0.5
    init_spread: float = 0.2
    # Refinement (ours; off in thesis and yeh2017; search.refine): after the search, a copy of G
    # for each image is fine-tuned on that image's known pixels for `refine_steps` Adam steps of
    # size `refine_lr`, with the best z held fixed (Deep Generative Prior, Pan et al. 2020), and
    # its completion is trusted by distance to the nearest known pixel: fully on the hole's rim,
    # fading as exp(-(d - 1) / refine_reach) inside it, where nothing held G to the face and the
    # unrefined candidate's completion stays. 0 steps = off.
    refine_steps: int = 0
    refine_lr: float = 1e-4
    refine_reach: float = 2.0
    # The refinement fine-tunes G's last `refine_layers` transposed convolutions (of five; None:
    # all of G). The earlier layers keep their trained weights, so with z fixed their output is
    # computed once: fewer weights a face to copy, differentiate and update a step.
    refine_layers: int | None = None
    # 'mean' (ours; the `fast` preset): the hole is drawn from a weighted mean of the surviving
    # candidates' renderings instead of the best one's (eq. 20's ranking, 'best'), weight
    # exp(-(L_k - L_min) / (pick_temperature * L_min)) for total loss L_k: candidates that fit
    # the known pixels about as well as the best share the hole. The candidates are samples of
    # the faces that fit; where they disagree the mean is their compromise, which is what
    # squared error (and so PSNR) rewards, at the cost of detail where they disagree
    # (docs/results.md; measured for `fast` only). The refinement's rendering near the known
    # pixels is of the best candidate either way.
    pick: Pick = "best"
    pick_temperature: float = 1.0
    loss: LossConfig = field(default_factory=LossConfig)

    def __post_init__(self) -> None:
        check_numbers(
            self,
            ("iterations", "candidates", "seed", "patience", "fp32_last", "refine_steps"),
            ("lr", "min_improvement", "init_uniform", "init_spread", "refine_lr", "refine_reach", "pick_temperature"),
        )
        if self.pick not in ("best", "mean"):
            raise InpaintInputError(f"pick must be 'best' (eq. 20's lowest loss) or 'mean' (the loss-weighted mean of the candidates), got {self.pick!r}")
        check_ranges(self, {}, positive=("pick_temperature",))
        if self.iterations < 0:
            raise InpaintInputError(f"iterations must be >= 0, got {self.iterations}")
        if self.candidates < 1:
            raise InpaintInputError(f"candidates must be >= 1, got {self.candidates}")
        if not 0 <= self.seed < 2**63:
            raise InpaintInputError(f"seed must be in [0, 2**63) (torch's seed range), got {self.seed}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise InpaintInputError(f"lr must be finite and > 0 (Adam's step size), got {self.lr}")
        check_betas(self)
        if self.patience < 0 or not self.min_improvement >= 0:
            raise InpaintInputError(f"patience must be >= 0 (0 = off) and min_improvement >= 0, got {self.patience}, {self.min_improvement}")
        try:
            steps = tuple(sorted({int(t) for t in self.halve_at}))
        except (TypeError, ValueError):
            raise InpaintInputError(f"halve_at must be a sequence of step numbers, e.g. (400, 700), got {self.halve_at!r}") from None
        if any(not 0 <= t < self.iterations for t in steps) or len(steps) != len(self.halve_at):
            raise InpaintInputError(
                f"halve_at must list distinct steps in [0, iterations) = [0, {self.iterations}), got {self.halve_at!r}"
            )
        object.__setattr__(self, "halve_at", steps)  # frozen: normalise once, sorted
        if self.precision not in ("fp32", "bf16"):
            raise InpaintInputError(f"precision must be 'fp32' or 'bf16', got {self.precision!r}")
        if self.fp32_last < 0:
            raise InpaintInputError(f"fp32_last must be >= 0 (the last steps of a bf16 search to run in fp32), got {self.fp32_last}")
        if self.adapt not in ("none", "colour"):
            raise InpaintInputError(f"adapt must be 'none' or 'colour', got {self.adapt!r}")
        if self.init not in ("uniform", "encoder"):
            raise InpaintInputError(f"init must be 'uniform' or 'encoder', got {self.init!r}")
        if not (0 <= self.init_uniform < 1 and 0 <= self.init_spread <= 2):
            raise InpaintInputError(
                f"init_uniform must be in [0, 1) (the share of candidates with a uniform start) and init_spread in [0, 2], "
                f"got {self.init_uniform}, {self.init_spread}"
            )
        if self.refine_steps < 0 or not (math.isfinite(self.refine_lr) and self.refine_lr > 0) or not self.refine_reach > 0:
            raise InpaintInputError(
                f"refine_steps must be >= 0 (0 = off), refine_lr > 0 and refine_reach > 0 px (math.inf: trust the refined G "
                f"everywhere), got {self.refine_steps}, {self.refine_lr}, {self.refine_reach}"
            )
        if self.refine_layers is not None:
            if isinstance(self.refine_layers, bool) or not isinstance(self.refine_layers, numbers.Integral) or self.refine_layers < 1:
                raise InpaintInputError(f"refine_layers must be a whole number >= 1 (G's last layers to fine-tune) or None (all of G), got {self.refine_layers!r}")
            object.__setattr__(self, "refine_layers", int(self.refine_layers))  # numpy's ints would not go into settings.json
        if self.blend not in ("overlay", "poisson"):
            raise InpaintInputError(f"blend must be 'overlay' or 'poisson', got {self.blend!r}")

    def with_overrides(self, **overrides: object) -> SearchConfig:
        """A copy with fields of this config or of its LossConfig replaced by name."""
        own = {f.name for f in fields(self)} - {"loss"}
        loss_names = {f.name for f in fields(LossConfig)}
        unknown = set(overrides) - own - loss_names
        if unknown:
            raise InpaintInputError(f"unknown option(s) {sorted(unknown)}; valid: {sorted(own | loss_names)}")
        loss = replace(self.loss, **{k: v for k, v in overrides.items() if k in loss_names})
        return replace(self, loss=loss, **{k: v for k, v in overrides.items() if k in own})


THESIS = SearchConfig()
YEH2017 = SearchConfig(loss=LossConfig(landmark="none"))
STRUCTURE = SearchConfig(loss=LossConfig(landmark="soft"))
ADAPT = SearchConfig(adapt="colour", loss=LossConfig(landmark="none"))
# K = 16 and 100 steps: what was measured against yeh2017 (docs/results.md); from a learned
# start, a quarter of the candidates and a tenth of the steps are enough. Poisson blending, as
# Yeh et al.: chosen on celeba-mini:val, where it hides the seam a generator that has seen few
# real faces leaves (+0.4 dB centre hole, +3.7 dB random mask over the overlay; version 1 of
# the celeba weights). The refinement's step size chosen on 16 celeba-mini:val faces with
# version 1; its reach (2 px, refine_reach's default) and the blend before the mix on 50 val
# faces with version 4 (docs/results.md).
# The candidates' loss-weighted mean fills the hole (pick='mean', temperature 1): chosen on val
# with version 4 (+0.63 [0.45, 0.80] dB on the centre hole of 50 faces over the best candidate
# alone); on the 100 test faces +0.47 [0.34, 0.60] dB (docs/results.md).
FAST = SearchConfig(
    iterations=100, candidates=16, init="encoder", blend="poisson", refine_steps=100, pick="mean", loss=LossConfig(landmark="none")
)
PRESETS: dict[str, SearchConfig] = {"thesis": THESIS, "yeh2017": YEH2017, "structure": STRUCTURE, "adapt": ADAPT, "fast": FAST}


def get_preset(preset: str | SearchConfig) -> SearchConfig:
    if isinstance(preset, SearchConfig):
        return preset
    if preset not in PRESETS:
        raise InpaintInputError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)} or pass a SearchConfig")
    return PRESETS[preset]

"""The objective of the search as a function of z (eqs. 15-20): G(z), the optional colour
transform, the context loss (eqs. 15-16), the prior loss (eq. 19), the landmark loss (eqs.
17-18, hard or soft) and their weighted sum (eq. 20). Nothing here steps or loops."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from semantic_inpaint.config import LossConfig
from semantic_inpaint.losses.context import context_loss, importance_weights
from semantic_inpaint.losses.landmarks import LandmarkDetector, landmark_loss, masked_frames
from semantic_inpaint.losses.prior import prior_loss
from semantic_inpaint.losses.soft_landmarks import masked_points, soft_landmark_loss
from semantic_inpaint.models.dcgan import Discriminator, Generator, fold_batchnorm
from semantic_inpaint.models.landmarks import LandmarkNet

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


@dataclass(frozen=True)
class LossTerms:
    """Per-candidate loss terms, each (N, K): context (eq. 16), prior (eq. 19), landmark
    (eqs. 17-18; zeros when off) and total = lambda_1 (context + prior + landmark) (eq. 20)."""

    context: Tensor
    prior: Tensor
    landmark: Tensor
    total: Tensor


@dataclass(frozen=True)
class Terms:
    """The objective at one z (N, k, ...): the candidates x = G(z) (recoloured with adapt='colour'),
    (N, k, 3, H, W), and their differentiable loss terms, each (N, k); `landmark` is the soft
    landmark loss, None unless config.loss.landmark == 'soft'."""

    x: Tensor
    context: Tensor
    prior: Tensor
    landmark: Tensor | None


def best_survivor(total: Tensor, survivors: Tensor) -> Tensor:
    """(N,) index of the lowest `total` (N, K) among each image's `survivors` (N, K) bool: the
    output of eq. 20's ranking when halving dropped some candidates (all survive otherwise)."""
    return total.masked_fill(~survivors, float("inf")).argmin(dim=1)


def candidate_weights(total: Tensor, survivors: Tensor, pick: str, temperature: float) -> Tensor:
    """(N, K) each candidate's share in the completion, summing to 1 per image (see
    SearchConfig.pick): for 'best', 1 for the `best_survivor`; for 'mean', exp(-(L_k - L_min) /
    (temperature * L_min)) over the `survivors`, normalised, with L = `total` (N, K)."""
    best = best_survivor(total, survivors)
    if pick == "best":
        return torch.nn.functional.one_hot(best, total.shape[1]).to(total.dtype)
    low = total.gather(1, best[:, None])
    # A best loss of 0 or below (the prior term is negative, so a near-perfect fit may go below
    # 0) gives no scale: then the best alone (and any tied with it) fills the hole.
    scale = (temperature * low).clamp(min=torch.finfo(total.dtype).tiny)
    return torch.softmax(((low - total) / scale).masked_fill(~survivors, float("-inf")), dim=1)


def check_landmark_models(loss: LossConfig, detector: LandmarkDetector | None, landmark_net: LandmarkNet | None) -> None:
    """Refuse a landmark loss without the model that computes it."""
    if loss.landmark == "hard" and detector is None:
        raise ValueError("config.loss.landmark == 'hard' needs a LandmarkDetector")
    if loss.landmark == "soft" and landmark_net is None:
        raise ValueError("config.loss.landmark == 'soft' needs a LandmarkNet")


def _run(device_type: str, bf16: bool, fn: Callable[..., Tensor], *args: object) -> Tensor:
    """`fn(*args)` as fp32, with the networks inside under bf16 autocast if `bf16`. Only the
    networks run in bf16: their outputs go back to fp32 before the losses, so the loss sums,
    the gradient reaching z and Adam's state stay fp32."""
    with torch.autocast(device_type, dtype=torch.bfloat16, enabled=bf16):
        return fn(*args).float()


def _folded(net: nn.Module) -> nn.Module:
    """The library's own G and D with batch norm folded into their convolutions: the same
    function up to round-off, without batch norm's passes over the activations (a step 1.2x
    (fp32) to 1.4x (bf16) faster on an H100, about 1.07x on a 2-core CPU; docs/performance.md).
    Other modules (compiled or wrapped networks) run as they are."""
    return fold_batchnorm(net) if isinstance(net, (Generator, Discriminator)) else net


@dataclass(frozen=True)
class Objective:
    """Everything the loss of eq. 20 holds fixed while z moves: the frozen networks, the
    image y (N, 3, H, W) in [-1, 1], its mask (N, 1, H, W) (1 = known), the importance
    weights W of eq. 15 and the landmark reference (dlib's points on the masked input for
    'hard', (N, 68, 2) on the CPU; the LandmarkNet's for 'soft', (N, 1, 68, 2)). Build with
    `Objective.build`; call with z to get the terms."""

    generator: nn.Module
    discriminator: nn.Module
    image: Tensor
    mask: Tensor
    weights: Tensor
    loss: LossConfig
    z_dim: int
    detector: LandmarkDetector | None = None
    landmark_net: LandmarkNet | None = None
    reference: Tensor | None = None

    @classmethod
    def build(
        cls,
        generator: nn.Module,
        discriminator: nn.Module,
        image: Tensor,
        mask: Tensor,
        loss: LossConfig,
        detector: LandmarkDetector | None = None,
        landmark_net: LandmarkNet | None = None,
        weights: Tensor | None = None,
    ) -> Objective:
        """The objective for `image` and `mask`, with the landmark model its loss needs (see
        `check_landmark_models`); `weights` (N, 1, H, W) replaces eq. 15's importance weights
        (e.g. all ones to project a whole image into G's range)."""
        reference = None
        if loss.landmark == "hard":
            points = detector(masked_frames(image, mask))
            detector.check_readable(points)
            reference = torch.from_numpy(points)
        elif loss.landmark == "soft":
            with torch.no_grad():  # fp32 even in a bf16 search: the reference is computed once
                reference = _run(image.device.type, False, masked_points, landmark_net, image, mask)[:, None]
        if weights is None:
            weights = importance_weights(mask, loss.window)
        generator, discriminator = _folded(generator), _folded(discriminator)
        return cls(generator, discriminator, image, mask, weights, loss, generator.z_dim, detector, landmark_net, reference)

    def __call__(self, z: Tensor, bf16: bool = False) -> Terms:
        """The terms at z (N, k, z_dim), or (N, k, z_dim + 6) with the colour numbers last
        (`apply_colour`); k is K, or fewer after halving."""
        n, k = z.shape[:2]
        device = self.image.device.type
        x = _run(device, bf16, self.generator, z[..., : self.z_dim].flatten(0, 1)).view(n, k, *self.image.shape[1:])
        if z.shape[-1] > self.z_dim:
            x = apply_colour(x, z[..., self.z_dim :])
        context = context_loss(x, self.image, self.weights)  # eq. 16
        prior = prior_loss(_run(device, bf16, self.discriminator, x.flatten(0, 1)).view(n, k), self.loss.prior_weight)  # eq. 19
        landmark = None
        if self.loss.landmark == "soft":
            points = _run(device, bf16, masked_points, self.landmark_net, x.flatten(0, 1), self.mask.repeat_interleave(k, 0))
            landmark = soft_landmark_loss(points.view(n, k, 68, 2), self.reference, self.loss.landmark_threshold, self.loss.landmark_tau)
        return Terms(x, context, prior, landmark)

    def minimised(self, terms: Terms) -> Tensor:
        """(N, k) the loss Adam minimises, per candidate: eq. 20 without the hard landmark
        loss, which has no gradient and only ranks (`final`)."""
        return self._total(terms.context, terms.prior, terms.landmark)

    def hard_landmark(self, x: Tensor) -> Tensor:
        """(N, k) eqs. 17-18 with dlib, for the candidates x (N, k, 3, H, W)."""
        n, k = x.shape[:2]
        frames = masked_frames(x.flatten(0, 1), self.mask.repeat_interleave(k, 0))
        points = torch.from_numpy(self.detector(frames)).view(n, k, 68, 2)
        return landmark_loss(points, self.reference[:, None], self.loss.landmark_threshold).to(x.device)

    def final(self, z: Tensor) -> tuple[Tensor, LossTerms]:
        """The candidates at the final z, in fp32, and every term of eq. 20, by which they are
        ranked (the hard landmark loss included)."""
        terms = self(z)
        landmark = self.hard_landmark(terms.x) if self.loss.landmark == "hard" else terms.landmark
        total = self._total(terms.context, terms.prior, landmark)
        landmark = torch.zeros_like(terms.context) if landmark is None else landmark
        return terms.x, LossTerms(terms.context, terms.prior, landmark, total)

    def _total(self, context: Tensor, prior: Tensor, landmark: Tensor | None) -> Tensor:
        """Eq. 20: lambda_1 (L_c + L_p + L_d), with L_d left out when None."""
        return self.loss.weight * (context + prior + (0 if landmark is None else landmark))

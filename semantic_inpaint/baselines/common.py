"""What every baseline shares: validated inputs in, completed images with exact known pixels out."""

from __future__ import annotations

from torch import Tensor

from semantic_inpaint.blend import overlay
from semantic_inpaint.io import as_images, as_masks


def prepare(images: object, masks: object) -> tuple[Tensor, Tensor]:
    """Images -> float32 (N, 3, 64, 64) in [0, 1]; masks -> (N, 1, 64, 64), **1 = known, 0 = missing**.

    Every form `complete` takes is accepted (uint8 (N, 64, 64, 3) arrays, float tensors in
    [0, 1], PIL images; mask names, arrays, tensors), with the same checks and errors.
    """
    x = as_images(images)
    return x, as_masks(masks, len(x))


def finish(fill: Tensor, x: Tensor, m: Tensor) -> Tensor:
    """The fill in the hole, the input's known pixels as bit-exact copies, clipped to [0, 1]."""
    return overlay(fill.float().clamp(0, 1), x, m)

"""Where a metric is taken: `hole(mask)` and the check of a `region` against the images."""

from __future__ import annotations

import torch

from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.validate import RANGE_TOL, check_mask_shape, check_tensor


def hole(mask: torch.Tensor) -> torch.Tensor:
    """The missing pixels of a mask: ``mask == 0`` as a bool tensor of the mask's shape.

    ``mask`` is float or bool, shape ``(N, 1, H, W)``, ``(1, 1, H, W)`` or ``(1, H, W)``,
    with 1 = known pixel and 0 = missing.  A soft (float) mask counts only exact
    zeros as hole.  Use the result as ``region=`` of :func:`psnr` / :func:`ssim`.
    """
    check_tensor(mask, "mask", "of shape (N, 1, H, W) (1 = known, 0 = missing)", "Convert it with torch.as_tensor(...).")
    if not (mask.dtype == torch.bool or mask.is_floating_point()):
        raise InpaintInputError(
            f"mask must be float or bool (1 = known, 0 = missing); got dtype {mask.dtype}. "
            "Convert it with .float() or .bool()."
        )
    check_mask_shape(mask, "mask")
    if mask.dtype == torch.bool:
        return ~mask
    # Soft masks are allowed here (only exact zeros are hole), so the values are checked, not their binariness.
    if torch.isnan(mask).any() or float(mask.min()) < -RANGE_TOL or float(mask.max()) > 1 + RANGE_TOL:
        raise InpaintInputError(
            f"mask values must lie in [0, 1] (1 = known, 0 = missing); got range "
            f"[{float(mask.min()):g}, {float(mask.max()):g}]. Build it as (known_pixels).float()."
        )
    return mask == 0


def check_region(region: object, x: torch.Tensor) -> torch.Tensor:
    """Validate a region against images x (N, 3, H, W); return a bool CPU (N, 1, H, W) tensor."""
    use = "Use region=hole(mask) for the hole, region=mask.bool() for the known pixels."
    check_tensor(region, "region", "of bools, shape (N, 1, H, W) or (1, 1, H, W)", use)
    if region.dtype != torch.bool:
        raise InpaintInputError(
            f"region must be a bool tensor (True = pixel counted); got dtype {region.dtype}. "
            "Use region=hole(mask) for the hole (mask: 1 = known, 0 = missing) or region=mask.bool() "
            "for the known pixels."
        )
    check_mask_shape(region, "region", like=x, fix="Use region=hole(mask) with a (N, 1, H, W) mask.")
    n, _, h, w = x.shape
    region = region.detach().cpu().expand(n, 1, h, w)
    counts = region.flatten(1).sum(1)
    empty = (counts == 0).nonzero().flatten().tolist()
    if empty:
        raise InpaintInputError(
            f"region is empty (no True pixel) for image(s) {empty}: the metric over an empty region is "
            "undefined. If this is hole(mask), that mask has no hole (all pixels known): report the "
            "whole-image metric (region=None) for those images instead."
        )
    return region

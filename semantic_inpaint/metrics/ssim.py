"""Structural similarity (SSIM) of Wang, Bovik, Sheikh and Simoncelli, via scikit-image.

Reference: "Image quality assessment: from error visibility to structural similarity", IEEE
Transactions on Image Processing 13(4):600-612, 2004. For each RGB channel and each pixel,
with local means mu, variances sigma^2 and covariance sigma_xy over an 11x11 Gaussian window
(sigma 1.5, truncated at 3.5 sigma, population covariances),

    SSIM = ((2 mu_x mu_y + C1) (2 sigma_xy + C2)) / ((mu_x^2 + mu_y^2 + C1) (sigma_x^2 + sigma_y^2 + C2)),
    C1 = (K1 * data_range)^2, C2 = (K2 * data_range)^2, K1 = 0.01, K2 = 0.03,

computed by ``skimage.metrics.structural_similarity`` rather than re-implemented here; near
the border skimage's filter pads by reflection. The whole-image value is the usual "valid
window" SSIM, the same as pytorch-msssim's ``ssim(..., win_size=11, win_sigma=1.5)`` (to
about 1e-6, its window being float32).

* ``region=None`` (whole image): the scalar skimage returns, i.e. for each channel the mean of
  its SSIM map with a 5-pixel border strip cropped off (the ``(win_size - 1) // 2`` strip where
  the window overhangs the image; rows/columns 5 .. H-6 are kept), then the mean of the 3
  channel values.
* ``region`` given: the full (uncropped) SSIM map is averaged over the 3 channels, then over
  the pixels where ``region`` is True. Hole pixels near the image border are therefore
  included, with their reflection-padded window statistics; and each value still sees up to 5
  pixels around it, so the hole-only figure is not blind to the hole's surroundings.
"""

from __future__ import annotations

import numpy as np
import torch

from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.metrics.region import check_region
from semantic_inpaint.validate import check_image_pair

# Wang et al. 2004 settings; skimage's Gaussian filter is truncated at 3.5 sigma -> 11 taps.
SIGMA = 1.5
WINDOW = 11
K1 = 0.01
K2 = 0.03


def _check_window(h: int, w: int) -> None:
    if h < WINDOW or w < WINDOW:
        raise InpaintInputError(
            f"ssim needs images at least {WINDOW}x{WINDOW} (the Gaussian window); got {h}x{w}. "
            "Compute SSIM on the full-size images, not on crops or thumbnails."
        )


def _ssim_one(x: np.ndarray, y: np.ndarray, data_range: float, keep: np.ndarray | None) -> float:
    """SSIM of one (H, W, 3) float64 pair: skimage's cropped mean, or the channel-averaged map's
    mean over the pixels where `keep` (H, W) is True."""
    from skimage.metrics import structural_similarity  # imported lazily: skimage is slow to import

    mssim, smap = structural_similarity(
        x,
        y,
        win_size=WINDOW,
        gaussian_weights=True,
        sigma=SIGMA,
        use_sample_covariance=False,
        K1=K1,
        K2=K2,
        data_range=data_range,
        channel_axis=-1,
        full=True,
    )
    if keep is None:
        return float(mssim)
    return float(smap.mean(axis=-1)[keep].mean(dtype=np.float64))


def ssim(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0, region: torch.Tensor | None = None) -> torch.Tensor:
    """Structural similarity (Wang et al. 2004), one value per image, via scikit-image.

    Whole image (``region=None``): skimage's valid-window mean over the 3 channels; with a
    ``region``: the channel-averaged SSIM map's mean over the region (see the module docstring).
    Identical images give 1.0 (up to float round-off).

    Args:
        x, y: images, float, ``(N, 3, H, W)`` or ``(3, H, W)``, values in
            ``[0, data_range]``; H and W must be at least 11.
        data_range: span of the pixel values (1.0 for ``[0, 1]``); sets
            C1 = (0.01 * data_range)**2 and C2 = (0.03 * data_range)**2.
        region: optional bool ``(N or 1, 1, H, W)`` tensor, e.g. ``hole(mask)``.

    Returns:
        float64 CPU tensor of shape ``(N,)``.

    Raises:
        InpaintInputError: shape or dims mismatch, images smaller than 11x11,
            values outside ``[0, data_range]``, a non-bool or empty region.
    """
    x, y, dr = check_image_pair(x, y, data_range)
    n, _, h, w = x.shape
    _check_window(h, w)
    r = None if region is None else check_region(region, x)
    xs, ys = (t.detach().to(device="cpu", dtype=torch.float64).permute(0, 2, 3, 1).numpy() for t in (x, y))
    out = torch.empty(n, dtype=torch.float64)
    for i in range(n):
        out[i] = _ssim_one(xs[i], ys[i], dr, None if r is None else r[i, 0].numpy())
    return out

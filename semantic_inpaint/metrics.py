"""Image-quality metrics for the thesis tables: PSNR and SSIM of inpainted faces.

What the tables report
----------------------
Each inpainted image is scored against its ground truth *after the overlay of
the known pixels*, i.e. the candidate passed in is ``mask * truth + (1 - mask) *
generated``: outside the hole it equals the truth exactly.  This module does not
perform that overlay; the caller passes the blended image.

* **Whole image (primary figure)** -- ``psnr(x, y)`` and ``ssim(x, y)`` over
  the full 64x64 picture.  This is the number most inpainting papers report, so
  it is the headline column.  Because the known pixels are copied over, it
  depends on the hole size as well as on the fill.
* **Hole only (secondary)** -- ``psnr(x, y, region=hole(mask))`` and
  ``ssim(x, y, region=hole(mask))``, restricted to the missing pixels; it
  isolates the quality of the fill itself.

SSIM is the structural similarity index of Wang, Bovik, Sheikh and Simoncelli,
"Image quality assessment: from error visibility to structural similarity",
IEEE Transactions on Image Processing 13(4):600-612, 2004, with their settings
(11x11 Gaussian window, sigma 1.5, K1 = 0.01, K2 = 0.03, population
covariances), computed by scikit-image rather than re-implemented here.

Conventions
-----------
* Images: float torch tensors with values in ``[0, data_range]`` (default
  ``data_range=1.0``), shape ``(N, 3, H, W)`` or a single ``(3, H, W)``.
* Masks: ``(N, 1, H, W)`` or ``(1, 1, H, W)`` (a single ``(1, H, W)`` is also
  accepted), float or bool, **1 = known pixel, 0 = missing (hole)**.
* Regions: bool tensors of the mask's shape, True where the metric is taken;
  ``hole(mask)`` gives the hole, ``mask.bool()`` the known pixels.
* Every metric returns a float64 CPU tensor of shape ``(N,)``, one value per
  image (N = 1 for a single ``(3, H, W)`` input).  Computation is in float64
  on the CPU whatever the inputs' dtype and device.
* Bad input raises :class:`semantic_inpaint.errors.InpaintInputError` naming
  the problem and the fix, before anything is computed.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from semantic_inpaint.errors import InpaintInputError

__all__ = ["psnr", "ssim", "hole"]

# Tolerance on the [0, data_range] range check (float round-off from blending / normalising).
_RANGE_TOL = 1e-6
# Wang et al. 2004 settings; skimage's Gaussian filter is truncated at 3.5 sigma -> 11 taps.
_SSIM_SIGMA = 1.5
_SSIM_WIN = 11
_SSIM_K1 = 0.01
_SSIM_K2 = 0.03


# --------------------------------------------------------------------------- validation


def _check_data_range(data_range) -> float:
    if isinstance(data_range, bool) or not isinstance(data_range, numbers.Real):
        raise InpaintInputError(
            f"data_range must be a positive number (the span of pixel values, 1.0 for images in [0, 1]); "
            f"got {data_range!r} of type {type(data_range).__name__}. Pass e.g. data_range=1.0."
        )
    dr = float(data_range)
    if not math.isfinite(dr) or dr <= 0:
        raise InpaintInputError(
            f"data_range must be a positive finite number; got {data_range!r}. "
            "Pass data_range=1.0 for images in [0, 1] or 255.0 for images in [0, 255]."
        )
    return dr


def _check_image(t, name: str, data_range: float) -> torch.Tensor:
    """Validate one image batch and return it as a float64 CPU (N, 3, H, W) tensor."""
    if not isinstance(t, torch.Tensor):
        raise InpaintInputError(
            f"{name} must be a torch.Tensor of shape (N, 3, H, W) or (3, H, W); got {type(t).__name__}. "
            "Convert it with torch.as_tensor(...) (channels first, values in [0, data_range])."
        )
    if not t.is_floating_point():
        raise InpaintInputError(
            f"{name} must be a floating-point tensor with values in [0, data_range]; got dtype {t.dtype}. "
            "Convert it with .float() (and divide uint8 images by 255, or pass data_range=255)."
        )
    if t.dim() == 3:
        t = t.unsqueeze(0)
    elif t.dim() != 4:
        raise InpaintInputError(
            f"{name} must have 4 dims (N, 3, H, W) or 3 dims (3, H, W); got {t.dim()} dims, shape "
            f"{tuple(t.shape)}. Reshape it to (N, 3, H, W), channels first."
        )
    if t.shape[1] != 3:
        raise InpaintInputError(
            f"{name} must have 3 (RGB) channels in dim 1, shape (N, 3, H, W); got shape {tuple(t.shape)}. "
            "If the image is channels-last (N, H, W, 3), use .permute(0, 3, 1, 2)."
        )
    if t.shape[0] == 0 or t.shape[2] == 0 or t.shape[3] == 0:
        raise InpaintInputError(f"{name} is empty (shape {tuple(t.shape)}); pass at least one non-empty image.")
    t = t.detach().to(device="cpu", dtype=torch.float64)
    if torch.isnan(t).any():
        raise InpaintInputError(f"{name} contains NaN; the images must be finite values in [0, {data_range:g}].")
    lo, hi = float(t.min()), float(t.max())
    if lo < -_RANGE_TOL or hi > data_range + _RANGE_TOL:
        hint = (
            " It looks like an image in [-1, 1] (the generator's output): map it with (x + 1) / 2."
            if lo < 0 and lo >= -1 - _RANGE_TOL and hi <= 1 + _RANGE_TOL
            else " Pass the matching data_range (e.g. data_range=255.0 for [0, 255]) or rescale the image."
            if hi > data_range
            else " Clamp or rescale the image into [0, data_range]."
        )
        raise InpaintInputError(
            f"{name} has values in [{lo:g}, {hi:g}], outside [0, data_range={data_range:g}] "
            f"(tolerance {_RANGE_TOL:g}).{hint}"
        )
    return t


def _check_pair(x, y, data_range) -> tuple[torch.Tensor, torch.Tensor, float]:
    dr = _check_data_range(data_range)
    if isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor) and x.shape != y.shape:
        raise InpaintInputError(
            f"x and y must have the same shape; got x {tuple(x.shape)} and y {tuple(y.shape)}. "
            "Pass the inpainted image and its ground truth at the same size and batch."
        )
    return _check_image(x, "x", dr), _check_image(y, "y", dr), dr


def _check_mask_shape(m: torch.Tensor, name: str, fix: str) -> torch.Tensor:
    if m.dim() == 3:
        m = m.unsqueeze(0)
    if m.dim() != 4 or m.shape[1] != 1:
        raise InpaintInputError(
            f"{name} must have shape (N, 1, H, W) or (1, 1, H, W) (one channel, broadcast over RGB); "
            f"got {m.dim()} dims, shape {tuple(m.shape)}. {fix}"
        )
    return m


def _check_region(region, x: torch.Tensor) -> torch.Tensor:
    """Validate a region against images x (N, 3, H, W); return a bool CPU (N, 1, H, W) tensor."""
    if not isinstance(region, torch.Tensor):
        raise InpaintInputError(
            f"region must be a bool torch.Tensor of shape (N, 1, H, W) or (1, 1, H, W); got "
            f"{type(region).__name__}. Use region=hole(mask) for the hole, region=mask.bool() for the known pixels."
        )
    if region.dtype != torch.bool:
        raise InpaintInputError(
            f"region must be a bool tensor (True = pixel counted); got dtype {region.dtype}. "
            "Use region=hole(mask) for the hole (mask: 1 = known, 0 = missing) or region=mask.bool() "
            "for the known pixels."
        )
    region = _check_mask_shape(region, "region", "Use region=hole(mask) with a (N, 1, H, W) mask.")
    n, _, h, w = x.shape
    if region.shape[2:] != (h, w) or region.shape[0] not in (1, n):
        raise InpaintInputError(
            f"region shape {tuple(region.shape)} does not match the images {tuple(x.shape)}: expected "
            f"({n}, 1, {h}, {w}) or (1, 1, {h}, {w}). Build the region from the mask used for these images."
        )
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


# --------------------------------------------------------------------------- metrics


def hole(mask: torch.Tensor) -> torch.Tensor:
    """The missing pixels of a mask: ``mask == 0`` as a bool tensor of the mask's shape.

    ``mask`` is float or bool, shape ``(N, 1, H, W)``, ``(1, 1, H, W)`` or ``(1, H, W)``,
    with 1 = known pixel and 0 = missing.  A soft (float) mask counts only exact
    zeros as hole.  Use the result as ``region=`` of :func:`psnr` / :func:`ssim`.
    """
    if not isinstance(mask, torch.Tensor):
        raise InpaintInputError(
            f"mask must be a torch.Tensor of shape (N, 1, H, W) (1 = known, 0 = missing); got "
            f"{type(mask).__name__}. Convert it with torch.as_tensor(...)."
        )
    if not (mask.dtype == torch.bool or mask.is_floating_point()):
        raise InpaintInputError(
            f"mask must be float or bool (1 = known, 0 = missing); got dtype {mask.dtype}. "
            "Convert it with .float() or .bool()."
        )
    if mask.dim() not in (3, 4) or mask.shape[-3] != 1:
        raise InpaintInputError(
            f"mask must have shape (N, 1, H, W) or (1, 1, H, W) (one channel, broadcast over RGB); got "
            f"{mask.dim()} dims, shape {tuple(mask.shape)}. Keep one channel, e.g. mask[:, :1]."
        )
    if mask.is_floating_point():
        if torch.isnan(mask).any() or float(mask.min()) < -_RANGE_TOL or float(mask.max()) > 1 + _RANGE_TOL:
            raise InpaintInputError(
                f"mask values must lie in [0, 1] (1 = known, 0 = missing); got range "
                f"[{float(mask.min()):g}, {float(mask.max()):g}]. Build it as (known_pixels).float()."
            )
        return mask == 0
    return ~mask


def psnr(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0, region: torch.Tensor | None = None) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB, one value per image.

    ``PSNR = 10 * log10(data_range**2 / MSE)`` where MSE is the mean of
    ``(x - y)**2`` over all pixels and all 3 channels of each image, or -- when
    ``region`` is given -- over the pixels where ``region`` is True only (all 3
    channels of each such pixel).  Computed in float64.

    Identical images (MSE = 0 over the region) give ``+inf``; average PSNR over
    a set only after deciding how to treat those (e.g. report them separately).

    Args:
        x, y: images, float, ``(N, 3, H, W)`` or ``(3, H, W)``, values in ``[0, data_range]``.
        data_range: span of the pixel values (1.0 for ``[0, 1]``, 255.0 for ``[0, 255]``).
        region: optional bool ``(N or 1, 1, H, W)`` tensor, e.g. ``hole(mask)``.

    Returns:
        float64 CPU tensor of shape ``(N,)``.

    Raises:
        InpaintInputError: shape or dims mismatch, values outside ``[0, data_range]``,
            a non-bool or empty region.
    """
    x, y, dr = _check_pair(x, y, data_range)
    sq = (x - y).pow(2)  # (N, 3, H, W)
    if region is None:
        mse = sq.flatten(1).mean(1)
    else:
        r = _check_region(region, x).to(torch.float64)  # (N, 1, H, W)
        mse = (sq * r).flatten(1).sum(1) / (3.0 * r.flatten(1).sum(1))
    return 10.0 * torch.log10(dr**2 / mse)  # mse == 0 -> +inf (torch divides without warning)


def ssim(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0, region: torch.Tensor | None = None) -> torch.Tensor:
    """Structural similarity (Wang et al. 2004), one value per image, via scikit-image.

    For each image, ``skimage.metrics.structural_similarity`` is called on the
    (H, W, 3) float64 arrays with ``gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=data_range, channel_axis=-1,
    full=True`` and its default K1 = 0.01, K2 = 0.03: local means, variances and
    covariance are taken with an 11-tap Gaussian window (sigma 1.5, truncated at
    3.5 sigma, population covariances), separately for each RGB channel, giving
    an (H, W, 3) SSIM map.  Near the border skimage's filter pads by reflection.

    * ``region=None`` (whole image): the scalar skimage returns, i.e. for each
      channel the mean of its SSIM map with a 5-pixel border strip cropped off
      (the ``(win_size - 1) // 2`` strip where the window overhangs the image;
      rows/columns 5 .. H-6 are kept), then the mean of the 3 channel values.
      This is the usual "valid window" SSIM, the same as pytorch-msssim's.
    * ``region`` given: the full (uncropped) SSIM map is averaged over the 3
      channels, then averaged over the pixels where ``region`` is True.  Hole
      pixels near the image border are therefore included, with their
      reflection-padded window statistics; and each value still sees up to 5
      pixels around it, so the hole-only figure is not blind to the hole's
      surroundings.

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
    x, y, dr = _check_pair(x, y, data_range)
    n, _, h, w = x.shape
    if h < _SSIM_WIN or w < _SSIM_WIN:
        raise InpaintInputError(
            f"ssim needs images at least {_SSIM_WIN}x{_SSIM_WIN} (the Gaussian window); got {h}x{w}. "
            "Compute SSIM on the full-size images, not on crops or thumbnails."
        )
    r = None if region is None else _check_region(region, x)

    from skimage.metrics import structural_similarity  # imported lazily: skimage is slow to import

    xs = x.permute(0, 2, 3, 1).numpy()
    ys = y.permute(0, 2, 3, 1).numpy()
    out = torch.empty(n, dtype=torch.float64)
    for i in range(n):
        mssim, smap = structural_similarity(
            xs[i],
            ys[i],
            win_size=_SSIM_WIN,
            gaussian_weights=True,
            sigma=_SSIM_SIGMA,
            use_sample_covariance=False,
            K1=_SSIM_K1,
            K2=_SSIM_K2,
            data_range=dr,
            channel_axis=-1,
            full=True,
        )
        if r is None:
            out[i] = float(mssim)
        else:
            keep = r[i, 0].numpy()
            out[i] = float(smap.mean(axis=-1)[keep].mean(dtype=np.float64))
    return out


def landmark_error(x: torch.Tensor, y: torch.Tensor, detector=None) -> torch.Tensor:
    """Mean distance (px) between dlib's 68 points on `x` and on the ground truth `y`, per image.

    Both are whole images in [0, 1], (N, 3, H, W); dlib sees them unmasked. `detector`: a
    `LandmarkDetector` (default: the installed 68-point model).
    """
    from semantic_inpaint.losses.landmarks import LandmarkDetector

    x, y, _ = _check_pair(x, y, 1.0)
    det = detector or LandmarkDetector()
    frames = [(t * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy() for t in (x.float(), y.float())]
    px, py = (torch.from_numpy(det(f)) for f in frames)
    return (px - py).norm(dim=-1).mean(-1)

"""Peak signal-to-noise ratio, whole image or over a region."""

from __future__ import annotations

import torch

from semantic_inpaint.metrics.region import check_region
from semantic_inpaint.validate import check_image_pair


def psnr(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0, region: torch.Tensor | None = None) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB, one value per image.

    ``PSNR = 10 * log10(data_range**2 / MSE)`` where MSE is the mean of
    ``(x - y)**2`` over all pixels and all 3 channels of each image, or -- when
    ``region`` is given -- over the pixels where ``region`` is True only (all 3
    channels of each such pixel).  Computed in float64.  The whole-image value is
    that of ``skimage.metrics.peak_signal_noise_ratio(y, x, data_range=data_range)``
    on each image, to float64 round-off.

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
    x, y, dr = check_image_pair(x, y, data_range)
    x, y = (t.detach().to(device="cpu", dtype=torch.float64) for t in (x, y))
    sq = (x - y).pow(2)  # (N, 3, H, W)
    if region is None:
        mse = sq.flatten(1).mean(1)
    else:
        r = check_region(region, x).to(torch.float64)  # (N, 1, H, W)
        mse = (sq * r).flatten(1).sum(1) / (3.0 * r.flatten(1).sum(1))
    return 10.0 * torch.log10(dr**2 / mse)  # mse == 0 -> +inf (torch divides without warning)

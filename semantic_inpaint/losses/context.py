"""The weighted context loss of Yeh et al. 2017 (thesis eqs. 15-16)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def importance_weights(mask: Tensor, window: int = 7) -> Tensor:
    """Eq. 15: W_i = sum_{j in N(i)} (1 - M_j) / |N(i)| for known pixels i, 0 for missing ones.

    mask: (N, 1, H, W), 1 = known, 0 = missing. N(i) is the `window` x `window` square centred
    on i, clipped to the image, and |N(i)| counts its in-image pixels, so a border pixel is not
    diluted by pixels outside the frame (no padding, no wrap-around). Returns (N, 1, H, W).
    """
    missing = 1.0 - mask
    # count_include_pad=False divides each window's sum by its in-image pixel count: |N(i)|.
    frac = F.avg_pool2d(missing, window, stride=1, padding=window // 2, count_include_pad=False)
    return frac * mask


def context_loss(candidates: Tensor, image: Tensor, weights: Tensor) -> Tensor:
    """Eq. 16: L_c = || W * (G(z) - y) ||_1, summed over pixels and channels, per candidate.

    candidates: (N, K, C, H, W); image: (N, C, H, W); weights: (N, 1, H, W). Returns (N, K).
    """
    diff = (candidates - image.unsqueeze(1)).abs() * weights.unsqueeze(1)
    return diff.flatten(2).sum(-1)


def context_loss_from_mask(candidates: Tensor, image: Tensor, mask: Tensor, window: int = 7) -> Tensor:
    """Eqs. 15-16 in one call."""
    return context_loss(candidates, image, importance_weights(mask, window))


__all__ = ["context_loss", "context_loss_from_mask", "importance_weights"]

"""The soft landmark loss: the project's differentiable form of eqs. 17-18.

The thesis's landmark loss counts, per point, 0.5 for an x and 0.5 for a y more than 3 px off
the reference. With dlib and a hard threshold it has no gradient (see `landmarks`). Here the
points come from `LandmarkNet` (dlib distilled into a CNN) and the step becomes a sigmoid of
width `tau` px, so the term pulls z towards candidates whose masked landmarks match:

    L_d,soft = sum over 68 points and both coordinates of 0.5 * sigmoid((|d| - threshold) / tau)

As tau -> 0 it tends to the thesis's count. The reference is the same net's points on the
masked input, so a bias the net shares on input and candidates cancels.
"""

from __future__ import annotations

import torch
from torch import Tensor

from semantic_inpaint.models.landmarks import LandmarkNet


def soft_landmark_loss(points: Tensor, reference: Tensor, threshold: float = 3.0, tau: float = 1.0) -> Tensor:
    """Smoothed eqs. 17-18. points: (..., 68, 2); reference: broadcastable. Returns (...), in (0, 68)."""
    if not tau > 0:
        raise ValueError(f"tau must be > 0 (px), got {tau}")
    off = torch.sigmoid(((points - reference).abs() - threshold) / tau)
    return 0.5 * off.flatten(-2).sum(-1)


def masked_points(net: LandmarkNet, x: Tensor, mask: Tensor) -> Tensor:
    """The net's points on (B, 3, H, W) images in [-1, 1] with missing pixels grey (0), as dlib sees them."""
    return net(x * mask)

"""Landmark error: how far dlib's 68 face points on an inpainted face lie from those on its truth.

The points are those of dlib's 68-point shape predictor (Kazemi & Sullivan, "One millisecond face
alignment with an ensemble of regression trees", CVPR 2014; the iBUG 300-W markup: jaw 0-16,
brows 17-26, nose 27-35, eyes 36-47, mouth 48-67), found by `LandmarkDetector` on the 8-bit
images. The error is the mean point-to-point Euclidean distance in pixels, not normalised by the
inter-ocular distance (all faces here share the 64x64 frame).
"""

from __future__ import annotations

import torch

from semantic_inpaint.validate import check_image_pair, to_uint8


def landmark_error(x: torch.Tensor, y: torch.Tensor, detector=None, *, data_range: float = 1.0) -> torch.Tensor:
    """Mean distance (px) between dlib's 68 points on `x` and on the ground truth `y`, per image.

    ``error = mean over k = 0..67 of || p_k(x) - p_k(y) ||_2``, p_k the k-th point dlib finds.

    Args:
        x, y: whole images (dlib sees them unmasked), float, ``(N, 3, H, W)`` or ``(3, H, W)``,
            values in ``[0, data_range]``; rounded to 8 bits for dlib, halves to even.
        detector: a `LandmarkDetector` (default: the installed 68-point model).
        data_range: span of the pixel values (1.0 for ``[0, 1]``, 255.0 for ``[0, 255]``).

    Returns:
        float CPU tensor of shape ``(N,)``.
    """
    from semantic_inpaint.losses.landmarks import LandmarkDetector

    x, y, dr = check_image_pair(x, y, data_range)
    det = detector or LandmarkDetector()
    frames = [to_uint8(t.detach().float().cpu(), value_range=(0, dr)).permute(0, 2, 3, 1).numpy() for t in (x, y)]
    px, py = (torch.from_numpy(det(f)) for f in frames)
    return (px - py).norm(dim=-1).mean(-1)

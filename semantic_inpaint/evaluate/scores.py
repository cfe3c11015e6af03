"""The per-image metrics of `evaluate`: the columns of per_image.csv and how a row is scored.

Metrics are taken after the overlay of known pixels, on images in [0, 1]: whole image
(primary, as in the thesis) and hole only (secondary), plus the dlib landmark error.
"""

from __future__ import annotations

import torch
from torch import Tensor

from semantic_inpaint.losses.landmarks import LandmarkDetector
from semantic_inpaint.metrics import hole, landmark_error, psnr, ssim

FIELDS = ["image", "mask", "method", "psnr", "ssim", "psnr_hole", "ssim_hole", "landmark_error", "landmark_loss", "seconds"]
# The metrics of results.md, in its order, with each table's title.
METRICS = {
    "psnr": "PSNR (dB), whole image",
    "ssim": "SSIM, whole image",
    "psnr_hole": "PSNR (dB), hole only",
    "ssim_hole": "SSIM, hole only",
    "landmark_error": "landmark error (px, dlib, vs ground truth)",
}


def score(images: Tensor, landmark_loss: Tensor | None, truth: Tensor, m: Tensor, detector: LandmarkDetector) -> list[dict[str, str]]:
    """Per-image metrics of completed images against the ground truth, as formatted CSV fields.
    `landmark_loss`: the thesis's L_d of each chosen candidate; baselines have none ('nan')."""
    in_hole = hole(m)
    values = {
        "psnr": psnr(images, truth),
        "ssim": ssim(images, truth),
        "psnr_hole": psnr(images, truth, region=in_hole),
        "ssim_hole": ssim(images, truth, region=in_hole),
        "landmark_error": landmark_error(images, truth, detector),
        "landmark_loss": torch.full((len(truth),), float("nan")) if landmark_loss is None else landmark_loss,
    }
    return [{k: f"{float(v[j]):.6f}" for k, v in values.items()} for j in range(len(truth))]

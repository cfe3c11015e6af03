"""Laying 64x64 completions back into the photo: only inside the hole, with a feathered inner edge.

Every pixel outside the hole is copied from the input, so it stays bit-exact. Inside, a band
of `feather` px along the hole's edge blends from the local Telea fill (`align.prefill`) to
the completion. The fill, not the photo's own hole pixels: those are missing by definition
(often painted black), while the fill continues the known pixels without a step, so the band
hides the seam between a sharp photo and a 64x64 completion enlarged to the face's size.
Hole pixels that no face's frame covers keep the fill.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from semantic_inpaint.photo.align import Box, from_frame
from semantic_inpaint.validate import to_float, to_uint8


def hole_window(hole: np.ndarray) -> Box:
    """(x0, y0, x1, y1), end exclusive: the hole's bounding box grown by one pixel (clipped to
    the photo), so that the known pixels that border the hole lie inside it."""
    ys, xs = np.nonzero(hole)
    h, w = hole.shape
    return max(xs.min() - 1, 0), max(ys.min() - 1, 0), min(xs.max() + 2, w), min(ys.max() + 2, h)


def feather_alpha(hole: np.ndarray, feather: int) -> np.ndarray:
    """float32 weight of the completion: 0 outside the hole, inside it the distance to the
    nearest known pixel over `feather` (1 px in: 1 / feather), capped at 1; all 1 if feather is 0."""
    if feather == 0:
        return hole.astype(np.float32)
    distance = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return np.minimum(distance / feather, 1).astype(np.float32)


def composite(
    photo: np.ndarray,
    filled: np.ndarray,
    hole: np.ndarray,
    faces: Sequence[tuple[np.ndarray, np.ndarray]],
    feather: int,
) -> np.ndarray:
    """uint8 (H, W, 3): `photo` with its `hole` (bool (H, W)) taken from the completions.

    filled: the photo with the hole filled locally (uint8, the same size). faces: (completion,
    transform) pairs, a completion float (64, 64, 3) in [0, 1] and its 2x3 photo -> frame
    transform; where frames overlap, a later face is laid over an earlier one.
    """
    x0, y0, x1, y1 = window = hole_window(hole)
    base = to_float(filled[y0:y1, x0:x1])
    fill = base
    for image, transform in faces:
        # values come premultiplied by coverage: the frame's edge fades into what lies below
        values, coverage = from_frame(image, transform, window)
        fill = values + (1 - coverage[..., None]) * fill
    inside = hole[y0:y1, x0:x1]
    alpha = feather_alpha(inside, feather)[..., None]
    mixed = alpha * fill + (1 - alpha) * base
    out = photo.copy()
    out[y0:y1, x0:x1][inside] = to_uint8(mixed[inside])
    return out

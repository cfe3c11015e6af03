"""Face-shaped masks, drawn on a face's 68 dlib landmarks: 1 = known, 0 = missing.

What people actually want removed from a face: sunglasses (`eyes`), a surgical mask
(`lower-face`, nose bridge to chin and ear to ear, as in the face-mask removal work), the
`mouth`, the `nose`; and `freeform` holes, seeded random brush strokes in the manner of the
irregular-hole protocol of partial-convolution inpainting (Liu et al., ECCV 2018). On a 64x64
face they are drawn on the template the photo path aligns faces to (`masks.named`); on a
photo, on the landmarks detected there, so they follow the face's pose and size.

Sizes are fractions of the inter-ocular distance (between the eye centres), so a mask covers
the same part of the face at any resolution.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw
from scipy.ndimage import distance_transform_edt
from scipy.spatial import ConvexHull
from torch import Tensor

from semantic_inpaint.errors import InpaintInputError

# dlib's 68-point indices (iBUG 300-W): jaw 0-16, nose 27-35, eyes 36-47, mouth 48-67.
RIGHT_EYE, LEFT_EYE = slice(36, 42), slice(42, 48)
PARTS = {
    # points whose hull is the hole, and the margin grown around it (x inter-ocular distance)
    "eyes": (list(range(36, 48)), 0.3),
    "mouth": (list(range(48, 60)), 0.15),
    "nose": (list(range(27, 36)), 0.15),
    "lower-face": ([*range(1, 16), 28], 0.05),
}
FACE_MASKS = (*PARTS, "freeform")


def from_landmarks(kind: str, points: np.ndarray, shape: tuple[int, int]) -> Tensor:
    """The `kind` mask (a key of PARTS) of a face with 68 `points` (x, y) in an image of
    `shape` (H, W), as a float tensor (H, W)."""
    if kind not in PARTS:
        raise InpaintInputError(f"unknown face mask {kind!r}: use one of {', '.join(FACE_MASKS)}")
    points = np.asarray(points, dtype=np.float64)
    if points.shape != (68, 2):
        raise InpaintInputError(f"a face mask needs dlib's 68 landmarks as (68, 2), got shape {points.shape}")
    indices, margin = PARTS[kind]
    iod = np.linalg.norm(points[LEFT_EYE].mean(0) - points[RIGHT_EYE].mean(0))
    part = points[indices]
    hull = part[ConvexHull(part).vertices]
    h, w = shape
    canvas = Image.new("1", (w, h), 0)
    ImageDraw.Draw(canvas).polygon([tuple(p) for p in hull], fill=1)
    inside = np.asarray(canvas, dtype=bool)
    # Grow by the margin: every pixel within margin * iod of the polygon joins the hole.
    hole = distance_transform_edt(~inside) <= margin * iod if inside.any() else inside
    return torch.from_numpy(~hole).float()


def freeform(size: int = 64, seed: int = 0, area: tuple[float, float] = (0.1, 0.3)) -> Tensor:
    """Random brush strokes from `seed`, (H, W) = (size, size): strokes of a few straight
    segments, random in angle, length and width, are added while the hole covers less than a
    target fraction drawn from `area` (min, max); a stroke that would take it past max is
    drawn again elsewhere."""
    lo, hi = area
    if not 0 < lo <= hi < 1:
        raise InpaintInputError(f"freeform area must be (min, max) with 0 < min <= max < 1, got {area}")
    rng = np.random.default_rng(seed)
    target = rng.uniform(lo, hi)
    hole = np.zeros((size, size), bool)
    for _ in range(1000):  # a bound on tries; a 64x64 mask needs a handful of strokes
        stroke = Image.new("1", (size, size), 0)
        draw = ImageDraw.Draw(stroke)
        x, y = rng.uniform(0, size, 2)
        width = int(rng.integers(max(2, size // 20), max(3, size // 8) + 1))
        for _ in range(int(rng.integers(2, 6))):
            angle, length = rng.uniform(0, 2 * np.pi), rng.uniform(size / 10, size / 4)
            nx, ny = np.clip([x + length * np.cos(angle), y + length * np.sin(angle)], 0, size - 1)
            draw.line([(x, y), (nx, ny)], fill=1, width=width, joint="curve")
            x, y = nx, ny
        grown = hole | np.asarray(stroke, dtype=bool)
        if grown.mean() <= hi:
            hole = grown
        if hole.mean() >= target:
            break
    return torch.from_numpy(~hole).float()

"""Find faces in a photo and map pixels between the photo and the DCGAN's 64x64 frame.

A face's transform is the least-squares similarity (Umeyama 1991) taking its 68 dlib points to
the measured template (`template.py`): rotation, uniform scale and translation, so the face is
neither sheared nor stretched. Transforms are 2x3 matrices from photo to frame coordinates,
pixel centres at integers (dlib's and OpenCV's convention).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import cv2
import numpy as np

from semantic_inpaint.errors import LandmarkError
from semantic_inpaint.losses.landmarks import _predictor, dlib_model_path

SIZE = 64
Box = tuple[int, int, int, int]
# dlib's HOG detector finds faces from about 80 px; one upsampling finds them from about 40 px
# and costs 4x the time, so it is spent only on photos up to a megapixel.
UPSAMPLE_UP_TO = 1_000_000


@functools.lru_cache(maxsize=1)
def _dlib():
    try:
        import dlib
    except ImportError:
        raise LandmarkError("dlib is not installed: `pip install dlib-bin` (a prebuilt wheel)") from None
    return dlib, dlib.get_frontal_face_detector(), _predictor(str(dlib_model_path()))


def prefill(photo: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """The photo with its hole filled by OpenCV's Telea inpainting (radius 3): a hole over the
    eyes can hide a face from the detector, and a smooth local fill gives it back its shape."""
    return cv2.inpaint(np.ascontiguousarray(photo), hole.astype(np.uint8) * 255, 3, cv2.INPAINT_TELEA)


def detect(image: np.ndarray, boxes: Sequence[Box] | None = None) -> list[tuple[Box, np.ndarray]]:
    """(box, landmarks (68, 2)) for each face: dlib's frontal detector's boxes, or `boxes`
    (x0, y0, x1, y1) given by hand, then dlib's 68-point predictor inside each box."""
    dlib, detector, predict = _dlib()
    image = np.ascontiguousarray(image)
    if boxes is None:
        rects = detector(image, 1 if image.shape[0] * image.shape[1] <= UPSAMPLE_UP_TO else 0)
    else:
        rects = [dlib.rectangle(*(int(round(v)) for v in b)) for b in boxes]
    found = []
    for r in rects:
        points = np.array([(p.x, p.y) for p in predict(image, r).parts()], dtype=np.float64)
        found.append(((r.left(), r.top(), r.right(), r.bottom()), points))
    return found


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 similarity A minimising sum |A(src) - dst|^2 (Umeyama 1991, no reflection)."""
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    u, sv, vt = np.linalg.svd(d.T @ s / len(src))
    flip = np.diag([1.0, np.sign(np.linalg.det(u) * np.linalg.det(vt))])
    rotation = u @ flip @ vt
    scale = np.trace(np.diag(sv) @ flip) / (s**2).sum(1).mean()
    return np.hstack([scale * rotation, (mu_d - scale * rotation @ mu_s)[:, None]])


def apply(transform: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Points (..., 2) mapped by a 2x3 transform."""
    return points @ transform[:, :2].T + transform[:, 2]


def invert(transform: np.ndarray) -> np.ndarray:
    """The inverse of a 2x3 affine transform."""
    return cv2.invertAffineTransform(transform.astype(np.float64))


def _shrink(image: np.ndarray, transform: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`image` pre-shrunk by area averaging to about the frame's scale, and the transform from it.

    Bilinear sampling alone would alias a large face (a 12 MP phone photo maps 20 px or more onto
    one frame pixel); the CelebA faces the DCGAN learnt were shrunk with an antialiasing filter too.
    """
    scale = np.sqrt(abs(np.linalg.det(transform[:, :2])))
    h, w = image.shape[:2]
    if scale >= 1:
        return image, transform
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    fx, fy = size[0] / w, size[1] / h
    # photo x = (x' + 0.5) / fx - 0.5 for pixel centres x' of the shrunk image
    back = np.array([[1 / fx, 0, 0.5 / fx - 0.5], [0, 1 / fy, 0.5 / fy - 0.5], [0, 0, 1]])
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), transform @ back


def _footprint(shape: tuple[int, ...], transform: np.ndarray) -> Box:
    """(x0, y0, x1, y1), end exclusive: the part of the photo that the frame samples, with a
    margin of two frame pixels, so that a large photo is never shrunk or copied whole."""
    corners = apply(invert(transform), np.array([[0, 0], [SIZE, 0], [0, SIZE], [SIZE, SIZE]], float) - 0.5)
    pad = 2 / np.sqrt(abs(np.linalg.det(transform[:, :2]))) + 2
    (x0, y0), (x1, y1) = np.floor(corners.min(0) - pad), np.ceil(corners.max(0) + pad)
    h, w = shape[:2]
    x0, y0 = int(np.clip(x0, 0, w - 1)), int(np.clip(y0, 0, h - 1))
    return x0, y0, int(np.clip(x1, x0 + 1, w)), int(np.clip(y1, y0 + 1, h))


def to_frame(image: np.ndarray, transform: np.ndarray, border: int = cv2.BORDER_REPLICATE) -> np.ndarray:
    """`image` (H, W[, C]) resampled into the 64x64 frame as float32: area pre-shrink, then bilinear."""
    x0, y0, x1, y1 = _footprint(image.shape, transform)
    t = transform.astype(np.float64) @ np.array([[1, 0, x0], [0, 1, y0], [0, 0, 1]])
    shrunk, t = _shrink(np.ascontiguousarray(image[y0:y1, x0:x1], dtype=np.float32), t)
    return cv2.warpAffine(shrunk, t, (SIZE, SIZE), flags=cv2.INTER_LINEAR, borderMode=border, borderValue=0)


def mask_to_frame(hole: np.ndarray, transform: np.ndarray) -> tuple[np.ndarray, bool]:
    """(missing (64, 64) bool, whether the hole reaches the frame at all) for a bool hole (H, W).

    Resampled the way `to_frame` resamples the photo: a frame pixel counts as known only if
    no hole pixel and no pixel outside the photo went into its value, so the search never
    matches a blend of known and missing pixels.
    """
    hole_in_frame = to_frame(hole.astype(np.float32), transform, cv2.BORDER_CONSTANT)
    inside = to_frame(np.ones(hole.shape, np.float32), transform, cv2.BORDER_CONSTANT)
    return (hole_in_frame > 0) | (inside < 1), bool((hole_in_frame > 0).any())


def from_frame(image: np.ndarray, transform: np.ndarray, window: Box) -> tuple[np.ndarray, np.ndarray]:
    """A 64x64 float (64, 64, C) image warped back onto the photo's `window` (x0, y0, x1, y1),
    bilinear: (values premultiplied by coverage, coverage in [0, 1]); 0 outside the frame."""
    x0, y0, x1, y1 = window
    t = transform.astype(np.float64) @ np.array([[1, 0, x0], [0, 1, y0], [0, 0, 1]])
    size, flags = (x1 - x0, y1 - y0), cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    values = cv2.warpAffine(np.ascontiguousarray(image, dtype=np.float32), t, size, flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    coverage = cv2.warpAffine(np.ones((SIZE, SIZE), np.float32), t, size, flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return values.reshape(size[1], size[0], -1), coverage

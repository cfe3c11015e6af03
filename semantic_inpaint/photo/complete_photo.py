"""`complete_photo`: real photos in, real photos out.

The DCGAN only knows 64x64 faces cut the way CelebA's were. A photo's faces are found by
dlib, each is warped by a similarity transform onto the measured landmark template
(`template.py`), completed there by `complete`, warped back and laid into the photo's hole
(`composite.py`). Masks: **1 = known pixel, 0 = missing**, as everywhere in the library.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from semantic_inpaint import face_masks
from semantic_inpaint import masks as mask_lib
from semantic_inpaint.complete import Completion, complete
from semantic_inpaint.config import SearchConfig
from semantic_inpaint.data.folder import _open_rgb
from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.io import rgb
from semantic_inpaint.models.dcgan import Discriminator, Generator
from semantic_inpaint.models.weights import Pretrained
from semantic_inpaint.photo.align import Box, detect, mask_to_frame, prefill, similarity, to_frame
from semantic_inpaint.photo.composite import composite
from semantic_inpaint.photo.template import template
from semantic_inpaint.validate import check_binary, check_hole_and_known, to_float, to_uint8

CONVENTION = "1 = known pixel, 0 = missing; as a picture, white = known"
BOX_HINT = "give the face by hand with box=(x0, y0, x1, y1), its bounding box in photo pixels"


@dataclass(frozen=True)
class PhotoFace:
    """One completed face. box: (x0, y0, x1, y1) in photo pixels (dlib's detection or the box
    given); landmarks: float (68, 2), dlib's points (x, y) in the photo; transform: float
    (2, 3), photo -> 64x64 frame; completion: `complete`'s result for the aligned face (one image)."""

    box: Box
    landmarks: np.ndarray
    transform: np.ndarray
    completion: Completion


@dataclass(frozen=True)
class PhotoCompletion:
    """image: the completed photo (PIL RGB, the input's size; pixels outside the hole are the
    input's, bit-exact); faces: one PhotoFace per face that the hole touched, in detection order."""

    image: Image.Image
    faces: list[PhotoFace]


@dataclass(frozen=True)
class AlignedFace:
    """A face of a photo in the DCGAN's 64x64 frame: image (PIL RGB 64x64), and box, landmarks
    and transform (photo -> frame) as in PhotoFace."""

    box: Box
    landmarks: np.ndarray
    transform: np.ndarray
    image: Image.Image


def align_faces(photo: object, box: Box | Sequence[Box] | None = None) -> list[AlignedFace]:
    """Each face dlib finds in `photo` (or in each `box` given), aligned as the training faces
    were: a 64x64 face ready for `complete`, `evaluate` or the tables. photo: as `complete_photo`."""
    rgb = read_photo(photo)
    found = detect(rgb, None if box is None else _boxes(box, rgb.shape[:2]))
    if not found:
        raise InpaintInputError(f"no face found in the photo (dlib's frontal face detector): {BOX_HINT}")
    faces = []
    for face_box, points in found:
        transform = similarity(points, template())
        pixels = to_uint8(to_frame(rgb, transform), value_range=(0, 255))  # resampled 8-bit values, rounded
        faces.append(AlignedFace(face_box, points, transform, Image.fromarray(pixels)))
    return faces


def read_photo(photo: object) -> np.ndarray:
    """uint8 (H, W, 3) RGB from a path (upright as its EXIF orientation says), a PIL image or a
    uint8 array. Greyscale is replicated to RGB; an alpha channel is dropped, not composited."""
    if isinstance(photo, (str, os.PathLike)):
        return np.asarray(_open_rgb(Path(photo)))
    if isinstance(photo, Image.Image):
        return np.asarray(rgb(photo))
    if isinstance(photo, np.ndarray) and photo.dtype == np.uint8:
        a = photo[..., None] if photo.ndim == 2 else photo
        if a.ndim == 3 and a.shape[-1] in (1, 3, 4):
            return np.ascontiguousarray(np.repeat(a, 3, -1) if a.shape[-1] == 1 else a[..., :3])
        raise InpaintInputError(f"a photo array must be (H, W), (H, W, 3) or (H, W, 4), got shape {photo.shape}")
    what = f"{photo.dtype} array" if isinstance(photo, np.ndarray) else type(photo).__name__
    raise InpaintInputError(f"unsupported photo ({what}): pass a path, a PIL image or a uint8 (H, W, 3) array")


def read_mask(mask: object, shape: tuple[int, int]) -> np.ndarray:
    """bool (H, W), True = known, from a picture or path (white = known), or a 0/1 array or tensor."""
    if isinstance(mask, str) and mask in mask_lib.NAMES:
        raise InpaintInputError(
            f"mask {mask!r} is a named mask for 64x64 faces; for a photo, pass a mask of the photo's size ({CONVENTION}) "
            f"or a face-shaped mask drawn on the photo's faces: {', '.join(face_masks.PARTS)}"
        )
    if isinstance(mask, (str, os.PathLike, Image.Image)):
        m = mask_lib.from_image(mask).numpy()
    elif isinstance(mask, (np.ndarray, torch.Tensor)):
        m = mask.detach().cpu().numpy() if isinstance(mask, torch.Tensor) else mask
        if m.dtype == np.uint8 and m.max() > 1:
            m = to_float(m)  # an 8-bit mask picture: 255 = known
    else:
        raise InpaintInputError(f"unsupported mask type {type(mask).__name__}: pass a PIL image, a path, an array or a tensor ({CONVENTION})")
    if m.ndim != 2:
        raise InpaintInputError(f"a photo mask must be (H, W), got shape {m.shape}; for an RGB picture use semantic_inpaint.masks.from_image")
    if m.shape != shape:
        raise InpaintInputError(
            f"mask is {m.shape[1]}x{m.shape[0]} but the photo is {shape[1]}x{shape[0]} (upright, for a file with an "
            "EXIF orientation): draw the mask on the photo at its own size"
        )
    check_binary(m, "the mask", CONVENTION, fix="(m > 0.5)")
    check_hole_and_known(m, "the mask", CONVENTION)
    return m == 1


def _boxes(box: object, shape: tuple[int, int]) -> list[Box]:
    """One box (x0, y0, x1, y1) or a list of them, checked against the photo."""
    try:
        boxes = np.asarray(box, dtype=np.float64).reshape(-1, 4) if np.size(box) % 4 == 0 else None
    except (TypeError, ValueError):
        boxes = None
    if boxes is None or len(boxes) == 0:
        raise InpaintInputError(f"box must be (x0, y0, x1, y1) or a list of them, got {box!r}: {BOX_HINT}")
    for x0, y0, x1, y1 in boxes.tolist():
        if not (0 <= x0 < x1 <= shape[1] and 0 <= y0 < y1 <= shape[0]):
            raise InpaintInputError(f"box {(x0, y0, x1, y1)} is not inside the {shape[1]}x{shape[0]} photo with x0 < x1 and y0 < y1: {BOX_HINT}")
    return [tuple(round(v) for v in b) for b in boxes.tolist()]


def _overlap(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    w = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
    return w * h / (area(a) + area(b) - w * h)


def _union(first: list, second: list) -> list:
    """The faces of `first`, then those of `second` that no face of `first` overlaps by half."""
    return first + [f for f in second if all(_overlap(f[0], g[0]) < 0.5 for g in first)]


def complete_photo(
    photo: object,
    mask: object,
    preset: str | SearchConfig = "fast",
    *,
    box: Box | Sequence[Box] | None = None,
    models: Pretrained | tuple[Generator, Discriminator] | None = None,
    device: str | torch.device | None = None,
    feather: int = 4,
    **overrides: object,
) -> PhotoCompletion:
    """Inpaint the faces of a photo of any size: each face whose 64x64 frame the hole reaches.

    photo: a path (EXIF orientation honoured), a PIL image or a uint8 (H, W[, 3 or 4]) array;
        greyscale is replicated to RGB, an alpha channel dropped.
    mask: at the photo's size, **1 = known pixel, 0 = missing**: a PIL image or path (white =
        known), a bool or 0/1 array or tensor (H, W); or a face-shaped mask by name ('eyes',
        'lower-face', 'mouth', 'nose'), drawn on every face dlib finds.
    box: (x0, y0, x1, y1), or a list of them, for faces dlib's detector misses.
    feather: width in px of the band inside the hole's edge that blends from a local fill to
        the completion (0: none). Pixels outside the hole are never changed.
    preset, models, device, overrides: passed to `complete` for each aligned face. The default,
        'fast', is the preset that completes unseen real faces best (docs/results.md) and takes
        seconds a face on a CPU; 'thesis' runs the thesis's search.
    """
    rgb = read_photo(photo)
    boxes = None if box is None else _boxes(box, rgb.shape[:2])
    found = None
    if isinstance(mask, str) and mask in face_masks.PARTS:
        # Drawn on the landmarks of every face found, so it follows each face's pose and size;
        # the pixels under such a hole are still there, so these are the faces to complete.
        found = detect(rgb, boxes)
        if not found:
            raise InpaintInputError(f"no face found in the photo to draw the {mask!r} mask on: {BOX_HINT}")
        mask = np.logical_and.reduce([face_masks.from_landmarks(mask, points, rgb.shape[:2]).numpy() == 1 for _, points in found])
    known = read_mask(mask, rgb.shape[:2])
    if isinstance(feather, bool) or not isinstance(feather, (int, np.integer)) or feather < 0:
        raise InpaintInputError(f"feather must be a whole number of pixels >= 0, got {feather!r}")
    hole = ~known
    filled = prefill(rgb, hole)
    if not found:
        # On the locally filled photo: a hole painted over the eyes can hide the face from dlib.
        # A smooth fill can hide it too, so also on the photo as given, which may still show it.
        found = detect(filled, boxes) if boxes is not None else _union(detect(filled), detect(rgb))
    if not found:
        raise InpaintInputError(f"no face found in the photo (dlib's frontal face detector, on the photo and with the hole filled locally): {BOX_HINT}")
    faces = _complete_faces(rgb, hole, found, preset, models=models, device=device, **overrides)
    laid = [(face.completion.images[0].permute(1, 2, 0).numpy(), face.transform) for face in faces]
    return PhotoCompletion(Image.fromarray(composite(rgb, filled, hole, laid, feather)), faces)


def _complete_faces(
    rgb: np.ndarray, hole: np.ndarray, found: list[tuple[Box, np.ndarray]], preset: str | SearchConfig, /, **kwargs: object
) -> list[PhotoFace]:
    """`complete` on each face `found` (box, landmarks) in the photo `rgb` whose 64x64 frame the
    `hole` (bool, True = missing) reaches, aligned onto the template; `kwargs` go to `complete`."""
    faces = []
    for face_box, points in found:
        transform = similarity(points, template())
        missing, touched = mask_to_frame(hole, transform)
        if not touched:
            continue
        if missing.all():
            raise InpaintInputError(f"the hole covers all of the face at {face_box}, leaving nothing to search with: make the hole smaller")
        face = np.clip(to_frame(rgb, transform) / 255, 0, 1)
        completion = complete(face, torch.from_numpy(~missing).float(), preset, **kwargs)
        faces.append(PhotoFace(face_box, points, transform, completion))
    if not faces:
        boxes = [b for b, _ in found]
        raise InpaintInputError(
            f"the hole touches none of the {len(found)} face(s) found (boxes {boxes}): this completes faces, so draw "
            f"the hole over a face, or {BOX_HINT}"
        )
    return faces

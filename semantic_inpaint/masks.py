"""Masks as float tensors (H, W) with **1 = known pixel, 0 = missing** (the thesis's M).

The thesis's masks (section 3.3, 4.2): `centre`, `left`, `right`, `random`; and face-shaped
ones (`face_masks.py`): `eyes`, `lower-face`, `mouth`, `nose`, `freeform`. Many tools write
mask images the other way round (white = hole): `from_image` takes `hole="white"` for those.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from semantic_inpaint.errors import InpaintInputError


def centre(size: int = 64) -> Tensor:
    """The central square of half the side missing: [16:48, 16:48] at 64x64 (25 % of the image)."""
    m = torch.ones(size, size)
    q = size // 4
    m[q : size - q, q : size - q] = 0
    return m


def left(size: int = 64) -> Tensor:
    """The left half missing."""
    m = torch.ones(size, size)
    m[:, : size // 2] = 0
    return m


def right(size: int = 64) -> Tensor:
    """The right half missing."""
    m = torch.ones(size, size)
    m[:, size // 2 :] = 0
    return m


def random(size: int = 64, p: float = 0.8, seed: int = 0) -> Tensor:
    """Each pixel missing independently with probability `p` (the thesis: 0.8), from `seed`."""
    if not 0 < p < 1:
        raise InpaintInputError(f"random mask: p (the fraction missing) must be in (0, 1), got {p}")
    return (torch.rand(size, size, generator=torch.Generator().manual_seed(seed)) >= p).float()


def from_image(image: str | os.PathLike | Image.Image | np.ndarray, hole: str = "black") -> Tensor:
    """A mask from a picture: grey levels >= 128 are white. `hole` says which colour marks the
    missing pixels: 'black' (this library's convention, white = known) or 'white'."""
    if hole not in ("black", "white"):
        raise InpaintInputError(f"hole must be 'black' or 'white' (the colour of the missing pixels), got {hole!r}")
    if isinstance(image, (str, os.PathLike)):
        try:
            image = Image.open(image)
        except (OSError, ValueError) as e:
            raise InpaintInputError(f"cannot read mask image {image}: {e}") from None
    from semantic_inpaint.io import rgb  # io imports this module

    arr = np.asarray(rgb(image).convert("L") if isinstance(image, Image.Image) else image)
    if arr.ndim == 3:
        arr = arr.mean(-1)
    if arr.ndim != 2:
        raise InpaintInputError(f"a mask image must be 2-D (H, W) or (H, W, C), got shape {arr.shape}")
    scale = 255 if arr.dtype == np.uint8 or arr.max() > 1 else 1
    white = torch.from_numpy(np.asarray(arr, np.float64) / scale >= 0.5)
    mask = (white if hole == "black" else ~white).float()
    if mask.mean() < 0.5:
        other = "white" if hole == "black" else "black"
        warnings.warn(
            f"{100 * (1 - mask.mean()):.0f} % of this mask is hole ({hole} = missing): if the picture marks the hole in {other}, "
            f"read it with hole={other!r} (command line: {'--hole-white' if other == 'white' else 'without --hole-white'})",
            stacklevel=2,
        )
    return mask


NAMED = {"centre": centre, "center": centre, "left": left, "right": right, "random": random}
# Face-shaped masks (face_masks.py): drawn on the template a photo's face is aligned to.
FACE = ("eyes", "lower-face", "mouth", "nose", "freeform")
NAMES = (*NAMED, *FACE)


def named(name: str, size: int = 64, seed: int = 0) -> Tensor:
    """A mask by name: the thesis's centre (or center), left, right, random (seeded); the
    face-shaped eyes, lower-face, mouth, nose (on the 64x64 landmark template, scaled to
    `size`) and freeform (seeded brush strokes, 10 - 30 % of the image)."""
    from semantic_inpaint import face_masks

    if name not in NAMES:
        listed = [n for n in NAMES if n != "center"]  # an alias of centre
        raise InpaintInputError(f"unknown mask {name!r}: use one of {', '.join(listed)}, or pass a mask image/array")
    if name == "random":
        return random(size, seed=seed)
    if name == "freeform":
        return face_masks.freeform(size, seed=seed)
    if name in FACE:
        from semantic_inpaint.photo.template import template

        return face_masks.from_landmarks(name, template() * size / 64, (size, size))
    return NAMED[name](size)

"""Local baselines of the thesis's figure 6, by name: `inpaint("telea", images, masks)`.

`tv` (total variation, the thesis's ref. [22]), `navier_stokes` and `telea` (OpenCV),
`biharmonic` (scikit-image) and `nearest` (nearest-neighbour fill from a library of faces,
ref. [16]). Each takes images (uint8 (N, 64, 64, 3) arrays or float tensors in [0, 1]) and
masks (**1 = known pixel, 0 = missing**) and returns float (N, 3, 64, 64) in [0, 1] with the
known pixels copied exactly, so the tables score them exactly as the GAN methods.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

from semantic_inpaint.baselines.scikit_image import biharmonic
from semantic_inpaint.baselines.nearest_neighbour import nearest, nearest_index
from semantic_inpaint.baselines.opencv import navier_stokes, telea
from semantic_inpaint.baselines.total_variation import tv
from semantic_inpaint.errors import InpaintInputError

BASELINES: dict[str, Callable[..., Tensor]] = {
    "tv": tv,
    "navier_stokes": navier_stokes,
    "telea": telea,
    "biharmonic": biharmonic,
    "nearest": nearest,
}
# Baselines that draw from a library of faces (the training set) rather than the input alone.
NEEDS_LIBRARY = frozenset({"nearest"})


def inpaint(name: str, images: object, masks: object, *, library: object = None) -> Tensor:
    """Complete `images` with the baseline `name` (a key of BASELINES), at its default settings.

    masks: **1 = known pixel, 0 = missing**. library: the faces `nearest` draws from (e.g.
    `load_images("synthetic", n=2000)`); required for `nearest`, unused by the others.
    """
    if name not in BASELINES:
        raise InpaintInputError(f"unknown baseline {name!r}; available: {sorted(BASELINES)}")
    if name in NEEDS_LIBRARY:
        return BASELINES[name](images, masks, library)
    return BASELINES[name](images, masks)


__all__ = ["BASELINES", "NEEDS_LIBRARY", "biharmonic", "inpaint", "navier_stokes", "nearest", "nearest_index", "telea", "tv"]

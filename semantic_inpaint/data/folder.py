"""Face images from files: one image, a list of files, or a folder, as uint8 RGB (N, 64, 64, 3).

Preprocessing follows the DCGAN face protocol used by semantic inpainting (Yeh et al., 2017,
after Radford et al.'s DCGAN-tensorflow): a centred square crop, then a resize to 64x64. The
CelebA loader (`celeba.py`) uses the same path with a fixed 108x108 crop.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.io import centre_square, rgb

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def load_face(path: str | Path, size: int = 64, crop: int | None = None) -> np.ndarray:
    """One image as uint8 (size, size, 3) RGB.

    The image is converted to RGB (greyscale is replicated; an alpha channel is dropped, not
    composited), centre-cropped to a `crop` x `crop` square (the largest centred square when
    `crop` is None) and resized to `size` x `size` with PIL's BICUBIC filter. BICUBIC is this
    library's choice: DCGAN-tensorflow resized with scipy's (bilinear) imresize, which no
    longer exists.
    """
    path = Path(path)
    _check_positive("size", size)
    if crop is not None:
        _check_positive("crop", crop)
    image = _open_rgb(path)
    side = min(image.size) if crop is None else crop
    if side > min(image.size):
        w, h = image.size
        raise InpaintInputError(
            f"{path}: a {side}x{side} crop does not fit in this {w}x{h} image; "
            f"use crop <= {min(w, h)} or crop=None (the largest centred square)"
        )
    # io.centre_square crops, then resizes; ImageOps.fit would give other bytes (see there).
    return np.asarray(centre_square(image, size, side), dtype=np.uint8)


def load_faces(paths: Sequence[str | Path], size: int = 64, crop: int | None = None) -> np.ndarray:
    """Images at `paths`, in that order, as uint8 (N, size, size, 3) (see `load_face`)."""
    # Filled in place rather than np.stack-ed: a full CelebA split is gigabytes, one copy is enough.
    out = np.empty((len(paths), size, size, 3), dtype=np.uint8)
    for i, path in enumerate(paths):
        out[i] = load_face(path, size=size, crop=crop)
    return out


def image_folder(root: str | Path, n: int | None = None, size: int = 64) -> tuple[np.ndarray, list[str]]:
    """The first `n` (all if None) images directly inside `root`, in sorted file-name order.

    Not recursive: subfolders are ignored. Images are files ending in .png, .jpg, .jpeg, .bmp
    or .webp, in any case. Returns uint8 (N, size, size, 3) RGB, largest centred square
    resized (see `load_face`), and the file names in the same order.
    """
    names = image_names(root)
    if n is not None:
        _check_positive("n", n)
        names = names[:n]
    return load_faces([Path(root) / name for name in names], size=size), names


def image_names(root: str | Path) -> list[str]:
    """Sorted names of the image files directly inside `root`; an error if there are none."""
    root = Path(root)
    if not root.is_dir():
        what = "is a file, not a folder" if root.exists() else "does not exist"
        raise InpaintInputError(f"image folder {root} {what}: pass a folder that holds face images")
    names = sorted(
        p.name
        for p in root.iterdir()
        # Dot-files are skipped: macOS leaves '._x.jpg' resource forks that are not images.
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
    )
    if not names:
        raise InpaintInputError(
            f"image folder {root} holds no images: put {', '.join(IMAGE_SUFFIXES)} files directly "
            "in it (subfolders are not searched)"
        )
    return names


def _open_rgb(path: Path) -> Image.Image:
    """The decoded image at `path` in RGB, upright as its EXIF orientation says."""
    if not path.is_file():
        raise InpaintInputError(f"image file {path} does not exist: check the path")
    try:
        with Image.open(path) as image:
            # exif_transpose: phone photos store rotation as a tag; the face must be upright.
            return rgb(ImageOps.exif_transpose(image))
    except (UnidentifiedImageError, OSError) as err:
        # Truncated or corrupt files fail while decoding (OSError), not only on open.
        raise InpaintInputError(
            f"cannot read image file {path} ({err}): it is corrupt, truncated or not an image; "
            "re-download or re-export it, or remove it"
        ) from err


def _check_positive(name: str, value: int) -> None:
    if value < 1:
        raise InpaintInputError(f"{name} must be a positive integer, got {value!r}")

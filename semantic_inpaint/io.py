"""Conversion and validation of what users pass in: images and masks.

Public images are RGB in [0, 1] (PIL images, uint8 (H, W, 3) arrays, float arrays or tensors in
[0, 1], one or a batch). Inside, the library works in [-1, 1], shape (N, 3, 64, 64).
Masks: 1 = known pixel, 0 = missing. The checks themselves and the uint8 <-> float conversion
are `validate`'s, shared with the rest of the library.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from semantic_inpaint import masks as mask_lib
from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.validate import (
    MASK_CONVENTION,
    check_binary,
    check_float,
    check_hole_and_known,
    check_image_shape,
    check_not_empty,
    check_not_meta,
    check_values,
    to_float,
    to_uint8,
)

SIZE = 64
RESIZE_HINT = "use semantic_inpaint.load_image(path), which centre-crops and resizes to 64x64"


SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N", "I")


def rgb(image: Image.Image) -> Image.Image:
    """`image` in 8-bit RGB. PIL's own convert("RGB") clips 16-bit greyscale (mode I;16, as
    medical and scientific PNGs are) at 255, which turns a whole picture white; here 0..65535
    is scaled to 0..255 first."""
    if image.mode in SIXTEEN_BIT:
        image = Image.fromarray(to_uint8(np.asarray(image, dtype=np.float64), value_range=(0, 65535)))
    return image.convert("RGB")


def load_image(path: str | os.PathLike | Image.Image, size: int = SIZE) -> Image.Image:
    """An RGB face picture centre-cropped to a square and resized to `size` (bicubic)."""
    try:
        img = path if isinstance(path, Image.Image) else Image.open(path)
        img = rgb(img)
    except (OSError, ValueError) as e:
        raise InpaintInputError(f"cannot read image {path}: {e}") from None
    return centre_square(img, size)


def centre_square(image: Image.Image, size: int, crop: int | None = None) -> Image.Image:
    """The centred `crop` x `crop` square of `image` (the largest one if None), resized to `size`
    x `size` with PIL's bicubic filter. An odd margin leaves the extra pixel right / bottom.

    Cropped, then resized: PIL's ImageOps.fit resizes a box of the whole picture instead, so its
    filter reads the pixels just outside the square (and an odd margin is centred on a half
    pixel), which gives other faces, up to 12 levels off, than those the DCGAN learnt.
    """
    w, h = image.size
    side = min(w, h) if crop is None else crop
    left, top = (w - side) // 2, (h - side) // 2
    return image.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.BICUBIC)


def _from_array(a: np.ndarray) -> Tensor:
    check_image_shape(a.shape, "an image array", channels_last=True)
    check_not_empty(a, "the image array")
    a = a if a.ndim == 4 else a[None]
    if a.dtype == np.uint8:
        return to_float(torch.from_numpy(a.copy()).permute(0, 3, 1, 2))
    check_float(a, "an image array", "uint8 (0..255) or float in [0, 1]", "Convert it with .astype(np.uint8) for 0..255 values.")
    return torch.from_numpy(a.astype(np.float32)).permute(0, 3, 1, 2)


def _from_tensor(t: Tensor) -> Tensor:
    check_not_meta(t, "the image tensor", "pass one with data, e.g. on 'cpu'")
    check_image_shape(t.shape, "an image tensor")
    check_not_empty(t, "the image tensor")
    t = t if t.ndim == 4 else t[None]
    if t.dtype == torch.uint8:
        return to_float(t.cpu())
    check_float(t, "an image tensor", "float in [0, 1] (or uint8)", "Convert it with .float() / 255 for 0..255 values.")
    return t.detach().float().cpu()


def as_images(image: object) -> Tensor:
    """Any accepted image form -> float32 (N, 3, 64, 64) in [0, 1] on the CPU, validated."""
    if isinstance(image, Image.Image):
        x = _from_array(np.asarray(rgb(image)))
    elif isinstance(image, np.ndarray):
        x = _from_array(image)
    elif isinstance(image, Tensor):
        x = _from_tensor(image)
    elif isinstance(image, Sequence) and not isinstance(image, (str, bytes)):
        if len(image) == 0:
            raise InpaintInputError(f"unsupported image type: an empty {type(image).__name__} holds no images; pass at least one")
        x = torch.cat([as_images(i) for i in image])
    elif isinstance(image, (str, os.PathLike)):
        raise InpaintInputError(f"got a path ({image}); {RESIZE_HINT}, then pass the image")
    else:
        raise InpaintInputError(f"unsupported image type {type(image).__name__}: pass a PIL image, a uint8 (H, W, 3) array or a float tensor in [0, 1]")
    if x.shape[-2:] != (SIZE, SIZE):
        raise InpaintInputError(f"image is {x.shape[-1]}x{x.shape[-2]}, but the DCGAN works on {SIZE}x{SIZE} faces: {RESIZE_HINT}")
    # Exactly [0, 1]: these are the caller's own pixels; the metrics' tolerance is for round-off from blending.
    check_values(x, "image", tol=0.0, takes_data_range=False)
    hi = x.max().item()
    if 0 < hi <= 1 / 255:
        warnings.warn(f"image values are all at most {hi:.3g} (1/255 = 0.0039): divided by 255 twice? Float images are in [0, 1]", stacklevel=2)
    return x


def as_masks(mask: object, n: int, seed: int = 0) -> Tensor:
    """Any accepted mask form -> float32 (n, 1, 64, 64) of {0, 1}, validated against n images.

    Named masks: 'centre', 'left', 'right', 'random' ('random' is seeded by `seed`).
    """
    if isinstance(mask, str):
        m = mask_lib.named(mask, SIZE, seed)
    elif isinstance(mask, Image.Image):
        m = mask_lib.from_image(mask)
    elif isinstance(mask, np.ndarray):
        if mask.dtype == np.uint8 and mask.max() > 1:
            mask = to_float(mask)  # an 8-bit mask picture: 255 = known
        m = torch.from_numpy(np.asarray(mask, np.float32))
    elif isinstance(mask, Tensor):
        check_not_meta(mask, "the mask tensor", f"pass one with data ({MASK_CONVENTION})")
        m = mask.detach().float().cpu()
    else:
        raise InpaintInputError(f"unsupported mask type {type(mask).__name__}: pass a name, a PIL image, an array or a tensor ({MASK_CONVENTION})")
    if m.ndim == 3 and m.shape[-1] in (3, 4) and m.shape[-2] == SIZE:
        raise InpaintInputError(
            f"mask of shape {tuple(m.shape)} looks like an RGB(A) picture; pass one channel (H, W), "
            "or convert it with semantic_inpaint.masks.from_image(array)"
        )
    if m.ndim == 2:
        m = m[None, None]
    elif m.ndim == 3:
        m = m[:, None]
    if m.ndim != 4 or m.shape[1] != 1:
        raise InpaintInputError(f"a mask must be (H, W), (N, H, W) or (N, 1, H, W), got shape {tuple(m.shape)}")
    if m.shape[-2:] != (SIZE, SIZE):
        raise InpaintInputError(f"mask is {m.shape[-1]}x{m.shape[-2]} but images are {SIZE}x{SIZE}; make it the image's size")
    if m.shape[0] not in (1, n):
        three = " (a (3, H, W) mask is read as 3 masks: one mask has one channel, so pass one, e.g. mask[0])" if m.shape[0] == 3 else ""
        raise InpaintInputError(f"{m.shape[0]} masks for {n} image{'s' if n != 1 else ''}: pass one mask for all, or one per image{three}")
    check_binary(m, "mask")
    m = m.expand(n, 1, SIZE, SIZE).contiguous()
    for i, mi in enumerate(m):
        check_hole_and_known(mi, f"mask {i}")
    return m


def to_pil(x: Tensor) -> Image.Image:
    """(3, H, W) in [0, 1] -> PIL RGB (values outside [0, 1] saturate)."""
    return Image.fromarray(to_uint8(x.detach().cpu()).permute(1, 2, 0).numpy())

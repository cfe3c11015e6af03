"""Conversion and validation of what users pass in: images and masks.

Public images are RGB in [0, 1] (PIL images, uint8 (H, W, 3) arrays, float arrays or tensors in
[0, 1], one or a batch). Inside, the library works in [-1, 1], shape (N, 3, 64, 64).
Masks: 1 = known pixel, 0 = missing.
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

SIZE = 64
MASK_CONVENTION = "masks use 1 = known pixel, 0 = missing (hole)"
RESIZE_HINT = "use semantic_inpaint.load_image(path), which centre-crops and resizes to 64x64"


SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N", "I")


def rgb(image: Image.Image) -> Image.Image:
    """`image` in 8-bit RGB. PIL's own convert("RGB") clips 16-bit greyscale (mode I;16, as
    medical and scientific PNGs are) at 255, which turns a whole picture white; here 0..65535
    is scaled to 0..255 first."""
    if image.mode in SIXTEEN_BIT:
        levels = np.asarray(image, dtype=np.float64)
        image = Image.fromarray(np.clip(np.rint(levels / 257), 0, 255).astype(np.uint8))
    return image.convert("RGB")


def load_image(path: str | os.PathLike | Image.Image, size: int = SIZE) -> Image.Image:
    """An RGB face picture centre-cropped to a square and resized to `size` (bicubic)."""
    try:
        img = path if isinstance(path, Image.Image) else Image.open(path)
        img = rgb(img)
    except (OSError, ValueError) as e:
        raise InpaintInputError(f"cannot read image {path}: {e}") from None
    w, h = img.size
    s = min(w, h)
    box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)
    return img.crop(box).resize((size, size), Image.BICUBIC)


def _from_array(a: np.ndarray) -> Tensor:
    if a.ndim == 3:
        a = a[None]
    if a.ndim != 4 or a.shape[-1] != 3:
        raise InpaintInputError(f"an image array must be (H, W, 3) or (N, H, W, 3) RGB, got shape {a.shape}")
    if a.dtype == np.uint8:
        return torch.from_numpy(a.copy()).permute(0, 3, 1, 2).float() / 255
    if np.issubdtype(a.dtype, np.floating):
        return torch.from_numpy(a.astype(np.float32)).permute(0, 3, 1, 2)
    raise InpaintInputError(f"image arrays must be uint8 (0..255) or float in [0, 1], got {a.dtype}; convert with .astype(np.uint8)")


def _from_tensor(t: Tensor) -> Tensor:
    if t.is_meta:
        raise InpaintInputError("the image tensor is on the 'meta' device, which holds shapes but no values: pass one with data, e.g. on 'cpu'")
    if t.ndim not in (3, 4) or t.shape[-3] != 3:
        raise InpaintInputError(f"an image tensor must be (3, H, W) or (N, 3, H, W), got shape {tuple(t.shape)}")
    if t.ndim == 3:
        t = t[None]
    if t.dtype == torch.uint8:
        return t.float() / 255
    if not t.is_floating_point():
        raise InpaintInputError(f"image tensors must be float in [0, 1] (or uint8), got {t.dtype}")
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
    if len(x) == 0:
        raise InpaintInputError("no images: the batch is empty (0 images); pass at least one")
    if x.shape[-2:] != (SIZE, SIZE):
        raise InpaintInputError(f"image is {x.shape[-1]}x{x.shape[-2]}, but the DCGAN works on {SIZE}x{SIZE} faces: {RESIZE_HINT}")
    if not torch.isfinite(x).all():
        raise InpaintInputError("image has NaN or infinite values")
    lo, hi = x.min().item(), x.max().item()
    if lo < 0:
        raise InpaintInputError(f"image values go down to {lo:.3g}: float images must be in [0, 1] (from [-1, 1], use (x + 1) / 2)")
    if hi > 1:
        raise InpaintInputError(f"image values go up to {hi:.3g}: float images must be in [0, 1] (from 0..255, divide by 255)")
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
            mask = mask / 255  # an 8-bit mask picture: 255 = known
        m = torch.from_numpy(np.asarray(mask, np.float32))
    elif isinstance(mask, Tensor):
        if mask.is_meta:
            raise InpaintInputError(f"the mask tensor is on the 'meta' device, which holds shapes but no values: pass one with data ({MASK_CONVENTION})")
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
        raise InpaintInputError(f"{m.shape[0]} masks for {n} images: pass one mask for all, or one per image")
    if not ((m == 0) | (m == 1)).all():
        raise InpaintInputError(f"mask values must be 0 or 1 ({MASK_CONVENTION}); threshold it, e.g. (m > 0.5).float()")
    m = m.expand(n, 1, SIZE, SIZE).contiguous()
    for i, mi in enumerate(m):
        if mi.min() == 1:
            raise InpaintInputError(f"mask {i} has no missing pixel, so there is nothing to inpaint ({MASK_CONVENTION}; inverted? use 1 - mask)")
        if mi.max() == 0:
            raise InpaintInputError(f"mask {i} has no known pixel, so there is no context to search with ({MASK_CONVENTION}; inverted? use 1 - mask)")
    return m


def to_pil(x: Tensor) -> Image.Image:
    """(3, H, W) in [0, 1] -> PIL RGB."""
    return Image.fromarray((x.detach().cpu().clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy())

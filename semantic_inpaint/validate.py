"""Checks of images and masks, and the one conversion between 8-bit levels and float pixels.

Every entry point that takes images or masks (`io`, `blend`, `metrics`, `baselines`, `photo`)
checks them here, so that one kind of bad input gets one error wherever it is passed: an
`InpaintInputError` that names the problem and the fix, and quotes the shape and dtype the
caller passed. As piq's `_validate_input` and kornia's `KORNIA_CHECK_*`, each check tests one
property and the entry points combine them.

Conventions: images are RGB, channels first in tensors, with values in [0, data_range]; masks
have one channel, broadcast over RGB, with **1 = known pixel, 0 = missing**.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import torch
from torch import Tensor

from semantic_inpaint.errors import InpaintInputError

# Accepted around [0, data_range] where a caller allows it: float round-off from blending or normalising.
RANGE_TOL = 1e-6
MASK_CONVENTION = "1 = known pixel, 0 = missing"
Pixels = TypeVar("Pixels", Tensor, np.ndarray)

# --------------------------------------------------------------------------- conversion


def _span(value_range: tuple[float, float]) -> tuple[float, float]:
    """(low, levels per unit = 255 / (high - low)) of a checked value range."""
    lo, hi = value_range
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise InpaintInputError(f"value_range must be (low, high), finite with low < high, e.g. (0, 1) or (-1, 1); got {value_range!r}")
    return float(lo), 255 / (hi - lo)


def to_float(levels: Pixels, value_range: tuple[float, float] = (0.0, 1.0)) -> Pixels:
    """uint8 levels 0..255 -> float32 in `value_range`: ``k / (255 / (high - low)) + low``.

    (0, 1), the default, is the library's public range (k / 255); (-1, 1) the DCGAN's
    (k / 127.5 - 1). A numpy array gives a numpy array, a tensor a tensor on its device, the
    shape and layout kept. `to_uint8` is the inverse, exact for all 256 levels.
    """
    lo, scale = _span(value_range)
    if isinstance(levels, np.ndarray):
        if levels.dtype != np.uint8:
            raise InpaintInputError(f"to_float takes uint8 levels 0..255; got a {levels.dtype} array. Pass 8-bit data as uint8 (.astype(np.uint8)).")
        x = levels.astype(np.float32) / np.float32(scale)
        return x + np.float32(lo) if lo else x
    if levels.dtype != torch.uint8:
        raise InpaintInputError(f"to_float takes uint8 levels 0..255; got a {levels.dtype} tensor. Pass 8-bit data as uint8 (.to(torch.uint8)).")
    x = levels.float() / scale
    return x + lo if lo else x


def to_uint8(x: Pixels, value_range: tuple[float, float] = (0.0, 1.0)) -> Pixels:
    """Float pixels in `value_range` -> uint8 levels: ``round((x - low) * 255 / (high - low))``,
    halves to even (torch.round, np.rint), then clipped to 0..255, so values outside the range saturate.

    Computed in x's own float dtype. The default (0, 1) maps 0 -> 0 and 1 -> 255; (-1, 1) is the
    DCGAN's range; (0, 255) rounds resampled 8-bit pixels; (0, 65535) scales 16-bit levels.
    A numpy array gives a numpy array, a tensor a tensor on its device, the shape kept.
    """
    lo, scale = _span(value_range)
    numpy = isinstance(x, np.ndarray)
    if not (np.issubdtype(x.dtype, np.floating) if numpy else x.is_floating_point()):
        raise InpaintInputError(f"to_uint8 takes float pixels in {value_range}; got dtype {x.dtype}. Convert it to float first.")
    y = x - lo if lo else x
    if numpy:
        return np.clip(np.rint(y * scale), 0, 255).astype(np.uint8)
    return (y * scale).round().clamp(0, 255).to(torch.uint8)


# --------------------------------------------------------------------------- images


def check_tensor(t: object, name: str, expected: str, fix: str) -> Tensor:
    """`t` if it is a torch.Tensor; else '{name} must be a torch.Tensor {expected}; got {type}. {fix}'."""
    if not isinstance(t, Tensor):
        raise InpaintInputError(f"{name} must be a torch.Tensor {expected}; got {type(t).__name__}. {fix}")
    return t


def check_not_meta(t: Tensor, name: str, fix: str) -> None:
    """Refuse a tensor on the 'meta' device: it has a shape but no values to check or compute with."""
    if t.is_meta:
        raise InpaintInputError(f"{name} is on the 'meta' device, which holds shapes but no values: {fix}")


def check_float(t: Tensor | np.ndarray, name: str, expected: str, fix: str) -> None:
    """Refuse a tensor or array whose dtype is not floating-point."""
    floating = t.is_floating_point() if isinstance(t, Tensor) else np.issubdtype(t.dtype, np.floating)
    if not floating:
        raise InpaintInputError(f"{name} must be {expected}; got dtype {t.dtype}. {fix}")


def check_data_range(data_range: object) -> float:
    """`data_range` as a float: a positive finite number (the span of the pixel values)."""
    if isinstance(data_range, bool) or not isinstance(data_range, numbers.Real):
        raise InpaintInputError(
            f"data_range must be a positive number (the span of pixel values, 1.0 for images in [0, 1]); "
            f"got {data_range!r} of type {type(data_range).__name__}. Pass e.g. data_range=1.0."
        )
    dr = float(data_range)
    if not math.isfinite(dr) or dr <= 0:
        raise InpaintInputError(
            f"data_range must be a positive finite number; got {data_range!r}. "
            "Pass data_range=1.0 for images in [0, 1] or 255.0 for images in [0, 255]."
        )
    return dr


def check_image_shape(shape: Sequence[int], name: str, *, channels_last: bool = False) -> None:
    """One RGB image or a batch: (3, H, W) or (N, 3, H, W), or with `channels_last` (H, W, 3) or (N, H, W, 3)."""
    shape = tuple(shape)
    batch, where = ("(N, H, W, 3)", "last") if channels_last else ("(N, 3, H, W)", "first")
    layout = f"{'(H, W, 3)' if channels_last else '(3, H, W)'} or {batch}"
    if len(shape) not in (3, 4):
        raise InpaintInputError(f"{name} must be {layout}, got shape {shape}: {len(shape)} dims, not 3 or 4. Reshape it to {batch}, channels {where}.")
    channels = shape[-1] if channels_last else shape[-3]
    if channels == 3:
        return
    if not channels_last and shape[-1] == 3:
        fix = f"If it is channels-last, use .permute({'0, 3, 1, 2' if len(shape) == 4 else '2, 0, 1'})."
    elif channels_last and shape[-3] == 3:
        fix = "If it is channels-first, use np.moveaxis(image, -3, -1)."
    else:
        fix = "Pass RGB: drop an alpha channel, repeat a grey one three times."
    raise InpaintInputError(f"{name} must be {layout}, got shape {shape}: it needs 3 (RGB) channels {where}, found {channels}. {fix}")


def check_not_empty(t: Tensor | np.ndarray, name: str) -> None:
    """Refuse a batch with no image, or images with no pixel."""
    count = t.size if isinstance(t, np.ndarray) else t.numel()
    if count == 0:
        raise InpaintInputError(f"{name} is empty (shape {tuple(t.shape)}): no images to work on; pass at least one non-empty image.")


def check_values(x: Tensor, name: str, data_range: float = 1.0, *, tol: float = RANGE_TOL, takes_data_range: bool = True) -> None:
    """Finite values in [0, data_range], `tol` allowed either side; the hint names the likely
    mistake (an image in [-1, 1], or 0..255 values). `takes_data_range`: the caller has a
    data_range argument to suggest; else dividing by 255 is suggested."""
    if not torch.isfinite(x).all():
        raise InpaintInputError(
            f"{name} has NaN or infinite values: images must be finite values in [0, {data_range:g}]; "
            "find where they came from, or replace them (torch.nan_to_num)."
        )
    lo, hi = float(x.min()), float(x.max())
    if lo >= -tol and hi <= data_range + tol:
        return
    span = f"[0, data_range={data_range:g}]" if takes_data_range else f"[0, {data_range:g}]"
    tolerance = f" (tolerance {tol:g})" if tol else ""
    if lo < 0 and lo >= -1 - tol and hi <= 1 + tol:
        hint = "It looks like an image in [-1, 1] (the generator's output): map it with (x + 1) / 2."
    elif hi > data_range and takes_data_range:
        hint = "Pass the matching data_range (e.g. data_range=255.0 for [0, 255]) or rescale the image."
    elif hi > data_range:
        hint = "For 0..255 values, divide by 255 (or pass them as uint8)."
    else:
        hint = f"Clamp or rescale the image into [0, {data_range:g}]."
    raise InpaintInputError(f"{name} has values in [{lo:g}, {hi:g}], outside {span}{tolerance}. {hint}")


def check_images(t: object, name: str, data_range: float = 1.0, *, tol: float = RANGE_TOL) -> Tensor:
    """A float tensor (N, 3, H, W) or (3, H, W) with values in [0, data_range] (up to `tol`);
    returns it as (N, 3, H, W), dtype and device as given."""
    check_tensor(t, name, "of shape (N, 3, H, W) or (3, H, W)", "Convert it with torch.as_tensor(...) (channels first, values in [0, data_range]).")
    check_float(
        t, name, "a floating-point tensor with values in [0, data_range]", "Convert it with .float() (and divide uint8 images by 255, or pass data_range=255)."
    )
    check_image_shape(t.shape, name)
    check_not_empty(t, name)
    t = t if t.dim() == 4 else t.unsqueeze(0)
    check_values(t.detach(), name, data_range, tol=tol)
    return t


def check_same_shape(a: Tensor, b: Tensor, names: tuple[str, str], fix: str, *, dtype: bool = False) -> None:
    """Refuse two tensors of different shapes (and, with `dtype`, of different dtypes)."""
    if a.shape != b.shape or (dtype and a.dtype != b.dtype):
        what = "shape and dtype" if dtype else "shape"
        got = [f"{n} {tuple(t.shape)}" + (f" {t.dtype}" if dtype else "") for n, t in zip(names, (a, b))]
        raise InpaintInputError(f"{names[0]} and {names[1]} must have the same {what}; got {got[0]} and {got[1]}. {fix}")


def check_image_pair(x: object, y: object, data_range: object, names: tuple[str, str] = ("x", "y")) -> tuple[Tensor, Tensor, float]:
    """Two image batches to compare (`check_images` each, the same shape): (x, y, data_range)."""
    dr = check_data_range(data_range)
    if isinstance(x, Tensor) and isinstance(y, Tensor):
        check_same_shape(x, y, names, "Pass the inpainted image and its ground truth at the same size and batch.")
    return check_images(x, names[0], dr), check_images(y, names[1], dr), dr


def check_same_device(**tensors: Tensor) -> None:
    """Refuse tensors on different devices, naming each one's."""
    if len({t.device for t in tensors.values()}) > 1:
        names, devices = list(tensors), [str(t.device) for t in tensors.values()]
        raise InpaintInputError(
            f"{', '.join(names[:-1])} and {names[-1]} are on {', '.join(devices[:-1])} and {devices[-1]}; move them to one device"
        )


# --------------------------------------------------------------------------- masks


def check_mask_shape(m: Tensor, name: str, like: Tensor | None = None, fix: str = "Keep one channel, e.g. mask[:, :1].") -> None:
    """One channel in dim -3: (N, 1, H, W) or (1, H, W); with `like`, broadcastable to its shape
    (H, W equal, each leading size 1 or like's), else at most 4 dims."""
    shape = tuple(m.shape)
    sized = "" if like is None else f", with H x W = {like.shape[-2]}x{like.shape[-1]} as the images'"
    if m.dim() < 3 or shape[-3] != 1 or (like is None and m.dim() > 4):
        raise InpaintInputError(
            f"{name} must have one channel, broadcast over RGB: shape (N, 1, H, W) or (1, H, W){sized}; got shape {shape}. {fix}"
        )
    if like is None:
        return
    try:
        fits = torch.broadcast_shapes(m.shape, like.shape) == like.shape
    except RuntimeError:
        fits = False
    if not fits:
        lead = "".join(f"{d} or 1, " if d != 1 else "1, " for d in like.shape[:-3])
        raise InpaintInputError(
            f"{name} shape {shape} does not match the images {tuple(like.shape)}: expected ({lead}1, {like.shape[-2]}, {like.shape[-1]}). "
            "Build it from the mask of these images: each leading dim 1 or the images'."
        )


def check_binary(m: Tensor | np.ndarray, name: str = "mask", convention: str = MASK_CONVENTION, fix: str = "(m > 0.5).float()") -> None:
    """Refuse values other than 0 and 1 (NaN included)."""
    if not bool(((m == 0) | (m == 1)).all()):
        raise InpaintInputError(f"{name} is not binary: its values must be 0 or 1 ({convention}); threshold it, e.g. {fix}")


def check_hole_and_known(m: Tensor | np.ndarray, name: str = "mask", convention: str = MASK_CONVENTION) -> None:
    """Refuse a binary mask with no missing pixel (nothing to inpaint) or no known one (no context)."""
    known = m == 1
    if bool(known.all()):
        raise InpaintInputError(f"{name} has no missing pixel, so there is nothing to inpaint ({convention}; inverted? use 1 - mask)")
    if not bool(known.any()):
        raise InpaintInputError(f"{name} has no known pixel, so there is no context to complete it from ({convention}; inverted? use 1 - mask)")


def check_masks(m: object, name: str = "mask", like: Tensor | None = None) -> Tensor:
    """A binary one-channel mask tensor (1 = known, 0 = missing), broadcastable to `like`'s shape."""
    check_tensor(m, name, "of shape (..., 1, H, W) (1 = known, 0 = missing)", "Convert it with torch.as_tensor(...).")
    check_mask_shape(m, name, like)
    check_binary(m, name)
    return m

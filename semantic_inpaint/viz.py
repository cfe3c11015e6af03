"""Small picture helpers shared by training, the demo and the evaluation figures.

`to_uint8` and `from_uint8` convert batches of the DCGAN's [-1, 1] images to and from 8-bit
pictures (N, H, W, 3); the rounding itself is `validate.to_uint8` / `validate.to_float`, the
library's one conversion between levels and floats.
"""

from __future__ import annotations

import numpy as np
import torch

from semantic_inpaint import validate

DCGAN_RANGE = (-1.0, 1.0)


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """(N, 3, H, W) in [-1, 1] -> uint8 (N, H, W, 3): round((x + 1) * 127.5), halves to even, clipped.

    Computed in float32 on the CPU whatever x's dtype and device."""
    return validate.to_uint8(x.detach().float().cpu(), DCGAN_RANGE).permute(0, 2, 3, 1).numpy()


def from_uint8(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> float32 (N, 3, H, W) in [-1, 1], the DCGAN's range: k / 127.5 - 1."""
    return validate.to_float(torch.from_numpy(images).permute(0, 3, 1, 2), DCGAN_RANGE)


def image_grid(images: np.ndarray, nrow: int = 8, pad: int = 2, fill: int = 255) -> np.ndarray:
    """uint8 (N, H, W, 3) -> one uint8 picture with `nrow` images a row, `pad` px apart."""
    n, h, w, c = images.shape
    rows = -(-n // nrow)
    out = np.full((rows * (h + pad) + pad, nrow * (w + pad) + pad, c), fill, np.uint8)
    for i, img in enumerate(images):
        r, k = divmod(i, nrow)
        out[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + k * (w + pad) : pad + k * (w + pad) + w] = img
    return out

"""OpenCV's two local inpainting methods, as classical baselines of the thesis's figure 6.

- Navier-Stokes: Bertalmio, Bertozzi & Sapiro, "Navier-Stokes, fluid dynamics, and image and
  video inpainting", CVPR 2001: image smoothness (the Laplacian) is transported along the
  isophotes into the hole, with anisotropic diffusion.
- Telea: "An image inpainting technique based on the fast marching method", J. Graphics Tools
  9(1), 2004: the hole is filled from its border inwards, each pixel a weighted average of the
  known pixels within `radius`, each extrapolated to it along its gradient.

Both run through `cv2.inpaint` (package opencv-python-headless) on 8-bit images, so the fill
is quantised to 1/255; the known pixels are copied back from the input exactly. Not on float
images: OpenCV's float Telea adds its 8-bit rounding offset of 0.5 to float values too
(opencv/opencv#25404) and is more than 1 off on a constant image (measured, OpenCV 5.0). Even
in 8 bits its Telea drifts on a constant image, by up to 4 levels in the centre hole and 7 in
a half-image hole (measured); Navier-Stokes is exact there.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch import Tensor

from semantic_inpaint.baselines.common import finish, prepare
from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.validate import to_float, to_uint8

# OpenCV's own inpainting examples use 3 px.
RADIUS = 3


def _cv2_inpaint(images: object, masks: object, radius: int, flag: int) -> Tensor:
    if radius < 1:
        raise InpaintInputError(f"radius must be >= 1 px, got {radius}")
    x, m = prepare(images, masks)
    # Rounded through [-1, 1] (x * 2 - 1), kept so that a given input always gives the same fill:
    # rounding x * 255 directly gives the other level for 192 float32 inputs near half-levels
    # (all below 0.25).
    pictures = to_uint8(x * 2 - 1, value_range=(-1, 1)).permute(0, 2, 3, 1).numpy()
    # OpenCV marks the pixels to fill with non-zero: the hole, the opposite of our masks.
    holes = (m[:, 0] == 0).numpy().astype(np.uint8)
    fill = np.stack([cv2.inpaint(np.ascontiguousarray(p), h, radius, flag) for p, h in zip(pictures, holes)])
    return finish(to_float(torch.from_numpy(fill).permute(0, 3, 1, 2)), x, m)


def navier_stokes(images: object, masks: object, radius: int = RADIUS) -> Tensor:
    """Navier-Stokes inpainting (Bertalmio et al. 2001) by `cv2.inpaint(..., cv2.INPAINT_NS)`.

    images: uint8 (N, 64, 64, 3) arrays, float tensors (N, 3, 64, 64) in [0, 1], or any form
        `complete` takes. masks: **1 = known pixel, 0 = missing**, (N, 1, 64, 64) or one for all.
    Returns float (N, 3, 64, 64) in [0, 1], the known pixels copied exactly from the input.
    """
    return _cv2_inpaint(images, masks, radius, cv2.INPAINT_NS)


def telea(images: object, masks: object, radius: int = RADIUS) -> Tensor:
    """Fast-marching inpainting (Telea 2004) by `cv2.inpaint(..., cv2.INPAINT_TELEA)`.

    Arguments and result as `navier_stokes`.
    """
    return _cv2_inpaint(images, masks, radius, cv2.INPAINT_TELEA)

"""Biharmonic inpainting by scikit-image, a smooth local baseline of the thesis's figure 6.

The fill solves the biharmonic equation (Laplacian squared of u = 0) in the hole, with the
known pixels around it as boundary values (Damelin & Hoang, "On surface completion and image
inpainting by biharmonic functions: numerical aspects", 2018), by
`skimage.restoration.inpaint_biharmonic`. It continues smooth shading well (quadratic
shading away from the image border is restored exactly) and blurs edges, as the thesis says of the local methods.
"""

from __future__ import annotations

import numpy as np
import torch
from skimage.restoration import inpaint_biharmonic
from torch import Tensor

from semantic_inpaint.baselines.common import finish, prepare


def biharmonic(images: object, masks: object) -> Tensor:
    """Biharmonic inpainting, each image solved on its own (float64, all channels at once).

    images: uint8 (N, 64, 64, 3) arrays, float tensors (N, 3, 64, 64) in [0, 1], or any form
        `complete` takes. masks: **1 = known pixel, 0 = missing**, (N, 1, 64, 64) or one for all.
    Returns float (N, 3, 64, 64) in [0, 1], the known pixels copied exactly from the input.
    """
    x, m = prepare(images, masks)
    pictures = x.double().permute(0, 2, 3, 1).numpy()
    # scikit-image's mask marks the pixels to fill with True: the hole, the opposite of ours.
    holes = (m[:, 0] == 0).numpy()
    fill = np.stack([inpaint_biharmonic(p, h, channel_axis=-1) for p, h in zip(pictures, holes)])
    return finish(torch.from_numpy(fill).permute(0, 3, 1, 2), x, m)

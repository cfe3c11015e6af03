"""Nearest-neighbour fill from a library of faces: the thesis's NN baseline (figure 6).

As in Hays & Efros, "Scene completion using millions of photographs", SIGGRAPH 2007 (the
thesis's ref. [16]), reduced to whole aligned faces: the library image whose *known* pixels
are closest to the input's in L2 gives its pixels to the hole. The thesis draws the library
from the training set and observes misaligned eyes and noses: nothing aligns the donor's
features with the input's beyond this choice.
"""

from __future__ import annotations

import torch
from torch import Tensor

from semantic_inpaint.baselines.common import finish, prepare
from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.io import as_images

# Library images compared at once: 512 float64 faces are 50 MB, so a 16384-face uint8
# training set (200 MB) never has to be held in floating point all at once.
CHUNK = 512


def nearest_index(images: object, masks: object, library: object) -> Tensor:
    """(N,) index into `library` of each image's nearest neighbour over its known pixels.

    Squared L2 over the known pixels (all three channels), in float64 so that near-ties are
    not decided by round-off; the first of exact ties wins.
    """
    x, m = prepare(images, masks)
    if library is None or len(library) == 0:
        raise InpaintInputError(
            "nearest-neighbour fill needs a library of faces to draw from, e.g. the training set: "
            "semantic_inpaint.data.load_images('synthetic', n=2000) or 'celeba:DIR'"
        )
    known = m.expand_as(x).flatten(1).double()
    query = x.flatten(1).double() * known
    # sum_k m_k (l_k - q_k)^2 = sum m q^2 - 2 sum (m q) l + sum m l^2, as matrix products.
    own = (query * query).sum(1, keepdim=True)
    best_d = torch.full((len(x),), float("inf"), dtype=torch.float64)
    best_i = torch.zeros(len(x), dtype=torch.long)
    for start in range(0, len(library), CHUNK):
        lib = as_images(library[start : start + CHUNK]).flatten(1).double()
        d = own - 2 * query @ lib.T + known @ (lib * lib).T
        value, index = d.min(1)
        better = value < best_d  # strict: an earlier chunk keeps its ties
        best_d[better], best_i[better] = value[better], index[better] + start
    return best_i


def nearest(images: object, masks: object, library: object) -> Tensor:
    """Fill each hole with the pixels of the library face nearest over the known pixels.

    images: uint8 (N, 64, 64, 3) arrays, float tensors (N, 3, 64, 64) in [0, 1], or any form
        `complete` takes. masks: **1 = known pixel, 0 = missing**, (N, 1, 64, 64) or one for all.
    library: the faces to draw from, in the same forms, e.g. the training set
        (`semantic_inpaint.data.load_images("synthetic", n=2000)` or `"celeba:DIR"`).
    Returns float (N, 3, 64, 64) in [0, 1], the known pixels copied exactly from the input.
    """
    x, m = prepare(images, masks)
    index = nearest_index(x, m, library)
    donors = torch.cat([as_images(library[i : i + 1]) for i in index.tolist()])
    return finish(donors, x, m)

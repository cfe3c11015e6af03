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

# Library images and queries compared at once: the float64 differences of 8 queries with 128
# faces are 100 MB, whatever the number of queries or the size of the library.
CHUNK = 128
QUERIES = 8


def nearest_index(images: object, masks: object, library: object) -> Tensor:
    """(N,) index into `library` of each image's nearest neighbour over its known pixels.

    Squared L2 over the known pixels (all three channels), in float64 so that near-ties are
    not decided by round-off; the first of exact ties wins. The distances are summed from the
    differences, not expanded into matrix products: BLAS rounds identical library rows
    differently (by 1e-10 at 64x64x3) when they fall in different blocks, which broke ties.
    """
    x, m = prepare(images, masks)
    if library is None or len(library) == 0:
        raise InpaintInputError(
            "nearest-neighbour fill needs a library of faces to draw from, e.g. the training set: "
            "semantic_inpaint.data.load_images('synthetic', n=2000) or 'celeba:DIR'"
        )
    known = m.expand_as(x).flatten(1).double()[:, None]  # (N, 1, D)
    query = x.flatten(1).double()[:, None]
    best_d = torch.full((len(x),), float("inf"), dtype=torch.float64)
    best_i = torch.zeros(len(x), dtype=torch.long)
    for start in range(0, len(library), CHUNK):
        lib = as_images(library[start : start + CHUNK]).flatten(1).double()
        for q in range(0, len(x), QUERIES):
            group = slice(q, q + QUERIES)
            value, index = ((lib[None] - query[group]) ** 2 * known[group]).sum(-1).min(1)
            better = value < best_d[group]  # strict: an earlier chunk keeps its ties
            best_d[group][better], best_i[group][better] = value[better], index[better] + start
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

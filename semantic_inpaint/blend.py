"""Put generated content into the holes of an image: plain overlay, or Poisson blending.

Poisson blending is the seamless cloning of Pérez, Gangnet & Blake, "Poisson image editing",
ACM SIGGRAPH 2003: inside the hole the result keeps the gradients of the generated image,
while its values are pinned to the real image on the known pixels around the hole, so the
seam disappears even when the generator got the overall colour slightly wrong.

Why not OpenCV's `cv2.seamlessClone`, which implements the same paper (checked on OpenCV 5.0):

- it documents 8-bit 3-channel images only and returns uint8, so the fill would be quantised
  to 1/255; float64 input is refused, float32 is not but comes back wrong (values of 3e38 and
  NaN in the hole);
- it clones the bounding box of the mask, placed around a centre point `p`, and solves every
  pixel of that box again: known pixels inside the box change (by up to 42 levels on random
  64x64 images), where this solve keeps every known pixel bit-exact, for any per-pixel mask;
- it keeps the outer ring of the hole as boundary: the hole's 1-pixel edge stays as it was (the
  missing pixels), and where the hole reaches the image border a 2-pixel frame stays unfilled,
  whereas a face hole here often touches the border (left / right halves) and is solved there
  with a zero-flux (Neumann) border;
- it writes into the mask array it is given.

Images are float tensors in [-1, 1] of shape (..., C, H, W); masks are (..., 1, H, W),
broadcastable to the images, with 1 = known pixel and 0 = missing.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import scipy.sparse
import scipy.sparse.linalg
import torch

from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.validate import check_float, check_masks, check_same_device, check_same_shape, check_tensor

T, R = TypeVar("T"), TypeVar("R")

# 4-neighbour stencil of the discrete Laplacian.
_NEIGHBOURS = ((-1, 0), (1, 0), (0, -1), (0, 1))


def _check(generated: torch.Tensor, image: torch.Tensor, mask: torch.Tensor) -> None:
    for name, t in (("generated", generated), ("image", image)):
        check_tensor(t, name, "of shape (..., C, H, W)", "Convert it with torch.as_tensor(...).")
    check_float(image, "image", "a float tensor of shape (..., C, H, W)", "Convert it with .float().")
    if image.ndim < 3:
        raise InpaintInputError(f"image has shape {tuple(image.shape)}; pass a float tensor of shape (..., C, H, W)")
    check_same_shape(generated, image, ("generated", "image"), "Pass both with the same shape and dtype.", dtype=True)
    check_masks(mask, "mask", like=image)
    check_same_device(generated=generated, image=image, mask=mask)


def overlay(generated: torch.Tensor, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """`mask * image + (1 - mask) * generated`, with the known pixels bit-exact copies of `image`."""
    _check(generated, image, mask)
    # A select, not arithmetic: 1 * x + 0 * y can change the bits of x (e.g. -0.0, NaN, inf).
    return torch.where(mask.bool(), image, generated)


class _HoleSystem:
    """The 4-neighbour Poisson system of one hole (it depends on the mask alone): LU-factorised
    once, then solved for any number of images and channels that share the mask."""

    def __init__(self, known: np.ndarray) -> None:
        h, w = known.shape
        ys, xs = np.nonzero(~known)
        n = ys.size
        self.hole = ys * w + xs  # the hole's pixels in a flattened image, in the system's order
        index = np.full((h, w), -1, dtype=np.int64)
        index[ys, xs] = np.arange(n)
        # Only in-image neighbours enter a pixel's equation, so the image border acts as a
        # zero-flux (Neumann) boundary rather than an implicit black frame.
        degree = np.zeros(n)
        rows, cols = [], []  # the matrix's off-diagonal entries: hole pixels' hole neighbours
        p_in, q_in, p_known, q_known_at = [], [], [], []  # the right-hand side's: in-image and known neighbours
        for dy, dx in _NEIGHBOURS:
            qy, qx = ys + dy, xs + dx
            inside = (qy >= 0) & (qy < h) & (qx >= 0) & (qx < w)
            p, qy, qx = np.nonzero(inside)[0], qy[inside], qx[inside]
            degree[p] += 1
            q_known = known[qy, qx]
            p_in.append(p)
            q_in.append(qy * w + qx)
            p_known.append(p[q_known])
            q_known_at.append(qy[q_known] * w + qx[q_known])
            rows.append(p[~q_known])
            cols.append(index[qy[~q_known], qx[~q_known]])
        rows_all = np.concatenate([np.arange(n), *rows])
        cols_all = np.concatenate([np.arange(n), *cols])
        vals = np.concatenate([degree, -np.ones(rows_all.size - n)])
        # The grid is connected, so every hole component touches a known pixel whenever one
        # exists: the matrix is then symmetric and irreducibly diagonally dominant, hence
        # positive definite, and needs no pivoting. SuperLU's settings for such a matrix (a
        # minimum-degree ordering of A + A^T, the diagonal as pivots) leave a third fewer
        # nonzeros in the factors than its defaults, and factorise a random 80 % hole 1.35x faster.
        matrix = scipy.sparse.csc_matrix((vals, (rows_all, cols_all)), shape=(n, n))
        self.lu = scipy.sparse.linalg.splu(matrix, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0, options={"SymmetricMode": True})
        # The right-hand side as two sparse operators, one product each for all images and
        # channels: the guidance's Laplacian, sum over in-image neighbours q of g_p - g_q, and
        # the known neighbours' values of f. They read only the hole and its rim (`reads`).
        p_in, q_in = np.concatenate(p_in), np.concatenate(q_in)
        self.reads = np.unique(np.concatenate([self.hole, q_in]))
        column = np.searchsorted(self.reads, np.concatenate([self.hole[p_in], q_in]))
        ones = np.ones(p_in.size)
        shape = (n, self.reads.size)
        self.laplacian = scipy.sparse.csr_matrix((np.concatenate([ones, -ones]), (np.concatenate([p_in, p_in]), column)), shape=shape)
        p_known, q_known_at = np.concatenate(p_known), np.concatenate(q_known_at)
        self.known_neighbours = scipy.sparse.csr_matrix((np.ones(p_known.size), (p_known, np.searchsorted(self.reads, q_known_at))), shape=shape)

    def solve(self, g: np.ndarray, f: np.ndarray) -> np.ndarray:
        """Fill the hole of (B, C, H, W) float64 images: g the guidance (generated), f the known
        values; returns a copy of g with the hole solved."""
        out = g.reshape(-1, g.shape[-2] * g.shape[-1]).copy()  # (B C, H W)
        # Gathered pixel-major, (pixels read, B C), the layout the sparse products take.
        rhs = self.laplacian @ out.T[self.reads] + self.known_neighbours @ f.reshape(out.shape).T[self.reads]
        out[:, self.hole] = self.lu.solve(rhs).T
        return out.reshape(g.shape)


# The factorised system of each hole, keyed by the hole's mask (a bool (H, W) array's bytes).
HoleSystems = dict[bytes, _HoleSystem]


def factorise(mask: torch.Tensor) -> HoleSystems:
    """The Poisson system of each distinct hole of `mask` (..., 1, H, W), 1 = known, factorised:
    what `poisson_blend` solves. The systems depend on the mask alone, so they can be factorised
    ahead, e.g. while a GPU searches (complete() does), leaving the blend only the solves."""
    check_masks(mask, "mask")
    known = _known(mask)
    holes = {key: known[members[0]] for key, members in _holes(known).items() if known[members[0]].any()}  # solvable ones
    return dict(zip(holes, _on_threads(_HoleSystem, list(holes.values()))))


def _known(mask: torch.Tensor) -> np.ndarray:
    """(M, H, W) bool: each image's known pixels."""
    return mask.reshape(-1, *mask.shape[-2:]).bool().cpu().numpy()


def _holes(known: np.ndarray) -> dict[bytes, list[int]]:
    """The images of `known` (M, H, W) that have a hole, grouped by their mask (its bytes): images
    that share a mask (a named one, as in evaluate) share one factorisation."""
    groups: dict[bytes, list[int]] = {}
    for i, k in enumerate(known):
        if not k.all():
            groups.setdefault(k.tobytes(), []).append(i)
    return groups


def _on_threads(fn: Callable[[T], R], items: list[T]) -> list[R]:
    """[fn(item) for item in items], on as many threads as torch's own work uses: each item is
    a hole of its own (a random mask per face), and SuperLU releases the GIL."""
    workers = min(len(items), torch.get_num_threads())
    if workers <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, items))  # list(): re-raises a worker's exception here


def poisson_blend(generated: torch.Tensor, image: torch.Tensor, mask: torch.Tensor, systems: HoleSystems | None = None) -> torch.Tensor:
    """Seamlessly clone `generated` into the holes of `image` (Pérez et al. 2003).

    Inside the hole solves the 4-neighbour discrete Poisson equation Δf = Δg with g = generated
    and f = image on the known pixels; known pixels of the result are bit-exact copies of
    `image`. The system depends on the mask alone: it is factorised once for all the images
    and channels that share a mask, or taken from `systems` (`factorise`) where it is there.
    """
    _check(generated, image, mask)
    c, h, w = image.shape[-3:]
    mask_flat = _known(mask.expand(*image.shape[:-3], 1, h, w))
    if not mask_flat.reshape(mask_flat.shape[0], -1).any(axis=1).all():
        raise InpaintInputError(
            "mask has no known pixel in at least one image, so the hole has no boundary condition; "
            "keep at least one pixel known (mask == 1), or use the generated image as is"
        )
    # float64 on the CPU: scipy's sparse LU works there, and the extra precision keeps the
    # guidance-field identities (constant offsets, harmonic ramps) exact to float32 rounding.
    g_all = generated.detach().reshape(-1, c, h, w).cpu().double().numpy()
    f_all = image.detach().reshape(-1, c, h, w).cpu().double().numpy()
    # A copy: for float64 CPU input, .numpy() shares memory with the caller's tensor.
    filled = g_all.copy()
    systems = systems or {}

    def fill(group: tuple[bytes, list[int]]) -> None:
        key, members = group
        system = systems.get(key) or _HoleSystem(mask_flat[members[0]])
        filled[members] = system.solve(g_all[members], f_all[members])

    _on_threads(fill, list(_holes(mask_flat).items()))
    blended = torch.from_numpy(filled).to(dtype=image.dtype, device=image.device).reshape(image.shape)
    return torch.where(mask.bool(), image, blended)


def put_back(picked: torch.Tensor, image: torch.Tensor, mask: torch.Tensor, blend: str, systems: HoleSystems | None = None) -> torch.Tensor:
    """The known pixels of `image` over `picked` (both in [0, 1]), overlaid or, with
    blend='poisson', Poisson-blended (in G's range, [-1, 1]; the holes' `systems` if factorised
    ahead); known pixels bit-exact copies of `image`."""
    if blend == "poisson":
        picked = poisson_blend(picked * 2 - 1, image * 2 - 1, mask, systems).add(1).div(2).clamp(0, 1)
    return overlay(picked, image, mask)

"""The local baselines of the thesis's figure 6, against behaviour worked out from their definitions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from semantic_inpaint import baselines
from semantic_inpaint.baselines import BASELINES, biharmonic, inpaint, navier_stokes, nearest, nearest_index, telea, tv
from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.masks import centre

LOCAL = ["tv", "navier_stokes", "telea", "biharmonic"]  # those that see only the input
YY, XX = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")


def _mask(rows: slice, cols: slice) -> torch.Tensor:
    """(1, 1, 64, 64), 1 = known, with the block [rows, cols] missing."""
    m = torch.ones(1, 1, 64, 64)
    m[..., rows, cols] = 0
    return m


def _run(name: str, images: object, masks: object, library: object = None) -> torch.Tensor:
    # Fewer TV steps where the exact fill does not matter: these tests check plumbing.
    return tv(images, masks, iterations=20) if name == "tv" else inpaint(name, images, masks, library=library)


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_known_pixels_kept_and_hole_values_ignored(name, faces):
    """Known pixels come back bit-exact; what the hole held cannot leak into the fill (a mask
    read the wrong way round would keep the garbage)."""
    library = faces[2:]
    m = centre()[None, None].expand(2, 1, 64, 64)
    out = _run(name, faces[:2], m, library)
    x = torch.from_numpy(faces[:2]).permute(0, 3, 1, 2).float() / 255
    assert out.shape == (2, 3, 64, 64) and out.dtype == torch.float32
    assert 0 <= out.min() and out.max() <= 1
    known = m.bool().expand_as(x)
    assert torch.equal(out[known], x[known])
    garbage = faces[:2].copy()
    garbage[:, 16:48, 16:48] = [255, 0, 255]
    assert torch.equal(_run(name, garbage, m, library), out)
    # uint8 arrays and float tensors in [0, 1] are the same input
    assert torch.equal(_run(name, x, m, library), out)


@pytest.mark.parametrize("name", LOCAL)
@pytest.mark.parametrize("mask", ["centre", "left", "random"])
def test_constant_image_restored_exactly(name, mask):
    """A constant image is the only fill of zero variation, zero Laplacian and zero gradient:
    every local method must give it back (102 / 255 is exact in 8 bits, for OpenCV). OpenCV's
    Telea drifts by up to 7 levels even here (measured; see baselines/opencv.py)."""
    flat = torch.full((1, 3, 64, 64), 102 / 255)
    torch.testing.assert_close(_run(name, flat, mask), flat, rtol=0, atol=7 / 255 + 1e-6 if name == "telea" else 1e-6)


def test_tv_continues_edges_sharp_and_level_lines_straight_where_biharmonic_blurs():
    """Worked out from the coarea formula (TV = the integral of the level lines' lengths), at
    the default number of steps, two images in one batch:
    - a vertical edge (0.2 | 0.8 at x = 32) across the centre hole: the least-TV fill is the
      straight edge itself, while the smooth biharmonic fill ramps across the hole;
    - shading in y only (0.1 .. 0.9): its level lines are horizontal, and continuing them
      straight is the least-TV fill, so TV restores the ramp."""
    edge = torch.full((1, 3, 64, 64), 0.2)
    edge[..., 32:] = 0.8
    ramp = (0.1 + 0.8 * YY / 63).expand(1, 3, 64, 64)
    truth = torch.cat([edge, ramp])
    hole = _mask(slice(16, 48), slice(16, 48))
    assert (tv(truth, hole) - truth).abs().amax((1, 2, 3)).max() < 0.02
    smooth = biharmonic(edge, hole)[0, 0, 32]
    assert smooth[31] - 0.2 > 0.1 and 0.8 - smooth[32] > 0.1


def test_biharmonic_restores_quadratic_shading_exactly():
    """The biharmonic operator (Laplacian squared) is zero on every quadratic, so a quadratic
    shading is its own biharmonic fill (holes away from the border, where skimage's boundary
    treatment enters)."""
    u, v = XX / 63, YY / 63
    quad = torch.stack([0.2 + 0.6 * u**2, 0.1 + 0.5 * u * v, 0.9 - 0.7 * v**2])[None]
    torch.testing.assert_close(biharmonic(quad, _mask(slice(16, 48), slice(16, 48))), quad, rtol=0, atol=1e-5)


@pytest.mark.parametrize("method, tolerance", [(navier_stokes, 0), (telea, 2)])
def test_opencv_restores_isolated_pixels_of_a_linear_ramp(method, tolerance):
    """Isolated missing pixels of a linear ramp: Telea extrapolates each known neighbour along
    its gradient (exact for a linear function) and a ramp is a steady state of the NS transport
    (its Laplacian is 0 everywhere). Tolerance in 8-bit levels: OpenCV's Telea is off by up to
    2 levels here (its gradient estimate in 8 bits)."""
    ramp = torch.stack([XX * 3, YY * 2, 40 + XX + YY])[None] / 255
    m = torch.ones(1, 1, 64, 64)
    m[..., 4::8, 4::8] = 0
    assert (method(ramp, m) - ramp).abs().max() * 255 <= tolerance + 1e-3


@pytest.mark.parametrize("method", [navier_stokes, telea])
def test_opencv_keeps_an_edge_sharper_than_biharmonic(method):
    """Both OpenCV methods carry isophotes into the hole, so a vertical edge crossing it stays
    at most half as wide as the biharmonic fill's ramp: the width is the count of hole pixels
    on the middle row more than 0.1 off both sides' values."""
    x = torch.full((1, 3, 64, 64), 0.2)
    x[..., 32:] = 0.8
    hole = _mask(slice(24, 40), slice(24, 40))

    def blurred(out: torch.Tensor) -> int:
        row = out[0, 0, 32, 24:40]
        return int(((row - 0.2).abs() > 0.1).logical_and((row - 0.8).abs() > 0.1).sum())

    assert 2 * blurred(method(x, hole)) <= blurred(biharmonic(x, hole))


def test_nearest_picks_by_known_pixels_only():
    """Worked out by hand, for a query of 0.5 outside the hole and 0.9 inside: A matches the
    hole but is 0.5 off outside; B is 0.1 off outside and 0.7 off inside; C is 0.3 off
    everywhere. Only the known pixels count, so B wins and gives its hole pixels; without B,
    C (0.3 < 0.5), and of two equal C's the first."""
    known = _mask(slice(16, 48), slice(16, 48))
    query = torch.where(known.bool(), 0.5, 0.9).expand(1, 3, 64, 64)
    a = torch.where(known.bool(), 0.0, 0.9).expand(1, 3, 64, 64)
    b = torch.where(known.bool(), 0.6, 0.2).expand(1, 3, 64, 64)
    c = torch.full((1, 3, 64, 64), 0.8)
    assert nearest_index(query, known, torch.cat([a, b, c])).tolist() == [1]
    out = nearest(query, known, torch.cat([a, b, c]))
    assert torch.equal(out, torch.where(known.bool(), query, b))
    assert nearest_index(query, known, torch.cat([c, a, c])).tolist() == [0]


def test_nearest_searches_the_library_in_chunks(faces, monkeypatch):
    """The answer does not depend on the chunking: the query's own face, 5th of 6, is found
    with chunks of 2 (masks per image; a uint8 library as load_images returns it)."""
    monkeypatch.setattr(baselines.nearest_neighbour, "CHUNK", 2)
    library = np.concatenate([faces[1:], faces[:1] // 2 + 10, faces[:1], faces[3:]])
    got = nearest_index(faces[[0, 2]], np.stack([centre().numpy(), 1 - centre().numpy()]), library)
    assert got.tolist() == [4, 1]


def test_bad_input_gets_clear_errors(faces):
    with pytest.raises(InpaintInputError, match="library"):
        inpaint("nearest", faces[:1], "centre")
    with pytest.raises(InpaintInputError, match="library"):
        nearest(faces[:1], "centre", faces[:0])
    with pytest.raises(InpaintInputError, match="unknown baseline 'patchmatch'"):
        inpaint("patchmatch", faces[:1], "centre")
    with pytest.raises(InpaintInputError, match="iterations"):
        tv(faces[:1], "centre", iterations=0)
    with pytest.raises(InpaintInputError, match="radius"):
        telea(faces[:1], "centre", radius=0)
    with pytest.raises(InpaintInputError, match="64x64"):
        biharmonic(faces[:1, :32, :32], "centre")
    with pytest.raises(InpaintInputError, match="no missing pixel"):
        navier_stokes(faces[:1], torch.ones(64, 64))


def test_nearest_answers_many_queries_as_it_answers_one(faces):
    # More queries than one group (8), a library over two chunks (128) holding 40 copies of
    # each face: every query gets its own answer, and of the tied copies the first one.
    library = np.concatenate([faces] * 40)[::-1].copy()  # index 3 - f is the first copy of faces[f]
    rng = np.random.default_rng(0)
    source = rng.integers(0, 4, 11)
    noise = rng.integers(-20, 21, (11, 64, 64, 3))
    queries = np.clip(faces[source].astype(int) + noise, 0, 255).astype(np.uint8)
    known = _mask(slice(16, 48), slice(16, 48))
    together = nearest_index(queries, known, library)
    alone = torch.cat([nearest_index(queries[i : i + 1], known, library) for i in range(11)])
    assert torch.equal(together, alone)
    assert together.tolist() == (3 - source).tolist()

"""The validator and the uint8 <-> float conversion pair: values worked out by hand or with exact
fractions, and every bad input refused with an error that names it."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch

from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.validate import (
    check_binary,
    check_data_range,
    check_float,
    check_hole_and_known,
    check_image_pair,
    check_image_shape,
    check_images,
    check_mask_shape,
    check_masks,
    check_not_empty,
    check_not_meta,
    check_same_device,
    check_tensor,
    check_values,
    to_float,
    to_uint8,
)

LEVELS = np.arange(256, dtype=np.uint8)
RANGES = [(0.0, 1.0), (-1.0, 1.0), (0.0, 255.0)]


# --------------------------------------------------------------------------- conversion


def _nearest_float32(value: Fraction, got: np.float32) -> bool:
    """Whether `got` is a float32 nearest to the exact `value` (neither neighbour is closer)."""
    below, above = np.nextafter(got, np.float32(-np.inf)), np.nextafter(got, np.float32(np.inf))
    error = abs(Fraction(float(got)) - value)
    return error <= abs(Fraction(float(below)) - value) and error <= abs(Fraction(float(above)) - value)


@pytest.mark.parametrize("lo, hi", RANGES)
def test_to_float_is_the_nearest_float32_of_the_exact_value(lo: float, hi: float) -> None:
    got = to_float(LEVELS, (lo, hi))
    assert got.dtype == np.float32 and got.shape == (256,)
    assert got[0] == lo and got[255] == hi
    # k / (255 / (hi - lo)) + lo, exactly, is what each level means; (-1, 1) rounds twice (divide, then
    # add -1), so there the check is one float32 step.
    for k in range(256):
        exact = Fraction(k) * (Fraction(hi) - Fraction(lo)) / 255 + Fraction(lo)
        if lo == 0:
            assert _nearest_float32(exact, got[k]), k
        else:
            assert abs(Fraction(float(got[k])) - exact) <= Fraction(2) ** -24, k


@pytest.mark.parametrize("lo, hi", RANGES)
@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_round_trip_is_exact_for_all_256_levels(lo: float, hi: float, kind: str) -> None:
    levels = LEVELS if kind == "numpy" else torch.from_numpy(LEVELS)
    back = to_uint8(to_float(levels, (lo, hi)), (lo, hi))
    assert type(back) is type(levels) and back.dtype == levels.dtype
    assert np.array_equal(np.asarray(back), LEVELS)


def test_to_float_keeps_layout_and_device(device: torch.device) -> None:
    t = torch.from_numpy(np.stack([LEVELS.reshape(16, 16)] * 3)).to(device)[None].permute(0, 2, 3, 1)  # (1, 16, 16, 3), not contiguous
    x = to_float(t)
    assert x.device == t.device and x.shape == t.shape and x.stride() == t.stride()
    assert to_uint8(x).device == t.device


@pytest.mark.parametrize(
    "values, value_range, want",
    [
        # by hand: halves go to the even level; outside the range saturates
        ([0.5, 1.5, 2.5, 254.5, 255.49, -3.0, 300.0], (0, 255), [0, 2, 2, 254, 255, 0, 255]),
        ([0.0, 0.5, 1.0, -0.1, 1.2], (0, 1), [0, 128, 255, 0, 255]),  # 0.5 * 255 = 127.5 -> 128
        ([-1.0, 0.0, 1.0, 0.25], (-1, 1), [0, 128, 255, 159]),  # 1.25 * 127.5 = 159.375 -> 159
        ([0.0, 25700.0, 65535.0, 128.0, 129.0], (0, 65535), [0, 100, 255, 0, 1]),  # 16-bit levels / 257; 128/257 < 0.5 < 129/257
    ],
)
def test_to_uint8_by_hand(values: list[float], value_range: tuple[float, float], want: list[int]) -> None:
    for make in (lambda v: np.array(v, np.float64), lambda v: torch.tensor(v, dtype=torch.float64)):
        assert np.asarray(to_uint8(make(values), value_range)).tolist() == want


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: to_float(np.zeros(3, np.float32)), r"to_float takes uint8 levels 0\.\.255; got a float32 array"),
        (lambda: to_float(torch.zeros(3, dtype=torch.int64)), r"to_float takes uint8 levels 0\.\.255; got a torch\.int64 tensor"),
        (lambda: to_uint8(LEVELS), r"to_uint8 takes float pixels .*got dtype uint8"),
        (lambda: to_uint8(torch.zeros(3, dtype=torch.int32)), r"to_uint8 takes float pixels .*got dtype torch\.int32"),
        (lambda: to_float(LEVELS, (1, 0)), r"value_range must be \(low, high\), finite with low < high.*got \(1, 0\)"),
        (lambda: to_uint8(np.zeros(3), (0, float("inf"))), r"value_range must be \(low, high\)"),
    ],
    ids=["float_array", "int_tensor", "uint8_array", "int_tensor_to_uint8", "reversed_range", "infinite_range"],
)
def test_conversion_refuses_bad_input(call, match: str) -> None:
    with pytest.raises(InpaintInputError, match=match):
        call()


# --------------------------------------------------------------------------- images


def test_check_images_returns_a_batch_as_given(device: torch.device) -> None:
    x = torch.rand(3, 16, 16, dtype=torch.float64, device=device)
    out = check_images(x, "x")
    assert out.shape == (1, 3, 16, 16) and out.dtype == x.dtype and out.device == x.device
    assert torch.equal(out[0], x)
    batch = torch.rand(2, 3, 16, 16)
    assert check_images(batch, "x") is batch


@pytest.mark.parametrize(
    "shape, channels_last, match",
    [
        ((64, 64), False, r"x must be \(3, H, W\) or \(N, 3, H, W\), got shape \(64, 64\): 2 dims, not 3 or 4\. Reshape it to \(N, 3, H, W\)"),
        ((1, 1, 3, 8, 8), False, r"got shape \(1, 1, 3, 8, 8\): 5 dims"),
        ((1, 8, 8, 3), False, r"got shape \(1, 8, 8, 3\): it needs 3 \(RGB\) channels first, found 8\. .*\.permute\(0, 3, 1, 2\)"),
        ((8, 8, 3), False, r"got shape \(8, 8, 3\): .*found 8\. .*\.permute\(2, 0, 1\)"),
        ((4, 8, 8), False, r"found 4\. Pass RGB: drop an alpha channel"),
        ((3, 8, 8), True, r"x must be \(H, W, 3\) or \(N, H, W, 3\), got shape \(3, 8, 8\): it needs 3 \(RGB\) channels last.*np\.moveaxis"),
        ((8, 8, 4), True, r"channels last, found 4\. Pass RGB"),
        ((8, 8), True, r"2 dims, not 3 or 4\. Reshape it to \(N, H, W, 3\), channels last"),
    ],
)
def test_image_shape_errors_quote_the_shape_passed(shape: tuple[int, ...], channels_last: bool, match: str) -> None:
    with pytest.raises(InpaintInputError, match=match):
        check_image_shape(shape, "x", channels_last=channels_last)


@pytest.mark.parametrize("shape, channels_last", [((3, 8, 8), False), ((2, 3, 8, 8), False), ((8, 8, 3), True), ((2, 8, 8, 3), True)])
def test_image_shapes_accepted(shape: tuple[int, ...], channels_last: bool) -> None:
    check_image_shape(shape, "x", channels_last=channels_last)


@pytest.mark.parametrize(
    "fill, kwargs, match",
    [
        (float("nan"), {}, r"x has NaN or infinite values"),
        (float("inf"), {}, r"x has NaN or infinite values"),
        (-0.5, {}, r"x has values in \[-0\.5, -0\.5\], outside \[0, data_range=1\] \(tolerance 1e-06\)\. It looks like an image in \[-1, 1\].*\(x \+ 1\) / 2"),
        (200.0, {}, r"outside \[0, data_range=1\].*Pass the matching data_range \(e\.g\. data_range=255\.0"),
        (200.0, {"takes_data_range": False, "tol": 0.0}, r"x has values in \[200, 200\], outside \[0, 1\]\. For 0\.\.255 values, divide by 255"),
        (-3.0, {}, r"outside \[0, data_range=1\].*Clamp or rescale the image into \[0, 1\]"),
        (300.0, {"data_range": 255.0}, r"outside \[0, data_range=255\]"),
    ],
)
def test_check_values_names_the_problem(fill: float, kwargs: dict, match: str) -> None:
    with pytest.raises(InpaintInputError, match=match):
        check_values(torch.full((1, 3, 4, 4), fill), "x", **kwargs)


def test_check_values_tolerance() -> None:
    x = torch.full((1, 3, 4, 4), 0.5, dtype=torch.float64)
    x[0, 0, 0, :2] = torch.tensor([1 + 5e-7, -5e-7])
    check_values(x, "x")  # within the default 1e-6
    with pytest.raises(InpaintInputError, match=r"outside \[0, 1\]"):
        check_values(x, "x", tol=0.0, takes_data_range=False)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: check_tensor([1], "x", "of shape (N, 3, H, W)", "Convert it."), r"x must be a torch\.Tensor of shape \(N, 3, H, W\); got list\. Convert it\."),
        (lambda: check_not_meta(torch.empty(2, device="meta"), "the image tensor", "pass one with data"), r"the image tensor is on the 'meta' device.*pass one with data"),
        (lambda: check_float(torch.zeros(2, dtype=torch.uint8), "x", "float", "Use .float()."), r"x must be float; got dtype torch\.uint8\. Use \.float\(\)\."),
        (lambda: check_float(np.zeros(2, np.int16), "x", "float", "Cast it."), r"x must be float; got dtype int16"),
        (lambda: check_not_empty(np.zeros((0, 8, 8, 3)), "the image array"), r"the image array is empty \(shape \(0, 8, 8, 3\)\): no images"),
        (lambda: check_not_empty(torch.zeros(3, 0, 8), "x"), r"x is empty \(shape \(3, 0, 8\)\)"),
        (lambda: check_images(torch.zeros(1, 3, 8, 8, dtype=torch.uint8), "x"), r"x must be a floating-point tensor.*divide uint8 images by 255, or pass data_range=255"),
        (lambda: check_image_pair(torch.zeros(2, 3, 8, 8), torch.zeros(1, 3, 8, 8), 1.0), r"x and y must have the same shape; got x \(2, 3, 8, 8\) and y \(1, 3, 8, 8\)"),
        (lambda: check_same_device(a=torch.zeros(1), b=torch.zeros(1), c=torch.empty(1, device="meta")), r"a, b and c are on cpu, cpu and meta; move them to one device"),
    ],
    ids=["not_tensor", "meta", "not_float", "not_float_array", "empty_array", "empty_tensor", "uint8_image", "pair_shapes", "devices"],
)
def test_each_check_names_the_problem(call, match: str) -> None:
    with pytest.raises(InpaintInputError, match=match):
        call()


@pytest.mark.parametrize("bad", [True, "1", None, 0, -1.0, float("inf"), float("nan")])
def test_check_data_range_refuses(bad: object) -> None:
    with pytest.raises(InpaintInputError, match="data_range must be a positive"):
        check_data_range(bad)


def test_check_data_range_accepts_numbers() -> None:
    assert check_data_range(255) == 255.0 and check_data_range(np.float32(1.0)) == 1.0


# --------------------------------------------------------------------------- masks


def test_mask_shapes_accepted() -> None:
    images = torch.zeros(2, 3, 16, 16)
    for shape in [(2, 1, 16, 16), (1, 1, 16, 16), (1, 16, 16)]:
        check_mask_shape(torch.ones(shape), "mask", like=images)
    check_mask_shape(torch.ones(1, 16, 16), "mask")
    check_mask_shape(torch.ones(1, 1, 1, 4, 4), "mask", like=torch.zeros(2, 2, 3, 4, 4))  # extra leading dims, as blend takes them


@pytest.mark.parametrize(
    "shape, like, match",
    [
        ((1, 3, 16, 16), (2, 3, 16, 16), r"mask must have one channel, broadcast over RGB: shape \(N, 1, H, W\) or \(1, H, W\), with H x W = 16x16 as the images'; got shape \(1, 3, 16, 16\)"),
        ((16, 16), (2, 3, 16, 16), r"one channel.*got shape \(16, 16\)"),
        ((1, 1, 1, 16, 16), None, r"one channel.*got shape \(1, 1, 1, 16, 16\)"),
        ((3, 1, 16, 16), (2, 3, 16, 16), r"mask shape \(3, 1, 16, 16\) does not match the images \(2, 3, 16, 16\): expected \(2 or 1, 1, 16, 16\)"),
        ((1, 1, 8, 8), (2, 3, 16, 16), r"does not match the images.*expected \(2 or 1, 1, 16, 16\)"),
    ],
)
def test_mask_shape_errors(shape: tuple[int, ...], like: tuple[int, ...] | None, match: str) -> None:
    with pytest.raises(InpaintInputError, match=match):
        check_mask_shape(torch.ones(shape), "mask", like=None if like is None else torch.zeros(like))


@pytest.mark.parametrize("make", [torch.tensor, np.array], ids=["tensor", "array"])
def test_binary_and_hole_checks(make) -> None:
    check_binary(make([0.0, 1.0, 1.0]))
    check_hole_and_known(make([0.0, 1.0]))
    for bad in ([0.0, 0.5], [float("nan"), 1.0]):
        with pytest.raises(InpaintInputError, match=r"mask is not binary: its values must be 0 or 1 \(1 = known pixel, 0 = missing\); threshold it"):
            check_binary(make(bad))
    with pytest.raises(InpaintInputError, match=r"mask 3 has no missing pixel, so there is nothing to inpaint.*1 - mask"):
        check_hole_and_known(make([1.0, 1.0]), "mask 3")
    with pytest.raises(InpaintInputError, match=r"the mask has no known pixel.*white = known; inverted\? use 1 - mask"):
        check_hole_and_known(make([0.0, 0.0]), "the mask", "1 = known, white = known")


def test_check_masks() -> None:
    images = torch.zeros(2, 3, 8, 8)
    m = torch.ones(1, 1, 8, 8)
    assert check_masks(m, like=images) is m
    with pytest.raises(InpaintInputError, match=r"mask must be a torch\.Tensor .*got ndarray"):
        check_masks(np.ones((1, 1, 8, 8)), like=images)
    with pytest.raises(InpaintInputError, match="not binary"):
        check_masks(m * 0.5, like=images)

"""Input conversion and validation: every accepted image/mask form, and a clear error for each bad one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from semantic_inpaint import masks
from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.io import as_images, as_masks, load_image, to_pil


@pytest.fixture(scope="module")
def picture() -> np.ndarray:
    """A 64x64 uint8 RGB picture with every channel different."""
    return np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)


def _expected(a: np.ndarray) -> torch.Tensor:
    """(H, W, 3) or (N, H, W, 3) uint8 -> (N, 3, H, W) float32 / 255, built independently of io.py."""
    a = a if a.ndim == 4 else a[None]
    return torch.from_numpy(a.astype(np.float32) / np.float32(255)).permute(0, 3, 1, 2).contiguous()


# ---------------------------------------------------------------------------------------------
# Images: accepted forms
# ---------------------------------------------------------------------------------------------

FORMS = {
    "pil_rgb": lambda a: Image.fromarray(a, "RGB"),
    "uint8_array": lambda a: a,
    "float32_array": lambda a: a.astype(np.float32) / np.float32(255),
    "float64_array": lambda a: a.astype(np.float64) / 255,
    "float_tensor_chw": lambda a: torch.from_numpy(a.astype(np.float32) / np.float32(255)).permute(2, 0, 1),
    "uint8_tensor_chw": lambda a: torch.from_numpy(a).permute(2, 0, 1),
    "list_of_pil": lambda a: [Image.fromarray(a, "RGB")],
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_every_image_form_gives_the_same_tensor(picture: np.ndarray, form: str) -> None:
    x = as_images(FORMS[form](picture))
    assert x.dtype == torch.float32 and x.device.type == "cpu"
    assert x.shape == (1, 3, 64, 64)
    assert 0 <= x.min() and x.max() <= 1
    torch.testing.assert_close(x, _expected(picture), atol=1e-7, rtol=0)


def test_batches_keep_order(picture: np.ndarray) -> None:
    batch = np.stack([picture, 255 - picture, picture[::-1]])
    want = _expected(batch)
    assert torch.equal(as_images(batch), want)  # (N, H, W, 3) uint8
    assert torch.equal(as_images([Image.fromarray(b) for b in batch]), want)  # list of PILs
    assert torch.equal(as_images(torch.from_numpy(batch).permute(0, 3, 1, 2)), want)  # (N, 3, H, W) uint8


def test_grey_pil_gives_three_equal_channels(picture: np.ndarray) -> None:
    grey = picture[..., 0]
    x = as_images(Image.fromarray(grey, "L"))
    assert x.shape == (1, 3, 64, 64)
    for c in range(3):
        assert torch.equal(x[0, c], torch.from_numpy(grey.astype(np.float32) / np.float32(255)))


def test_to_pil_round_trips(picture: np.ndarray) -> None:
    assert np.array_equal(np.asarray(to_pil(as_images(picture)[0])), picture)


# ---------------------------------------------------------------------------------------------
# Images: bad input
# ---------------------------------------------------------------------------------------------

BAD_IMAGES = {
    "size_128": (lambda: np.zeros((128, 128, 3), np.uint8), r"128x128.*64x64.*load_image"),
    "size_pil_100": (lambda: Image.new("RGB", (100, 64)), r"100x64.*load_image"),
    "dims_1d": (lambda: np.zeros(64 * 64 * 3, np.uint8), r"\(H, W, 3\).*got shape"),
    "dims_5d": (lambda: np.zeros((1, 1, 64, 64, 3), np.uint8), r"\(H, W, 3\).*got shape"),
    "dims_tensor_2d": (lambda: torch.zeros(64, 64), r"\(3, H, W\).*got shape"),
    # the shape as passed, not with the batch axis added
    "channels_4_array": (lambda: np.zeros((64, 64, 4), np.uint8), r"\(H, W, 3\) or \(N, H, W, 3\), got shape \(64, 64, 4\): it needs 3 \(RGB\) channels last, found 4"),
    "channels_first_quoted": (lambda: np.zeros((3, 64, 64), np.uint8), r"got shape \(3, 64, 64\):.*np.moveaxis"),
    "channels_last_tensor": (lambda: torch.zeros(64, 64, 3), r"got shape \(64, 64, 3\):.*permute\(2, 0, 1\)"),
    "empty_array": (lambda: np.zeros((0, 64, 64, 3), np.uint8), r"the image array is empty \(shape \(0, 64, 64, 3\)\): no images"),
    "channels_first_array": (lambda: np.zeros((3, 64, 64), np.uint8), r"\(H, W, 3\).*got shape"),
    "int64_array": (lambda: np.zeros((64, 64, 3), np.int64), r"uint8.*int64"),
    "int64_tensor": (lambda: torch.zeros(3, 64, 64, dtype=torch.int64), r"float in \[0, 1\].*int64"),
    "negative": (lambda: np.full((64, 64, 3), -0.5, np.float32), r"\[0, 1\].*\[-1, 1\]"),
    "above_one": (lambda: np.full((64, 64, 3), 200.0, np.float32), r"\[0, 1\].*255"),
    "above_one_tensor": (lambda: torch.full((3, 64, 64), 1.5), r"\[0, 1\].*255"),
    "nan": (lambda: np.full((64, 64, 3), np.nan, np.float32), r"NaN"),
    "inf_tensor": (lambda: torch.full((3, 64, 64), float("inf")), r"infinite"),
    "path_str": (lambda: "face.png", r"path.*load_image"),
    "path_obj": (lambda: Path("face.png"), r"path.*load_image"),
    "empty_list": (lambda: [], r"unsupported image type"),
    "none": (lambda: None, r"unsupported image type NoneType"),
}


@pytest.mark.parametrize("case", sorted(BAD_IMAGES))
def test_bad_images_raise_helpful_errors(case: str) -> None:
    make, match = BAD_IMAGES[case]
    with pytest.raises(InpaintInputError, match=match):
        as_images(make())


def test_one_bad_picture_in_a_list_is_caught(picture: np.ndarray) -> None:
    with pytest.raises(InpaintInputError, match="load_image"):
        as_images([Image.fromarray(picture), Image.new("RGB", (128, 128))])


# ---------------------------------------------------------------------------------------------
# Masks: named masks, by hand
# ---------------------------------------------------------------------------------------------


def _hand_mask(rows: slice, cols: slice) -> torch.Tensor:
    m = torch.ones(64, 64)
    m[rows, cols] = 0
    return m


@pytest.mark.parametrize(
    "name, hole",
    [
        ("centre", (slice(16, 48), slice(16, 48))),
        ("center", (slice(16, 48), slice(16, 48))),
        ("left", (slice(None), slice(None, 32))),
        ("right", (slice(None), slice(32, None))),
    ],
)
def test_named_masks_have_the_exact_geometry(name: str, hole: tuple[slice, slice]) -> None:
    want = _hand_mask(*hole)
    assert torch.equal(masks.named(name), want)
    m = as_masks(name, 3)
    assert m.shape == (3, 1, 64, 64) and m.dtype == torch.float32
    assert torch.equal(m, want.expand(3, 1, 64, 64))


def test_centre_mask_hides_a_quarter() -> None:
    assert masks.centre().eq(0).sum() == 32 * 32


def test_random_mask_fraction_and_seed() -> None:
    a = as_masks("random", 1, seed=5)[0, 0]
    missing = (a == 0).float().mean().item()
    assert abs(missing - 0.8) < 0.03
    assert set(a.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(a, as_masks("random", 1, seed=5)[0, 0])
    assert torch.equal(a, masks.random(64, seed=5))
    assert not torch.equal(a, as_masks("random", 1, seed=6)[0, 0])


def test_random_mask_rejects_bad_p() -> None:
    with pytest.raises(InpaintInputError, match=r"fraction missing.*\(0, 1\)"):
        masks.random(p=1.5)


# ---------------------------------------------------------------------------------------------
# Masks: polarity and other forms
# ---------------------------------------------------------------------------------------------


def _white_square_on_black() -> Image.Image:
    a = np.zeros((64, 64), np.uint8)
    a[16:48, 16:48] = 255
    return Image.fromarray(a, "L")


def test_from_image_polarity() -> None:
    img = _white_square_on_black()
    with pytest.warns(UserWarning, match="75 % of this mask is hole"):  # a white hole read as known
        black_hole = masks.from_image(img, hole="black")  # white = known: only the square is known
    white_hole = masks.from_image(img, hole="white")  # white = hole: the square is missing
    assert torch.equal(white_hole, masks.centre())
    assert torch.equal(black_hole, 1 - masks.centre())
    assert torch.equal(black_hole + white_hole, torch.ones(64, 64))


def test_from_image_reads_rgb_files_and_rejects_bad_hole(tmp_path: Path) -> None:
    path = tmp_path / "mask.png"
    _white_square_on_black().convert("RGB").save(path)
    assert torch.equal(masks.from_image(path, hole="white"), masks.centre())
    with pytest.raises(InpaintInputError, match=r"'black' or 'white'"):
        masks.from_image(path, hole="transparent")
    (tmp_path / "bad.png").write_bytes(b"not a png")
    with pytest.raises(InpaintInputError, match="cannot read mask image"):
        masks.from_image(tmp_path / "bad.png")


def test_pil_mask_is_white_known() -> None:
    with pytest.warns(UserWarning, match="hole='white'"):
        m = as_masks(_white_square_on_black(), 1)
    assert torch.equal(m[0, 0], 1 - masks.centre())


@pytest.mark.parametrize(
    "form",
    [
        lambda m: (m * 255).numpy().astype(np.uint8),  # 8-bit picture, 255 = known
        lambda m: m.numpy().astype(np.uint8),  # 0/1 uint8
        lambda m: m.numpy().astype(bool),
        lambda m: m.numpy().astype(np.float64),
        lambda m: m,  # (H, W) tensor
        lambda m: m[None],  # (1, H, W)
        lambda m: m[None, None],  # (1, 1, H, W)
    ],
    ids=["uint8_0_255", "uint8_0_1", "bool", "float64", "tensor_hw", "tensor_1hw", "tensor_11hw"],
)
def test_mask_forms(form) -> None:
    m = as_masks(form(masks.centre()), 2)
    assert m.shape == (2, 1, 64, 64) and m.dtype == torch.float32
    assert torch.equal(m, masks.centre().expand(2, 1, 64, 64))


def test_one_mask_per_image() -> None:
    both = torch.stack([masks.left(), masks.right()])
    m = as_masks(both, 2)
    assert torch.equal(m[:, 0], both)


# ---------------------------------------------------------------------------------------------
# Masks: bad input
# ---------------------------------------------------------------------------------------------

BAD_MASKS = {
    "no_hole": (lambda: torch.ones(64, 64), 1, r"mask 0 has no missing pixel.*1 - mask"),
    "no_hole_uint8": (lambda: np.full((64, 64), 255, np.uint8), 1, r"no missing pixel"),
    "no_known": (lambda: torch.zeros(64, 64), 1, r"mask 0 has no known pixel.*1 - mask"),
    "second_has_no_hole": (lambda: torch.stack([masks.centre(), torch.ones(64, 64)]), 2, r"mask 1 has no missing pixel"),
    "non_binary": (lambda: masks.centre() * 0.5, 1, r"must be 0 or 1.*threshold"),
    "non_binary_uint8": (lambda: np.full((64, 64), 128, np.uint8), 1, r"must be 0 or 1"),
    "nan": (lambda: torch.full((64, 64), float("nan")), 1, r"must be 0 or 1"),
    "wrong_size": (lambda: torch.ones(32, 32), 1, r"32x32.*64x64.*image's size"),
    "wrong_dims": (lambda: torch.ones(1, 2, 64, 64), 1, r"\(H, W\), \(N, H, W\) or \(N, 1, H, W\)"),
    "wrong_count": (lambda: masks.centre().expand(3, 64, 64), 2, r"3 masks for 2 images.*one per image"),
    "bad_name": (lambda: "middle", 1, r"unknown mask 'middle'.*centre, left, right, random"),
    "bad_type": (lambda: [[0, 1]], 1, r"unsupported mask type list"),
    # read straight from a PNG with np.asarray(Image.open(...)): an (H, W, 3) picture, not N masks
    "rgb_array": (lambda: np.full((64, 64, 3), 255, np.uint8), 1, r"\(64, 64, 3\).*RGB.*one channel.*from_image"),
    "rgba_tensor": (lambda: torch.ones(64, 64, 4), 1, r"RGB.*from_image"),
}


def test_rgb_mask_picture_via_from_image() -> None:
    rgb = np.repeat((masks.centre().numpy() * 255).astype(np.uint8)[..., None], 3, -1)
    assert torch.equal(as_masks(masks.from_image(rgb), 1)[0, 0], masks.centre())


@pytest.mark.parametrize("case", sorted(BAD_MASKS))
def test_bad_masks_raise_helpful_errors(case: str) -> None:
    make, n, match = BAD_MASKS[case]
    with pytest.raises(InpaintInputError, match=match):
        as_masks(make(), n)


# ---------------------------------------------------------------------------------------------
# load_image
# ---------------------------------------------------------------------------------------------

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def test_load_image_centre_crops_and_resizes(tmp_path: Path) -> None:
    # 100 wide, 80 high: the centre 80x80 square is columns 10..89, green on its left half and
    # blue on its right half; the 10 columns cut off on each side are red.
    a = np.zeros((80, 100, 3), np.uint8)
    a[:, :10] = RED
    a[:, 10:50] = GREEN
    a[:, 50:90] = BLUE
    a[:, 90:] = RED
    path = tmp_path / "face.png"
    Image.fromarray(a).save(path)

    img = load_image(path)
    assert img.mode == "RGB" and img.size == (64, 64)
    out = np.asarray(img)
    assert (out[..., 0] == 0).all(), "red from outside the centre square leaked in"
    # Output column c samples source column ~1.25 (c + 0.5) of the crop, with a bicubic
    # support of +-2.5 source pixels: columns < 28 see only green, columns >= 36 only blue.
    assert (out[:, :28] == GREEN).all()
    assert (out[:, 36:] == BLUE).all()
    # and the result is accepted as it is
    assert as_images(img).shape == (1, 3, 64, 64)
    assert as_images(load_image(str(path))).shape == (1, 3, 64, 64)


def test_load_image_converts_grey_and_takes_pil(tmp_path: Path) -> None:
    img = load_image(Image.new("L", (64, 64), 77))
    assert img.mode == "RGB" and (np.asarray(img) == 77).all()


def test_load_image_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "corrupt.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    with pytest.raises(InpaintInputError, match=r"cannot read image .*corrupt\.png"):
        load_image(bad)

    good = tmp_path / "good.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(good)
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(InpaintInputError, match=r"cannot read image .*truncated\.png"):
        load_image(truncated)

    with pytest.raises(InpaintInputError, match=r"cannot read image .*missing\.png"):
        load_image(tmp_path / "missing.png")

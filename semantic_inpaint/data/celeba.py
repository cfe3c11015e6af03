"""CelebA faces under the protocol of semantic inpainting (Yeh et al., 2017).

Data: the aligned-and-cropped CelebA release (Liu et al., 2015), `img_align_celeba/` with
202,599 JPEGs of 178x218, and its official partition file `list_eval_partition.txt`, one
`<file> <split>` line per image with split 0 = train, 1 = val, 2 = test. Each image is
centre-cropped to 108x108 and resized to 64x64, as in DCGAN-tensorflow, which the paper's
DCGAN was trained with (see `folder.load_face` for the resize filter).

Accepted layouts of `root`: `img_align_celeba/` directly in it or in `Img/`, and the
partition file directly in it or in `Eval/` (the official Google Drive layout).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from semantic_inpaint.data.folder import load_faces
from semantic_inpaint.errors import InpaintInputError

SPLITS = {"train": 0, "val": 1, "test": 2}
CROP = 108
PARTITION_FILE = "list_eval_partition.txt"
IMAGE_DIRS = ("img_align_celeba", "Img/img_align_celeba")
PARTITION_PATHS = (PARTITION_FILE, f"Eval/{PARTITION_FILE}")


def celeba(root: str | Path, split: str = "test", n: int | None = None) -> tuple[np.ndarray, list[str]]:
    """The first `n` (all if None) images of `split`, in partition-file order.

    Returns uint8 (N, 64, 64, 3) RGB and the file names (e.g. '182638.jpg') in the same order.
    """
    if split not in SPLITS:
        raise InpaintInputError(f"unknown CelebA split {split!r}: use one of {', '.join(SPLITS)}")
    if n is not None and n < 1:
        raise InpaintInputError(f"n must be a positive integer, got {n!r}")
    root = Path(root)
    if not root.is_dir():
        raise InpaintInputError(
            f"CelebA root {root} is not a folder: pass the folder that holds img_align_celeba/ and {PARTITION_FILE}"
        )
    image_dir = _find(root, IMAGE_DIRS, Path.is_dir, "the folder img_align_celeba/ of 178x218 JPEGs")
    partition = _find(root, PARTITION_PATHS, Path.is_file, f"the official partition file {PARTITION_FILE}")
    names = _split_names(partition, split)[:n]
    what = f"image(s) of the CelebA {split} split listed in {partition} are"
    return load_listed(image_dir, names, what, "re-extract img_align_celeba.zip completely"), names


def load_listed(folder: Path, names: list[str], what: str, fix: str) -> np.ndarray:
    """The CelebA files `names` in `folder` under the protocol (crop 108, resize 64), uint8
    (N, 64, 64, 3). All are checked to exist first, so that an incomplete copy fails at once,
    not after minutes of loading: '{count} {what} missing from {folder} (first: ...): {fix}'."""
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise InpaintInputError(f"{len(missing)} {what} missing from {folder} (first: {missing[0]}): {fix}")
    return load_faces([folder / name for name in names], crop=CROP)


def _split_names(partition: str | Path, split: str) -> list[str]:
    """File names of `split` in the partition file, in file order; an error if there are none."""
    code = SPLITS[split]
    names = []
    for number, line in enumerate(Path(partition).read_text().splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
            raise InpaintInputError(
                f"{partition} line {number} is {line!r}, expected '<file> <0|1|2>' as in the "
                f"official {PARTITION_FILE}"
            )
        if int(fields[1]) == code:
            names.append(fields[0])
    if not names:
        raise InpaintInputError(f"{partition} lists no image in the {split} split (code {code}): is it the official file?")
    return names


def _find(root: Path, candidates: tuple[str, ...], exists: Callable[[Path], bool], what: str) -> Path:
    """The first of `root / candidate` for which `exists` holds, else an error listing where it looked."""
    for candidate in candidates:
        if exists(root / candidate):
            return root / candidate
    looked = ", ".join(str(root / c) for c in candidates)
    raise InpaintInputError(
        f"CelebA root {root} does not have {what}: looked for {looked}. Pass the folder that holds "
        f"img_align_celeba/ and {PARTITION_FILE} (or the official layout with Img/ and Eval/)"
    )

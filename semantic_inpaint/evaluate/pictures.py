"""The pictures `evaluate` saves under OUT/images, read back for the comparison figures.

images/{mask}/{column}/{index}.png holds every completed image (column = the method), the input
with its hole in grey (`input`) and the ground truth (`truth`); figure_{mask}.png draws the
first images as rows, input | methods | truth as columns, like the thesis's figures 6 and 7,
from those PNGs (so also after a resumed run).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure
from PIL import Image
from torch import Tensor

from semantic_inpaint import safe_files
from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.figures import comparison_figure
from semantic_inpaint.io import as_images, to_pil

FIGURE_IMAGES = 8  # rows of figure_{mask}.png: the first images of the set


def image_path(out_dir: str | os.PathLike, mask: str, column: str, index: int) -> Path:
    """Where `evaluate` saves a picture: OUT/images/{mask}/{column}/{index}.png, with column a
    method, 'input' (the hole in grey) or 'truth'."""
    return Path(out_dir) / "images" / mask / column / f"{index}.png"


def save_picture(path: Path, image: Tensor) -> None:
    """`image` (3, 64, 64) in [0, 1] as a PNG at `path`, replaced whole (`safe_files`)."""
    with safe_files.replacing(path) as temp:
        to_pil(image).save(temp)


def read_picture(path: Path) -> Tensor | None:
    """The (3, 64, 64) picture saved at `path`, or None if it is missing or unreadable: versions
    before atomic writes saved PNGs in place, so a kill could leave one cut short."""
    try:
        with Image.open(path) as picture:
            return as_images(picture)[0]
    except (OSError, SyntaxError):  # PIL: OSError for a truncated file, SyntaxError for a corrupt chunk
        return None


def figure(out_dir: str | os.PathLike, mask: str, methods: Sequence[str], n: int = FIGURE_IMAGES) -> Figure:
    """The comparison for `mask` from the PNGs `evaluate` saved under `out_dir`: the first `n`
    images saved for that mask as rows, input | each method | ground truth as columns. A
    picture not on disk (a method not run on that image), or unreadable (with a warning), is
    left blank."""
    saved = image_path(out_dir, mask, "truth", 0).parent.glob("*.png")
    indices = sorted(int(p.stem) for p in saved if p.stem.isdigit())[:n]  # not a killed write's temp file
    if not indices:
        raise InpaintInputError(f"no images saved for mask {mask!r} under {out_dir}: run evaluate() there first")

    def load(column: str, i: int) -> Tensor | None:
        path = image_path(out_dir, mask, column, i)
        picture = read_picture(path)
        if picture is None and path.is_file():
            # Left blank rather than redrawn: only a search (minutes a face) could draw a
            # method's picture again, and its row is done. evaluate redraws input and truth.
            warnings.warn(f"{path} cannot be read (cut short by an older version killed while writing it) and is left blank in the figure: delete it and its row in per_image.csv to compute it again")
        return picture

    columns = {column: [load(column, i) for i in indices] for column in ["input", *methods, "truth"]}
    return comparison_figure(columns, row_labels=[f"#{i}" for i in indices], title=f"mask: {mask}")

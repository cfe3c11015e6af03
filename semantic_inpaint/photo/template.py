"""Where the DCGAN expects a face's 68 dlib landmarks in its 64x64 frame.

Measured, not drawn: `template.json` holds the mean points over the 849 CelebA faces the
`celeba` weights learnt, read by dlib the way photos are read here and mapped through the
training crop (centre 108, resize 64). `tools/measure_template.py` remakes it and says why
dlib was run on the full-size photos rather than on the 64x64 faces.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

TEMPLATE_FILE = Path(__file__).with_name("template.json")


@functools.lru_cache(maxsize=1)
def _load() -> np.ndarray:
    points = np.array(json.loads(TEMPLATE_FILE.read_text())["points"], dtype=np.float64)
    if points.shape != (68, 2):
        raise RuntimeError(f"{TEMPLATE_FILE} holds points of shape {points.shape}, not (68, 2): rerun tools/measure_template.py")
    points.setflags(write=False)
    return points


def template() -> np.ndarray:
    """The 68 template points (x, y) in 64x64-frame pixels, float64 (68, 2), read-only."""
    return _load()

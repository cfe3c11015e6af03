"""Face-shaped masks: drawn on 68 landmarks with a margin worked out by hand; freeform strokes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from semantic_inpaint import masks
from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.face_masks import freeform, from_landmarks


def _points() -> np.ndarray:
    """68 points: eye centres 20 px apart (inter-ocular distance 20), the mouth (48-59) the
    corners of the square x 20..30, y 40..50, every other point far from it."""
    p = np.zeros((68, 2))
    p[:] = (5, 5)
    p[36:42] = (10, 20)
    p[42:48] = (30, 20)
    p[48:60] = [(20, 40), (30, 40), (30, 50), (20, 50)] * 3
    return p


def test_mouth_hole_is_the_hull_grown_by_its_margin():
    m = from_landmarks("mouth", _points(), (64, 64))  # margin 0.15 x 20 = 3 px
    assert m.shape == (64, 64) and set(m.unique().tolist()) == {0.0, 1.0}
    assert m[45, 25] == 0  # inside the square
    assert m[52, 25] == 0 and m[53, 25] == 0  # 2 and 3 px below its edge
    assert m[54, 25] == 1  # 4 px below: known
    assert m[45, 16] == 1 and m[45, 17] == 0  # 4 and 3 px left of it
    assert m[20, 10] == 1  # the eyes are not in the mouth's hole


def test_template_masks_cover_their_part_and_not_the_others():
    from semantic_inpaint.photo.template import template

    t = np.round(template()).astype(int)
    hole = {name: masks.named(name) == 0 for name in ("eyes", "mouth", "nose", "lower-face")}

    def covers(name: str, idx) -> bool:
        return bool(hole[name][t[idx, 1].clip(0, 63), t[idx, 0].clip(0, 63)].all())

    assert covers("eyes", slice(36, 48)) and not covers("eyes", [30]) and not covers("eyes", [62])
    assert covers("mouth", slice(48, 60)) and not hole["mouth"][t[36:48, 1], t[36:48, 0]].any()
    assert covers("nose", slice(27, 36)) and not hole["nose"][t[36:48, 1], t[36:48, 0]].any()
    assert covers("lower-face", [30, 51, 57, 62]) and not hole["lower-face"][t[36:48, 1], t[36:48, 0]].any()
    # Through complete()'s mask path by name, as any named mask.
    from semantic_inpaint.io import as_masks

    assert torch.equal(as_masks("eyes", 1)[0, 0], masks.named("eyes"))


def test_freeform_is_seeded_and_within_its_area():
    areas = []
    for seed in range(20):
        m = freeform(64, seed=seed)
        assert torch.equal(m, masks.named("freeform", seed=seed))
        areas.append(1 - m.mean().item())
    assert all(0.1 <= a <= 0.3 for a in areas)
    assert len({round(a, 4) for a in areas}) > 15  # different strokes for different seeds
    assert not torch.equal(freeform(64, seed=0), freeform(64, seed=1))
    big = 1 - freeform(128, seed=3, area=(0.4, 0.5)).mean().item()
    assert 0.4 <= big <= 0.5


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: from_landmarks("glasses", _points(), (64, 64)), r"unknown face mask 'glasses'.*eyes, mouth, nose, lower-face, freeform"),
        (lambda: from_landmarks("eyes", np.zeros((5, 2)), (64, 64)), r"68 landmarks as \(68, 2\), got shape \(5, 2\)"),
        (lambda: freeform(64, area=(0.5, 0.2)), r"freeform area must be \(min, max\)"),
        (lambda: masks.named("sunglasses"), r"unknown mask .sunglasses.: use one of centre, left, right, random, eyes, lower-face, mouth, nose, freeform"),
    ],
)
def test_bad_face_masks_are_named(call, message):
    with pytest.raises(InpaintInputError, match=message):
        call()

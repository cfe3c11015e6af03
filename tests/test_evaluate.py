"""The tables harness: rows, resume, shared search, bootstrap interval, summary layout."""

import csv

import numpy as np
import pytest

from semantic_inpaint.evaluate import bootstrap_ci, evaluate, summarise


def test_rows_resume_and_tables(tiny_models, faces, tmp_path):
    kw = dict(masks=("centre", "random"), methods=("yeh2017", "thesis"), models=tiny_models, batch_size=2, iterations=2, candidates=2, progress=False)
    rows = evaluate(faces[:3], tmp_path, **kw)
    assert len(rows) == 3 * 2 * 2
    known = {(r["image"], r["mask"], r["method"]) for r in rows}
    assert len(known) == 12
    before = (tmp_path / "per_image.csv").read_text()
    again = evaluate(faces[:3], tmp_path, **kw)  # everything done: nothing recomputed or rewritten
    assert len(again) == 12 and (tmp_path / "per_image.csv").read_text() == before
    more = evaluate(faces[:4], tmp_path, **kw)  # one new image: only its 4 rows are added
    with open(tmp_path / "per_image.csv") as f:
        assert len(list(csv.DictReader(f))) == 16 == len(more)
    table = (tmp_path / "results.md").read_text()
    assert "| mask | yeh2017 | thesis |" in table and "(n=4)" in table
    for r in more:
        assert 0 <= float(r["ssim"]) <= 1 and float(r["psnr"]) > 0
        assert float(r["landmark_loss"]) == 0 or r["method"] == "thesis"


def test_bootstrap_interval_of_a_known_sample():
    v = np.random.default_rng(0).normal(10.0, 2.0, 400)
    lo, hi = bootstrap_ci(v)
    half = 1.96 * 2.0 / np.sqrt(400)  # the normal-theory half-width, 0.196
    assert lo < v.mean() < hi
    assert (hi - lo) / 2 == pytest.approx(half, rel=0.15)
    assert bootstrap_ci(np.full(5, 3.0)) == (3.0, 3.0)


def test_summary_skips_infinite_psnr():
    rows = [{"mask": "centre", "method": "yeh2017", "psnr": p, "ssim": "1", "psnr_hole": p, "ssim_hole": "1", "landmark_error": "0"} for p in ("inf", "20", "22")]
    table = summarise(rows)
    assert "21.00" in table and "(n=2)" in table


def test_unknown_method(tmp_path, faces):
    with pytest.raises(ValueError, match="unknown method"):
        evaluate(faces[:1], tmp_path, methods=("nope",))

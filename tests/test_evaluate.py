"""The tables harness: rows, resume, shared search, mixed GAN and baseline methods, saved
pictures and figure, bootstrap interval, summary layout; and `semantic-inpaint evaluate`."""

import csv

import json
import dataclasses
import numpy as np
import pytest
import torch
from PIL import Image

from semantic_inpaint import cli, complete
from semantic_inpaint.baselines import inpaint
from semantic_inpaint import progress as harness_progress
from semantic_inpaint.config import PRESETS, YEH2017
from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.evaluate import bootstrap_ci, default_batch_size, evaluate, figure, image_path, summarise
from semantic_inpaint.evaluate import methods as harness_methods
from semantic_inpaint.figures import CELL, HEADER
from semantic_inpaint.metrics import psnr
from semantic_inpaint.models import Generator, freeze


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


def _spy(monkeypatch) -> list[str]:
    """Record what evaluate computes: 'complete:PRESET' per search, 'inpaint:NAME' per baseline call."""
    calls = []

    def completing(*args, preset, **kw):
        calls.append(f"complete:{preset}")
        return complete(*args, preset=preset, **kw)

    def inpainting(name, *args, **kw):
        calls.append(f"inpaint:{name}")
        return inpaint(name, *args, **kw)

    monkeypatch.setattr(harness_methods, "complete", completing)
    monkeypatch.setattr(harness_methods, "inpaint", inpainting)
    return calls


def test_mixed_methods_pictures_figure_and_resume(tiny_models, faces, tmp_path, monkeypatch):
    calls = _spy(monkeypatch)
    kw = dict(masks=("centre",), models=tiny_models, batch_size=2, iterations=2, candidates=2, progress=False, library=faces[2:])
    rows = evaluate(faces[:2], tmp_path, methods=("telea", "yeh2017", "nearest"), **kw)
    assert calls == ["inpaint:telea", "complete:yeh2017", "inpaint:nearest"]
    assert sorted((r["method"], r["image"]) for r in rows) == [(m, i) for m in ("nearest", "telea", "yeh2017") for i in "01"]
    for r in rows:
        assert float(r["seconds"]) >= 0 and 0 <= float(r["ssim"]) <= 1
        assert (r["landmark_loss"] == "nan") == (r["method"] != "yeh2017")
    # Every completed picture is saved, with the input (hole in grey) and the truth beside it.
    telea = (inpaint("telea", faces[:2], "centre") * 255).round().byte().permute(0, 2, 3, 1).numpy()
    for i in range(2):
        assert np.array_equal(np.asarray(Image.open(image_path(tmp_path, "centre", "telea", i))), telea[i])
        assert np.array_equal(np.asarray(Image.open(image_path(tmp_path, "centre", "truth", i))), faces[i])
        shown = np.asarray(Image.open(image_path(tmp_path, "centre", "input", i)))
        assert (shown[24, 24] == 128).all() and np.array_equal(shown[0], faces[i, 0])
    # The figure: 2 image rows; input, 3 methods and truth as columns; save_figure's 120 dpi.
    assert Image.open(tmp_path / "figure_centre.png").size == (round(5 * CELL * 120), round((2 * CELL + HEADER) * 120))

    # Resumed with one more method: only it is computed; the CSV's rows stay as they were.
    before = (tmp_path / "per_image.csv").read_text()
    (tmp_path / "figure_centre.png").unlink()
    calls.clear()
    more = evaluate(faces[:2], tmp_path, methods=("telea", "yeh2017", "nearest", "biharmonic"), **kw)
    assert calls == ["inpaint:biharmonic"] and len(more) == 8
    assert (tmp_path / "per_image.csv").read_text().startswith(before)
    # ... and the figure is drawn again from the saved pictures, now with 4 methods.
    assert Image.open(tmp_path / "figure_centre.png").size == (round(6 * CELL * 120), round((2 * CELL + HEADER) * 120))
    assert "| mask | telea | yeh2017 | nearest | biharmonic |" in (tmp_path / "results.md").read_text()


def test_every_other_preset_runs_its_own_search(tiny_models, faces, tmp_path, monkeypatch):
    """thesis and yeh2017 share one search; any other preset (here one added for the test) gets
    its own, with its own settings: its rows are those of complete() with that preset."""
    monkeypatch.setitem(PRESETS, "yeh_fast", YEH2017.with_overrides(lr=0.2))
    calls = _spy(monkeypatch)
    settings = dict(models=tiny_models, iterations=3, candidates=2)
    rows = evaluate(faces[:1], tmp_path, masks=("centre",), methods=("thesis", "yeh_fast", "yeh2017"), progress=False, **settings)
    assert calls == ["complete:thesis", "complete:yeh_fast"]
    alone = complete(faces[:1], "centre", preset="yeh_fast", progress=False, **settings)
    truth = torch.from_numpy(faces[:1]).permute(0, 3, 1, 2).float() / 255
    (row,) = [r for r in rows if r["method"] == "yeh_fast"]
    assert float(row["psnr"]) == pytest.approx(float(psnr(alone.images, truth)[0]), abs=1e-6)


def test_figure_leaves_pictures_not_on_disk_blank(faces, tmp_path):
    evaluate(faces[:3], tmp_path, masks=("left",), methods=("navier_stokes",), batch_size=3)
    image_path(tmp_path, "left", "navier_stokes", 1).unlink()
    fig = figure(tmp_path, "left", ["navier_stokes", "telea"], n=2)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert len(fig.axes) == 2 * 4 and texts.count("not saved") == 1 + 2  # image 1's NS, and no telea at all
    with pytest.raises(InpaintInputError, match="no images saved for mask 'right'"):
        figure(tmp_path, "right", ["navier_stokes"])


def test_a_folder_without_pictures_still_gets_its_figure(faces, tmp_path):
    # A results folder from before pictures were saved: rows done, no PNGs. Nothing is
    # recomputed, the input and truth are written, and the methods' cells are left blank.
    evaluate(faces[:2], tmp_path, masks=("centre",), methods=("telea",))
    before = (tmp_path / "per_image.csv").read_text()
    for path in sorted((tmp_path / "images").rglob("*.png")):
        path.unlink()
    (tmp_path / "figure_centre.png").unlink()
    evaluate(faces[:2], tmp_path, masks=("centre",), methods=("telea",))
    assert (tmp_path / "per_image.csv").read_text() == before
    assert not image_path(tmp_path, "centre", "telea", 0).is_file()
    assert np.array_equal(np.asarray(Image.open(image_path(tmp_path, "centre", "truth", 1))), faces[1])
    assert (tmp_path / "figure_centre.png").is_file()


def test_nearest_needs_a_library(faces, tmp_path):
    with pytest.raises(InpaintInputError, match="library"):
        evaluate(faces[:1], tmp_path / "out", methods=("yeh2017", "nearest"))
    assert not (tmp_path / "out").exists()  # refused before anything was written


def test_cli_evaluate_baselines_without_weights(faces, tmp_path, capsys):
    """Baselines alone need no GAN weights; `nearest` takes its library from --nn-data."""
    data, library = tmp_path / "faces", tmp_path / "library"
    for folder, images in ((data, faces[:2]), (library, faces[2:])):
        folder.mkdir()
        for i, face in enumerate(images):
            Image.fromarray(face).save(folder / f"{i}.png")
    out = tmp_path / "out"
    cli.main(["evaluate", "--data", str(data), "--n", "2", "--masks", "centre", "--methods", "telea,nearest", "--nn-data", str(library), "--out", str(out), "--weights", str(tmp_path / "none")])
    with open(out / "per_image.csv") as f:
        assert sorted(r["method"] for r in csv.DictReader(f)) == ["nearest", "nearest", "telea", "telea"]
    assert (out / "figure_centre.png").is_file()
    for methods, message in (("telea,nearest", "--nn-data synthetic"), ("telea,patchmatch", "unknown method")):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["evaluate", "--data", str(data), "--methods", methods, "--out", str(out)])
        assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_bootstrap_interval_of_a_known_sample():
    v = np.random.default_rng(0).normal(10.0, 2.0, 400)
    lo, hi = bootstrap_ci(v)
    half = 1.96 * 2.0 / np.sqrt(400)  # the normal-theory half-width, 0.196
    assert lo < v.mean() < hi
    assert (hi - lo) / 2 == pytest.approx(half, rel=0.15)
    assert bootstrap_ci(np.full(5, 3.0)) == (3.0, 3.0)


def test_bootstrap_interval_of_a_sample_whose_resampled_means_are_known():
    # Resampling [0, 0, 0, 1] gives means k/4 with k ~ Binomial(4, 1/4): P(k = 0) = 0.32 covers
    # the 2.5th percentile, and P(k <= 2) = 0.949 < 0.975 < P(k <= 3) = 0.996 puts the 97.5th at
    # 3/4. With 2000 resamples both ends hold whatever the draws (the 97.5th is 5 sd from 1).
    assert bootstrap_ci(np.array([0.0, 0.0, 0.0, 1.0])) == (0.0, 0.75)
    assert bootstrap_ci(np.array([0.0, 1.0])) == (0.0, 1.0)  # the fewest values with an interval
    # Against an independent bootstrap of its own draws (100 000 resamples): the ends agree to
    # within 0.2 standard errors of the mean, a margin over the Monte Carlo error of 2000
    # resamples (up to 0.15 over seeds 0-9) that a 90 % interval (0.3 away) would not meet.
    v = np.random.default_rng(1).gamma(2.0, 3.0, 60)  # skewed, like per-image PSNR gains
    means = v[np.random.default_rng(7).integers(0, len(v), (100_000, len(v)))].mean(1)
    np.testing.assert_allclose(bootstrap_ci(v), np.percentile(means, [2.5, 97.5]), rtol=0, atol=0.2 * v.std() / np.sqrt(len(v)))
    assert bootstrap_ci(v, seed=0) == bootstrap_ci(v, seed=0) != bootstrap_ci(v, seed=1)


def test_bootstrap_interval_of_one_value_or_equal_values(recwarn):
    # One value has no interval; equal values have that value as every resample's mean. Neither warns.
    lo, hi = bootstrap_ci(np.array([21.5]))
    assert np.isnan(lo) and np.isnan(hi)
    assert bootstrap_ci(np.full(7, 0.1)) == (0.1, 0.1)
    assert len(recwarn) == 0
    rows = [{"image": "0", "mask": "centre", "method": "tv", "psnr": "21.5", "ssim": "0.5", "psnr_hole": "inf", "ssim_hole": "0.5", "landmark_error": "1"}]
    rows += [dict(rows[0], image="0", method="telea", psnr="22")]
    table = summarise(rows)
    assert "| centre | 21.50 (n=1) | 22.00 (n=1) |" in table  # the value, without an interval
    assert "| centre | 0.500 (n=1) | 0.500 (n=1) |" in table
    assert "| centre | - | - |" in table  # a perfect hole only: no finite value
    assert "| centre | +0.50 (n=1) |" in table.split("Differences from tv")[1]
    assert "nan" not in table


def test_summary_skips_infinite_psnr():
    rows = [
        {"image": str(i), "mask": "centre", "method": "yeh2017", "psnr": p, "ssim": "1", "psnr_hole": p, "ssim_hole": "1", "landmark_error": "0"}
        for i, p in enumerate(("inf", "20", "22"))
    ]
    table = summarise(rows)
    assert "21.00" in table and "(n=2)" in table


def test_summary_pairs_differences_by_image():
    def row(image, method, psnr):
        return {"image": image, "mask": "left", "method": method, "psnr": psnr, "ssim": "0.5", "psnr_hole": psnr, "ssim_hole": "0.5", "landmark_error": "1"}

    # Per image, b - a = +1.0, +0.5, +1.0 (mean +0.83); image 3 has no partner and is left out.
    rows = [row("0", "a", "20"), row("1", "a", "22"), row("2", "a", "24"), row("3", "a", "30")]
    rows += [row("2", "b", "25"), row("0", "b", "21"), row("1", "b", "22.5")]
    table = summarise(rows)
    diffs = table.split("Differences from a")[1]
    assert "+0.83 [+0.50, +1.00] (n=3)" in diffs
    assert "+0.000 [+0.000, +0.000] (n=3)" in diffs  # SSIM: the same for both


def test_unknown_method(tmp_path, faces):
    with pytest.raises(ValueError, match="unknown method"):
        evaluate(faces[:1], tmp_path, methods=("nope",))


def test_resume_with_other_search_settings_is_refused(tiny_models, faces, tmp_path):
    kw = dict(masks=("centre",), methods=("yeh2017",), models=tiny_models, candidates=2, progress=False)
    evaluate(faces[:1], tmp_path, iterations=2, **kw)
    before = (tmp_path / "per_image.csv").read_text()
    with pytest.raises(InpaintInputError, match=r"yeh2017 iterations: 2 there, 3 now.*new --out"):
        evaluate(faces[:2], tmp_path, iterations=3, **kw)
    assert (tmp_path / "per_image.csv").read_text() == before  # nothing added
    assert len(evaluate(faces[:2], tmp_path, iterations=2, **kw)) == 2  # the same settings resume
    # baselines do not search: they may join the folder whatever the options
    assert len(evaluate(faces[:2], tmp_path, masks=("centre",), methods=("telea",), iterations=5)) == 4


def test_settings_json_records_each_gan_methods_own_search(tiny_models, faces, tmp_path, monkeypatch):
    kw = dict(masks=("centre",), models=tiny_models, iterations=2, candidates=2, progress=False)
    evaluate(faces[:1], tmp_path, methods=("adapt", "tv"), **kw)
    recorded = json.loads((tmp_path / "settings.json").read_text())
    assert set(recorded) == {"adapt"}  # baselines do not search
    # adapt's own colour transform and loss, not the thesis's, with the run's overrides
    assert (recorded["adapt"]["adapt"], recorded["adapt"]["loss"]["landmark"], recorded["adapt"]["iterations"]) == ("colour", "none", 2)
    evaluate(faces[:1], tmp_path, methods=("yeh2017",), **kw)  # a new method joins
    assert set(json.loads((tmp_path / "settings.json").read_text())) == {"adapt", "yeh2017"}
    # A preset whose definition changed since the folder's rows were searched is refused by name.
    monkeypatch.setitem(PRESETS, "adapt", dataclasses.replace(PRESETS["adapt"], blend="poisson"))
    with pytest.raises(InpaintInputError, match=r"adapt blend: 'overlay' there, 'poisson' now"):
        evaluate(faces[:1], tmp_path, methods=("adapt",), **kw)


def test_settings_json_of_one_config_for_every_method_is_refused(tiny_models, faces, tmp_path):
    (tmp_path / "settings.json").write_text(json.dumps(dataclasses.asdict(PRESETS["thesis"])))
    with pytest.raises(InpaintInputError, match="one set of search settings for every method.*new --out"):
        evaluate(faces[:1], tmp_path, masks=("centre",), methods=("yeh2017",), models=tiny_models, iterations=2, progress=False)


def test_explicit_defaults_resume_a_folder_made_with_the_defaults(tiny_models, faces, tmp_path):
    kw = dict(masks=("centre",), methods=("yeh2017",), models=tiny_models, progress=False)
    evaluate(faces[:1], tmp_path, **kw, candidates=2, iterations=2)
    defaults = PRESETS["thesis"]
    assert len(evaluate(faces[:1], tmp_path, **kw, candidates=2, iterations=2, lr=defaults.lr, seed=defaults.seed)) == 1


@pytest.mark.parametrize(
    "free_gib, candidates, expected",
    [(80, 64, 64), (16, 64, 32), (1, 64, 2), (0.1, 64, 1), (16, 16, 64), (1, 16, 8)],
)
def test_default_batch_size_on_cuda_fits_half_the_free_memory(monkeypatch, free_gib, candidates, expected):
    # By hand: floor(0.5 * free MiB / (3 MiB x candidates)), down to a power of two, in [1, 64];
    # e.g. 16 GiB, K = 64: 8192 / 192 = 42.7 -> 32.
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (int(free_gib * 2**30), 80 * 2**30))
    assert default_batch_size("cuda", candidates) == expected
    assert default_batch_size("cpu", candidates) == 1


def test_resume_with_other_faces_or_weights_is_refused(tiny_models, faces, tmp_path):
    kw = dict(masks=("centre",), methods=("yeh2017",), batch_size=2, iterations=2, candidates=2, progress=False)
    evaluate(faces[:2], tmp_path, models=tiny_models, **kw)
    # Other faces at the same indices: refused, naming the first face that differs.
    with pytest.raises(InpaintInputError, match=r"other faces \(face 0 differs, 2 in all"):
        evaluate(faces[2:4], tmp_path, models=tiny_models, **kw)
    with pytest.raises(InpaintInputError, match=r"face 1 differs, 1 in all"):
        evaluate(faces[[0, 3]], tmp_path, models=tiny_models, **kw)
    # Another generator: refused.
    torch.manual_seed(1)
    other = (freeze(Generator(width=8)), tiny_models[1])
    with pytest.raises(InpaintInputError, match="other weights"):
        evaluate(faces[:2], tmp_path, models=other, **kw)
    # A baseline needs no generator and joins; more of the same faces extend the folder.
    evaluate(faces[:2], tmp_path, masks=("centre",), methods=("telea",), progress=False)
    rows = evaluate(faces[:3], tmp_path, models=tiny_models, **kw)
    assert sorted((r["method"], r["image"]) for r in rows) == [("telea", "0"), ("telea", "1"), ("yeh2017", "0"), ("yeh2017", "1"), ("yeh2017", "2")]


def test_progress_lines_without_a_terminal(tiny_models, faces, tmp_path, capsys, monkeypatch):
    # Every batch is past the interval here, so each prints its line; progress=False prints none.
    monkeypatch.setattr(harness_progress, "PROGRESS_EVERY", 0.0)
    evaluate(faces[:2], tmp_path / "a", masks=("centre",), methods=("telea",), batch_size=1)
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.split(":")[1].split(",")[0].strip() for line in lines] == ["1/2 images", "2/2 images"]
    assert lines[0].startswith("evaluate centre telea:") and "min left" in lines[0]
    evaluate(faces[:2], tmp_path / "b", masks=("centre",), methods=("telea",), batch_size=1, progress=False)
    assert capsys.readouterr().err == ""

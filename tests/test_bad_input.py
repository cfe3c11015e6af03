"""Bad input to the search options, `complete`, `evaluate` and `semantic-inpaint evaluate`: each is
refused before any search starts, with an error that names the problem and the fix."""

from __future__ import annotations

import csv
import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from semantic_inpaint import cli, complete
from semantic_inpaint.cli import complete as cli_complete
from semantic_inpaint.config import YEH2017
from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.complete import MIB_PER_CANDIDATE
from semantic_inpaint.data import load_images
from semantic_inpaint.evaluate import evaluate
from semantic_inpaint.io import as_images, load_image
from semantic_inpaint.masks import from_image

# What a search would run with, should a check ever let one through: never a long one.
SAFE = dict(iterations=3, candidates=2, progress=False)


# ---------------------------------------------------------------------------------------------
# Search options
# ---------------------------------------------------------------------------------------------

BAD_OPTIONS = {
    "iterations_float": ({"iterations": 1.5}, r"iterations must be a whole number \(int\), got 1\.5 \(float\); e\.g\. iterations=1000"),
    "iterations_bool": ({"iterations": True}, r"iterations must be a whole number \(int\), got True \(bool\)"),
    "iterations_str": ({"iterations": "10"}, r"iterations must be a whole number \(int\), got '10' \(str\)"),
    "candidates_float": ({"candidates": 1.5}, r"candidates must be a whole number \(int\), got 1\.5 \(float\); e\.g\. candidates=64"),
    "candidates_str": ({"candidates": "2"}, r"candidates must be a whole number \(int\), got '2' \(str\)"),
    "candidates_bool": ({"candidates": True}, r"candidates must be a whole number \(int\), got True \(bool\)"),
    "betas_above_one": ({"betas": (2, 3)}, r"betas must be two numbers in \[0, 1\) \(Adam's decay rates\), got \(2, 3\); e\.g\. betas=\(0\.9, 0\.999\)"),
    "seed_too_big": ({"seed": 2**70}, r"seed must be in \[0, 2\*\*63\).*got 1180591620717411303424"),
    "seed_float": ({"seed": 1.5}, r"seed must be a whole number \(int\), got 1\.5 \(float\); e\.g\. seed=0"),
    "seed_str": ({"seed": "3"}, r"seed must be a whole number \(int\), got '3' \(str\)"),
    "lr_inf": ({"lr": float("inf")}, r"lr must be finite and > 0.*got inf"),
    "lr_nan": ({"lr": float("nan")}, r"lr must be finite and > 0.*got nan"),
    "prior_weight_negative": ({"prior_weight": -1}, r"prior_weight .*must be finite and >= 0.*got -1"),
    "weight_zero": ({"weight": 0}, r"weight .*must be finite and > 0, got 0\.0: .*nothing to search; use 1\.0"),
    "weight_negative": ({"weight": -2}, r"weight .*must be finite and > 0, got -2\.0"),
    "landmark_threshold_negative": ({"landmark_threshold": -1}, r"landmark_threshold must be > 0 px.*got -1"),
}


@pytest.mark.parametrize("case", sorted(BAD_OPTIONS))
def test_bad_search_option(case: str, faces: np.ndarray, tiny_models) -> None:
    overrides, match = BAD_OPTIONS[case]
    with pytest.raises(InpaintInputError, match=match):
        YEH2017.with_overrides(**overrides)
    with pytest.raises(InpaintInputError, match=match):
        complete(faces[0], "centre", "yeh2017", models=tiny_models, **(SAFE | overrides))


def test_numpy_numbers_are_taken_as_plain_numbers() -> None:
    config = YEH2017.with_overrides(iterations=np.int64(3), seed=np.uint32(5), lr=np.float32(0.5), betas=[0.5, np.float32(0.25)])
    assert (config.iterations, config.seed, config.lr, config.betas) == (3, 5, 0.5, (0.5, 0.25))
    assert type(config.iterations) is int and type(config.lr) is float
    json.dumps(dataclasses.asdict(config))  # as evaluate's settings.json takes them


def test_too_many_candidates_for_the_cpu(faces: np.ndarray, tiny_models) -> None:
    need = MIB_PER_CANDIDATE * 10**6 / 1024  # GiB for one image
    match = rf"1 image\(s\) x 1000000 candidates need about {re.escape(f'{need:.3g}')} GiB .*available on cpu: lower candidates"
    with pytest.raises(InpaintInputError, match=match):
        complete(faces[0], "centre", "yeh2017", models=tiny_models, device="cpu", **(SAFE | {"candidates": 10**6}))


def test_too_many_candidates_for_the_gpu(faces: np.ndarray, tiny_models, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (2**30, 80 * 2**30))  # 1 GiB free
    # By hand: 2 images x 1000 candidates x 3 MiB = 6000 MiB = 5.86 GiB.
    with pytest.raises(InpaintInputError, match=r"2 image\(s\) x 1000 candidates need about 5\.86 GiB .*more than the 1 GiB available on cuda"):
        complete(faces[:2], "centre", "yeh2017", models=tiny_models, device="cuda", **(SAFE | {"candidates": 1000}))


# ---------------------------------------------------------------------------------------------
# complete(): images, device, models
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "images, match",
    [
        ([], r"an empty list holds no images; pass at least one"),
        (torch.zeros(0, 3, 64, 64), r"the image tensor is empty \(shape \(0, 3, 64, 64\)\): no images"),
        (np.zeros((0, 64, 64, 3), np.uint8), r"the image array is empty \(shape \(0, 64, 64, 3\)\): no images"),
    ],
    ids=["empty_list", "empty_tensor", "empty_array"],
)
def test_no_images(images: object, match: str, tiny_models) -> None:
    with pytest.raises(InpaintInputError, match=match):
        complete(images, "centre", "yeh2017", models=tiny_models, **SAFE)


@pytest.mark.parametrize("what", ["image", "mask"])
def test_meta_tensors(what: str, faces: np.ndarray, tiny_models) -> None:
    image = torch.empty(1, 3, 64, 64, device="meta") if what == "image" else faces[0]
    mask = torch.empty(64, 64, device="meta") if what == "mask" else "centre"
    with pytest.raises(InpaintInputError, match=rf"the {what} tensor is on the 'meta' device, which holds shapes but no values: pass one with data"):
        complete(image, mask, "yeh2017", models=tiny_models, **SAFE)


def test_image_tensor_shape_error_quotes_the_shape_passed(tiny_models) -> None:
    with pytest.raises(InpaintInputError, match=r"\(3, H, W\) or \(N, 3, H, W\), got shape \(4, 64, 64\)"):
        complete(torch.zeros(4, 64, 64), "centre", "yeh2017", models=tiny_models, **SAFE)


@pytest.mark.parametrize(
    "device, cuda_devices, match",
    [
        ("cuda", 0, r"device='cuda': no CUDA device is available here \(available: cpu\); pass one of those, or leave device out"),
        ("mps", 0, r"device='mps': no MPS device is available here \(available: cpu\)"),
        ("cuda:1", 1, r"device='cuda:1': this machine has 1 CUDA device\(s\), numbered from 0; e\.g\. device='cuda:0'"),
        ("gpu", 0, r"device='gpu' is not a device; available here: cpu"),
    ],
    ids=["cuda", "mps", "cuda_index", "unknown"],
)
def test_device_this_machine_lacks(device: str, cuda_devices: int, match: str, faces: np.ndarray, tiny_models, monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda_devices > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda_devices)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    if cuda_devices:
        match = match.replace("cpu", "cpu, cuda")
    with pytest.raises(InpaintInputError, match=match):
        complete(faces[0], "centre", "yeh2017", models=tiny_models, device=device, **SAFE)


def test_swapped_models(faces: np.ndarray, tiny_models) -> None:
    g, d = tiny_models
    with pytest.raises(InpaintInputError, match=r"models are \(discriminator, generator\): the order is \(generator, discriminator\)"):
        complete(faces[0], "centre", "yeh2017", models=(d, g), **SAFE)


@pytest.mark.parametrize(
    "make, given",
    [
        (lambda g, d: "pretrained", "'pretrained'"),
        (lambda g, d: (g,), "a tuple"),
        (lambda g, d: (g, d, g), "a tuple"),
        (lambda g, d: {"generator": g, "discriminator": d}, "a dict"),
    ],
    ids=["name", "one", "three", "dict"],
)
def test_models_not_a_pair(make, given: str, faces: np.ndarray, tiny_models) -> None:
    match = rf"models must be a \(generator, discriminator\) pair, got {given}: pass load_pretrained\('celeba'\)"
    with pytest.raises(InpaintInputError, match=match):
        complete(faces[0], "centre", "yeh2017", models=make(*tiny_models), **SAFE)


# ---------------------------------------------------------------------------------------------
# evaluate()
# ---------------------------------------------------------------------------------------------

EIGHT_BIT = {
    "list_of_pil": lambda f: [Image.fromarray(a) for a in f],
    "nchw_array": lambda f: np.ascontiguousarray(f.transpose(0, 3, 1, 2)),
    "nchw_tensor": lambda f: torch.from_numpy(f).permute(0, 3, 1, 2),
}


@pytest.mark.parametrize("form", sorted(EIGHT_BIT))
def test_evaluate_takes_8_bit_faces_in_other_forms(form: str, faces: np.ndarray, tmp_path: Path) -> None:
    kw = dict(masks=("centre",), methods=("telea",), progress=False)
    evaluate(faces[:2], tmp_path, **kw)
    before = (tmp_path / "per_image.csv").read_text()
    # The folder refuses other faces at the same indices (inputs.json), so passing means the same pixels.
    rows = evaluate(EIGHT_BIT[form](faces[:2]), tmp_path, **kw)
    assert len(rows) == 2 and (tmp_path / "per_image.csv").read_text() == before


BAD_FACES = {
    "float_array": (lambda f: f.astype(np.float32) / 255, r"uint8 \(N, 64, 64, 3\) faces .*load_images.*got float32: rounding"),
    "float_tensor": (lambda f: torch.from_numpy(f).float() / 255, r"uint8 \(N, 64, 64, 3\) faces .*got torch\.float32"),
    "list_of_float_arrays": (lambda f: [a / 255 for a in f], r"uint8 \(N, 64, 64, 3\) faces .*got float64"),
    "size_128": (lambda f: np.zeros((2, 128, 128, 3), np.uint8), r"uint8 \(N, 64, 64, 3\) faces .*load_images.*: image is 128x128"),
    "empty": (lambda f: f[:0], r"uint8 \(N, 64, 64, 3\) faces .*: no images"),
}


@pytest.mark.parametrize("case", sorted(BAD_FACES))
def test_evaluate_refuses_faces_it_cannot_take_as_they_are(case: str, faces: np.ndarray, tmp_path: Path) -> None:
    make, match = BAD_FACES[case]
    with pytest.raises(InpaintInputError, match=match):
        evaluate(make(faces[:2]), tmp_path / "out", masks=("centre",), methods=("telea",), progress=False)
    assert not (tmp_path / "out").exists()


def test_evaluate_takes_one_mask_name_alone(faces: np.ndarray, tmp_path: Path) -> None:
    rows = evaluate(faces[:1], tmp_path, masks="centre", methods=("telea",), progress=False)
    assert [(r["mask"], r["method"]) for r in rows] == [("centre", "telea")]


@pytest.mark.parametrize(
    "options, match",
    [
        ({"masks": ("centre", "nope")}, r"unknown mask 'nope': use one of centre"),
        ({"batch_size": 0}, r"batch_size must be a whole number >= 1 .*got 0"),
        ({"batch_size": True}, r"batch_size must be a whole number >= 1 .*got True"),
        ({"iterations": 1.5}, r"iterations must be a whole number \(int\), got 1\.5"),
    ],
    ids=["unknown_mask", "batch_size_0", "batch_size_bool", "iterations_float"],
)
def test_evaluate_refuses_bad_options_before_writing(options: dict, match: str, faces: np.ndarray, tiny_models, tmp_path: Path) -> None:
    kw = dict(masks=("centre",), methods=("yeh2017",), models=tiny_models, **SAFE) | options
    with pytest.raises(InpaintInputError, match=match):
        evaluate(faces[:1], tmp_path / "out", **kw)
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------------------------
# semantic-inpaint evaluate
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--batch-size", "0"], r"argument --batch-size: expected a whole number >= 1, got '0'"),
        (["--n", "-1"], r"argument --n: expected a whole number >= 1, got '-1'"),
        (["--n", "ten"], r"argument --n: expected a whole number >= 1, got 'ten'"),
        (["--nn-n", "0"], r"argument --nn-n: expected a whole number >= 1, got '0'"),
        (["--data", "foo:bar"], r"argument --data: unknown data 'foo:bar': use 'synthetic', 'synthetic-holdout', 'celeba-mini:test'"),
        (["--nn-data", "foo:bar"], r"argument --nn-data: unknown data 'foo:bar'"),
    ],
    ids=["batch_size_0", "n_negative", "n_word", "nn_n_0", "data_unknown", "nn_data_unknown"],
)
def test_cli_evaluate_bad_arguments(argv: list[str], match: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["evaluate", "--out", str(out), "--methods", "telea", *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert re.search(r"^semantic-inpaint evaluate: error: " + match, err, re.MULTILINE), err
    assert "Traceback" not in err and not out.exists()


def test_cli_evaluate_takes_a_folder_whose_name_has_a_colon(faces: np.ndarray, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("faces:v2").mkdir()  # looks like a 'name:...' source, but is a folder: load_images takes it
    Image.fromarray(faces[0]).save("faces:v2/0.png")
    cli.main(["evaluate", "--data", "faces:v2", "--n", "1", "--masks", "centre", "--methods", "telea", "--out", "out"])
    with open("out/per_image.csv") as f:
        assert [r["method"] for r in csv.DictReader(f)] == ["telea"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_evaluate_on_a_missing_device_is_named(faces, tmp_path) -> None:
    with pytest.raises(InpaintInputError, match=r"device='cuda': no CUDA device is available here"):
        evaluate(faces[:1], tmp_path, masks="centre", methods=("yeh2017",), device="cuda", iterations=1, candidates=1)


@pytest.mark.parametrize(
    "out, figure, match",
    [
        ("{tmp}", None, r"--out .* is a folder: give a file name"),
        ("{tmp}/done.xyz", None, r"--out .*done.xyz: unknown picture format '.xyz'"),
        ("{tmp}/done", None, r"unknown picture format '\(none\)'"),
        ("/proc/semantic-inpaint/done.png", None, r"--out /proc/semantic-inpaint/done.png: cannot make its folder"),
        ("{tmp}/done.png", "{tmp}/fig.tiff", r"--figure .*fig.tiff: unknown picture format '.tiff'"),
    ],
    ids=["folder", "unknown_format", "no_suffix", "unwritable", "figure_format"],
)
def test_cli_complete_refuses_an_output_it_cannot_write_before_searching(
    out: str, figure: str | None, match: str, faces: np.ndarray, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    face = tmp_path / "face.png"
    Image.fromarray(faces[0]).save(face)
    monkeypatch.setattr(cli_complete, "complete", lambda *a, **k: pytest.fail("searched before checking the output"))
    argv = ["complete", str(face), "--mask", "centre", "--out", out.format(tmp=tmp_path)]
    argv += ["--figure", figure.format(tmp=tmp_path)] if figure else []
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert re.search(match, err) and "Traceback" not in err, err


def test_cli_complete_makes_a_missing_output_folder(tiny_models, faces: np.ndarray, tmp_path: Path) -> None:
    from semantic_inpaint.train import export

    face, weights = tmp_path / "face.png", tmp_path / "weights"
    Image.fromarray(faces[0]).save(face)
    export(*tiny_models, weights)
    out, figure = tmp_path / "a" / "b" / "done.png", tmp_path / "c" / "fig.png"
    cli.main(["complete", str(face), "--mask", "centre", "--preset", "yeh2017", "--weights", str(weights), "--iterations", "1",
              "--candidates", "2", "--out", str(out), "--figure", str(figure)])
    assert Image.open(out).size == (64, 64) and figure.is_file()


def test_cli_evaluate_refuses_an_output_folder_it_cannot_make(faces: np.ndarray, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Image.fromarray(faces[0]).save(tmp_path / "0.png")
    with pytest.raises(SystemExit):
        cli.main(["evaluate", "--data", str(tmp_path), "--methods", "telea", "--out", "/proc/semantic-inpaint-results"])
    err = capsys.readouterr().err
    assert "cannot make the output folder /proc/semantic-inpaint-results" in err and "Traceback" not in err, err


def test_cli_evaluate_refuses_preset_which_it_would_ignore(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["evaluate", "--preset", "structure", "--methods", "tv", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert "runs the presets named in --methods (e.g. --methods structure,tv)" in err and not (tmp_path / "out").exists(), err


def test_a_16_bit_picture_is_scaled_not_clipped_white(faces: np.ndarray, tmp_path: Path) -> None:
    grey = faces[0].mean(-1).round().astype(np.uint16) * 257  # 0..65535, as a 16-bit PNG holds it
    Image.fromarray(grey).save(tmp_path / "face16.png")
    assert Image.open(tmp_path / "face16.png").mode.startswith("I")
    loaded = np.asarray(load_image(tmp_path / "face16.png"))
    assert np.array_equal(loaded[..., 0], (grey // 257).astype(np.uint8))  # the grey levels, not all 255
    assert np.array_equal(np.asarray(load_images(str(tmp_path), n=1)[0])[..., 1], loaded[..., 1])


def test_images_divided_by_255_twice_are_warned_about(faces: np.ndarray) -> None:
    with pytest.warns(UserWarning, match="divided by 255 twice"):
        as_images(faces[0] / 255.0 / 255.0)


def test_a_mask_picture_that_is_mostly_hole_suggests_the_other_colour(tmp_path: Path) -> None:
    picture = np.zeros((64, 64), np.uint8)
    picture[16:48, 16:48] = 255  # a white hole on black: this library reads black as the hole
    with pytest.warns(UserWarning, match="75 % of this mask is hole.*hole='white'.*--hole-white"):
        from_image(Image.fromarray(picture))
    assert from_image(Image.fromarray(picture), hole="white").mean() == 0.75  # read the other way: no warning

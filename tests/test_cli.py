"""The `complete` and `demo` subcommands, in-process through cli.main, on the tiny random DCGAN;
and the completion figure. Small settings throughout: these check plumbing, not quality."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from PIL import Image

from semantic_inpaint import cli, complete, masks
from semantic_inpaint.cli.common import in_flags
from semantic_inpaint.figures import completion_figure, save_figure
from semantic_inpaint.models import LandmarkNet, load_landmark_net
from semantic_inpaint.train import export

FAST = ["--iterations", "3", "--candidates", "2", "--preset", "yeh2017", "--no-progress"]


@pytest.fixture(scope="module")
def weights(tiny_models, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny DCGAN exported as `train --export` would write it."""
    folder = tmp_path_factory.mktemp("weights") / "w"
    export(*tiny_models, folder)
    return folder


@pytest.fixture
def face(faces: np.ndarray, tmp_path: Path) -> Path:
    path = tmp_path / "face.png"
    Image.fromarray(faces[0]).save(path)
    return path


def _run(*argv: str | Path) -> None:
    cli.main([str(a) for a in argv])


def _fails(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> str:
    """Run a command that must fail cleanly; returns its stderr."""
    with pytest.raises(SystemExit) as exit_info:
        _run(*argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("semantic-inpaint: error: ") and "Traceback" not in err
    return err


def test_complete_writes_image_keeping_known_pixels(face: Path, weights: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out.png"
    _run("complete", face, "--mask", "centre", "--out", out, "--weights", weights, *FAST)
    result = Image.open(out)
    assert result.size == (64, 64) and result.mode == "RGB"
    got, given = np.asarray(result), np.asarray(Image.open(face))
    known = masks.centre().numpy().astype(bool)  # 1 = known: all but [16:48, 16:48]
    np.testing.assert_array_equal(got[known], given[known])
    line = capsys.readouterr().out.strip()
    assert line.startswith("best candidate ") and "context" in line and "total" in line


def test_mask_file_with_white_hole_equals_named_mask(face: Path, weights: Path, tmp_path: Path) -> None:
    hole_white = Image.fromarray(((1 - masks.centre().numpy()) * 255).astype(np.uint8))
    hole_white.save(tmp_path / "mask.png")
    _run("complete", face, "--mask", tmp_path / "mask.png", "--hole-white", "--out", tmp_path / "a.png", "--weights", weights, *FAST)
    _run("complete", face, "--mask", "centre", "--out", tmp_path / "b.png", "--weights", weights, *FAST)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "a.png")), np.asarray(Image.open(tmp_path / "b.png")))


def test_demo_writes_pictures_and_a_summary_that_scores_the_completion(weights: Path, tmp_path: Path, capsys) -> None:
    _run("demo", "--iterations", "2", "--candidates", "2", "--weights", weights, "--out", tmp_path / "demo")
    for name in ("input.png", "completed.png", "figure.png"):
        assert (tmp_path / "demo" / name).is_file()
    assert str(tmp_path / "demo") in capsys.readouterr().out
    # The example is the public-domain astronaut, aligned to the 64x64 frame.
    from skimage import data

    from semantic_inpaint.photo import align_faces

    face = np.asarray(Image.open(tmp_path / "demo" / "input.png"))
    assert np.array_equal(face, np.asarray(align_faces(data.astronaut())[0].image))
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    assert (summary["preset"], summary["iterations"], summary["candidates"]) == ("thesis", 2, 2)
    # The recorded PSNR is the completion's against the face it came from, worked out here.
    done = np.asarray(Image.open(tmp_path / "demo" / "completed.png")).astype(np.float64) / 255
    mse = np.mean((done - face / 255) ** 2)
    assert summary["psnr"] == pytest.approx(10 * np.log10(1 / mse), abs=0.05)  # PNG rounding only


def test_missing_input_fails_cleanly(weights: Path, tmp_path: Path, capsys) -> None:
    err = _fails(capsys, "complete", tmp_path / "nope.png", "--mask", "centre", "--out", tmp_path / "o.png", "--weights", weights, *FAST)
    assert "nope.png" in err


def test_wrong_size_mask_fails_cleanly(face: Path, weights: Path, tmp_path: Path, capsys) -> None:
    Image.new("L", (32, 32), 255).save(tmp_path / "small.png")
    err = _fails(capsys, "complete", face, "--mask", tmp_path / "small.png", "--out", tmp_path / "o.png", "--weights", weights, *FAST)
    assert "32x32" in err


def test_empty_weights_folder_fails_cleanly(face: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    err = _fails(capsys, "complete", face, "--mask", "centre", "--out", tmp_path / "o.png", "--weights", tmp_path / "empty", *FAST)
    assert "no pretrained weights" in err and "empty" in err
    err = _fails(capsys, "demo", "--weights", tmp_path / "empty", "--out", tmp_path / "demo")
    assert "the demo needs pretrained weights" in err
    assert not (tmp_path / "demo").exists()


@pytest.mark.parametrize(("preset", "axes"), [("yeh2017", 6), ("thesis", 7)])
def test_completion_figure_axes(tiny_models, faces: np.ndarray, preset: str, axes: int, tmp_path: Path) -> None:
    # input, mask, completed, candidate grid, context and prior curves (+ landmark bars for thesis)
    result = complete(faces[:1], "centre", preset, models=tiny_models, device="cpu", iterations=2, candidates=3, progress=False)
    fig = completion_figure(result)
    assert isinstance(fig, Figure) and len(fig.axes) == axes
    assert save_figure(fig, tmp_path / "fig.png").is_file()


def test_structure_figure_draws_the_soft_landmark_curve(tiny_models, faces: np.ndarray) -> None:
    torch.manual_seed(0)
    result = complete(faces[:1], "centre", "structure", models=tiny_models, landmark_model=LandmarkNet(width=4), device="cpu", iterations=3, candidates=3, progress=False)
    fig = completion_figure(result)
    assert len(fig.axes) == 7
    assert fig.axes[-1].get_title() == "soft landmark loss L_d (ours)"
    assert len(fig.axes[-1].lines[0].get_xdata()) == 4  # steps 0..3: a curve, not bars


def test_train_landmarks_exports_a_net_the_soft_loss_loads(weights: Path, tmp_path: Path, capsys) -> None:
    """The model card's command, tiny: labels, trains, adds the net to a weights folder's manifest."""
    pytest.importorskip("gan_face_generate")  # the teacher renders the synthetic faces
    folder = tmp_path / "w"
    shutil.copytree(weights, folder)
    _run("train-landmarks", "--samples", "16", "--faces", "8", "--epochs", "1", "--workers", "1", "--device", "cpu",
         "--weights", folder, "--cache", tmp_path / "cache", "--out", tmp_path / "run", "--export", folder)
    assert "held-out point error vs dlib" in capsys.readouterr().out
    assert isinstance(load_landmark_net(folder, device="cpu"), LandmarkNet)
    for name in ("landmarks_curve.png", "landmarks_samples.png", "landmarks.json"):
        assert (folder / name).is_file()


def test_halve_at_reaches_the_search(face: Path, weights: Path, tiny_models, tmp_path: Path) -> None:
    # --halve-at gives the picture that complete(..., halve_at=...) gives from Python.
    out = tmp_path / "halved.png"
    _run("complete", face, "--mask", "centre", "--out", out, "--weights", weights, "--halve-at", "2,1", "--iterations", "4", "--candidates", "5", "--preset", "yeh2017", "--no-progress")
    direct = complete(Image.open(face), "centre", "yeh2017", models=tiny_models, device="cpu", iterations=4, candidates=5, halve_at=(1, 2), progress=False)
    assert direct.survivors.sum().item() == 2  # 5 -> 3 -> 2: the option was in force
    np.testing.assert_array_equal(np.asarray(Image.open(out)), np.asarray(direct.image()))


def test_refine_steps_reach_the_search(face: Path, weights: Path, tiny_models, tmp_path: Path) -> None:
    # --refine-steps gives the picture of complete(..., refine_steps=...), not the unrefined one.
    out = tmp_path / "refined.png"
    _run("complete", face, "--mask", "centre", "--out", out, "--weights", weights, "--refine-steps", "3", "--iterations", "2", "--candidates", "2", "--preset", "yeh2017", "--no-progress")

    def picture(**options):
        return np.asarray(complete(Image.open(face), "centre", "yeh2017", models=tiny_models, device="cpu", iterations=2, candidates=2, progress=False, **options).image())

    np.testing.assert_array_equal(np.asarray(Image.open(out)), picture(refine_steps=3))
    assert not np.array_equal(np.asarray(Image.open(out)), picture())


def test_refine_layers_reach_the_refinement(face: Path, weights: Path, tiny_models, tmp_path: Path, capsys) -> None:
    # --refine-layers gives the picture of complete(..., refine_layers=...); a bad count is a clean error in the flag's name.
    out = tmp_path / "last-two.png"
    options = ("--refine-steps", "3", "--iterations", "2", "--candidates", "2", "--preset", "yeh2017", "--no-progress")
    _run("complete", face, "--mask", "centre", "--out", out, "--weights", weights, "--refine-layers", "2", *options)
    direct = complete(Image.open(face), "centre", "yeh2017", models=tiny_models, device="cpu", iterations=2, candidates=2, refine_steps=3, refine_layers=2, progress=False)
    np.testing.assert_array_equal(np.asarray(Image.open(out)), np.asarray(direct.image()))
    err = _fails(capsys, "complete", face, "--mask", "centre", "--out", out, "--weights", weights, "--refine-layers", "0", *options)
    assert "--refine-layers must be a whole number >= 1" in err


def test_pick_reaches_the_completion(face: Path, weights: Path, tiny_models, tmp_path: Path, capsys) -> None:
    # --pick mean gives the picture of complete(..., pick='mean'), not the best candidate's.
    out = tmp_path / "mean.png"
    _run("complete", face, "--mask", "centre", "--out", out, "--weights", weights, "--pick", "mean", "--iterations", "2", "--candidates", "3", "--preset", "yeh2017", "--no-progress")
    assert "the candidates' loss-weighted mean" in capsys.readouterr().out

    def picture(**options):
        return np.asarray(complete(Image.open(face), "centre", "yeh2017", models=tiny_models, device="cpu", iterations=2, candidates=3, progress=False, **options).image())

    np.testing.assert_array_equal(np.asarray(Image.open(out)), picture(pick="mean"))
    assert not np.array_equal(np.asarray(Image.open(out)), picture())


def test_precision_reaches_the_search(face: Path, weights: Path, tiny_models, tmp_path: Path) -> None:
    # --precision bf16 (and --fp32-last) give the picture of complete(...) with the same
    # options, not the fp32 one.
    def picture(**options):
        return np.asarray(complete(Image.open(face), "centre", "yeh2017", models=tiny_models, device="cpu", iterations=6, candidates=5, progress=False, **options).image())

    fast = ("complete", face, "--mask", "centre", "--weights", weights, "--iterations", "6", "--candidates", "5", "--preset", "yeh2017", "--no-progress")
    _run(*fast, "--out", tmp_path / "bf16.png", "--precision", "bf16")
    _run(*fast, "--out", tmp_path / "mixed.png", "--precision", "bf16", "--fp32-last", "3")
    bf16, mixed = (np.asarray(Image.open(tmp_path / name)) for name in ("bf16.png", "mixed.png"))
    np.testing.assert_array_equal(bf16, picture(precision="bf16"))
    np.testing.assert_array_equal(mixed, picture(precision="bf16", fp32_last=3))
    assert not np.array_equal(bf16, picture(precision="fp32"))
    assert not np.array_equal(mixed, bf16)


def test_bad_halve_at_is_a_clean_error(face: Path, weights: Path, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit):  # argparse's own error: the usage, then the message
        _run("complete", face, "--mask", "centre", "--out", tmp_path / "x.png", "--halve-at", "100,x")
    err = capsys.readouterr().err
    assert "error: argument --halve-at" in err and "400,700" in err and "Traceback" not in err
    err = _fails(capsys, "complete", face, "--mask", "centre", "--out", tmp_path / "x.png", "--weights", weights, *FAST, "--halve-at", "5")
    assert "--halve-at must list" in err and "[0, 3)" in err


def test_a_setting_out_of_range_is_named_by_its_option(face: Path, weights: Path, tmp_path: Path, capsys) -> None:
    err = _fails(capsys, "complete", face, "--mask", "centre", "--out", tmp_path / "x.png", "--weights", weights, *FAST, "--iterations", "-1")
    assert "error: --iterations must be >= 0, got -1" in err
    err = _fails(capsys, "train-encoder", "--weights", weights, "--out", tmp_path / "run", "--batch-size", "0")
    assert "error: --batch-size must be >= 1, got 0; e.g. --batch-size 64" in err, err
    assert not (tmp_path / "run").exists()


def test_only_the_named_setting_becomes_an_option() -> None:
    command = cli.build_parser()._subparsers._group_actions[0].choices["train"]
    message = "steps must be >= 1, got 0; e.g. steps=20000: the training steps in all, with seed=3"
    assert in_flags(message, command) == "--steps must be >= 1, got 0; e.g. --steps 20000: the training steps in all, with seed=3"
    # A keyword the command has no option for stays as the library names it.
    assert in_flags("betas must be two numbers; e.g. betas=(0.5, 0.999)", command) == "betas must be two numbers; e.g. betas=(0.5, 0.999)"


def test_card_projects_held_out_faces_without_a_training_run(weights: Path, tiny_models, tmp_path: Path) -> None:
    # Without --run the training curve is left alone; --batch-size groups the projections but
    # does not change them (every face starts from the same K draws).
    pytest.importorskip("gan_face_generate")  # the teacher renders the held-out faces
    from semantic_inpaint.data import load_images
    from semantic_inpaint.train.card import project

    out, cache = tmp_path / "card", tmp_path / "cache"
    _run("card", "--out", out, "--holdout", "4", "--project", "2", "--batch-size", "1", "--iterations", "3", "--candidates", "2",
         "--weights", weights, "--cache", cache, "--device", "cpu")
    report = json.loads((out / "prior.json").read_text())
    assert report["projection_settings"] == {"faces": 2, "batch_size": 1, "iterations": 3, "candidates": 2}
    assert (out / "samples.png").is_file() and not (out / "training_curve.png").exists()
    _run("card", "--out", out, "--holdout", "4", "--project", "1", "--iterations", "3", "--candidates", "2",
         "--weights", weights, "--cache", cache, "--device", "cpu")
    assert json.loads((out / "prior.json").read_text())["projection_settings"]["batch_size"] == 1  # the CPU's default, recorded
    together = project(load_images("synthetic-holdout", n=4, cache_dir=cache)[:2], tiny_models, batch_size=2, iterations=3, candidates=2)
    np.testing.assert_allclose(report["projection_psnr"]["student"], together.numpy(), atol=1e-3)


@pytest.mark.parametrize(
    ("device", "cuda_devices", "match"),
    [
        ("cuda", 0, "--device cuda: no CUDA device is available here (available: cpu); pass one of those"),
        ("cuda:3", 1, "--device cuda:3: this machine has 1 CUDA device(s), numbered from 0"),
        ("tpu", 0, "--device tpu is not a device; available here: cpu"),
    ],
    ids=["no_cuda", "no_such_gpu", "not_a_device"],
)
def test_a_device_this_machine_lacks_is_named_with_the_fix(
    device: str, cuda_devices: int, match: str, face: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The library's check (complete.resolve_device), said in the command line's terms, before
    # any weights or faces load: complete and demo take cpu|cuda, train takes any torch device.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda_devices > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda_devices)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    if device == "cuda":
        err = _fails(capsys, "complete", face, "--mask", "centre", "--out", tmp_path / "o.png", "--device", device, "--weights", tmp_path / "none")
        assert match in err
        assert match in _fails(capsys, "demo", "--device", device, "--out", tmp_path / "demo")
    err = _fails(capsys, "train", "--device", device, "--data", tmp_path / "none", "--out", tmp_path / "run")
    assert match in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["complete", "f.png", "--mask", "centre", "--out", "o.png", "--box", "1,2,3"], "argument --box: '1,2,3' is not X0,Y0,X1,Y1 (four numbers)"),
        (["complete", "f.png", "--mask", "centre", "--out", "o.png", "--box", "a,b,c,d"], "argument --box: 'a,b,c,d' is not X0,Y0,X1,Y1 in whole pixels"),
        (["complete", "f.png", "--mask", "centre", "--out", "o.png", "--preset", "best"], "argument --preset: invalid choice: 'best'"),
        (["complete", "f.png", "--mask", "centre", "--out", "o.png", "--device", "tpu"], "argument --device: invalid choice: 'tpu'"),
        (["complete", "f.png", "--mask", "centre", "--out", "o.png", "--blend", "soft"], "argument --blend: invalid choice: 'soft'"),
        (["complete", "f.png", "--mask", "centre", "--out", "o.png", "--precision", "fp16"], "argument --precision: invalid choice: 'fp16'"),
        (["complete", "f.png", "--out", "o.png"], "the following arguments are required: --mask"),
        (["demo", "--iterations", "many"], "argument --iterations: invalid int value: 'many'"),
        (["card", "--out", "c", "--holdout", "x"], "argument --holdout: invalid int value: 'x'"),
        (["train", "--out", "r", "--lr-g", "fast"], "argument --lr-g: invalid float value: 'fast'"),
        (["train-landmarks", "--out", "r", "--device", "tpu"], "argument --device: invalid choice: 'tpu'"),
        (["train-encoder", "--out", "r", "--steps", "1.5"], "argument --steps: invalid int value: '1.5'"),
        (["inpaint"], "argument command: invalid choice: 'inpaint'"),
    ],
    ids=["box_three", "box_words", "preset", "device", "blend", "precision", "no_mask", "iterations", "holdout", "lr_g", "landmarks_device", "encoder_steps", "command"],
)
def test_parsers_refuse_bad_values(argv: list[str], match: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _run(*argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: semantic-inpaint") and match in err and "Traceback" not in err, err


def test_runs_as_a_module() -> None:
    # `python -m semantic_inpaint.cli`, as torchrun starts it: the same parser as the console script.
    done = subprocess.run([sys.executable, "-m", "semantic_inpaint.cli", "--help"], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("usage: semantic-inpaint [-h]") and "{complete,demo,evaluate,card,train,train-landmarks,train-encoder}" in done.stdout
    script = Path(sys.executable).with_name("semantic-inpaint")  # the console script, where the package is installed
    if script.is_file():
        assert done.stdout == subprocess.run([script, "--help"], capture_output=True, text=True, check=True).stdout

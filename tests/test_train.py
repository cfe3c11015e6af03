"""DCGAN training on few faces: DiffAugment's transforms, FreezeD, a warm-started D."""

import csv

import numpy as np
import pytest
import torch

from semantic_inpaint import progress
from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.models import Discriminator, Generator
from semantic_inpaint.train import TrainConfig, train
from semantic_inpaint.train.augment import diff_augment, parse_policy


def test_translation_is_a_whole_pixel_shift_with_the_border_replicated():
    x = torch.rand(6, 3, 16, 16)
    y = diff_augment(x, ("translation",), torch.Generator().manual_seed(0))
    shifted = 0
    for a, b in zip(x, y):
        # Find the shift (|dx|, |dy| <= 2 for 16 px at ratio 1/8) that maps a onto b inside.
        found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                 if torch.allclose(b[:, 2:-2, 2:-2], torch.roll(a, (-dy, -dx), (1, 2))[:, 2:-2, 2:-2], atol=1e-5)]
        assert found, "not a whole-pixel shift"
        dy, dx = found[0]
        shifted += (dy, dx) != (0, 0)
        if dx > 0:  # pixels shifted in from beyond the right edge repeat the edge column
            rows = (torch.arange(16) + dy).clamp(0, 15)
            assert torch.allclose(b[:, :, -1], a[:, rows, -1], atol=1e-5)
    assert shifted >= 3  # the draws differ between images


def test_colour_is_per_image_and_differentiable():
    x = torch.full((4, 3, 8, 8), 0.2, requires_grad=True)
    y = diff_augment(x, ("color",), torch.Generator().manual_seed(1))
    # A flat grey image stays flat (saturation and contrast act around its mean); brightness moves it.
    assert torch.allclose(y, y[:, :1, :1, :1].expand_as(y))
    assert len(set(y[:, 0, 0, 0].tolist())) == 4
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    same = diff_augment(x.detach(), ("color",), torch.Generator().manual_seed(1))
    assert torch.equal(same, y.detach())  # the generator's state fixes the draw


def test_policy_names_are_checked():
    assert parse_policy("color,translation") == ("color", "translation") and parse_policy("") == ()
    with pytest.raises(InpaintInputError, match="unknown augmentation 'cutout'.*color, translation"):
        parse_policy("color,cutout")


def test_freeze_d_keeps_the_first_layer_and_trains_the_rest(tmp_path):
    torch.manual_seed(0)
    start = Discriminator(width=8).state_dict()
    images = np.random.default_rng(0).integers(0, 256, (8, 64, 64, 3), dtype=np.uint8)
    config = TrainConfig(steps=3, batch_size=4, width=8, augment="color,translation", freeze_d=1, damaged_negatives=0.5, sample_every=3)
    d = train(images, tmp_path, config, progress=False, warm_start=Generator(width=8).state_dict(), warm_start_d=start).discriminator
    after = d.state_dict()
    assert torch.equal(after["layers.0.weight"], start["layers.0.weight"])  # frozen
    assert not torch.equal(after["layers.2.weight"], start["layers.2.weight"])  # trained
    with open(tmp_path / "log.csv") as f:
        assert [r["step"] for r in csv.DictReader(f)] == ["1", "2", "3"]
    with pytest.raises(InpaintInputError, match="needs warm_start_d"):
        train(images, tmp_path / "b", TrainConfig(steps=1, width=8, freeze_d=1), progress=False)
    with pytest.raises(InpaintInputError, match="freeze_d=5 would freeze all of D's 5 convolutions"):
        train(images, tmp_path / "c", TrainConfig(steps=1, batch_size=4, width=8, freeze_d=5), progress=False, warm_start_d=start)


def _train_tiny(out, steps: int, progress: bool | None = False, device: str | torch.device = "cpu", **kw):
    torch.manual_seed(0)
    start_d, start_g = Discriminator(width=8).state_dict(), Generator(width=8).state_dict()
    images = np.random.default_rng(0).integers(0, 256, (8, 64, 64, 3), dtype=np.uint8)
    config = TrainConfig(steps=steps, batch_size=4, width=8, augment="color,translation", freeze_d=1, damaged_negatives=0.5, d_only_steps=1, sample_every=2, **kw)
    return train(images, out, config, progress=progress, warm_start=start_g, warm_start_d=start_d, device=device)


@pytest.mark.parametrize("reconstruction", [0.0, 0.5])
def test_a_resumed_run_is_the_run_that_was_not_interrupted(tmp_path, reconstruction, device):
    # On CUDA too: its checkpoint once came back with the random generators' states on the GPU,
    # which torch.Generator.set_state refuses, so a CUDA run could not resume.
    straight = _train_tiny(tmp_path / "straight", 4, reconstruction=reconstruction, device=device)
    _train_tiny(tmp_path / "resumed", 2, reconstruction=reconstruction, device=device)
    with open(tmp_path / "resumed" / "log.csv", "a") as f:
        f.write("3,joint,0.1,0.2,0.5,0.5,0.5\n4,joi")  # rows logged after the checkpoint, the last torn
    resumed = _train_tiny(tmp_path / "resumed", 4, reconstruction=reconstruction, device=device)  # longer than it was first asked to run
    assert (straight.encoder is None) == (not reconstruction)
    for a, b in zip(straight, resumed):
        for (name, x), y in zip(a.state_dict().items() if a is not None else (), b.state_dict().values() if b is not None else ()):
            assert y.device.type == device.type, name
            if device.type == "cpu":
                assert torch.equal(x, y), name
            else:  # cuDNN's and grid_sample's backward passes add in another order from run to run, and
                # where a gradient is about 0 Adam's division by sqrt(v) turns the rounding into a
                # step of up to lr (2e-4): two runs of 4 steps each, no further apart than 8 steps
                torch.testing.assert_close(x, y, rtol=0, atol=8 * 2e-4, msg=name)
    logs = [(tmp_path / run / "log.csv").read_text() for run in ("straight", "resumed")]
    assert logs[0].count("\n") == logs[1].count("\n") == 5
    if device.type == "cpu":
        assert logs[0] == logs[1]
    else:  # the same steps and phases, the losses to rounding
        rows = [[line.split(",") for line in log.splitlines()[1:]] for log in logs]
        assert [r[:2] for r in rows[0]] == [r[:2] for r in rows[1]]
        assert np.allclose([[float(v) for v in r[2:]] for r in rows[0]], [[float(v) for v in r[2:]] for r in rows[1]], atol=1e-3)
    assert logs[0].splitlines()[0].endswith("rebuild_mse") == bool(reconstruction)
    with pytest.raises(ValueError, match=r"other training settings \(lr_d\)"):
        _train_tiny(tmp_path / "resumed", 5, lr_d=1e-3, reconstruction=reconstruction)
    with pytest.raises(ValueError, match=r"other training settings \(reconstruction\)"):
        _train_tiny(tmp_path / "resumed", 5, reconstruction=0.25)


def test_a_checkpoint_from_before_a_setting_existed_resumes_at_its_default(tmp_path):
    from semantic_inpaint.train import checkpoint

    saved = checkpoint.recipe(TrainConfig(steps=4))
    del saved["reconstruction"], saved["lr_e"]  # written before rebuilding was a setting
    checkpoint.check_resume(saved, TrainConfig(steps=8), tmp_path / "old.pt")  # the same run: resumes
    with pytest.raises(ValueError, match=r"other training settings \(reconstruction\)"):
        checkpoint.check_resume(saved, TrainConfig(steps=8, reconstruction=1.0), tmp_path / "old.pt")


def test_rebuilding_pulls_g_and_the_encoder_towards_the_real_faces(tmp_path, faces):
    from semantic_inpaint.models.encoder import Encoder
    from semantic_inpaint.train.encoder import random_masks

    torch.manual_seed(0)
    start_g, start_d, start_e = Generator(width=8).state_dict(), Discriminator(width=8).state_dict(), Encoder(width=8).state_dict()
    x = torch.from_numpy(faces).permute(0, 3, 1, 2).float() / 127.5 - 1
    m = random_masks(len(x), torch.Generator().manual_seed(5))

    def rebuild_error(g: Generator, e: Encoder) -> float:
        with torch.no_grad():
            return float((g.eval()(e.eval()(x, m)) - x).square().mean())

    g0, e0 = Generator(width=8), Encoder(width=8)
    g0.load_state_dict(start_g), e0.load_state_dict(start_e)
    error = {}
    for weight in (0.0, 1.0):
        config = TrainConfig(steps=40, batch_size=4, width=8, reconstruction=weight, lr_g=3e-3, lr_e=3e-3, sample_every=40)
        g, _, e = train(faces, tmp_path / str(weight), config, progress=False, warm_start=start_g, warm_start_d=start_d, warm_start_e=start_e)
        assert (e is None) == (not weight)
        error[weight] = rebuild_error(g, e if e is not None else e0)
    # The four faces, through E and G: much closer than the same run's GAN steps alone leave them.
    assert error[1.0] < 0.7 * error[0.0] and error[1.0] < rebuild_error(g0, e0)
    rows = list(csv.DictReader(open(tmp_path / "1.0" / "log.csv")))
    assert np.mean([float(r["rebuild_mse"]) for r in rows[-10:]]) < np.mean([float(r["rebuild_mse"]) for r in rows[:10]])


@pytest.mark.parametrize(
    "config, setting, match",
    [
        (TrainConfig, dict(reconstruction=-1.0), r"reconstruction must be >= 0, got -1.0; e.g. reconstruction=0.0"),
        (TrainConfig, dict(lr_d=0), r"lr_d must be > 0, got 0.0; e.g. lr_d=0.0002"),
        (TrainConfig, dict(lr_g=float("nan")), r"lr_g must be > 0, got nan"),
        (TrainConfig, dict(batch_size=1), r"batch_size must be >= 2, got 1"),
        (TrainConfig, dict(steps=2.5), r"steps must be a whole number \(int\), got 2.5"),
        (TrainConfig, dict(betas=(0.5, 1.0)), r"betas must be two numbers in \[0, 1\).*e.g. betas=\(0.5, 0.999\)"),
        (TrainConfig, dict(augment="cutout"), r"unknown augmentation 'cutout'"),
        (TrainConfig, dict(damaged_negatives=float("inf")), r"damaged_negatives must be >= 0, got inf"),
        ("EncoderTrainConfig", dict(real_fraction=1.5), r"real_fraction must be in \[0, 1\], got 1.5; e.g. real_fraction=0.5"),
        ("EncoderTrainConfig", dict(steps=0), r"steps must be >= 1, got 0"),
        ("LandmarkTrainConfig", dict(epochs=0), r"epochs must be >= 1, got 0; e.g. epochs=10"),
        ("LandmarkTrainConfig", dict(samples=0, faces=0), r"samples and faces are both 0"),
    ],
)
def test_a_training_setting_out_of_its_range_is_refused_by_name(config, setting, match):
    from semantic_inpaint.train.encoder import EncoderTrainConfig
    from semantic_inpaint.train.landmarks import LandmarkTrainConfig

    make = {"EncoderTrainConfig": EncoderTrainConfig, "LandmarkTrainConfig": LandmarkTrainConfig}.get(config, config)
    with pytest.raises(InpaintInputError, match=match):
        make(**setting)


def test_train_command_refuses_a_bad_setting_in_one_line_before_loading_faces(tmp_path, capsys, monkeypatch):
    from semantic_inpaint import cli, data

    monkeypatch.setattr(data, "load_images", lambda *a, **k: pytest.fail("faces loaded before the settings were checked"))
    for flag, value, said in (("--reconstruction", "-1", "--reconstruction must be >= 0"), ("--augment", "cutout", "unknown augmentation 'cutout'")):
        with pytest.raises(SystemExit) as stop:
            cli.main(["train", "--data", "synthetic", "--out", str(tmp_path / "run"), flag, value, "--device", "cpu"])
        err = capsys.readouterr().err
        assert stop.value.code == 2 and err.startswith(f"semantic-inpaint: error: {said}") and err.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_training_without_a_terminal_prints_progress_lines_with_the_losses(tmp_path, capsys, monkeypatch):
    # stderr is captured here, as in a log: no bar, a line every PROGRESS_EVERY seconds.
    monkeypatch.setattr(progress, "PROGRESS_EVERY", 0.0)
    _train_tiny(tmp_path, 2, progress=None)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(",")[0] for line in lines] == ["train: 1/2 steps", "train: 2/2 steps"]
    assert all("loss_d " in line and "d_real " in line for line in lines)
    _train_tiny(tmp_path, 3, progress=None)  # resumed at step 2: counts on from there
    assert [line.split(",")[0] for line in capsys.readouterr().err.splitlines()] == ["train: 3/3 steps"]
    _train_tiny(tmp_path / "quiet", 2, progress=False)
    assert capsys.readouterr().err == ""


def test_damage_changes_every_face_one_of_five_ways_inside_the_range():
    from semantic_inpaint.train.dcgan_step import damage

    real = torch.rand(60, 3, 64, 64, generator=torch.Generator().manual_seed(0)) * 1.6 - 0.8
    out = damage(real, torch.Generator().manual_seed(1))
    assert out.shape == real.shape and out.min() >= -1 and out.max() <= 1
    changed = (out != real).flatten(1).float().mean(1)
    assert (changed > 0).all()  # every face is damaged
    grey = (out == 0).all(dim=1).flatten(1).float().mean(1)  # pixels set to grey in all channels
    assert (grey >= 0.5 - 1e-6).sum() >= 5  # half-face greys among them
    assert ((grey > 0) & (grey < 0.5)).sum() >= 10  # grey holes and dropped pixels
    assert ((grey == 0) & (changed > 0.9)).sum() >= 5  # noise everywhere, no grey
    assert torch.equal(damage(real, torch.Generator().manual_seed(1)), out)  # the generator fixes it

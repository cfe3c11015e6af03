"""The learned start: the encoder, where the candidates start, the encoder's tie to its generator,
and its training (tiny random networks: plumbing and arithmetic, not quality)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from semantic_inpaint import complete, masks
from semantic_inpaint.config import FAST, THESIS, YEH2017, SearchConfig
from semantic_inpaint.errors import InpaintInputError, WeightsError
from semantic_inpaint.models import Generator
from semantic_inpaint.models.dcgan import sample_z
from semantic_inpaint.models.encoder import Encoder
from semantic_inpaint.models.weights import add_to_manifest, fingerprint, load_encoder
from semantic_inpaint.search import search, start_points
from semantic_inpaint.train import export
from semantic_inpaint.train.encoder import FAMILIES, EncoderTrainConfig, encoder_curve, random_masks, train_encoder


def test_encoder_reads_only_the_known_pixels_and_stays_in_the_box():
    torch.manual_seed(0)
    enc = Encoder(width=8).eval()
    x = torch.rand(3, 3, 64, 64) * 2 - 1
    m = masks.centre().expand(3, 1, 64, 64).clone()
    z = enc(x, m)
    assert z.shape == (3, 100) and z.abs().max() < 1
    scribbled = x.clone()
    scribbled[..., 16:48, 16:48] = torch.rand(3, 3, 32, 32)  # other pixels in the hole
    assert torch.equal(enc(scribbled, m), z)


def test_uniform_starts_are_the_seeded_draws_and_encoder_starts_surround_the_guess():
    uniform = start_points(YEH2017.with_overrides(candidates=8, seed=3), 100)
    assert torch.equal(uniform, sample_z(8, 100, torch.Generator().manual_seed(3)))
    guess = torch.tensor([[0.0] * 100, [-0.95] * 100])  # the second one near the edge: clamped
    config = YEH2017.with_overrides(candidates=8, seed=3, init="encoder", init_uniform=0.25, init_spread=0.2)
    z0 = start_points(config, 100, guess)
    assert z0.shape == (2, 8, 100) and z0.abs().max() <= 1
    assert torch.equal(z0[:, 0], guess)  # candidate 0: the guess itself
    assert torch.equal(z0[:, 6:], uniform[None, 6:].expand(2, -1, -1))  # 2 of 8 keep their uniform start
    offsets = z0[0, 1:6] - guess[0]
    assert 0.1 < offsets.std() < 0.3  # the spread around the guess
    assert torch.allclose(z0[1, 1:6], (guess[1] + offsets).clamp(-1, 1), atol=1e-6)  # the same noise for each image
    with pytest.raises(ValueError, match=r"needs start \(N, 100\)"):
        start_points(config, 100)


def test_a_search_starts_where_start_points_says(tiny_models, faces):
    g, d = tiny_models
    x = torch.from_numpy(faces[:2]).permute(0, 3, 1, 2).float() / 127.5 - 1
    m = masks.centre().expand(2, 1, 64, 64)
    guess = torch.rand(2, 100) - 0.5
    config = YEH2017.with_overrides(candidates=4, iterations=0, init="encoder")
    result = search(g, d, x, m, config, start=guess)
    assert torch.allclose(result.z, start_points(config, 100, guess))


@pytest.fixture
def weight_set(tiny_models, tmp_path):
    folder = tmp_path / "weights"
    export(*tiny_models, folder)
    return folder


def test_an_encoder_is_found_for_its_generator_and_refused_for_another(tiny_models, weight_set, faces):
    g, d = tiny_models
    with pytest.raises(WeightsError, match="no encoder for this generator.*semantic-inpaint train-encoder"):
        load_encoder(g, weight_set, "cpu")
    with pytest.raises(WeightsError, match="no encoder for this generator"):
        complete(faces[0], "centre", "fast", models=tiny_models, iterations=1, candidates=2)
    torch.manual_seed(1)
    enc = Encoder(width=8).eval()
    add_to_manifest(weight_set, "encoder", enc, generator=fingerprint(g))
    loaded = load_encoder(g, weight_set, "cpu")
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), enc.state_dict().values()))
    torch.manual_seed(2)
    other = Generator(width=8)
    copy = Generator(width=8)
    copy.load_state_dict(g.state_dict())
    assert fingerprint(copy) == fingerprint(g) != fingerprint(other)  # the values, whatever the memory layout
    with pytest.raises(WeightsError, match="trained for another generator"):
        load_encoder(other, weight_set, "cpu")
    # complete() with the encoder given: the candidates start around its guess
    done = complete(faces[0], "centre", "fast", models=tiny_models, encoder=enc, iterations=0, candidates=2)
    x = torch.from_numpy(faces[:1]).permute(0, 3, 1, 2).float() / 255
    with torch.no_grad():
        guess = enc(x * 2 - 1, masks.centre()[None, None])
    assert torch.allclose(done.z[:, 0], guess, atol=1e-6)


def test_a_warm_start_with_rebuilding_takes_the_sets_encoder_only_if_it_fits(tiny_models, weight_set):
    from semantic_inpaint.cli.train import _warm_start

    g, _ = tiny_models
    assert _warm_start(str(weight_set))[2] is None  # no encoder in the set: E starts afresh
    enc = Encoder(width=8).eval()
    add_to_manifest(weight_set, "encoder", enc, generator=fingerprint(g))
    warm_g, _, warm_e, width = _warm_start(str(weight_set))
    assert width == 8 and all(torch.equal(a, b) for a, b in zip(warm_e.values(), enc.state_dict().values()))
    add_to_manifest(weight_set, "encoder", enc, generator="0" * 64)  # one of another generator: not taken
    assert _warm_start(str(weight_set))[2] is None


def test_fast_is_yeh2017_from_the_encoder_and_init_is_checked():
    assert FAST.init == "encoder" and FAST.loss == YEH2017.loss and FAST.iterations == YEH2017.iterations // 10
    assert FAST.candidates == 16  # as measured against yeh2017 in docs/results.md
    assert YEH2017.init == "uniform"
    # The candidates' mean is ours: the thesis's presets fill the hole from the best candidate (eq. 20).
    assert FAST.pick == "mean" and YEH2017.pick == THESIS.pick == "best"
    with pytest.raises(InpaintInputError, match="init must be 'uniform' or 'encoder'"):
        SearchConfig(init="zeros")
    with pytest.raises(InpaintInputError, match=r"init_uniform must be in \[0, 1\)"):
        SearchConfig(init_uniform=1.0)


def test_training_masks_cover_every_family_and_are_binary():
    gen = torch.Generator().manual_seed(0)
    m = random_masks(200, gen)
    assert ((m == 0) | (m == 1)).all()
    assert (m.flatten(1).min(1).values == 1).sum() > 0  # some with no hole (projection starts)
    areas = {round(float(a), 3) for a in 1 - m.mean((1, 2, 3))}
    assert 0.25 in areas and 0.5 in areas  # centre, and a half
    assert len(FAMILIES) == 11 and len(areas) > 50  # seeded random ones differ


def _train(out, steps, real, device="cpu"):
    torch.manual_seed(0)
    g = Generator(width=8)
    config = EncoderTrainConfig(steps=steps, batch_size=4, width=8, checkpoint_every=2)
    return train_encoder(g, out, config, real=real, device=device, progress=False)


def test_encoder_training_resumes_exactly_and_learns(tmp_path, device):
    real = np.random.default_rng(0).integers(0, 256, (6, 64, 64, 3), dtype=np.uint8)
    straight = _train(tmp_path / "a", 4, real, device)
    _train(tmp_path / "b", 2, real, device)
    with open(tmp_path / "b" / "log.csv", "a") as f:
        f.write("3,0.1,0.1,0.1,0.1\n4,0.")  # rows logged after the checkpoint, the last torn
    resumed = _train(tmp_path / "b", 4, real, device)  # on CUDA too: the checkpoint's RNG state must come back on the CPU
    for (name, x), y in zip(straight.state_dict().items(), resumed.state_dict().values()):
        if device.type == "cpu":
            assert torch.equal(x, y), name
        else:  # cuDNN's backward passes may add in another order from run to run
            torch.testing.assert_close(x, y, rtol=1e-3, atol=1e-4, msg=name)
    rows = (tmp_path / "a" / "log.csv").read_text().splitlines()
    assert rows[0] == "step,loss,image_mse_samples,image_mse_real,latent_mse" and len(rows) == 5
    assert (tmp_path / "a" / "log.csv").read_text() == (tmp_path / "b" / "log.csv").read_text()
    with pytest.raises(ValueError, match="uint8 \\(N, 64, 64, 3\\)"):
        _train(tmp_path / "c", 1, real.astype(np.float32))


def test_a_batch_of_real_faces_only_trains_on_them(tmp_path):
    real = np.random.default_rng(0).integers(0, 256, (6, 64, 64, 3), dtype=np.uint8)
    g = Generator(width=8)
    config = EncoderTrainConfig(steps=2, batch_size=4, width=8, real_fraction=1.0)
    train_encoder(g, tmp_path / "real", config, real=real, progress=False)
    rows = [line.split(",") for line in (tmp_path / "real" / "log.csv").read_text().splitlines()[1:]]
    # no samples: their image and latent errors are 0 and the loss is the real faces' image error
    assert all(float(r[2]) == float(r[4]) == 0 and float(r[1]) == float(r[3]) > 0 for r in rows)
    with pytest.raises(ValueError, match="real_fraction .* in \\[0, 1\\]"):
        train_encoder(g, tmp_path / "bad", EncoderTrainConfig(steps=1, batch_size=4, width=8, real_fraction=1.5), real=real, progress=False)


def test_a_warm_started_run_continues_from_the_encoder_it_is_given(tmp_path):
    torch.manual_seed(1)
    start = Encoder(width=8).eval()
    g = Generator(width=8)
    config = EncoderTrainConfig(steps=1, batch_size=4, width=8, lr=1e-3)
    warm = train_encoder(g, tmp_path / "warm", config, device="cpu", progress=False, warm_start=start)
    fresh = train_encoder(g, tmp_path / "fresh", config, device="cpu", progress=False)
    # One Adam step moves each weight by at most about lr from where it started; batch norm's
    # running statistics move by its momentum, so only the learned weights are compared.
    learned = [name for name, _ in start.named_parameters()]
    moved = lambda enc: max(float((enc.state_dict()[k] - start.state_dict()[k]).abs().max()) for k in learned)  # noqa: E731
    assert moved(warm) <= 1e-3 * 1.01 and moved(fresh) > 0.05
    with pytest.raises(ValueError, match="width 8 .* this run trains width 64"):
        train_encoder(g, tmp_path / "wide", EncoderTrainConfig(steps=1, batch_size=4), progress=False, warm_start=start)


def test_an_encoder_in_one_weight_set_is_not_lent_to_another(tiny_models, weight_set, tmp_path, faces):
    from semantic_inpaint.models import load_pretrained

    add_to_manifest(weight_set, "encoder", Encoder(width=8).eval(), generator=fingerprint(tiny_models[0]))
    done = complete(faces[0], "centre", "fast", models=load_pretrained(weight_set, "cpu"), iterations=1, candidates=2)
    assert done.config.init == "encoder"
    bare = tmp_path / "bare"
    export(*tiny_models, bare)  # the same generator, no encoder
    with pytest.raises(WeightsError, match="no encoder for this generator"):
        complete(faces[0], "centre", "fast", models=load_pretrained(bare, "cpu"), iterations=1, candidates=2)


def test_train_encoder_command_exports_it_beside_its_generator(tiny_models, weight_set, tmp_path, faces, capsys):
    from semantic_inpaint import cli
    from semantic_inpaint.models import load_pretrained

    cli.main(["train-encoder", "--weights", str(weight_set), "--out", str(tmp_path / "run"), "--steps", "2", "--batch-size", "4", "--device", "cpu", "--export", str(weight_set)])
    assert {"encoder_log.csv", "encoder_curve.png", "encoder_samples.png", "encoder.safetensors"} <= {p.name for p in weight_set.iterdir()}
    models = load_pretrained(weight_set, "cpu")
    # found through the folder the generator was loaded from, with no encoder= given
    done = complete(faces[0], "centre", "fast", models=models, iterations=1, candidates=2)
    assert done.config.init == "encoder" and done.z.shape == (1, 2, 100)

    # A longer run from the exported encoder; its manifest names the encoder it started from.
    first = fingerprint(load_encoder(models.generator, weight_set, "cpu").state_dict())
    cli.main(["train-encoder", "--weights", str(weight_set), "--out", str(tmp_path / "more"), "--warm-start", "--steps", "1", "--batch-size", "4", "--device", "cpu", "--export", str(weight_set)])
    entry = json.loads((weight_set / "manifest.json").read_text())["files"]["encoder"]
    assert entry["warm_start_encoder"] == first != fingerprint(load_encoder(models.generator, weight_set, "cpu").state_dict())
    bare = tmp_path / "bare"
    export(*tiny_models, bare)
    with pytest.raises(SystemExit):
        cli.main(["train-encoder", "--weights", str(bare), "--out", str(tmp_path / "none"), "--warm-start", "--steps", "1", "--device", "cpu"])
    assert "no encoder for this generator" in capsys.readouterr().err


def test_the_training_curve_draws_only_the_kinds_of_face_a_run_had(tmp_path):
    header = "step,loss,image_mse_samples,image_mse_real,latent_mse\n"
    for samples, real, drawn in ((0.3, 0.0, {"samples", "latent"}), (0.3, 0.2, {"samples", "real", "latent"}), (0.0, 0.2, {"real"})):
        log = tmp_path / f"log-{samples}-{real}.csv"
        log.write_text(header + "".join(f"{t},0.5,{samples},{real},{0.4 if samples else 0}\n" for t in range(1, 6)))
        labels = {line.get_label() for line in encoder_curve(log).axes[0].get_lines()}
        named = {"samples": "image MSE, G's samples", "real": "image MSE, real faces", "latent": "latent MSE, samples"}
        assert labels == {named[k] for k in drawn}

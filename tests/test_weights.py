"""Weights load safely (safetensors + sha256) or fail with a clear error; dlib failures are clear too;
`complete` rejects bad options by name."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from semantic_inpaint.complete import complete
from semantic_inpaint.errors import InpaintInputError, LandmarkError, WeightsError
from semantic_inpaint.losses import landmarks
from semantic_inpaint.losses.landmarks import LandmarkDetector, dlib_model_path, masked_frames
from semantic_inpaint.models.dcgan import Discriminator, Generator, freeze
from semantic_inpaint.models.weights import (
    ENV_VAR,
    FILES,
    MANIFEST,
    load_pretrained,
    load_weights,
    pretrained_dir,
    save_weights,
    sha256,
    write_manifest,
)


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests set the env vars themselves; a developer's own settings must not leak in."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.delenv(landmarks.ENV_VAR, raising=False)


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Tiny forward passes run ~100x slower with 2 threads on a busy 2-core machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


@pytest.fixture(scope="module")
def trained_pair() -> tuple[Generator, Discriminator]:
    """A small G and D with non-default weights and batch-norm buffers (running stats, counters).
    Shared by the module's tests: none of them may change it."""
    torch.manual_seed(3)
    g, d = Generator(width=8), Discriminator(width=8)
    g.train(), d.train()
    with torch.no_grad(), _one_thread():
        for _ in range(2):
            d(g(torch.rand(4, 100) * 2 - 1))
    assert g.layers[1].num_batches_tracked.item() == 2 and d.layers[3].running_mean.abs().sum() > 0
    return g.eval(), d.eval()


@pytest.fixture
def shipped(tmp_path: Path, trained_pair: tuple[Generator, Discriminator]) -> Path:
    folder = tmp_path / "pretrained"
    write_manifest(folder, *trained_pair, note="test")
    return folder


def _manifest(folder: Path) -> dict:
    return json.loads((folder / MANIFEST).read_text())


def _write_manifest(folder: Path, manifest: dict) -> None:
    (folder / MANIFEST).write_text(json.dumps(manifest))


# ---------------------------------------------------------------------------------------------
# Round trip
# ---------------------------------------------------------------------------------------------


def test_round_trip_is_bit_exact_frozen_and_in_eval(shipped: Path, trained_pair) -> None:
    g0, d0 = trained_pair
    g, d = load_pretrained(shipped, device="cpu")
    assert isinstance(g, Generator) and isinstance(d, Discriminator)
    assert (g.z_dim, g.width, d.width) == (100, 8, 8)
    for new, old in ((g, g0), (d, d0)):
        s_new, s_old = new.state_dict(), old.state_dict()
        assert s_new.keys() == s_old.keys()
        assert any("num_batches_tracked" in k for k in s_new) and any("running_var" in k for k in s_new)
        for k in s_old:
            assert s_new[k].dtype == s_old[k].dtype and torch.equal(s_new[k], s_old[k]), k
        assert not new.training and not any(m.training for m in new.modules())
        assert not any(p.requires_grad for p in new.parameters())
        assert all(p.device.type == "cpu" for p in new.parameters())
    z = torch.rand(3, 100, generator=torch.Generator().manual_seed(0)) * 2 - 1
    # Bit-exact against the original prepared the same way (freeze also sets channels_last,
    # which changes the kernels' summation order), and to round-off against it as trained.
    g0f, d0f = (freeze(copy.deepcopy(m)) for m in (g0, d0))
    with torch.no_grad(), _one_thread():
        assert torch.equal(g(z), g0f(z))
        x = g0(z)
        assert torch.equal(d(x), d0f(x))
        torch.testing.assert_close(g(z), g0(z), rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(d(x), d0(x), rtol=1e-5, atol=1e-5)


def test_manifest_records_independent_sha256(shipped: Path) -> None:
    manifest = _manifest(shipped)
    assert manifest["note"] == "test"
    for name, entry in manifest["files"].items():
        assert entry["file"] == FILES[name] and entry["arch"] == name
        digest = hashlib.sha256((shipped / entry["file"]).read_bytes()).hexdigest()
        assert entry["sha256"] == digest == sha256(shipped / entry["file"])


def test_save_weights_returns_the_file_hash(tmp_path: Path, trained_pair) -> None:
    path = tmp_path / "g.safetensors"
    assert save_weights(trained_pair[0], path) == hashlib.sha256(path.read_bytes()).hexdigest()
    assert isinstance(load_weights(path), Generator)


def test_the_same_weights_saved_again_are_the_same_bytes(tmp_path: Path, trained_pair) -> None:
    # safetensors orders the metadata by a hash map seeded anew for each file; unsorted, a
    # few saves of the generator's three metadata keys come out in more than one order.
    digests = {save_weights(trained_pair[0], tmp_path / f"g{i}.safetensors") for i in range(8)}
    assert len(digests) == 1
    with safe_open(str(tmp_path / "g0.safetensors"), framework="pt") as f:
        assert f.metadata() == {"arch": "generator", "width": "8", "z_dim": "100"}
        header = (tmp_path / "g0.safetensors").read_bytes()
        assert int.from_bytes(header[:8], "little") % 8 == 0  # the tensors' data stays 8-byte aligned
    assert all(torch.equal(a, b) for a, b in zip(load_weights(tmp_path / "g0.safetensors").state_dict().values(), trained_pair[0].state_dict().values()))


# ---------------------------------------------------------------------------------------------
# Damaged or wrong files
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["generator", "discriminator"])
def test_flipped_byte_is_caught_by_sha256(shipped: Path, name: str) -> None:
    path = shipped / FILES[name]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # a weight byte deep in the file: still valid safetensors
    path.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match=r"corrupt or modified.*git checkout"):
        load_pretrained(shipped, device="cpu")


@pytest.mark.parametrize("content", ["truncated", "garbage", "empty"])
def test_unreadable_file_with_matching_hash(shipped: Path, content: str) -> None:
    path = shipped / FILES["generator"]
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 2], "garbage": b"\x00garbage" * 50, "empty": b""}[content])
    manifest = _manifest(shipped)
    manifest["files"]["generator"]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    _write_manifest(shipped, manifest)
    with pytest.raises(WeightsError, match=r"not a readable safetensors file.*re-export"):
        load_pretrained(shipped, device="cpu")


def test_missing_file_is_named(shipped: Path) -> None:
    path = shipped / FILES["discriminator"]
    path.unlink()
    with pytest.raises(WeightsError, match=r"weight file not found: " + re.escape(str(path))):
        load_pretrained(shipped, device="cpu")


def test_empty_folder_mentions_the_env_var(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match=rf"no pretrained weights found.*{ENV_VAR}"):
        load_pretrained(tmp_path, device="cpu")


def test_swapped_networks(shipped: Path) -> None:
    manifest = _manifest(shipped)
    files = manifest["files"]
    files["generator"], files["discriminator"] = files["discriminator"], files["generator"]
    _write_manifest(shipped, manifest)
    with pytest.raises(WeightsError, match="wrong way round"):
        load_pretrained(shipped, device="cpu")


@pytest.mark.parametrize(
    "manifest_text",
    [
        "{not json",
        json.dumps({"files": {"generator": {"file": FILES["generator"]}}}),
        json.dumps({"nothing": 1}),
    ],
    ids=["bad_json", "missing_entries", "no_files"],
)
def test_corrupt_manifest(shipped: Path, manifest_text: str) -> None:
    (shipped / MANIFEST).write_text(manifest_text)
    with pytest.raises(WeightsError, match=r"manifest\.json is corrupt"):
        load_pretrained(shipped, device="cpu")


@pytest.mark.parametrize("bad", [None, "missing"])
def test_manifest_without_a_hash_does_not_skip_the_check(shipped: Path, bad: str | None) -> None:
    manifest = _manifest(shipped)
    if bad is None:
        manifest["files"]["generator"]["sha256"] = None
    else:
        del manifest["files"]["generator"]["sha256"]
    _write_manifest(shipped, manifest)
    with pytest.raises(WeightsError, match=r"manifest\.json is corrupt"):
        load_pretrained(shipped, device="cpu")


def test_env_var_is_honoured(shipped: Path, trained_pair, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(shipped))
    assert pretrained_dir() == shipped
    g, _ = load_pretrained(device="cpu")
    assert torch.equal(g.layers[0].weight, trained_pair[0].layers[0].weight)
    # an explicit path wins over the env var
    monkeypatch.setenv(ENV_VAR, str(shipped.parent / "elsewhere"))
    assert pretrained_dir(shipped) == shipped
    with pytest.raises(WeightsError, match=ENV_VAR):
        pretrained_dir()


def _resave(path: Path, module: torch.nn.Module, metadata: dict[str, str]) -> None:
    save_file({k: v.contiguous() for k, v in module.state_dict().items()}, str(path), metadata=metadata)


@pytest.mark.parametrize(
    "metadata, match",
    [
        ({"arch": "generator", "z_dim": "100", "width": "16"}, r"does not fit a generator of width 16"),
        ({"arch": "generator", "z_dim": "64", "width": "8"}, r"does not fit a generator"),
        ({"arch": "generator", "z_dim": "100", "width": "eight"}, r"bad generator metadata"),
        ({"arch": "generator", "z_dim": "100", "width": "-3"}, r"bad generator metadata"),
        ({"arch": "generator", "width": "8"}, r"bad generator metadata.*z_dim"),
        ({"arch": "discriminator", "width": "8"}, r"does not fit a discriminator"),
        ({"arch": "resnet"}, r"no known architecture.*save_weights"),
        ({}, r"no known architecture.*save_weights"),
    ],
    ids=["width16", "z_dim", "width_text", "width_negative", "no_z_dim", "wrong_arch", "unknown_arch", "none"],
)
def test_wrong_metadata(tmp_path: Path, trained_pair, metadata: dict[str, str], match: str) -> None:
    path = tmp_path / "g.safetensors"
    _resave(path, trained_pair[0], metadata)
    with pytest.raises(WeightsError, match=match):
        load_weights(path)


def test_wrong_width_through_the_manifest(shipped: Path, trained_pair) -> None:
    path = shipped / FILES["generator"]
    _resave(path, trained_pair[0], {"arch": "generator", "z_dim": "100", "width": "16"})
    manifest = _manifest(shipped)
    manifest["files"]["generator"]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    _write_manifest(shipped, manifest)
    with pytest.raises(WeightsError, match="does not fit a generator of width 16"):
        load_pretrained(shipped, device="cpu")


# ---------------------------------------------------------------------------------------------
# dlib
# ---------------------------------------------------------------------------------------------


def test_dlib_model_path_missing() -> None:
    with pytest.raises(LandmarkError, match=r"not found at /nonexistent"):
        dlib_model_path("/nonexistent")


def test_dlib_env_var_missing_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(landmarks.ENV_VAR, str(tmp_path / "nope.dat"))
    with pytest.raises(LandmarkError, match=landmarks.ENV_VAR):
        LandmarkDetector()


def test_dlib_env_var_garbage_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    garbage = tmp_path / "shape_predictor.dat"
    garbage.write_bytes(b"this is not a dlib model" * 10)
    monkeypatch.setenv(landmarks.ENV_VAR, str(garbage))
    with pytest.raises(LandmarkError, match=r"dlib cannot load .*complete"):
        LandmarkDetector()


@pytest.fixture(scope="module")
def detector() -> LandmarkDetector:
    try:
        return LandmarkDetector()
    except LandmarkError as e:  # no dlib model installed here
        pytest.skip(str(e))


@pytest.mark.parametrize("colour", [(128, 128, 128), (200, 40, 90), (0, 0, 0)], ids=["grey", "coloured", "black"])
def test_check_readable_rejects_flat_images(detector: LandmarkDetector, colour) -> None:
    points = detector(np.full((2, 64, 64, 3), colour, np.uint8))
    assert points.shape == (2, 68, 2)
    with pytest.raises(LandmarkError, match=r"could not read a face in image\(s\) \[0, 1\].*yeh2017"):
        detector.check_readable(points)


def test_masked_flat_grey_is_what_dlib_sees_as_blank() -> None:
    x = torch.zeros(1, 3, 64, 64)  # mid grey in [-1, 1]
    mask = torch.ones(1, 1, 64, 64)
    mask[..., 16:48, 16:48] = 0
    assert (masked_frames(x, mask) == 128).all()


def test_complete_on_a_flat_face_names_the_way_out(detector: LandmarkDetector, tiny_models) -> None:
    grey = np.full((64, 64, 3), 128, np.uint8)
    with pytest.raises(LandmarkError, match=r"could not read a face in image\(s\) \[0\].*yeh2017"):
        complete(grey, "centre", models=tiny_models, iterations=1, candidates=2, progress=False)


# ---------------------------------------------------------------------------------------------
# complete(): bad options
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def face() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)


def test_complete_unknown_preset(face, tiny_models) -> None:
    with pytest.raises(InpaintInputError, match=r"unknown preset 'nope'.*thesis.*yeh2017"):
        complete(face, "centre", preset="nope", models=tiny_models)


def test_complete_negative_iterations(face, tiny_models) -> None:
    with pytest.raises(InpaintInputError, match=r"iterations must be >= 0, got -1"):
        complete(face, "centre", "yeh2017", models=tiny_models, iterations=-1)


def test_complete_unknown_option(face, tiny_models) -> None:
    with pytest.raises(InpaintInputError, match=r"unknown option\(s\) \['iteration'\]; valid: .*'candidates'.*'iterations'"):
        complete(face, "centre", models=tiny_models, iteration=5)


def test_weight_sets_by_name() -> None:
    from semantic_inpaint.models.weights import DEFAULT_WEIGHTS, WEIGHT_SETS

    folders = {name: pretrained_dir(name) for name in WEIGHT_SETS}
    assert {f.name for f in folders.values()} == set(WEIGHT_SETS)  # one folder per set
    assert pretrained_dir() == folders[DEFAULT_WEIGHTS]
    digests = {name: _manifest(f)["files"]["generator"]["sha256"] for name, f in folders.items()}
    assert len(set(digests.values())) == len(WEIGHT_SETS)  # the sets hold different weights
    g, _ = load_pretrained("synthetic", device="cpu")
    assert sha256(folders["synthetic"] / FILES["generator"]) == digests["synthetic"] and isinstance(g, Generator)


@pytest.mark.parametrize("name", ["celeb", "CelebA", "default"])
def test_unknown_weight_set_lists_the_names(name: str) -> None:
    with pytest.raises(WeightsError, match=rf"unknown weight set '{name}': use one of celeba, synthetic"):
        load_pretrained(name, device="cpu")


def test_a_set_without_a_landmark_net_uses_the_shipped_one() -> None:
    from semantic_inpaint.models.weights import load_landmark_net

    assert "landmarks" not in _manifest(pretrained_dir("celeba"))["files"]
    net = load_landmark_net("celeba", device="cpu")
    shipped = load_landmark_net("synthetic", device="cpu")
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), shipped.state_dict().values()))

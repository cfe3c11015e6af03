"""Distilling dlib into the landmark net: labelled frames, a training run, export to a manifest."""

import json
import shutil
from pathlib import Path

import numpy as np
import torch

from semantic_inpaint.losses.landmarks import LandmarkDetector
from semantic_inpaint.models import LandmarkNet, load_landmark_net
from semantic_inpaint.models.weights import add_to_manifest, pretrained_dir
from semantic_inpaint.train.landmarks import LandmarkTrainConfig, distil, labelled_frames, random_masks


def test_masks_cover_every_kind_and_are_seeded():
    a, b = random_masks(64, torch.Generator().manual_seed(0)), random_masks(64, torch.Generator().manual_seed(0))
    assert a.shape == (64, 1, 64, 64) and torch.equal(a, b)
    missing = 1 - a.mean((1, 2, 3))
    # none (0), centre (0.25), left / right (0.5) and random (about 0.8) all occur
    for share in (0.0, 0.25, 0.5):
        assert (missing - share).abs().min() < 1e-6
    assert ((missing > 0.7) & (missing < 0.9)).any()


def test_frames_are_labelled_by_dlib_as_the_loss_sees_them(faces):
    frames, points = labelled_frames(faces, LandmarkDetector(), seed=0, batch=2)
    assert frames.shape == faces.shape and frames.dtype == np.uint8 and points.shape == (4, 68, 2)
    np.testing.assert_array_equal(points, LandmarkDetector()(frames).astype(np.float32))


def test_distil_learns_and_exports(tiny_models, faces, tmp_path: Path):
    config = LandmarkTrainConfig(samples=48, faces=4, epochs=4, batch_size=16, width=4)
    net, errors = distil(tiny_models[0], faces, faces, config, tmp_path / "run", workers=1)
    log = (tmp_path / "run" / "log.csv").read_text().splitlines()
    assert len(log) == 1 + config.epochs
    first, last = float(log[1].split(",")[1]), float(log[-1].split(",")[1])
    assert last < first  # the L1 to dlib's points went down
    assert set(errors) == {"samples", "faces"} and all(np.isfinite(v) for v in errors.values())
    # Export into a copy of the shipped folder; it loads back, sha256-checked, bit for bit.
    folder = tmp_path / "pretrained"
    shutil.copytree(pretrained_dir("synthetic"), folder)
    add_to_manifest(folder, "landmarks", net, error_px=errors)
    loaded = load_landmark_net(folder, device="cpu")
    assert isinstance(loaded, LandmarkNet) and loaded.width == 4
    for k, v in net.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k
    assert json.loads((folder / "manifest.json").read_text())["files"]["generator"]  # the others kept

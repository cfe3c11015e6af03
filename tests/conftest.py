"""Shared fixtures: a device fixture (CPU, plus CUDA when present, as kornia does) and a small
randomly initialised DCGAN, so that tests never depend on the shipped weights' quality."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from semantic_inpaint.models import Discriminator, Generator, freeze

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request) -> torch.device:
    return torch.device(request.param)


@pytest.fixture
def ieee_fp32(monkeypatch) -> None:
    """IEEE fp32 on CUDA for one test. PyTorch lets cuDNN run fp32 convolutions in TF32 (10
    mantissa bits), so two paths that agree to fp32 round-off on the CPU (another batch size,
    batch norm folded or not) differ by about 1e-3 relative on a GPU, and Adam carries that on."""
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)  # G and D are all convolutions


@pytest.fixture(scope="session")
def tiny_models() -> tuple[Generator, Discriminator]:
    """A width-8 DCGAN (same layers as the real one, 1/8 of the channels), seeded, frozen."""
    torch.manual_seed(0)
    return freeze(Generator(width=8)), freeze(Discriminator(width=8))


@pytest.fixture(scope="session")
def faces() -> np.ndarray:
    """Four 64x64 uint8 faces: ids 1000000-1000003 of the synthetic held-out split, rendered by
    `semantic_inpaint.data.synthetic` (teacher: PyPI gan-face-generate, MIT), stored so that
    tests need no teacher. Real faces, so that dlib can read them."""
    return np.load(Path(__file__).parent / "data" / "holdout_faces.npy")

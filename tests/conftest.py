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

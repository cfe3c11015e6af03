"""Resumable training runs: the checkpoint's record of the settings, the check a resumed run
makes against it, and a save that a kill cannot tear. Shared by the DCGAN and encoder loops."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch

# What a resumed run may change: how long it runs and how often it saves, not what it computes.
LENGTH_FIELDS = ("steps", "sample_every", "checkpoint_every")


def recipe(config: object) -> dict:
    """A training config (a dataclass) as the checkpoint stores it: numbers, strings and lists,
    loadable with weights_only (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(config).items()}


def check_resume(saved: dict, config: object, path: Path) -> None:
    """Refuse to resume the checkpoint at `path` with settings that would compute another run."""
    differ = sorted(k for k, v in recipe(config).items() if k not in LENGTH_FIELDS and saved.get(k) != v)
    if differ:
        raise ValueError(f"{path} was written with other training settings ({', '.join(differ)}); use a fresh out_dir or the same settings")


def save(state: dict, path: Path) -> None:
    """torch.save to a temporary file, then an atomic rename: an interrupted save never leaves
    a broken checkpoint."""
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


__all__ = ["LENGTH_FIELDS", "check_resume", "recipe", "save"]

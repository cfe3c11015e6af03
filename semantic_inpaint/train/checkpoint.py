"""Resumable training runs: the checkpoint's record of the settings, the check a resumed run
makes against it, a save that a kill cannot tear, and the CSV log a resumed run goes on with.
Shared by the DCGAN and encoder loops."""

from __future__ import annotations

import csv
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

import torch

from semantic_inpaint.errors import InpaintInputError

# What a resumed run may change: how long it runs and how often it saves, not what it computes.
LENGTH_FIELDS = ("steps", "sample_every", "checkpoint_every")


def recipe(config: object) -> dict:
    """A training config (a dataclass) as the checkpoint stores it: numbers, strings and lists,
    loadable with weights_only (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(config).items()}


def check_resume(saved: dict, config: object, path: Path) -> None:
    """Refuse to resume the checkpoint at `path` with settings that would compute another run.
    A setting the checkpoint predates counts as its default, which is what that run computed."""
    defaults = recipe(type(config)())
    differ = sorted(k for k, v in recipe(config).items() if k not in LENGTH_FIELDS and saved.get(k, defaults[k]) != v)
    if differ:
        raise InpaintInputError(f"{path} was written with other training settings ({', '.join(differ)}); use a fresh out_dir or the same settings")


def load(path: Path, config: object) -> dict | None:
    """The checkpoint at `path` to resume from (None if there is none), refused if it was written
    with other settings (`check_resume`). Its tensors stay on the CPU: the random generators'
    states must (`torch.Generator.set_state` takes a CPU byte tensor, so a run on CUDA could not
    resume when they were mapped there), and `load_state_dict` of a network or optimiser moves
    the rest to its parameters' device."""
    if not path.is_file():
        return None
    # weights_only: tensors, numbers and dicts only, no pickled code.
    state = torch.load(path, map_location="cpu", weights_only=True)
    check_resume(state["config"], config, path)
    return state


def save(state: dict, path: Path) -> None:
    """torch.save to a temporary file, then an atomic rename: an interrupted save never leaves
    a broken checkpoint."""
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def open_log(path: Path, step: int, header: list[str]) -> TextIO:
    """The run's CSV log at `path`, open to write to: a new one with `header` for a run from step 0
    (or with no log yet); else the log of the run resumed at `step`, to be appended to."""
    if step == 0 or not path.is_file():
        f = open(path, "w", newline="")
        csv.writer(f).writerow(header)
        return f
    _cut_log(path, step)
    return open(path, "a", newline="")


def _cut_log(path: Path, step: int) -> None:
    """Keep the header and the rows up to the checkpoint's `step`: rows an interrupted run logged
    after its last checkpoint (or a torn last line) are logged again when the run resumes."""
    lines = path.read_text().splitlines(keepends=True)
    kept = [line for line in lines[1:] if line.endswith("\n") and line.split(",", 1)[0].isdigit() and int(line.split(",", 1)[0]) <= step]
    path.write_text("".join(lines[:1] + kept))


__all__ = ["LENGTH_FIELDS", "check_resume", "load", "open_log", "recipe", "save"]

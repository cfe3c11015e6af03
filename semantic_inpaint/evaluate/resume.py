"""What keeps a results folder whole across runs: the lock, the records that refuse rows of
other faces, weights or settings, and the rows already done.

A run holds OUT/.lock (a second run into OUT is refused), appends rows synced to disk and
replaces every other file atomically (`safe_files`), so a kill at any moment leaves a folder
that resumes: an image is done when its row is in per_image.csv, and a torn last row is redone.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from semantic_inpaint import distributed, safe_files
from semantic_inpaint.config import SearchConfig
from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.evaluate.scores import FIELDS
from semantic_inpaint.models.weights import Pretrained


def fingerprint(array: np.ndarray | Tensor) -> str:
    """A short sha256 of an array's bytes (a face, or a network's weights)."""
    data = array.detach().cpu().contiguous().numpy() if isinstance(array, Tensor) else np.ascontiguousarray(array)
    return hashlib.sha256(data.tobytes()).hexdigest()[:16]


def check_settings(out: Path, searches: dict[str, SearchConfig]) -> str | None:
    """Why GAN rows searched with `searches` (each GAN method's preset with the run's overrides)
    may not join `out`, or None (then recorded).

    Rows searched with other settings (iterations, candidates, seed, or a preset whose
    definition changed between versions) would mix silently with these in the tables, so
    settings.json keeps every GAN method's full settings from its first run: a method already
    there must come with the same ones; a new method is added."""
    path = out / "settings.json"
    now = {m: json.loads(json.dumps(dataclasses.asdict(c))) for m, c in searches.items()}
    before = json.loads(path.read_text()) if path.is_file() else {}
    if "iterations" in before:  # one config for every method: the format before per-method settings
        return (
            f"{path} records one set of search settings for every method, as semantic-inpaint 0.1 wrote it, "
            "not each method's: write these rows to a new --out folder"
        )
    flat = lambda d: {**{k: v for k, v in d.items() if k != "loss"}, **d.get("loss", {})}  # noqa: E731
    changed = [
        f"{m} {k}: {flat(before[m]).get(k)!r} there, {flat(now[m]).get(k)!r} now"
        for m in sorted(now.keys() & before.keys())
        for k in sorted(flat(before[m]).keys() | flat(now[m]).keys())
        if flat(before[m]).get(k) != flat(now[m]).get(k)
    ]
    if changed:
        return (
            f"{out} holds rows searched with other settings ({'; '.join(changed)}; see {path}). "
            "Resume with the same options, or write these rows to a new --out folder."
        )
    if now.keys() - before.keys():
        safe_files.write_text(path, json.dumps({**before, **now}, indent=2) + "\n")
    return None


def check_inputs(out: Path, images: np.ndarray, models: Pretrained | None) -> str | None:
    """Why rows for these faces and weights may not join `out`, or None (then recorded).

    Rows of other faces, or of another generator, would be counted as done and mixed into the
    tables; inputs.json keeps each face's hash by index and the generator's, so a resume must
    bring the same faces at the indices it shares (more faces extend the folder) and the same
    weights (a baselines-only run has none and joins any folder)."""
    path = out / "inputs.json"
    now = {"faces": [fingerprint(x) for x in images]}
    if models is not None:
        # This hash, not models.weights.fingerprint: inputs.json files already written keep matching.
        now["generator"] = fingerprint(torch.cat([p.flatten() for p in models[0].state_dict().values()]))
    before = json.loads(path.read_text()) if path.is_file() else {}
    old_faces = before.get("faces", [])
    differ = [i for i, (a, b) in enumerate(zip(old_faces, now["faces"])) if a != b]
    if differ:
        return (
            f"{out} holds rows of other faces (face {differ[0]} differs, {len(differ)} in all; see {path}): "
            "evaluate the same data there, or write these rows to a new --out folder"
        )
    if before.get("generator") and now.get("generator") and before["generator"] != now["generator"]:
        return f"{out} holds rows completed with other weights (see {path}): use the same --weights there, or a new --out folder"
    merged = {"faces": now["faces"] if len(now["faces"]) > len(old_faces) else old_faces}
    if before.get("generator") or now.get("generator"):
        merged["generator"] = before.get("generator") or now["generator"]
    safe_files.write_text(path, json.dumps(merged, indent=1) + "\n")
    return None


def read_done(path: Path) -> list[dict]:
    """The rows in per_image.csv, the file first made whole for appending: a kill can leave it
    empty (before its header reached the disk) or with a torn last row. The torn row is dropped,
    so computed again; an empty or missing file gets its header, which rows appended next need."""
    safe_files.drop_torn_last_line(path)
    if not path.is_file() or path.stat().st_size == 0:
        header = io.StringIO()
        csv.DictWriter(header, fieldnames=FIELDS).writeheader()
        safe_files.write_text(path, header.getvalue())
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@contextmanager
def exclusive(out: Path, team: distributed.World) -> Iterator[None]:
    """Rank 0 holds OUT's lock for the run: a second run into OUT would append its rows among
    these and overwrite their pictures, so it is refused at once, on every rank (the others
    would otherwise wait for rank 0 forever). With the lock held, no one else writes under OUT:
    the temp files left there by killed runs are cleared."""
    lock = problem = None
    if team.is_main:
        try:
            lock = safe_files.FolderLock(out)
        except InpaintInputError as e:
            problem = str(e)
    problem = team.broadcast(problem)
    if problem:
        raise InpaintInputError(problem)
    try:
        if lock:
            safe_files.remove_partial_files(out)
        yield
    finally:
        if lock:
            lock.release()

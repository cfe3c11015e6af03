"""`evaluate`: every method on every mask for a set of faces, batch by batch, resumable; under
torchrun each rank completes its share of the images and rank 0 writes the files."""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from semantic_inpaint import distributed, safe_files
from semantic_inpaint import masks as mask_lib
from semantic_inpaint.complete import resolve_device
from semantic_inpaint.config import PRESETS, SearchConfig
from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.evaluate.methods import check_methods, complete_run, default_batch_size, runs
from semantic_inpaint.evaluate.pictures import figure, image_path, read_picture, save_picture
from semantic_inpaint.progress import Progress
from semantic_inpaint.evaluate.resume import check_inputs, check_settings, exclusive, read_done
from semantic_inpaint.evaluate.scores import FIELDS, score
from semantic_inpaint.evaluate.summary import summarise
from semantic_inpaint.figures import save_figure
from semantic_inpaint.io import as_images
from semantic_inpaint.losses.landmarks import LandmarkDetector
from semantic_inpaint.models.weights import Pretrained, load_pretrained
from semantic_inpaint.validate import to_float, to_uint8


def mask_for(name: str, index: int) -> torch.Tensor:
    """The mask of image `index`: a named mask; 'random' is seeded by the image index."""
    return mask_lib.named(name, seed=index)


def evaluate(
    images: np.ndarray | Tensor | Sequence[Image.Image],
    out_dir: str | os.PathLike,
    masks: str | Sequence[str] = ("centre", "left", "right", "random"),
    methods: Sequence[str] = ("yeh2017", "thesis"),
    models: Pretrained | None = None,
    batch_size: int | None = None,
    progress: bool | None = None,
    library: object = None,
    device: str | torch.device | None = None,
    **overrides: object,
) -> list[dict]:
    """Run every method on every mask for uint8 (N, 64, 64, 3) `images`; returns all rows.

    images: also a list of PIL images, or a uint8 (N, 3, 64, 64) tensor or array (converted);
        float faces are refused, as rounding them would change the truth the metrics use.
    masks: names (`masks.NAMES`); one name alone is one mask.
    methods: GAN presets and baselines, mixed (see `evaluate.methods` and `check_methods`).
    library: the faces `nearest` draws from, e.g. the training set,
        `semantic_inpaint.data.load_images("synthetic", n=2000)`; required for `nearest`.
    device: where the GAN methods search (default: CUDA when available); baselines run on the CPU.
    `overrides` go to every GAN method's preset (e.g. iterations, candidates, seed); the
    baselines run at their defaults.
    `batch_size`: images completed together; default `default_batch_size`: on CUDA as many as
    half the free GPU memory holds, up to 64; 1 on the CPU, where batching measured slower.
    Under torchrun (see `distributed`), each rank completes its share of the images and rank 0
    writes the files and returns all rows; the other ranks return their own.
    """
    images = _faces(images)
    masks = (masks,) if isinstance(masks, str) else tuple(masks)
    for name in masks:
        mask_for(name, 0)  # an unknown name fails here, before anything is written
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
        raise InpaintInputError(f"batch_size must be a whole number >= 1 (images searched together), got {batch_size!r}")
    methods = check_methods(methods, library)
    searches = {m: PRESETS[m].with_overrides(**overrides) for m in methods if m in PRESETS}  # what each GAN method runs
    device = resolve_device(device)
    if batch_size is None:
        batch_size = default_batch_size(device, max((c.candidates for c in searches.values()), default=1))
    out = _output_folder(out_dir)
    team = distributed.world()  # one process, or one rank of a torchrun evaluation
    with exclusive(out, team):  # before anything under OUT is read or written
        if searches and models is None:
            models = load_pretrained(device=device)
        _check_folder(out, images, models if searches else None, searches, team)
        job = _Job(out, images, methods, models, batch_size, progress, library, device, team, overrides)
        return job.run(masks)


def _faces(images: np.ndarray | Tensor | Sequence[Image.Image]) -> np.ndarray:
    """evaluate's faces as uint8 (N, 64, 64, 3): 8-bit faces in any form io.as_images takes (such
    an array, a list of PIL images, a uint8 (N, 3, 64, 64) tensor or array), checked by it."""
    form = "evaluate takes uint8 (N, 64, 64, 3) faces (semantic_inpaint.data.load_images gives them)"
    if isinstance(images, np.ndarray) and images.ndim == 4 and images.shape[1] == 3 and images.shape[-1] != 3:
        images = torch.from_numpy(images)  # (N, 3, H, W): io takes channels first as a tensor
    items = images if isinstance(images, (list, tuple)) else [images]
    if not all(isinstance(a, Image.Image) or getattr(a, "dtype", None) in (np.uint8, torch.uint8) for a in items):
        kinds = sorted({str(getattr(a, "dtype", type(a).__name__)) for a in items})
        top = max((float(np.max(np.asarray(a))) for a in items if getattr(a, "dtype", None) is not None and np.asarray(a).size), default=1.0)
        if 0 < top <= 1 / 255:  # 8-bit faces divided by 255 twice would round to black
            raise InpaintInputError(
                f"{form}, got {', '.join(kinds)} with no value above {top:.3g}: these look divided by 255 twice; "
                "pass the uint8 faces themselves (or x * 255 * 255, rounded, as uint8)"
            )
        raise InpaintInputError(
            f"{form}, got {', '.join(kinds)}: rounding to 8 bits would change the truth the metrics compare with, "
            "so do it yourself if that is meant: (x * 255).round().astype(np.uint8)"
        )
    try:
        x = as_images(images)
    except InpaintInputError as e:
        raise InpaintInputError(f"{form}: {e}") from None
    return to_uint8(x).permute(0, 2, 3, 1).contiguous().numpy()


def _output_folder(out_dir: str | os.PathLike) -> Path:
    """`out_dir`, made if missing; refused plainly where it cannot be made or written."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InpaintInputError(f"cannot make the output folder {out} ({e.strerror}): write the results somewhere else") from None
    if not os.access(out, os.W_OK):
        raise InpaintInputError(f"the output folder {out} is not writable: write the results somewhere else")
    return out


def _check_folder(out: Path, images: np.ndarray, models: Pretrained | None, searches: dict[str, SearchConfig], team: distributed.World) -> None:
    """Refuse, on every rank, rows that may not join OUT: other faces or weights, or (for GAN
    rows, `models` given) other search settings. Rank 0 reads the records; the others wait."""
    problem = team.broadcast(check_inputs(out, images, models) if team.is_main else None)
    if models is not None and not problem:
        problem = team.broadcast(check_settings(out, searches) if team.is_main else None)
    if problem:
        raise InpaintInputError(problem)


@dataclass
class _Job:
    """One `evaluate` call, its arguments checked and OUT locked: the loop over masks, runs of
    methods and batches, appending each finished image's row."""

    out: Path
    images: np.ndarray
    methods: list[str]
    models: Pretrained | None
    batch_size: int
    progress: bool | None
    library: object
    device: torch.device
    team: distributed.World
    overrides: dict[str, object]
    rows: list[dict] = field(init=False, repr=False)  # the rows so far: read from per_image.csv, then appended
    done: set[tuple[str, str, str]] = field(init=False, repr=False)  # (image, mask, method) of the rows read
    detector: LandmarkDetector = field(init=False, repr=False)
    truth: Tensor = field(init=False, repr=False)  # (N, 3, 64, 64) the faces in [0, 1]

    def run(self, masks: tuple[str, ...]) -> list[dict]:
        """Every mask and method; returns all rows (on ranks other than 0, their own)."""
        csv_path = self.out / "per_image.csv"
        self.rows = self.team.broadcast(read_done(csv_path) if self.team.is_main else None)  # rank 0's file says what is done
        self.done = {(r["image"], r["mask"], r["method"]) for r in self.rows}
        self.detector = LandmarkDetector()
        self.truth = to_float(torch.from_numpy(self.images).permute(0, 3, 1, 2))
        with open(csv_path if self.team.is_main else os.devnull, "a", newline="") as f:  # only rank 0 writes the CSV
            writer = csv.DictWriter(f, fieldnames=FIELDS)
            for mask_name in masks:
                self._save_inputs(mask_name)
                for run in runs(self.methods, self.overrides):
                    self._complete(mask_name, run, writer, f)
        if self.team.is_main:
            safe_files.write_text(self.out / "results.md", summarise(self.rows))
            for mask_name in masks:
                with safe_files.replacing(self.out / f"figure_{mask_name}.png") as temp:
                    save_figure(figure(self.out, mask_name, self.methods), temp)
        return self.rows

    def _save_inputs(self, mask_name: str) -> None:
        """The input and truth of this rank's images, also where all their rows are done (a folder
        from before pictures were saved), so that the figure always has its rows; drawn again
        if unreadable, as the faces are at hand."""
        for i in range(len(self.images)):
            if self.team.owns(i) and any(read_picture(image_path(self.out, mask_name, c, i)) is None for c in ("input", "truth")):
                m = mask_for(mask_name, i)[None]
                save_picture(image_path(self.out, mask_name, "input", i), self.truth[i] * m + 0.5 * (1 - m))
                save_picture(image_path(self.out, mask_name, "truth", i), self.truth[i])

    def _complete(self, mask_name: str, run: tuple[str, ...], writer: csv.DictWriter, f: IO[str]) -> None:
        """The images of this rank not yet done by every method of `run`, in batches; then, on
        rank 0, the other ranks' rows of this mask and run."""
        todo = [i for i in range(len(self.images)) if self.team.owns(i) and any((str(i), mask_name, m) not in self.done for m in run)]
        mark = len(self.rows)
        report = Progress(f"evaluate {mask_name} {'+'.join(run)}", len(todo), "images", enabled=self.progress is not False and self.team.is_main)
        for start in range(0, len(todo), self.batch_size):
            idx = todo[start : start + self.batch_size]
            m = torch.stack([mask_for(mask_name, i) for i in idx])[:, None]
            truth = self.truth[idx]
            t0 = time.perf_counter()
            completed = complete_run(run, truth, m, self.models, self.device, self.detector, self.library, self.progress, self.overrides)
            seconds = (time.perf_counter() - t0) / len(idx)
            for method, (filled, landmark_loss) in completed.items():
                for j, row in enumerate(score(filled, landmark_loss, truth, m, self.detector)):
                    if (str(idx[j]), mask_name, method) in self.done:
                        continue
                    # The picture before the row: the row marks the image done, so a
                    # kill between the two leaves a picture that is simply redrawn.
                    save_picture(image_path(self.out, mask_name, method, idx[j]), filled[j])
                    row = {"image": str(idx[j]), "mask": mask_name, "method": method, "seconds": f"{seconds:.3f}"} | row
                    writer.writerow(row)
                    self.rows.append(row)
            safe_files.sync(f)
            report(len(idx))
        for row in self.team.gather_others(self.rows[mark:]):  # torchrun: the other ranks' rows of this mask and run
            writer.writerow(row)
            self.rows.append(row)
        safe_files.sync(f)

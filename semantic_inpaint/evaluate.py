"""The tables harness: methods x masks on a set of faces, per-image metrics, resumable.

Methods are GAN presets (the keys of `config.PRESETS`: `thesis`, `yeh2017`, ...) and the local
baselines of the thesis's figure 6 (the keys of `baselines.BASELINES`: `tv`, `navier_stokes`,
`telea`, `biharmonic`, `nearest`), in any mix. Every preset runs its own search, except that
`thesis` and `yeh2017` share one when both are asked for: the hard landmark loss has no
gradient, so their z trajectories are the same and only the ranking of the candidates differs
(`Completion.without_landmark_ranking`); their `seconds` column is that shared search's time.
`nearest` fills holes from a library of faces (the training set), passed as `library`.

Writes, under OUT:
- per_image.csv: one row per image, mask and method; rows already there are not recomputed,
  so an interrupted run resumes;
- settings.json: the GAN methods' search settings (the preset options given as `overrides`,
  resolved); a run that adds GAN rows to the folder must ask for the same settings;
- inputs.json: a hash of every face and of the generator's weights; a run with other faces at
  the same indices, or another weight set, is refused (a longer set of the same faces resumes);
- results.md: tables laid out like the thesis's tables 1 and 2 (masks down, methods across,
  mean and bootstrap 95 % interval);
- images/{mask}/{column}/{index}.png: every completed image (column = the method), the input
  with its hole in grey (`input`) and the ground truth (`truth`);
- figure_{mask}.png: the first images as rows, input | methods | truth as columns, like the
  thesis's figures 6 and 7, drawn from the saved PNGs (so also after a resumed run).
Metrics are taken after the overlay of known pixels, on images in [0, 1]: whole image
(primary, as in the thesis) and hole only (secondary), plus the dlib landmark error.
A run holds OUT/.lock (a second run into OUT is refused), appends rows synced to disk and
replaces every other file atomically (`safe_files`), so a kill at any moment leaves a folder
that resumes: an image is done when its row is in per_image.csv, and a torn last row is redone.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import io
import os
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image
from torch import Tensor

from semantic_inpaint import distributed, safe_files
from semantic_inpaint import masks as mask_lib
from semantic_inpaint.baselines import BASELINES, NEEDS_LIBRARY, inpaint
from semantic_inpaint.complete import MIB_PER_CANDIDATE, complete, resolve_device
from semantic_inpaint.config import PRESETS, THESIS, YEH2017, SearchConfig
from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.figures import comparison_figure, save_figure
from semantic_inpaint.io import as_images, to_pil
from semantic_inpaint.losses.landmarks import LandmarkDetector
from semantic_inpaint.metrics import hole, landmark_error, psnr, ssim
from semantic_inpaint.models.dcgan import sample_z
from semantic_inpaint.models.weights import Pretrained, load_pretrained
from semantic_inpaint.search import search
from semantic_inpaint.viz import from_uint8

FIELDS = ["image", "mask", "method", "psnr", "ssim", "psnr_hole", "ssim_hole", "landmark_error", "landmark_loss", "seconds"]
METRICS = {
    "psnr": "PSNR (dB), whole image",
    "ssim": "SSIM, whole image",
    "psnr_hole": "PSNR (dB), hole only",
    "ssim_hole": "SSIM, hole only",
    "landmark_error": "landmark error (px, dlib, vs ground truth)",
}
# Presets that may share one search: they differ only in the hard landmark loss, which has no gradient.
SHARED_SEARCH = ("thesis", "yeh2017")
PROGRESS_EVERY = 30.0  # seconds between evaluate's progress lines
FIGURE_IMAGES = 8  # rows of figure_{mask}.png: the first images of the set


def mask_for(name: str, index: int) -> torch.Tensor:
    """The mask of image `index`: a named mask; 'random' is seeded by the image index."""
    return mask_lib.named(name, seed=index)


def check_methods(methods: Sequence[str], library: object = None) -> list[str]:
    """`methods` without repeats, each checked: a GAN preset (a key of `config.PRESETS`) or a
    baseline (a key of `baselines.BASELINES`); `nearest` needs a `library` of faces."""
    methods = list(dict.fromkeys(methods))
    unknown = [m for m in methods if m not in PRESETS and m not in BASELINES]
    if unknown:
        raise InpaintInputError(f"unknown method(s) {unknown}; GAN presets: {sorted(PRESETS)}; baselines: {sorted(BASELINES)}")
    if library is None and NEEDS_LIBRARY & set(methods):
        raise InpaintInputError(
            "method 'nearest' fills each hole from the nearest face of a library (the training set) and none was given: "
            "pass library=load_images('synthetic', n=2000) (or 'celeba:DIR'); on the command line, --nn-data synthetic --nn-n 2000"
        )
    return methods


def image_path(out_dir: str | os.PathLike, mask: str, column: str, index: int) -> Path:
    """Where `evaluate` saves a picture: OUT/images/{mask}/{column}/{index}.png, with column a
    method, 'input' (the hole in grey) or 'truth'."""
    return Path(out_dir) / "images" / mask / column / f"{index}.png"


def _save(path: Path, image: Tensor) -> None:
    with safe_files.replacing(path) as temp:
        to_pil(image).save(temp)


def _picture(path: Path) -> Tensor | None:
    """The (3, 64, 64) picture saved at `path`, or None if it is missing or unreadable: versions
    before atomic writes saved PNGs in place, so a kill could leave one cut short."""
    try:
        with Image.open(path) as picture:
            return as_images(picture)[0]
    except (OSError, SyntaxError):  # PIL: OSError for a truncated file, SyntaxError for a corrupt chunk
        return None


def _runs(methods: list[str], overrides: dict[str, object]) -> list[tuple[str, ...]]:
    """The computations behind `methods`, in order: one tuple of methods per search or baseline.
    `thesis` and `yeh2017` share one search when both are asked for, unless an override gives
    the thesis a landmark loss with a gradient (then the two trajectories differ)."""
    shared = [m for m in methods if m in SHARED_SEARCH]
    if len(shared) < 2 or PRESETS["thesis"].with_overrides(**overrides).loss.landmark not in ("hard", "none"):
        return [(m,) for m in methods]
    return [tuple(shared) if m == shared[0] else (m,) for m in methods if m != shared[1]]


def _complete(
    run: tuple[str, ...],
    x: Tensor,
    m: Tensor,
    models: Pretrained | None,
    device: str | torch.device | None,
    detector: LandmarkDetector,
    library: object,
    progress: bool | None,
    overrides: dict[str, object],
) -> dict[str, tuple[Tensor, Tensor | None]]:
    """Each method of `run`: its completed images, and for GAN methods the landmark loss of the
    chosen candidate (None for baselines, which have none)."""
    if run[0] in BASELINES:
        return {run[0]: (inpaint(run[0], x, m, library=library), None)}
    lead = "thesis" if "thesis" in run else run[0]
    # dlib goes only to the hard landmark loss; complete() loads other landmark models itself.
    hard = PRESETS[lead].with_overrides(**overrides).loss.landmark == "hard"
    r = complete(x, m, preset=lead, models=models, device=device, landmark_model=detector if hard else None, progress=progress, **overrides)
    completed = {}
    for method in run:
        c = r if method == lead else r.without_landmark_ranking()
        completed[method] = (c.images, c.losses.landmark[torch.arange(len(x)), c.best])
    return completed


MAX_BATCH = 64  # on an H100, 16 -> 64 faces a batch gained 5 %, 64 -> 128 2 %: the GPU is full


def default_batch_size(device: str | torch.device, candidates: int = 64) -> int:
    """Faces to search together by default. CPU: 1 (batching measured slower per face on 2
    cores). CUDA: the largest power of two up to MAX_BATCH whose search fits in half the free
    GPU memory (the other half for cuDNN's workspaces and the rest of the process), at least 1;
    docs/performance.md has the H100's rates by batch size."""
    device = torch.device(device)
    if device.type != "cuda":
        return 1
    free_mib = torch.cuda.mem_get_info(device)[0] / 2**20
    fits = int(0.5 * free_mib / (MIB_PER_CANDIDATE * candidates))
    return max(1, min(MAX_BATCH, 1 << max(fits, 1).bit_length() - 1))


def _check_settings(out: Path, settings: SearchConfig) -> str | None:
    """Why GAN rows searched with `settings` may not join `out`, or None (then recorded, if not yet).

    Rows searched with other settings (iterations, candidates, precision, seed, ...) would mix
    silently with these in the tables, so settings.json keeps those of the folder's first GAN
    run. `settings` are the overrides resolved on the thesis preset, so `iterations=1000` and
    the default read the same."""
    path = out / "settings.json"
    now = json.loads(json.dumps(dataclasses.asdict(settings)))
    if not path.is_file():
        safe_files.write_text(path, json.dumps(now, indent=2) + "\n")
        return None
    before = json.loads(path.read_text())
    flat = lambda d: {**{k: v for k, v in d.items() if k != "loss"}, **d.get("loss", {})}  # noqa: E731
    before, now = flat(before), flat(now)
    changed = [f"{k}: {before.get(k)!r} there, {now.get(k)!r} now" for k in sorted(before.keys() | now.keys()) if before.get(k) != now.get(k)]
    if not changed:
        return None
    return (
        f"{out} holds rows searched with other settings ({'; '.join(changed)}; see {path}). "
        "Resume with the same options, or write these rows to a new --out folder."
    )


def fingerprint(array: np.ndarray | Tensor) -> str:
    """A short sha256 of an array's bytes (a face, or a network's weights)."""
    data = array.detach().cpu().contiguous().numpy() if isinstance(array, Tensor) else np.ascontiguousarray(array)
    return hashlib.sha256(data.tobytes()).hexdigest()[:16]


def _check_inputs(out: Path, images: np.ndarray, models: Pretrained | None) -> str | None:
    """Why rows for these faces and weights may not join `out`, or None (then recorded).

    Rows of other faces, or of another generator, would be counted as done and mixed into the
    tables; inputs.json keeps each face's hash by index and the generator's, so a resume must
    bring the same faces at the indices it shares (more faces extend the folder) and the same
    weights (a baselines-only run has none and joins any folder)."""
    path = out / "inputs.json"
    now = {"faces": [fingerprint(x) for x in images]}
    if models is not None:
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


def _read_done(path: Path) -> list[dict]:
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
def _exclusive(out: Path, team: distributed.World) -> Iterator[None]:
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


def _faces(images: np.ndarray | Tensor | Sequence[Image.Image]) -> np.ndarray:
    """evaluate's faces as uint8 (N, 64, 64, 3): 8-bit faces in any form io.as_images takes (such
    an array, a list of PIL images, a uint8 (N, 3, 64, 64) tensor or array), checked by it."""
    form = "evaluate takes uint8 (N, 64, 64, 3) faces (semantic_inpaint.data.load_images gives them)"
    if isinstance(images, np.ndarray) and images.ndim == 4 and images.shape[1] == 3 and images.shape[-1] != 3:
        images = torch.from_numpy(images)  # (N, 3, H, W): io takes channels first as a tensor
    items = images if isinstance(images, (list, tuple)) else [images]
    if not all(isinstance(a, Image.Image) or getattr(a, "dtype", None) in (np.uint8, torch.uint8) for a in items):
        kinds = sorted({str(getattr(a, "dtype", type(a).__name__)) for a in items})
        raise InpaintInputError(
            f"{form}, got {', '.join(kinds)}: rounding to 8 bits would change the truth the metrics compare with, "
            "so do it yourself if that is meant: (x * 255).round().astype(np.uint8)"
        )
    try:
        x = as_images(images)
    except InpaintInputError as e:
        raise InpaintInputError(f"{form}: {e}") from None
    return (x * 255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()


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
    methods: GAN presets and baselines, mixed (see the module docstring and `check_methods`).
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
    settings = THESIS.with_overrides(**overrides)  # what the overrides make of the presets' shared options
    device = resolve_device(device)
    if batch_size is None:
        batch_size = default_batch_size(device, settings.candidates)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InpaintInputError(f"cannot make the output folder {out} ({e.strerror}): write the results somewhere else") from None
    if not os.access(out, os.W_OK):
        raise InpaintInputError(f"the output folder {out} is not writable: write the results somewhere else")
    team = distributed.world()  # one process, or one rank of a torchrun evaluation
    with _exclusive(out, team):  # before anything under OUT is read or written
        return _evaluate(images, out, masks, methods, models, batch_size, progress, library, device, settings, team, overrides)


def _evaluate(
    images: np.ndarray,
    out: Path,
    masks: tuple[str, ...],
    methods: list[str],
    models: Pretrained | None,
    batch_size: int,
    progress: bool | None,
    library: object,
    device: torch.device,
    settings: SearchConfig,
    team: distributed.World,
    overrides: dict[str, object],
) -> list[dict]:
    """`evaluate`, its arguments checked, with OUT locked."""
    csv_path = out / "per_image.csv"
    gan = any(m in PRESETS for m in methods)
    if gan and models is None:
        models = load_pretrained(device=device)
    problem = team.broadcast(_check_inputs(out, images, models if gan else None) if team.is_main else None)
    if gan and not problem:
        problem = team.broadcast(_check_settings(out, settings) if team.is_main else None)
    if problem:
        raise InpaintInputError(problem)
    rows = team.broadcast(_read_done(csv_path) if team.is_main else None)  # rank 0's file says what is done
    done = {(r["image"], r["mask"], r["method"]) for r in rows}
    detector = LandmarkDetector()
    truth_all = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
    with open(csv_path if team.is_main else os.devnull, "a", newline="") as f:  # only rank 0 writes the CSV
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        for mask_name in masks:
            # The input and truth of every image, also where all its rows are done (a folder
            # from before pictures were saved), so that the figure always has its rows; drawn
            # again if unreadable, as the faces are at hand.
            for i in range(len(images)):
                if team.owns(i) and any(_picture(image_path(out, mask_name, c, i)) is None for c in ("input", "truth")):
                    m = mask_for(mask_name, i)[None]
                    _save(image_path(out, mask_name, "input", i), truth_all[i] * m + 0.5 * (1 - m))
                    _save(image_path(out, mask_name, "truth", i), truth_all[i])
            for run in _runs(methods, overrides):
                todo = [i for i in range(len(images)) if team.owns(i) and any((str(i), mask_name, m) not in done for m in run)]
                mark = len(rows)
                report = _Progress(f"{mask_name} {'+'.join(run)}", len(todo), enabled=progress is not False and team.is_main)
                for start in range(0, len(todo), batch_size):
                    idx = todo[start : start + batch_size]
                    m = torch.stack([mask_for(mask_name, i) for i in idx])[:, None]
                    truth = truth_all[idx]
                    t0 = time.perf_counter()
                    completed = _complete(run, truth, m, models, device, detector, library, progress, overrides)
                    seconds = (time.perf_counter() - t0) / len(idx)
                    for method, (filled, landmark_loss) in completed.items():
                        for j, row in enumerate(_score(filled, landmark_loss, truth, m, detector)):
                            if (str(idx[j]), mask_name, method) in done:
                                continue
                            # The picture before the row: the row marks the image done, so a
                            # kill between the two leaves a picture that is simply redrawn.
                            _save(image_path(out, mask_name, method, idx[j]), filled[j])
                            row = {"image": str(idx[j]), "mask": mask_name, "method": method, "seconds": f"{seconds:.3f}"} | row
                            writer.writerow(row)
                            rows.append(row)
                    safe_files.sync(f)
                    report(len(idx))
                for row in team.gather_others(rows[mark:]):  # torchrun: the other ranks' rows of this mask and run
                    writer.writerow(row)
                    rows.append(row)
                safe_files.sync(f)
    if not team.is_main:
        return rows
    safe_files.write_text(out / "results.md", summarise(rows))
    for mask_name in masks:
        with safe_files.replacing(out / f"figure_{mask_name}.png") as temp:
            save_figure(figure(out, mask_name, methods), temp)
    return rows


class _Progress:
    """A line on stderr every PROGRESS_EVERY seconds (and at the end): images done, rate and time
    left. A thesis-settings search takes minutes per image on a CPU; logs, CI and captured
    notebook output show no progress bar, so without this a run looks hung."""

    def __init__(self, what: str, total: int, enabled: bool = True) -> None:
        self.what, self.total, self.enabled, self.every = what, total, enabled and total > 0, PROGRESS_EVERY
        self.done, self.start = 0, time.perf_counter()
        self.last = self.start

    def __call__(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if not self.enabled or (now - self.last < self.every and self.done < self.total):
            return
        self.last = now
        rate = (now - self.start) / self.done
        print(f"evaluate {self.what}: {self.done}/{self.total} images, {rate:.1f} s each, {rate * (self.total - self.done) / 60:.0f} min left", file=sys.stderr, flush=True)


def _score(images: Tensor, landmark_loss: Tensor | None, truth: Tensor, m: Tensor, detector: LandmarkDetector) -> list[dict]:
    """Per-image metrics of completed images against the ground truth, as formatted CSV fields.
    `landmark_loss`: the thesis's L_d of each chosen candidate; baselines have none ('nan')."""
    in_hole = hole(m)
    values = {
        "psnr": psnr(images, truth),
        "ssim": ssim(images, truth),
        "psnr_hole": psnr(images, truth, region=in_hole),
        "ssim_hole": ssim(images, truth, region=in_hole),
        "landmark_error": landmark_error(images, truth, detector),
        "landmark_loss": torch.full((len(truth),), float("nan")) if landmark_loss is None else landmark_loss,
    }
    return [{k: f"{float(v[j]):.6f}" for k, v in values.items()} for j in range(len(truth))]


def figure(out_dir: str | os.PathLike, mask: str, methods: Sequence[str], n: int = FIGURE_IMAGES) -> Figure:
    """The comparison for `mask` from the PNGs `evaluate` saved under `out_dir`: the first `n`
    images saved for that mask as rows, input | each method | ground truth as columns. A
    picture not on disk (a method not run on that image), or unreadable (with a warning), is
    left blank."""
    saved = image_path(out_dir, mask, "truth", 0).parent.glob("*.png")
    indices = sorted(int(p.stem) for p in saved if p.stem.isdigit())[:n]  # not a killed write's temp file
    if not indices:
        raise InpaintInputError(f"no images saved for mask {mask!r} under {out_dir}: run evaluate() there first")

    def load(column: str, i: int) -> Tensor | None:
        path = image_path(out_dir, mask, column, i)
        picture = _picture(path)
        if picture is None and path.is_file():
            # Left blank rather than redrawn: only a search (minutes a face) could draw a
            # method's picture again, and its row is done. evaluate redraws input and truth.
            warnings.warn(f"{path} cannot be read (cut short by an older version killed while writing it) and is left blank in the figure: delete it and its row in per_image.csv to compute it again")
        return picture

    columns = {column: [load(column, i) for i in indices] for column in ["input", *methods, "truth"]}
    return comparison_figure(columns, row_labels=[f"#{i}" for i in indices], title=f"mask: {mask}")


def bootstrap_ci(values: np.ndarray, n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap 95 % interval of the mean (over images)."""
    rng = np.random.default_rng(seed)
    means = rng.choice(values, (n_boot, len(values)), replace=True).mean(1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def _cell(v: np.ndarray, key: str, signed: bool = False) -> str:
    """'mean [95 % CI] (n=...)' of the finite values of `v`, or '-' if there are none."""
    v = v[np.isfinite(v)]  # a perfect hole gives PSNR = inf; reported by count
    if len(v) == 0:
        return "-"
    lo, hi = bootstrap_ci(v)
    f = f"{'+' if signed else ''}.{3 if 'ssim' in key else 2}f"
    return f"{v.mean():{f}} [{lo:{f}}, {hi:{f}}] (n={len(v)})"


def summarise(rows: list[dict]) -> str:
    """Markdown tables, one per metric: masks down, methods across, 'mean [95 % CI]' (n images);
    then, with two methods or more, each method's difference from the first, paired by image
    (the interval of the mean difference says whether a method helps on these images)."""
    masks = list(dict.fromkeys(r["mask"] for r in rows))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    lines = []
    for key, title in METRICS.items():
        lines += [f"### {title}", "", "| mask | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
        for mask_name in masks:
            cells = [_cell(np.array([float(r[key]) for r in rows if r["mask"] == mask_name and r["method"] == m]), key) for m in methods]
            lines.append(f"| {mask_name} | " + " | ".join(cells) + " |")
        lines.append("")
    if len(methods) < 2:
        return "\n".join(lines)
    base, others = methods[0], methods[1:]
    lines += [f"## Differences from {base}, paired by image (method minus {base})", ""]
    for key, title in METRICS.items():
        lines += [f"### {title}", "", "| mask | " + " | ".join(others) + " |", "|---" * (len(others) + 1) + "|"]
        for mask_name in masks:
            cells = []
            base_rows = {r["image"]: r for r in rows if r["mask"] == mask_name and r["method"] == base}
            for m in others:
                mine = {r["image"]: r for r in rows if r["mask"] == mask_name and r["method"] == m}
                diffs = [float(mine[i][key]) - float(r[key]) for i, r in base_rows.items() if i in mine]
                cells.append(_cell(np.array(diffs), key, signed=True))
            lines.append(f"| {mask_name} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def project(images: np.ndarray, models: Pretrained, batch_size: int | None = None, **overrides: object) -> torch.Tensor:
    """How well G's range covers `images`: PSNR (dB) of G(z_best) to each whole image, after an
    unweighted L1 search over all pixels (no hole, no prior or landmark term). `batch_size`:
    faces searched together (default: `default_batch_size`); it does not change the result."""
    config = YEH2017.with_overrides(prior_weight=0.0, **overrides)
    g, d = models
    device = next(g.parameters()).device
    batch_size = batch_size or default_batch_size(device, config.candidates)
    out = []
    for start in range(0, len(images), batch_size):
        x = from_uint8(images[start : start + batch_size]).to(device)
        ones = torch.ones(len(x), 1, 64, 64, device=device)
        r = search(g, d, x, ones, config, weights=ones)
        best = r.candidates[torch.arange(len(x)), r.best]
        out.append(psnr(((best.cpu() + 1) / 2).clamp(0, 1), (x.cpu() + 1) / 2))
    return torch.cat(out)


@torch.no_grad()
def prior_report(models: Pretrained, real: np.ndarray, seed: int = 0) -> dict[str, float]:
    """Mean D score (sigmoid of the logit) on: held-out real faces, G's samples, and damaged
    versions of the real faces (centre grey hole, 80 % pixels dropped, Gaussian noise 0.2)."""
    g, d = models
    device = next(d.parameters()).device
    x = from_uint8(real).to(device)
    gen = torch.Generator().manual_seed(seed)
    fake = g(sample_z(len(x), g.z_dim, gen).to(device))
    variants = {
        "real": x,
        "generated": fake,
        "centre hole (grey)": x * mask_lib.centre().to(device),
        "random 80% dropped": x * mask_lib.random(seed=seed).to(device),
        "noise sigma 0.2": (x + 0.2 * torch.randn(x.shape, generator=gen).to(device)).clamp(-1, 1),
    }
    scores = {k: torch.sigmoid(d(v)) for k, v in variants.items()}
    report = {k: float(v.mean()) for k, v in scores.items()}
    # the tail: how often G's samples score below the median real face
    report["generated below median real"] = float((scores["generated"] < scores["real"].median()).float().mean())
    return report


__all__ = ["bootstrap_ci", "check_methods", "default_batch_size", "evaluate", "figure", "fingerprint", "image_path", "mask_for", "prior_report", "project", "summarise"]

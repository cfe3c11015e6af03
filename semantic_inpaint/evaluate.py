"""The tables harness: methods x masks on a set of faces, per-image metrics, resumable.

`thesis` and `yeh2017` run one shared search and are ranked two ways (see
`Completion.without_landmark_ranking`); their `seconds` column is that shared search's time.
Writes OUT/per_image.csv (one row per image, mask and method; rows already there are not
recomputed, so an interrupted run resumes) and OUT/results.md (tables laid out like the
thesis's tables 1 and 2: masks down, methods across, mean and bootstrap 95 % interval).
Metrics are taken after the overlay of known pixels, on images in [0, 1]: whole image
(primary, as in the thesis) and hole only (secondary), plus the dlib landmark error.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from semantic_inpaint import masks as mask_lib
from semantic_inpaint.complete import complete
from semantic_inpaint.config import PRESETS, YEH2017
from semantic_inpaint.losses.landmarks import LandmarkDetector
from semantic_inpaint.metrics import hole, landmark_error, psnr, ssim
from semantic_inpaint.models.dcgan import sample_z
from semantic_inpaint.models.weights import Pretrained, default_device
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


def mask_for(name: str, index: int) -> torch.Tensor:
    """The mask of image `index`: a named mask; 'random' is seeded by the image index."""
    return mask_lib.named(name, seed=index)


def _read_done(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def evaluate(
    images: np.ndarray,
    out_dir: str | os.PathLike,
    masks: Sequence[str] = ("centre", "left", "right", "random"),
    methods: Sequence[str] = ("yeh2017", "thesis"),
    models: Pretrained | None = None,
    batch_size: int | None = None,
    progress: bool | None = None,
    **overrides: object,
) -> list[dict]:
    """Run every method on every mask for uint8 (N, 64, 64, 3) `images`; returns all rows.

    `overrides` go to every method's preset (e.g. iterations, candidates, device).
    `batch_size`: images searched together; default 8 on CUDA, 1 on the CPU, where batching
    measured slower per image (docs/performance.md).
    """
    if batch_size is None:
        batch_size = 8 if str(overrides.get("device") or default_device()).startswith("cuda") else 1
    unknown = set(methods) - set(PRESETS)
    if unknown:
        raise ValueError(f"unknown method(s) {sorted(unknown)}; available: {sorted(PRESETS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / "per_image.csv"
    rows = _read_done(csv_path)
    done = {(r["image"], r["mask"], r["method"]) for r in rows}
    detector = LandmarkDetector()
    truth_all = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
    new_file = not csv_path.is_file()
    with open(csv_path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        if new_file:
            writer.writeheader()
        for mask_name in masks:
            # thesis and yeh2017 share one search (the hard landmark loss has no gradient) and
            # differ only in the ranking: search once, rank both ways.
            todo = [i for i in range(len(images)) if any((str(i), mask_name, m) not in done for m in methods)]
            run_as = "thesis" if "thesis" in methods else methods[0]
            for start in range(0, len(todo), batch_size):
                idx = todo[start : start + batch_size]
                m = torch.stack([mask_for(mask_name, i) for i in idx])[:, None]
                truth = truth_all[idx]
                t0 = time.perf_counter()
                shared = complete(truth, m, preset=run_as, models=models, landmark_model=detector, progress=progress, **overrides)
                seconds = (time.perf_counter() - t0) / len(idx)
                for method in methods:
                    r = shared.without_landmark_ranking() if method == "yeh2017" and run_as == "thesis" else shared
                    for j, row in enumerate(_score(r, truth, m, detector)):
                        if (str(idx[j]), mask_name, method) in done:
                            continue
                        row = {"image": str(idx[j]), "mask": mask_name, "method": method, "seconds": f"{seconds:.3f}"} | row
                        writer.writerow(row)
                        rows.append(row)
                f.flush()
    (out / "results.md").write_text(summarise(rows))
    return rows


def _score(r, truth: torch.Tensor, m: torch.Tensor, detector: LandmarkDetector) -> list[dict]:
    """Per-image metrics of a Completion against the ground truth, as formatted CSV fields."""
    in_hole = hole(m)
    values = {
        "psnr": psnr(r.images, truth),
        "ssim": ssim(r.images, truth),
        "psnr_hole": psnr(r.images, truth, region=in_hole),
        "ssim_hole": ssim(r.images, truth, region=in_hole),
        "landmark_error": landmark_error(r.images, truth, detector),
        "landmark_loss": r.losses.landmark[torch.arange(len(truth)), r.best],
    }
    return [{k: f"{float(v[j]):.6f}" for k, v in values.items()} for j in range(len(truth))]


def bootstrap_ci(values: np.ndarray, n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap 95 % interval of the mean (over images)."""
    rng = np.random.default_rng(seed)
    means = rng.choice(values, (n_boot, len(values)), replace=True).mean(1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def summarise(rows: list[dict]) -> str:
    """Markdown tables, one per metric: masks down, methods across, 'mean [95 % CI]' (n images)."""
    masks = list(dict.fromkeys(r["mask"] for r in rows))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    lines = []
    for key, title in METRICS.items():
        lines += [f"### {title}", "", "| mask | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
        for mask_name in masks:
            cells = []
            for method in methods:
                v = np.array([float(r[key]) for r in rows if r["mask"] == mask_name and r["method"] == method])
                v = v[np.isfinite(v)]  # a perfect hole gives PSNR = inf; reported by count below
                if len(v) == 0:
                    cells.append("-")
                    continue
                lo, hi = bootstrap_ci(v)
                digits = 3 if "ssim" in key else 2
                cells.append(f"{v.mean():.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}] (n={len(v)})")
            lines.append(f"| {mask_name} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def project(images: np.ndarray, models: Pretrained, batch_size: int = 8, **overrides: object) -> torch.Tensor:
    """How well G's range covers `images`: PSNR (dB) of G(z_best) to each whole image, after an
    unweighted L1 search over all pixels (no hole, no prior or landmark term)."""
    config = YEH2017.with_overrides(prior_weight=0.0, **overrides)
    g, d = models
    device = next(g.parameters()).device
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


__all__ = ["bootstrap_ci", "evaluate", "mask_for", "prior_report", "project", "summarise"]

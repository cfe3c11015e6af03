"""The pictures and numbers of a model card: training curves, a sample grid, D as a prior, how
close G gets to held-out faces (projection PSNR), and a memorisation check (each sample beside
its nearest training face)."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image

from semantic_inpaint import masks as mask_lib
from semantic_inpaint.config import YEH2017
from semantic_inpaint.evaluate import default_batch_size
from semantic_inpaint.metrics import psnr
from semantic_inpaint.models.dcgan import sample_z
from semantic_inpaint.models.weights import Pretrained
from semantic_inpaint.search import search
from semantic_inpaint.train.dcgan_step import REBUILD_COLUMN
from semantic_inpaint.viz import from_uint8, image_grid, to_uint8


def training_curve(log_csv: str | os.PathLike) -> Figure:
    """D's loss and its mean scores on real, generated and damaged faces along training, and
    with `reconstruction` the error of the rebuilt real faces."""
    with open(log_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    step = np.array([int(r["step"]) for r in rows])
    col = lambda k: np.array([float(r[k]) for r in rows])  # noqa: E731
    smooth = lambda v: np.convolve(v, np.ones(25) / 25, mode="valid")  # noqa: E731
    s = step[24:]
    rebuilt = REBUILD_COLUMN in rows[0]
    fig = Figure(figsize=(15 if rebuilt else 10, 3.5), layout="constrained")
    a, b, *c = fig.subplots(1, 3 if rebuilt else 2)
    a.plot(s, smooth(col("loss_d")), label="D loss")
    joint = col("loss_g") > 0
    if joint.any():
        a.plot(step[joint], col("loss_g")[joint], alpha=0.6, label="G loss (joint phase)")
    a.set(xlabel="step", title="losses (25-step moving average for D)")
    a.legend()
    for key, label in (("d_real", "real"), ("d_fake", "generated"), ("d_damaged", "damaged real")):
        b.plot(s, smooth(col(key)), label=label)
    b.set(xlabel="step", ylabel="mean D(x)", ylim=(0, 1), title="discriminator scores")
    b.legend()
    if rebuilt:
        c[0].plot(s, smooth(col(REBUILD_COLUMN)))
        c[0].set(xlabel="step", ylabel="MSE (images in [-1, 1])", title="real faces rebuilt by G(E(x * m, m))")
    if (~joint).any() and joint.any():
        for ax in (a, b, *c):
            ax.axvline(step[joint][0], color="grey", ls=":", lw=1)
    return fig


@torch.no_grad()
def sample_grid(models: Pretrained, n: int = 64, seed: int = 0) -> Image.Image:
    """n samples G(z), z ~ U[-1, 1]^100 from `seed`, 8 a row, upscaled 2x for viewing."""
    g = models.generator
    z = sample_z(n, g.z_dim, torch.Generator().manual_seed(seed)).to(next(g.parameters()).device)
    grid = Image.fromarray(image_grid(to_uint8(g(z))))
    return grid.resize((grid.width * 2, grid.height * 2), Image.NEAREST)


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


def project(images: np.ndarray, models: Pretrained, batch_size: int | None = None, **overrides: object) -> torch.Tensor:
    """How well G's range covers `images`: PSNR (dB) of G(z_best) to each whole image, after an
    unweighted L1 search over all pixels (no hole, no prior or landmark term). `batch_size`:
    faces searched together (default: `evaluate.default_batch_size`); it does not change the result."""
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
def memorisation(models: Pretrained, train: np.ndarray, held_out: np.ndarray, n: int = 16, seed: int = 0) -> tuple[Image.Image, dict]:
    """Does G copy its training faces? `n` samples (seed `seed`), each beside its nearest
    training face (RMS pixel distance, uint8 (N, 64, 64, 3) `train`), as a picture of pairs,
    and the distances. For scale, the same distance from each of `n` `held_out` faces to its
    nearest training face: a G that memorised would sit far below that; one that generalises
    sits near or above it."""
    g = models.generator
    z = sample_z(n, g.z_dim, torch.Generator().manual_seed(seed)).to(next(g.parameters()).device)
    samples = to_uint8(g(z))
    flat = torch.from_numpy(train.reshape(len(train), -1)).float()

    def nearest(images: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        d = torch.cdist(torch.from_numpy(images.reshape(len(images), -1)).float(), flat) / np.sqrt(flat.shape[1])
        return d.min(dim=1)

    dist, index = nearest(samples)
    held_dist, _ = nearest(held_out[:n])
    pairs = np.stack([x for pair in zip(samples, train[index.numpy()]) for x in pair])
    grid = Image.fromarray(image_grid(pairs))
    picture = grid.resize((grid.width * 2, grid.height * 2), Image.NEAREST)
    report = {
        "sample_to_nearest_train_rms": [round(float(v), 2) for v in dist],
        "held_out_to_nearest_train_rms": [round(float(v), 2) for v in held_dist],
    }
    return picture, report


def write_card_assets(models: Pretrained, run_dir: str | os.PathLike | None, holdout: np.ndarray, out: str | os.PathLike) -> dict:
    """training_curve.png (from `run_dir`'s log.csv; skipped if None), samples.png and
    prior.json (D on held-out faces) into `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if run_dir is not None:
        training_curve(Path(run_dir) / "log.csv").savefig(out / "training_curve.png", dpi=110)
    sample_grid(models).save(out / "samples.png")
    report = prior_report(models, holdout) | {"held_out_faces": len(holdout)}
    (out / "prior.json").write_text(json.dumps(report, indent=2) + "\n")
    return report

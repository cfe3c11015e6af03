"""The pictures and numbers of a model card: training curves, a sample grid, D as a prior, and
a memorisation check (each sample beside its nearest training face)."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image

from semantic_inpaint.models.dcgan import sample_z
from semantic_inpaint.models.weights import Pretrained
from semantic_inpaint.viz import image_grid, to_uint8


def training_curve(log_csv: str | os.PathLike) -> Figure:
    """D's loss and its mean scores on real, generated and damaged faces along training."""
    with open(log_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    step = np.array([int(r["step"]) for r in rows])
    col = lambda k: np.array([float(r[k]) for r in rows])  # noqa: E731
    smooth = lambda v: np.convolve(v, np.ones(25) / 25, mode="valid")  # noqa: E731
    s = step[24:]
    fig = Figure(figsize=(10, 3.5), layout="constrained")
    a, b = fig.subplots(1, 2)
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
    if (~joint).any() and joint.any():
        for ax in (a, b):
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
    from semantic_inpaint.evaluate import prior_report

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if run_dir is not None:
        training_curve(Path(run_dir) / "log.csv").savefig(out / "training_curve.png", dpi=110)
    sample_grid(models).save(out / "samples.png")
    report = prior_report(models, holdout) | {"held_out_faces": len(holdout)}
    (out / "prior.json").write_text(json.dumps(report, indent=2) + "\n")
    return report

"""The pictures and numbers of a model card: training curves, a sample grid, D as a prior."""

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

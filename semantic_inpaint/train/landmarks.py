"""Distil dlib's 68-point predictor into `LandmarkNet` (the soft landmark loss's model).

Data: frames exactly as the landmark loss sees them: a face with one of the thesis's masks
(none, centre, left, right, random 80 %) applied, missing pixels grey (`masked_frames`),
labelled by dlib with the whole frame as the box. The faces are samples of the shipped
generator (z ~ U[-1, 1], the search's own distribution: after a search z stays spread over
the cube, mean |z| about 0.5 as for uniform z) mixed with real training faces, which are what
the reference points come from. Held-out frames (other seeds, the held-out faces) measure the
net's error against dlib in pixels.

Recipe: Adam (lr 2e-3, cosine decay to 0), batch 128, L1 loss on the points in pixels (robust
to the few frames where dlib's cascade jumps), a few epochs over a fixed labelled set.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from semantic_inpaint import masks as mask_lib
from semantic_inpaint.config import check_numbers, check_ranges
from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.losses.landmarks import LandmarkDetector, masked_frames
from semantic_inpaint.models.dcgan import Generator, sample_z
from semantic_inpaint.models.landmarks import LandmarkNet
from semantic_inpaint.progress import shown
from semantic_inpaint.viz import from_uint8, to_uint8

MASK_KINDS = ("none", "centre", "left", "right", "random")


@dataclass(frozen=True)
class LandmarkTrainConfig:
    samples: int = 32768  # generator samples labelled for training
    faces: int = 8192  # real training faces labelled for training, beside the samples
    epochs: int = 10
    batch_size: int = 128
    lr: float = 2e-3
    width: int = 24
    seed: int = 0

    def __post_init__(self) -> None:
        check_numbers(self, ("samples", "faces", "epochs", "batch_size", "width", "seed"), ("lr",))
        bounds = dict.fromkeys(("samples", "faces", "seed"), (0, math.inf)) | dict.fromkeys(("epochs", "batch_size", "width"), (1, math.inf))
        check_ranges(self, bounds, positive=("lr",))
        if self.samples + self.faces == 0:
            raise InpaintInputError("samples and faces are both 0: nothing to learn from; e.g. samples=32768, faces=8192")


def _mask(kind: str, seed: int) -> torch.Tensor:
    """A (64, 64) mask of one of MASK_KINDS ('none': nothing missing)."""
    return torch.ones(64, 64) if kind == "none" else mask_lib.named(kind, seed=seed)


def _masks(kind: str, n: int) -> torch.Tensor:
    """(n, 1, 64, 64) masks of one kind, 'random' ones seeded by the index."""
    return torch.stack([_mask(kind, i) for i in range(n)])[:, None]


def random_masks(n: int, gen: torch.Generator) -> torch.Tensor:
    """(n, 1, 64, 64) masks, each one of MASK_KINDS drawn uniformly (random ones seeded per frame)."""
    kinds = torch.randint(0, len(MASK_KINDS), (n,), generator=gen).tolist()
    seeds = torch.randint(0, 2**31 - 1, (n,), generator=gen).tolist()
    return torch.stack([_mask(MASK_KINDS[k], s) for k, s in zip(kinds, seeds)])[:, None]


@torch.no_grad()
def generator_samples(generator: Generator, n: int, seed: int, batch: int = 512) -> np.ndarray:
    """uint8 (n, 64, 64, 3) samples G(z), z ~ U[-1, 1] from `seed`."""
    z = sample_z(n, generator.z_dim, torch.Generator().manual_seed(seed))
    device = next(generator.parameters()).device
    return np.concatenate([to_uint8(generator(z[i : i + batch].to(device)).cpu()) for i in range(0, n, batch)])


def labelled_frames(faces: np.ndarray, detector: LandmarkDetector, seed: int, batch: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Masked uint8 frames of `faces` (one random mask each) and dlib's points for them (float32)."""
    gen = torch.Generator().manual_seed(seed)
    frames, points = [], []
    with shown("dlib labels", len(faces), "faces", None, quiet_end=True) as advance:
        for i in range(0, len(faces), batch):
            x = from_uint8(faces[i : i + batch])
            f = masked_frames(x, random_masks(len(x), gen))
            frames.append(f)
            points.append(detector(f).astype(np.float32))
            advance(len(x))
    return np.concatenate(frames), np.concatenate(points)


def point_error(net: LandmarkNet, frames: np.ndarray, points: np.ndarray, batch: int = 512) -> float:
    """Mean distance (px) between the net's points and dlib's over all frames and points."""
    net.eval()
    device = next(net.parameters()).device
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(frames), batch):
            pred = net(from_uint8(frames[i : i + batch]).to(device)).cpu()
            total += float((pred - torch.from_numpy(points[i : i + batch])).norm(dim=-1).mean(-1).sum())
    return total / len(frames)


def train_landmarks(
    frames: np.ndarray,
    points: np.ndarray,
    config: LandmarkTrainConfig,
    out_dir: str | Path,
    val: tuple[np.ndarray, np.ndarray] | None = None,
    device: str | torch.device = "cpu",
) -> LandmarkNet:
    """Fit a LandmarkNet to (frames, dlib points); writes OUT/log.csv (epoch, train L1, val error)."""
    torch.manual_seed(config.seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    net = LandmarkNet(config.width).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=config.lr)
    steps_per_epoch = math.ceil(len(frames) / config.batch_size)
    total_steps = config.epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total_steps) / total_steps)))
    order_gen = torch.Generator().manual_seed(config.seed)
    target_all = torch.from_numpy(points)
    with open(out / "log.csv", "w", newline="") as f:
        log = csv.writer(f)
        log.writerow(["epoch", "train_l1_px", "val_error_px"])
        with shown("train-landmarks", total_steps, "steps", None) as advance:
            for epoch in range(config.epochs):
                net.train()
                order = torch.randperm(len(frames), generator=order_gen)
                running = 0.0
                for s in range(steps_per_epoch):
                    idx = order[s * config.batch_size : (s + 1) * config.batch_size]
                    x = from_uint8(frames[idx.numpy()]).to(device)
                    loss = (net(x) - target_all[idx].to(device)).abs().mean()
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    sched.step()
                    value = float(loss.detach())
                    running += value
                    advance(epoch=epoch, loss=f"{value:.3f}")
                val_err = point_error(net, *val) if val is not None else float("nan")
                log.writerow([epoch, f"{running / steps_per_epoch:.4f}", f"{val_err:.4f}"])
                f.flush()
    net.eval()
    (out / "config.json").write_text(json.dumps(asdict(config), indent=2))
    return net


def distil(
    generator: Generator,
    train_faces: np.ndarray,
    holdout_faces: np.ndarray,
    config: LandmarkTrainConfig,
    out_dir: str | Path,
    workers: int = 2,
    device: str | torch.device = "cpu",
) -> tuple[LandmarkNet, dict[str, float]]:
    """Label, train and measure: returns the net and its held-out error (px) against dlib on
    masked generator samples ('samples') and on masked held-out faces ('faces')."""
    detector = LandmarkDetector(workers=workers)
    s = config.seed
    train_x = np.concatenate([generator_samples(generator, config.samples, seed=s), train_faces[: config.faces]])
    frames, points = labelled_frames(train_x, detector, seed=s)
    val_samples = labelled_frames(generator_samples(generator, 2048, seed=s + 1), detector, seed=s + 1)
    val_faces = labelled_frames(holdout_faces, detector, seed=s + 2)
    detector.close()
    net = train_landmarks(frames, points, config, out_dir, val=val_samples, device=device)
    errors = {"samples": point_error(net, *val_samples), "faces": point_error(net, *val_faces)}
    return net.cpu(), errors


def errors_by_mask(net: LandmarkNet, faces: np.ndarray, detector: LandmarkDetector) -> dict[str, float]:
    """The net's mean point error (px) against dlib on `faces` under each mask kind."""
    x = from_uint8(faces)
    out = {}
    for kind in MASK_KINDS:
        frames = masked_frames(x, _masks(kind, len(x)))
        out[kind] = point_error(net, frames, detector(frames).astype(np.float32))
    return out


def card_assets(net: LandmarkNet, run_dir: str | Path, holdout: np.ndarray, out: str | Path, detector: LandmarkDetector) -> dict:
    """landmarks_curve.png (from run_dir/log.csv), landmarks_samples.png (dlib's points and the
    net's on masked held-out faces) and landmarks.json (errors by mask) into `out`."""
    from matplotlib.figure import Figure

    out = Path(out)
    with open(Path(run_dir) / "log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    fig = Figure(figsize=(5, 3.2), layout="constrained")
    ax = fig.subplots()
    epochs = [int(r["epoch"]) + 1 for r in rows]
    ax.plot(epochs, [float(r["train_l1_px"]) for r in rows], "o-", label="train: L1 per coordinate (px)")
    ax.plot(epochs, [float(r["val_error_px"]) for r in rows], "s-", label="held-out samples: point error (px)")
    ax.set(xlabel="epoch", ylabel="px", title="landmark net vs dlib", ylim=(0, None))
    ax.legend()
    fig.savefig(out / "landmarks_curve.png", dpi=110)

    fig = Figure(figsize=(2 * len(MASK_KINDS), 2 * 4), layout="constrained")
    axes = fig.subplots(4, len(MASK_KINDS))
    x = from_uint8(holdout[:4])
    for c, kind in enumerate(MASK_KINDS):
        frames = masked_frames(x, _masks(kind, len(x)))
        truth = detector(frames)
        with torch.no_grad():
            pred = net(from_uint8(frames)).numpy()
        for r in range(len(x)):
            a = axes[r, c]
            a.imshow(frames[r])
            a.scatter(*truth[r].T, s=4, c="red", label="dlib")
            a.scatter(*pred[r].T, s=4, c="lime", label="net")
            a.set(xlim=(-0.5, 63.5), ylim=(63.5, -0.5))  # the frame, even where points fall outside it
            a.set_axis_off()
        axes[0, c].set_title(kind)
    axes[0, 0].legend(loc="lower left", fontsize=6)
    fig.savefig(out / "landmarks_samples.png", dpi=110)

    report = {"held_out_faces": len(holdout), "error_px_by_mask": errors_by_mask(net, holdout, detector)}
    (out / "landmarks.json").write_text(json.dumps(report, indent=2) + "\n")
    return report

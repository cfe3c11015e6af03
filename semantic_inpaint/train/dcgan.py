"""DCGAN training (section 2.3): Adam, LeakyReLU 0.2 in D, N(0, 0.02) init, batch norm except
G's output and D's input, z ~ U[-1, 1]^100.

Where the thesis is not explicit we follow Radford et al.'s known-good recipe: lr 2e-4, betas
(0.5, 0.999), batch 64, the non-saturating generator loss. (The thesis writes lr 0.001.)

Additions of the project's own, all off by default for a plain DCGAN:
- `warm_start` / `warm_start_d`: start G (and D) from other weights (the teacher,
  `teacher_warm_start`, or a shipped weight set) and train D alone for `d_only_steps` before
  joint training.
- `augment`: DiffAugment on every image D sees (`augment.py`), for training on ~1k faces.
- `freeze_d`: D's first `freeze_d` convolutions keep their warm-start weights (FreezeD, Mo et
  al. 2020): the low-level filters transfer, the few faces only train the layers above.
- `damaged_negatives`: D also sees damaged real faces (grey holes, dropped pixels, noise,
  spliced patches) labelled fake. D serves as the inpainting prior (eq. 19), so it must score a
  face with a hole below a whole face; a plain GAN discriminator need not learn that.
D sees real, fake and damaged images in one batch, so its batch-norm statistics in training are
those of the mixture, and the running statistics used at inference (eval mode) match them.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from tqdm.auto import tqdm

from semantic_inpaint import distributed
from semantic_inpaint.models.dcgan import Discriminator, Generator, sample_z
from semantic_inpaint.models.weights import write_manifest
from semantic_inpaint.train import checkpoint
from semantic_inpaint.train.augment import diff_augment, parse_policy
from semantic_inpaint.train.parallel import rows_of, share, sync_batch_norm
from semantic_inpaint.validate import to_float
from semantic_inpaint.viz import image_grid, to_uint8


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 20_000
    batch_size: int = 64
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    d_only_steps: int = 0
    damaged_negatives: float = 0.0  # damaged real faces per real face in D's batch (0 = plain DCGAN)
    augment: str = ""  # DiffAugment policy for D's inputs, e.g. "color,translation" ('' = none)
    freeze_d: int = 0  # D's first convolutions kept frozen (FreezeD); needs warm_start_d
    width: int = 64
    z_dim: int = 100
    seed: int = 0
    sample_every: int = 250
    checkpoint_every: int = 250


def teacher_warm_start(teacher: Generator) -> dict[str, torch.Tensor]:
    """The teacher's state adapted to z ~ U[-1, 1]: its first layer scaled by sqrt(3).

    U[-1, 1] has variance 1/3, so G(z) = teacher(sqrt(3) z) sees inputs of the teacher's N(0, 1)
    variance; the first layer is linear in z, so scaling its weight does exactly that.
    """
    state = {k: v.clone() for k, v in teacher.state_dict().items()}
    state["layers.0.weight"] *= math.sqrt(3.0)
    return state


def damage(real: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Each face damaged one of five ways; values in [-1, 1], grey = 0."""
    n, _, h, w = real.shape
    dev = real.device
    kind = torch.randint(0, 5, (n,), generator=gen)
    out = real.clone()
    for i in range(n):
        k = int(kind[i])
        if k in (0, 4):  # a rectangular hole: grey (0) or filled from another face (4, a splice)
            hh, ww = (int(v) for v in torch.randint(12, 40, (2,), generator=gen))
            y, x = int(torch.randint(0, h - hh + 1, (1,), generator=gen)), int(torch.randint(0, w - ww + 1, (1,), generator=gen))
            out[i, :, y : y + hh, x : x + ww] = 0 if k == 0 else real[(i + 1) % n, :, y : y + hh, x : x + ww]
        elif k == 1:  # pixels dropped to grey independently
            p = float(torch.empty(1).uniform_(0.2, 0.9, generator=gen))
            keep = (torch.rand(1, h, w, generator=gen) > p).to(dev)
            out[i] *= keep
        elif k == 2:  # half of the image grey
            side = int(torch.randint(0, 4, (1,), generator=gen))
            sl = [(slice(None), slice(0, w // 2)), (slice(None), slice(w // 2, w)), (slice(0, h // 2), slice(None)), (slice(h // 2, h), slice(None))][side]
            out[i, :, sl[0], sl[1]] = 0
        else:  # additive Gaussian noise
            sigma = float(torch.empty(1).uniform_(0.1, 0.5, generator=gen))
            out[i] = (out[i] + sigma * torch.randn(out[i].shape, generator=gen).to(dev)).clamp(-1, 1)
    return out


def train(
    images: np.ndarray,
    out_dir: str | os.PathLike,
    config: TrainConfig = TrainConfig(),
    device: str | torch.device = "cpu",
    warm_start: dict[str, torch.Tensor] | None = None,
    progress: bool | None = None,
    warm_start_d: dict[str, torch.Tensor] | None = None,
) -> tuple[Generator, Discriminator]:
    """Train (or resume) a DCGAN on uint8 (N, 64, 64, 3) `images`; returns (G, D).

    `warm_start` / `warm_start_d`: state dicts G / D start from (else N(0, 0.02) init).

    `out_dir` receives `checkpoint.pt` (resumed from if present), `log.csv` and `samples/`.

    Under torchrun (`distributed.init` called first) every process trains on its share of each
    batch, with the arithmetic of one process on the whole batch (`parallel`).
    """
    if images.ndim != 4 or images.shape[1:] != (64, 64, 3) or images.dtype != np.uint8:
        raise ValueError(f"training images must be uint8 (N, 64, 64, 3), got {images.dtype} {images.shape}")
    out = Path(out_dir)
    (out / "samples").mkdir(parents=True, exist_ok=True)
    device = torch.device(device)
    team = distributed.world()
    n_damaged = round(config.damaged_negatives * config.batch_size)
    mine = [share(n, team.rank, team.size) for n in (config.batch_size, n_damaged)]  # checks the split first
    torch.manual_seed(config.seed)
    g = Generator(config.z_dim, config.width).to(device)
    d = Discriminator(config.width).to(device)
    if team.size > 1:  # before the optimisers see the parameters
        g, d = sync_batch_norm(g), sync_batch_norm(d)
    policy = parse_policy(config.augment)
    if config.freeze_d and warm_start_d is None:
        raise ValueError("freeze_d keeps D's first layers as they start: it needs warm_start_d (a trained D)")
    if warm_start is not None:
        g.load_state_dict(warm_start)
    if warm_start_d is not None:
        d.load_state_dict(warm_start_d)
    convs = [m for m in d.layers if isinstance(m, torch.nn.Conv2d)]
    for conv in convs[: config.freeze_d]:
        conv.requires_grad_(False)
    trainable_d = [p for p in d.parameters() if p.requires_grad]
    opt_g = torch.optim.Adam(g.parameters(), lr=config.lr_g, betas=config.betas)
    opt_d = torch.optim.Adam(trainable_d, lr=config.lr_d, betas=config.betas)
    data_gen = torch.Generator().manual_seed(config.seed)
    fixed_z = sample_z(64, config.z_dim, torch.Generator().manual_seed(config.seed + 1)).to(device)
    step = 0
    ckpt = out / "checkpoint.pt"
    if ckpt.is_file():
        # weights_only: tensors, numbers and dicts only, no pickled code.
        state = torch.load(ckpt, map_location=device, weights_only=True)
        checkpoint.check_resume(state["config"], config, ckpt)
        g.load_state_dict(state["g"]), d.load_state_dict(state["d"])
        opt_g.load_state_dict(state["opt_g"]), opt_d.load_state_dict(state["opt_d"])
        data_gen.set_state(state["data_rng"])
        torch.set_rng_state(state["torch_rng"])
        step = int(state["step"])
    data = torch.from_numpy(images).permute(0, 3, 1, 2).to(device)  # uint8 on the device: 4x smaller
    # D's batch is [real, fake, damaged]: this process's rows of it, for the augmentation draws.
    groups_of_d = [(config.batch_size, mine[0]), (config.batch_size, mine[0]), (n_damaged, mine[1])]
    rows = None if team.size == 1 else rows_of(groups_of_d)
    d_batch = sum(n for n, _ in groups_of_d)
    log_path = out / "log.csv" if team.is_main else Path(os.devnull)
    new_log = not log_path.is_file() or step == 0
    if not new_log and team.is_main:
        _cut_log(log_path, step)
    with open(log_path, "w" if new_log else "a", newline="") as log_file:
        log = csv.writer(log_file)
        if new_log:
            log.writerow(["step", "phase", "loss_d", "loss_g", "d_real", "d_fake", "d_damaged"])
        show = progress if team.is_main else False
        bar = tqdm(total=config.steps, initial=step, disable=None if show is None else not show, desc="train")
        g.train(), d.train()
        while step < config.steps:
            # Every process draws the whole batch alike and keeps its share (`parallel`).
            idx = torch.randint(0, len(data), (config.batch_size,), generator=data_gen).to(device)
            real = to_float(data[idx], (-1, 1))
            z = sample_z(config.batch_size, config.z_dim, data_gen).to(device)[mine[0]]
            d_only = step < config.d_only_steps
            with torch.set_grad_enabled(not d_only):
                fake = g(z)
            damaged = damage(real[:n_damaged], data_gen)[mine[1]] if n_damaged else real[:0]
            real = real[mine[0]]
            groups = [real, fake.detach(), damaged]
            # One draw of augmentations per step, used in D's and G's passes alike.
            aug_state = data_gen.get_state()
            logits = d(diff_augment(torch.cat(groups), policy, data_gen, rows, d_batch)).split([len(x) for x in groups])
            loss_d = F.binary_cross_entropy_with_logits(logits[0], torch.ones_like(logits[0])) + F.binary_cross_entropy_with_logits(
                logits[1], torch.zeros_like(logits[1])
            )
            if n_damaged:
                loss_d = loss_d + F.binary_cross_entropy_with_logits(logits[2], torch.zeros_like(logits[2]))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            team.all_mean_([p.grad for p in trainable_d])
            opt_d.step()
            loss_g = torch.zeros(())
            if not d_only:
                d.requires_grad_(False)
                after = data_gen.get_state()
                data_gen.set_state(aug_state)
                logits_g = d(diff_augment(torch.cat([real, fake, damaged]), policy, data_gen, rows, d_batch)).split([len(x) for x in groups])[1]
                data_gen.set_state(after)
                loss_g = F.binary_cross_entropy_with_logits(logits_g, torch.ones_like(logits_g))  # non-saturating
                opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
                team.all_mean_([p.grad for p in g.parameters()])
                opt_g.step()
                for p in trainable_d:
                    p.requires_grad_(True)
            step += 1
            # The whole batch's figures: each process's, averaged (its shares are equal).
            figures = torch.stack([loss_d.detach(), loss_g.detach()] + [torch.sigmoid(x.detach()).mean() for x in logits])
            team.all_mean_([figures])
            loss_d_all, loss_g_all, *probs = figures.tolist()
            log.writerow([step, "d_only" if d_only else "joint", f"{loss_d_all:.5f}", f"{loss_g_all:.5f}", *(f"{p:.4f}" for p in probs)])
            bar.update(1)
            bar.set_postfix(loss_d=f"{loss_d_all:.3f}", d_real=f"{probs[0]:.2f}", d_fake=f"{probs[1]:.2f}", d_dmg=f"{probs[2]:.2f}")
            if not team.is_main:
                continue
            if step % config.sample_every == 0 or step == config.steps:
                _save_samples(g, fixed_z, out / "samples" / f"step_{step:06d}.png")
            if step % config.checkpoint_every == 0 or step == config.steps:
                log_file.flush()
                _save_checkpoint(ckpt, step, g, d, opt_g, opt_d, data_gen, config)
        bar.close()
    return g.eval(), d.eval()


def _cut_log(path: Path, step: int) -> None:
    """Keep the header and the rows up to the checkpoint's `step`: rows an interrupted run logged
    after its last checkpoint (or a torn last line) are logged again when the run resumes."""
    lines = path.read_text().splitlines(keepends=True)
    kept = [line for line in lines[1:] if line.endswith("\n") and line.split(",", 1)[0].isdigit() and int(line.split(",", 1)[0]) <= step]
    path.write_text("".join(lines[:1] + kept))


def _save_samples(g: Generator, z: torch.Tensor, path: Path) -> None:
    was_training = g.training
    g.eval()
    with torch.no_grad():
        Image.fromarray(image_grid(to_uint8(g(z)))).save(path)
    g.train(was_training)


def _save_checkpoint(path: Path, step: int, g, d, opt_g, opt_d, data_gen: torch.Generator, config: TrainConfig) -> None:
    state = {
        "step": step,
        "g": g.state_dict(),
        "d": d.state_dict(),
        "opt_g": opt_g.state_dict(),
        "opt_d": opt_d.state_dict(),
        "data_rng": data_gen.get_state(),
        "torch_rng": torch.get_rng_state(),
        "config": checkpoint.recipe(config),
    }
    checkpoint.save(state, path)


def export(g: Generator, d: Discriminator, folder: str | os.PathLike, **info: object) -> dict:
    """Write G and D as safetensors with their sha256 manifest, ready for `load_pretrained(folder)`."""
    return write_manifest(folder, g.cpu().eval(), d.cpu().eval(), **info)

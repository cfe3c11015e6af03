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
- `reconstruction`: after each G step, G and an encoder E take a step on rebuilding real faces
  with holes, ||G(E(x * m, m)) - x||^2 (`dcgan_step.rebuild_step`): the adversarial loss alone
  leaves G's range short of real faces it was not shown, which the search cannot make up for.
  E (warm-started from `warm_start_e`, e.g. a weight set's encoder) is then the learned start
  for this G.
D sees real, fake and damaged images in one batch, so its batch-norm statistics in training are
those of the mixture, and the running statistics used at inference (eval mode) match them.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, TextIO

import numpy as np
import torch
from PIL import Image

from semantic_inpaint import distributed
from semantic_inpaint.config import check_betas, check_numbers, check_ranges
from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.models.dcgan import Discriminator, Generator, sample_z
from semantic_inpaint.models.encoder import Encoder
from semantic_inpaint.models.weights import write_manifest
from semantic_inpaint.progress import shown
from semantic_inpaint.train import checkpoint
from semantic_inpaint.train.augment import parse_policy
from semantic_inpaint.train.dcgan_step import REBUILD_COLUMN, BatchLayout, Run, train_step
from semantic_inpaint.train.parallel import sync_batch_norm
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
    reconstruction: float = 0.0  # weight of the rebuilding of real faces by G and an encoder (0 = off)
    lr_e: float = 1e-4  # the encoder's Adam step size, with `reconstruction`
    width: int = 64
    z_dim: int = 100
    seed: int = 0
    sample_every: int = 250
    checkpoint_every: int = 250

    def __post_init__(self) -> None:
        ints = ("steps", "batch_size", "d_only_steps", "freeze_d", "width", "z_dim", "seed", "sample_every", "checkpoint_every")
        check_numbers(self, ints, ("lr_g", "lr_d", "damaged_negatives", "reconstruction", "lr_e"))
        # A batch of 2 at least: `reconstruction` rebuilds half of each batch.
        bounds = {"batch_size": (2, math.inf)} | dict.fromkeys(("steps", "width", "z_dim", "sample_every", "checkpoint_every"), (1, math.inf))
        bounds |= dict.fromkeys(("d_only_steps", "freeze_d", "seed", "damaged_negatives", "reconstruction"), (0, math.inf))
        check_ranges(self, bounds, positive=("lr_g", "lr_d", "lr_e"))
        check_betas(self)
        parse_policy(self.augment)  # a named error for an unknown augmentation


def teacher_warm_start(teacher: Generator) -> dict[str, torch.Tensor]:
    """The teacher's state adapted to z ~ U[-1, 1]: its first layer scaled by sqrt(3).

    U[-1, 1] has variance 1/3, so G(z) = teacher(sqrt(3) z) sees inputs of the teacher's N(0, 1)
    variance; the first layer is linear in z, so scaling its weight does exactly that.
    """
    state = {k: v.clone() for k, v in teacher.state_dict().items()}
    state["layers.0.weight"] *= math.sqrt(3.0)
    return state


class Trained(NamedTuple):
    """What `train` returns, in eval mode."""

    generator: Generator
    discriminator: Discriminator
    encoder: Encoder | None  # with `reconstruction`, else None


def train(
    images: np.ndarray,
    out_dir: str | os.PathLike,
    config: TrainConfig = TrainConfig(),
    device: str | torch.device = "cpu",
    warm_start: dict[str, torch.Tensor] | None = None,
    progress: bool | None = None,
    warm_start_d: dict[str, torch.Tensor] | None = None,
    warm_start_e: dict[str, torch.Tensor] | None = None,
) -> Trained:
    """Train (or resume) a DCGAN on uint8 (N, 64, 64, 3) `images`; returns G, D (and E).

    `warm_start` / `warm_start_d` / `warm_start_e`: state dicts G / D / the encoder start from
    (else N(0, 0.02) init, or the encoder's default init).

    `out_dir` receives `checkpoint.pt` (resumed from if present), `log.csv` and `samples/`.

    Under torchrun (`distributed.init` called first) every process trains on its share of each
    batch, with the arithmetic of one process on the whole batch (`parallel`).
    """
    if images.ndim != 4 or images.shape[1:] != (64, 64, 3) or images.dtype != np.uint8:
        raise InpaintInputError(f"training images must be uint8 (N, 64, 64, 3), got {images.dtype} {images.shape}")
    out = Path(out_dir)
    (out / "samples").mkdir(parents=True, exist_ok=True)
    device = torch.device(device)
    team = distributed.world()
    layout = BatchLayout.of(config.batch_size, config.damaged_negatives, team, config.reconstruction > 0)  # checks the split first
    policy = parse_policy(config.augment)
    state = checkpoint.load(out / "checkpoint.pt", config)  # refused before anything is built if the settings differ
    run = _start(config, device, team, warm_start, warm_start_d, warm_start_e)
    fixed_z = sample_z(64, config.z_dim, torch.Generator().manual_seed(config.seed + 1)).to(device)
    if state is not None:
        run.restore(state)
    data = torch.from_numpy(images).permute(0, 3, 1, 2).to(device)  # uint8 on the device: 4x smaller
    log_path = out / "log.csv" if team.is_main else Path(os.devnull)
    header = ["step", "phase", "loss_d", "loss_g", "d_real", "d_fake", "d_damaged"] + ([REBUILD_COLUMN] if config.reconstruction else [])
    with checkpoint.open_log(log_path, run.step, header) as log_file:
        log = csv.writer(log_file)
        show = progress if team.is_main else False
        with shown("train", config.steps, "steps", show, initial=run.step) as advance:
            run.g.train(), run.d.train()
            while run.step < config.steps:
                d_only = run.step < config.d_only_steps
                loss_d, loss_g, *probs = train_step(run, data, layout, policy, d_only, team, config.reconstruction)
                run.step += 1
                log.writerow([run.step, "d_only" if d_only else "joint", f"{loss_d:.5f}", f"{loss_g:.5f}", *(f"{p:.4f}" for p in probs)])
                rebuilt = {REBUILD_COLUMN: f"{probs[3]:.4f}"} if config.reconstruction else {}
                advance(loss_d=f"{loss_d:.3f}", d_real=f"{probs[0]:.2f}", d_fake=f"{probs[1]:.2f}", d_dmg=f"{probs[2]:.2f}", **rebuilt)
                if team.is_main:
                    _save(run, out, fixed_z, config, log_file)
    return Trained(run.g.eval(), run.d.eval(), run.encoder.eval() if run.encoder is not None else None)


def _start(
    config: TrainConfig, device: torch.device, team: distributed.World, warm_start: dict | None, warm_start_d: dict | None, warm_start_e: dict | None
) -> Run:
    """A fresh run: G and D seeded (or warm-started), D's first `freeze_d` convolutions frozen,
    with `reconstruction` an encoder (warm-started or not); Adam for each."""
    torch.manual_seed(config.seed)
    g = Generator(config.z_dim, config.width).to(device)
    d = Discriminator(config.width).to(device)
    if team.size > 1:  # before the optimisers see the parameters
        g, d = sync_batch_norm(g), sync_batch_norm(d)
    if config.freeze_d and warm_start_d is None:
        raise InpaintInputError("freeze_d keeps D's first layers as they start: it needs warm_start_d, a trained D (on the command line: --warm-start WEIGHTS)")
    if warm_start is not None:
        g.load_state_dict(warm_start)
    if warm_start_d is not None:
        d.load_state_dict(warm_start_d)
    convs = [m for m in d.layers if isinstance(m, torch.nn.Conv2d)]
    if config.freeze_d >= len(convs):
        raise InpaintInputError(f"freeze_d={config.freeze_d} would freeze all of D's {len(convs)} convolutions: keep it below {len(convs)} (1 freezes the first)")
    for conv in convs[: config.freeze_d]:
        conv.requires_grad_(False)
    trainable_d = [p for p in d.parameters() if p.requires_grad]
    opt_g = torch.optim.Adam(g.parameters(), lr=config.lr_g, betas=config.betas)
    opt_d = torch.optim.Adam(trainable_d, lr=config.lr_d, betas=config.betas)
    encoder = opt_e = None
    if config.reconstruction:
        encoder = Encoder(config.z_dim, config.width).to(device)
        if warm_start_e is not None:
            encoder.load_state_dict(warm_start_e)
        encoder = sync_batch_norm(encoder) if team.size > 1 else encoder
        opt_e = torch.optim.Adam(encoder.parameters(), lr=config.lr_e, betas=config.betas)
    return Run(g, d, opt_g, opt_d, trainable_d, torch.Generator().manual_seed(config.seed), encoder, opt_e)


def _save(run: Run, out: Path, fixed_z: torch.Tensor, config: TrainConfig, log_file: TextIO) -> None:
    """Rank 0's samples (of the fixed z) and checkpoint, every `sample_every` / `checkpoint_every` steps and at the end."""
    if run.step % config.sample_every == 0 or run.step == config.steps:
        _save_samples(run.g, fixed_z, out / "samples" / f"step_{run.step:06d}.png")
    if run.step % config.checkpoint_every == 0 or run.step == config.steps:
        log_file.flush()
        checkpoint.save(run.state(config), out / "checkpoint.pt")


def _save_samples(g: Generator, z: torch.Tensor, path: Path) -> None:
    was_training = g.training
    g.eval()
    with torch.no_grad():
        Image.fromarray(image_grid(to_uint8(g(z)))).save(path)
    g.train(was_training)


def export(g: Generator, d: Discriminator, folder: str | os.PathLike, **info: object) -> dict:
    """Write G and D as safetensors with their sha256 manifest, ready for `load_pretrained(folder)`."""
    return write_manifest(folder, g.cpu().eval(), d.cpu().eval(), **info)

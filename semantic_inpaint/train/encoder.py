"""Training the encoder of the learned start (`models.encoder`) for one frozen generator.

Self-supervised, as in Lahiri et al. (CVPR 2020) and in-domain GAN inversion (Zhu et al. 2020):
each batch holds the generator's own samples G(z), whose latent is known, and, where the weight
set has real faces, real faces; every face gets a hole from the library's mask families (the
thesis's four, the face-shaped ones, freeform strokes, random rectangles, or none). E sees the
damaged face and its mask and is trained so that G(E(.)) is the whole face:
    loss = ||G(E(x, m)) - x||^2 (whole image, samples and real faces)
         + latent_weight * ||E(x, m) - z||^2 (samples only: their z is known).
The image term is what the search will be judged by; the latent term keeps E's guesses inside
the region of z that G was trained on. G is frozen (eval mode); only E learns.
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
from matplotlib.figure import Figure
from PIL import Image

from semantic_inpaint import masks as mask_lib
from semantic_inpaint.config import check_numbers, check_ranges
from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.models.dcgan import Generator, frozen, sample_z
from semantic_inpaint.models.encoder import Encoder
from semantic_inpaint.progress import shown
from semantic_inpaint.train import checkpoint
from semantic_inpaint.validate import to_float
from semantic_inpaint.viz import image_grid, to_uint8

# The mask families E learns to read, drawn with equal chance: every named mask of the library
# (random and freeform with a fresh seed each time), a random rectangle, and no hole at all
# (the unmasked projection's start).
FAMILIES = (*[n for n in mask_lib.NAMES if n != "center"], "rectangle", "none")


@dataclass(frozen=True)
class EncoderTrainConfig:
    steps: int = 3000
    batch_size: int = 64
    real_fraction: float = 0.5  # share of each batch taken from real faces, when there are any
    latent_weight: float = 0.1
    lr: float = 2e-4
    width: int = 64
    seed: int = 0
    checkpoint_every: int = 250

    def __post_init__(self) -> None:
        check_numbers(self, ("steps", "batch_size", "width", "seed", "checkpoint_every"), ("real_fraction", "latent_weight", "lr"))
        bounds = {"real_fraction": (0, 1), "latent_weight": (0, math.inf), "seed": (0, math.inf)}
        check_ranges(self, bounds | dict.fromkeys(("steps", "batch_size", "width", "checkpoint_every"), (1, math.inf)), positive=("lr",))


def random_masks(n: int, gen: torch.Generator) -> torch.Tensor:
    """(n, 1, 64, 64) masks, 1 = known, one family each (`FAMILIES`), drawn from `gen`."""
    out = torch.ones(n, 1, 64, 64)
    for i, family in enumerate(torch.randint(0, len(FAMILIES), (n,), generator=gen).tolist()):
        name = FAMILIES[family]
        if name == "rectangle":
            h, w = (int(v) for v in torch.randint(8, 48, (2,), generator=gen))
            y, x = int(torch.randint(0, 64 - h + 1, (1,), generator=gen)), int(torch.randint(0, 64 - w + 1, (1,), generator=gen))
            out[i, :, y : y + h, x : x + w] = 0
        elif name != "none":
            out[i] = mask_lib.named(name, seed=int(torch.randint(0, 2**31, (1,), generator=gen)))
    return out


def train_encoder(
    generator: Generator,
    out_dir: str | os.PathLike,
    config: EncoderTrainConfig = EncoderTrainConfig(),
    real: np.ndarray | None = None,
    device: str | torch.device = "cpu",
    progress: bool | None = None,
    warm_start: Encoder | None = None,
) -> Encoder:
    """Train (or resume) an encoder for the frozen `generator`; `real`: uint8 (N, 64, 64, 3)
    real faces to learn from beside G's samples (None: samples only). `out_dir` receives
    `checkpoint.pt` (resumed from if present) and `log.csv`. `warm_start`: an encoder of this
    generator whose weights a new run starts from (a longer run of a shipped one; Adam's moments
    start afresh), else E's default init. Returns E in eval mode."""
    if real is not None and (real.ndim != 4 or real.shape[1:] != (64, 64, 3) or real.dtype != np.uint8):
        raise InpaintInputError(f"real faces must be uint8 (N, 64, 64, 3), got {real.dtype} {real.shape}")
    if warm_start is not None and (warm_start.width, warm_start.z_dim) != (config.width, generator.z_dim):
        raise InpaintInputError(
            f"the warm start is an encoder of width {warm_start.width} for z of {warm_start.z_dim}; this run trains width "
            f"{config.width} for z of {generator.z_dim}: set EncoderTrainConfig(width={warm_start.width}) or start afresh"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    device = torch.device(device)
    torch.manual_seed(config.seed)
    step, ckpt = 0, out / "checkpoint.pt"
    state = checkpoint.load(ckpt, config)  # refused before anything is built if the settings differ
    g = frozen(generator, device)  # the caller's G stays as given
    enc = Encoder(g.z_dim, config.width).to(device)
    if warm_start is not None:
        enc.load_state_dict(warm_start.state_dict())
    opt = torch.optim.Adam(enc.parameters(), lr=config.lr, betas=(0.9, 0.999))
    gen = torch.Generator().manual_seed(config.seed)
    n_real = round(config.real_fraction * config.batch_size) if real is not None and len(real) else 0
    faces = None if not n_real else torch.from_numpy(real).permute(0, 3, 1, 2).to(device)
    if state is not None:
        enc.load_state_dict(state["encoder"]), opt.load_state_dict(state["opt"])
        gen.set_state(state["rng"])
        step = int(state["step"])
    with checkpoint.open_log(out / "log.csv", step, ["step", "loss", "image_mse_samples", "image_mse_real", "latent_mse"]) as log_file:
        log = csv.writer(log_file)
        with shown("train-encoder", config.steps, "steps", progress, initial=step) as advance:
            enc.train()
            while step < config.steps:
                losses = _train_step(enc, g, opt, faces, n_real, gen, config)
                step += 1
                log.writerow([step, *(f"{v:.5f}" for v in losses)])
                advance(loss=f"{losses[0]:.4f}")
                if step % config.checkpoint_every == 0 or step == config.steps:
                    log_file.flush()
                    state = {"step": step, "encoder": enc.state_dict(), "opt": opt.state_dict(), "rng": gen.get_state(), "config": checkpoint.recipe(config)}
                    checkpoint.save(state, ckpt)
    return enc.eval()


def _train_step(
    enc: Encoder, g: Generator, opt: torch.optim.Adam, faces: torch.Tensor | None, n_real: int, gen: torch.Generator, config: EncoderTrainConfig
) -> list[float]:
    """One Adam step of E on a batch of G's samples and `n_real` of the real `faces` (uint8), each
    with a hole (`random_masks`), all drawn from `gen`. Returns the loss (the module's docstring),
    the image MSE on samples and on real faces, and the latent MSE."""
    device = next(enc.parameters()).device
    z = sample_z(config.batch_size - n_real, g.z_dim, gen).to(device)
    with torch.no_grad():
        x = g(z)
    if n_real:
        idx = torch.randint(0, len(faces), (n_real,), generator=gen).to(device)
        x = torch.cat([x, to_float(faces[idx], (-1, 1))])
    m = random_masks(config.batch_size, gen).to(device)
    guess = enc(x, m)
    err = (g(guess) - x).square().mean(dim=(1, 2, 3))
    none = torch.zeros((), device=device)  # a batch of real faces only has no samples (and no known z)
    mse_samples, mse_real = err[: len(z)].mean() if len(z) else none, err[len(z) :].mean() if n_real else none
    latent = F.mse_loss(guess[: len(z)], z) if len(z) else none
    loss = err.mean() + config.latent_weight * latent
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return [v.item() for v in (loss, mse_samples, mse_real, latent)]


def encoder_curve(log_csv: str | os.PathLike) -> Figure:
    """The encoder's training losses (50-step moving averages): image MSE of G(E(.)) on G's
    samples and on real faces, and the latent MSE on samples; a kind of face the run did not
    train on (logged as 0) gets no line."""
    with open(log_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    step = np.array([int(r["step"]) for r in rows])
    w = max(1, min(50, len(rows)))
    smooth = lambda v: np.convolve(v, np.ones(w) / w, mode="valid")  # noqa: E731
    fig = Figure(figsize=(6, 3.5), layout="constrained")
    ax = fig.add_subplot()
    for key, label in (("image_mse_samples", "image MSE, G's samples"), ("image_mse_real", "image MSE, real faces"), ("latent_mse", "latent MSE, samples")):
        values = np.array([float(r[key]) for r in rows])
        if not values.any():  # a run without real faces, or with real faces only, logs 0 there
            continue
        ax.plot(step[w - 1 :], smooth(values), label=label)
    ax.set(xlabel="step", ylabel="MSE (images in [-1, 1])", title="encoder training")
    ax.legend()
    return fig


@torch.no_grad()
def encoder_samples(encoder: Encoder, generator: Generator, n: int = 8, seed: int = 1) -> Image.Image:
    """Rows of G's own samples (not training faces, so the picture can be shipped anywhere):
    the face with a hole of each thesis mask (grey), then G(E(face, mask)), the learned start."""
    device = next(generator.parameters()).device
    x = generator(sample_z(n, generator.z_dim, torch.Generator().manual_seed(seed)).to(device))
    tiles = [x]
    for name in ("centre", "left", "random"):
        m = mask_lib.named(name, seed=seed)[None, None].to(device).expand(n, 1, 64, 64)
        tiles += [x * m, generator(encoder(x, m))]
    grid = image_grid(to_uint8(torch.stack(tiles, dim=1).flatten(0, 1)), nrow=len(tiles))
    picture = Image.fromarray(grid)
    return picture.resize((picture.width * 2, picture.height * 2), Image.NEAREST)

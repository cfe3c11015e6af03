"""Differentiable augmentation for training D on few faces (DiffAugment, Zhao et al., NeurIPS 2020).

With ~1k training faces D memorises them within a few hundred steps and its feedback to G
collapses. DiffAugment applies the same family of random, differentiable transforms to every
image D sees, real and generated alike (and in G's step too, so G's gradient passes through
them), which keeps D from memorising without teaching G the transforms.

Of the paper's three policies we use `color` and `translation` and leave out `cutout`: cutout
fills a square with grey, which is exactly a damaged face (`dcgan_step.damage`), and D must keep
scoring those low to serve as the inpainting prior (eq. 19).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from semantic_inpaint.errors import InpaintInputError

POLICIES = ("color", "translation")


def parse_policy(policy: str) -> tuple[str, ...]:
    """'color,translation' -> ('color', 'translation'); '' -> (); an error naming the choices."""
    parts = tuple(p for p in policy.split(",") if p)
    unknown = [p for p in parts if p not in POLICIES]
    if unknown:
        raise InpaintInputError(f"unknown augmentation {unknown[0]!r}: use a comma-separated subset of {', '.join(POLICIES)}")
    return parts


def diff_augment(x: Tensor, policy: tuple[str, ...], gen: torch.Generator, rows: Tensor | None = None, batch: int = 0) -> Tensor:
    """`x` (B, 3, H, W) in [-1, 1], each image transformed at random by `policy`, differentiably.

    In data-parallel training each process holds a share of the batch: `x` is then images
    `rows` of a batch of `batch`. The transforms are drawn for the whole batch and the share's
    rows used, so every process, and a single process with the whole batch, draw alike.
    """
    pick = slice(None) if rows is None else rows
    n = len(x) if rows is None else batch
    for p in policy:
        x = _color(x, gen, n, pick) if p == "color" else _translation(x, gen, n, pick)
    return x


def _rand(n: int, gen: torch.Generator, x: Tensor, pick: slice | Tensor) -> Tensor:
    return torch.rand(n, 1, 1, 1, generator=gen)[pick].to(device=x.device, dtype=x.dtype)


def _color(x: Tensor, gen: torch.Generator, n: int, pick: slice | Tensor) -> Tensor:
    """Brightness +-0.5, saturation x[0, 2], contrast x[0.5, 1.5], as in DiffAugment."""
    x = x + (_rand(n, gen, x, pick) - 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_rand(n, gen, x, pick) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_rand(n, gen, x, pick) + 0.5) + mean


def _translation(x: Tensor, gen: torch.Generator, n: int, pick: slice | Tensor, ratio: float = 0.125) -> Tensor:
    """Shift each image by up to `ratio` of its size in x and y; the border is replicated.

    DiffAugment pads with zeros; replicating the edge keeps a grey band (a damaged face, to
    this D) out of the images labelled real."""
    _, _, h, w = x.shape
    shift = torch.randint(-int(h * ratio), int(h * ratio) + 1, (n, 2), generator=gen)[pick]
    # One affine grid per image: a whole-pixel shift, so bilinear sampling copies pixels exactly.
    theta = torch.zeros(len(shift), 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    theta[:, 0, 2] = shift[:, 0] * 2 / w
    theta[:, 1, 2] = shift[:, 1] * 2 / h
    grid = F.affine_grid(theta.to(device=x.device, dtype=x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

"""Where the K candidates start (eq. 14: z uniform in [-1, 1], or around the encoder's guess)."""

from __future__ import annotations

import torch
from torch import Tensor

from semantic_inpaint.config import SearchConfig
from semantic_inpaint.models.dcgan import sample_z
from semantic_inpaint.search.objective import COLOUR_DIMS


def start_points(config: SearchConfig, z_dim: int, start: Tensor | None = None) -> Tensor:
    """The K starting latents, (K, z_dim) for init='uniform' or (N, K, z_dim) around `start`
    (N, z_dim) for init='encoder'; on the CPU, drawn from config.seed.

    Uniform starts are the same K draws for every image, so an image's result does not depend on
    the batch it is in; with the encoder, the first K - round(K * init_uniform) candidates start
    at the guess (candidate 0) and at the guess plus the same seeded noise for every image."""
    gen = torch.Generator().manual_seed(config.seed)
    k = config.candidates
    uniform = sample_z(k, z_dim, gen)
    if config.init == "uniform":
        return uniform
    if start is None or start.ndim != 2 or start.shape[1] != z_dim:
        raise ValueError(f"init='encoder' needs start (N, {z_dim}), the encoder's guesses")
    guided = k - round(k * config.init_uniform)
    noise = torch.randn(guided, z_dim, generator=gen) * config.init_spread
    noise[0] = 0
    around = (start.detach().float().cpu()[:, None] + noise).clamp(-1, 1)
    return torch.cat([around, uniform[guided:].expand(len(start), -1, -1)], dim=1)


def initial_latents(config: SearchConfig, z_dim: int, n: int, start: Tensor | None = None) -> Tensor:
    """(N, K, z_dim) the search's first z for N images, on the CPU; with adapt='colour', six
    colour numbers per candidate follow z's coordinates, starting at 0, the identity.

    Drawn on the CPU from the seed, so the start is the same on every device and does not
    depend on the batch an image is in (evaluation numbers stay the same whatever the batch
    size or number of processes). The colour numbers ride along as extra coordinates so that
    Adam, the clamp to [-1, 1] and halving treat them as they treat z."""
    z = start_points(config, z_dim, start).expand(n, config.candidates, z_dim)
    if config.adapt == "colour":
        z = torch.cat([z, torch.zeros(n, config.candidates, COLOUR_DIMS)], dim=2)
    return z

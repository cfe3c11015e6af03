"""Refinement of the picked candidate (ours, beyond the thesis; off in `thesis` and `yeh2017`).

A generator that has seen few real faces cannot draw an unseen one exactly, however well z is
searched: on real held-out faces the best z reaches about 21 dB (the `celeba` model card). After
the search, Deep Generative Prior (Pan et al., ECCV 2020) fine-tunes the generator itself, one
copy per image, on that image's known pixels with its best z held fixed: the same context and
prior losses as the search (eqs. 16, 19), Adam on G's weights instead of on z.

The fine-tuned G only learns what the known pixels show. Next to them (every hole pixel of the
random 80 % mask) it draws the face better; deep inside a large hole nothing held it to the face.
Measured on the centre hole of 50 `celeba-mini:val` faces (version 4 of the `celeba` weights), its
squared error is half the unrefined candidate's on the hole's rim, level 2 px in, 1.4x at 4 - 6 px
and 5.6x beyond 10 px. So the output trusts the refined rendering by distance d to the nearest
known pixel: weight exp(-(d - 1) / reach), 1 on the rim, the unrefined candidate deep inside
(`combine`, docs/results.md).

`layers` (SearchConfig.refine_layers, off in every preset) fine-tunes only G's last layers: the
last three take half the time, level on the centre hole, 0.4 dB lower on the random mask
(docs/results.md).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from scipy.ndimage import distance_transform_edt
from torch import Tensor, nn
from torch.func import functional_call, vmap

from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.losses.context import context_loss
from semantic_inpaint.losses.prior import prior_loss
from semantic_inpaint.models.dcgan import Generator
from semantic_inpaint.search.objective import Objective, apply_colour


def hole_distance(mask: Tensor) -> Tensor:
    """(N, 1, H, W) Euclidean distance (px) from each pixel to the nearest known pixel of `mask`
    (1 = known): 0 on known pixels, 1 on the hole's rim."""
    known = mask.detach().cpu().numpy() > 0.5
    far = np.stack([distance_transform_edt(~k[0])[None] for k in known])
    return torch.from_numpy(far).float().to(mask.device)


def trust(mask: Tensor, reach: float) -> Tensor:
    """(N, 1, H, W) the weight of the refined rendering: exp(-(d - 1) / reach) for a hole pixel
    at distance d from the known pixels (1 on the rim), 1 on known pixels."""
    return torch.exp(-(hole_distance(mask) - 1).clamp(min=0) / reach)


# Images refined at a time: each holds its own copy of G's 3.6 M weights with their gradients
# and Adam's two moments, 57 MB an image, so a chunk of 32 needs about 1.8 GB beside the search.
# On a GPU, 64 (3.6 GB): with the per-face copies drawn through vmap, one chunk for a batch of 64
# gave `fast` 1.09 - 1.37x the faces/s of chunks of 32 on an H200, the same results but for float
# rounding, as fewer, larger launches paid there (benchmarks/bench_throughput.py, docs/performance.md).
CHUNK, CUDA_CHUNK = 32, 64


def refine(
    objective: Objective, z: Tensor, steps: int, lr: float, on_step: Callable[[int], None] | None = None, layers: int | None = None
) -> Tensor:
    """The refined rendering (N, 3, H, W) in [-1, 1] of each image's picked `z` (N, z_dim, or
    z_dim + 6 with the colour numbers, see apply_colour), held fixed while a copy of G per image
    takes `steps` Adam steps of size `lr` on that image's context and prior losses: a copy of G's
    last `layers` transposed convolutions (None: of all of G; see `first_tuned`). `on_step(t)`,
    t = 0 .. steps - 1, spread evenly over the chunks of CHUNK images (CUDA_CHUNK on a GPU), so a
    progress bar moves throughout."""
    first = first_tuned(objective.generator, layers)
    out = []
    size = CUDA_CHUNK if z.device.type == "cuda" else CHUNK
    chunks = -(-len(z) // size)

    def report(c: int, t: int) -> None:
        done = c * steps + t + 1  # of the chunks * steps in all: every `chunks`-th is one step of the bar
        if on_step is not None and done % chunks == 0:
            on_step(done // chunks - 1)

    for c, lo in enumerate(range(0, len(z), size)):
        part = slice(lo, lo + size)
        out.append(_fine_tune(objective, part, z[part], steps, lr, first, lambda t, c=c: report(c, t)))
    return torch.cat(out)


def combine(refined: Tensor, picked: Tensor, mask: Tensor, reach: float) -> Tensor:
    """`trust(mask, reach)` of `refined` and the rest of `picked`, both (N, 3, H, W) images already
    completed (the known pixels put back, each by the blend). Mixing the completions, not the two
    renderings before the blend: a Poisson blend corrects the colour of a rendering against the
    known pixels on the hole's edge, and the refined G matches them there so well that a mix with
    it on the edge hid the searched candidate's colour error from the blend deep inside (on 50
    `celeba-mini:val` faces, centre hole, reach 2 px: 27.32 dB against 27.20 with the mix first,
    docs/results.md). With the overlay the two orders are the same."""
    a = trust(mask, reach)
    return a * refined + (1 - a) * picked


def adam(params: list[Tensor], lr: float) -> torch.optim.Adam:
    """Adam for the per-image copies of G: the fused kernel where torch has one for the device (CUDA;
    the CPU from torch 2.4), as updating millions of weights a step is much of the refinement's
    time (the refinement 1.5x faster than with the default on a 2-core CPU,
    benchmarks/bench_refine_speed.py). The same update but for float rounding, which 100 steps
    carry on to small changes in the rendering (docs/performance.md). Else torch's default."""
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except RuntimeError:  # torch < 2.4 on the CPU: "fused=True requires ... supported devices"
        return torch.optim.Adam(params, lr=lr)


Render = Callable[[dict[str, Tensor], Tensor], Tensor]


def first_tuned(g: nn.Module, layers: int | None) -> int:
    """The position in `g.layers` of the first layer the refinement fine-tunes when it tunes G's
    last `layers` transposed convolutions (None: 0, all of G). The layers before it stay as
    trained: with z fixed their output never changes, so it is computed once."""
    if layers is None:
        return 0
    if not _stacked(g):
        raise InpaintInputError(
            f"refine_layers={layers} fine-tunes the last layers of the library's Generator; this generator is a "
            f"{type(g).__name__}: use refine_layers=None to fine-tune all of it"
        )
    convs = [i for i, m in enumerate(g.layers) if isinstance(m, nn.ConvTranspose2d)]
    if layers > len(convs):
        raise InpaintInputError(f"refine_layers={layers}, but G has {len(convs)} transposed convolutions: use 1 - {len(convs)}, or None for all")
    return convs[-layers]


def per_image_renderer(g: nn.Module) -> Render:
    """render(weights, z): G(z[i]) drawn with weights[name][i] for each image i, where `weights`
    holds one copy of every parameter of `g` per image (a leading image dimension).

    The library's generator with batch norm folded (transposed convolutions, then parameter-free
    layers) goes through `_transposed_stack`; any other `g` through `vmap_renderer`."""
    if _stacked(g):
        return lambda weights, z: _transposed_stack(g.layers, weights, z[:, :, None, None])
    return vmap_renderer(g)


def vmap_renderer(g: nn.Module) -> Render:
    """The same for any `g`: torch.func's vmap of G, which runs each convolution as a grouped one."""
    buffers = dict(g.named_buffers())

    def render(w: dict[str, Tensor], latent: Tensor) -> Tensor:
        return functional_call(g, (w, buffers), (latent[None],))[0]

    return vmap(render)


def _stacked(g: nn.Module) -> bool:
    """The library's generator with batch norm folded: transposed convolutions and parameter-free layers."""
    return isinstance(g, Generator) and all(_batchable(m) for m in g.layers)


def _batchable(m: nn.Module) -> bool:
    """A plain transposed convolution, or a layer without parameters (ReLU, tanh)."""
    if isinstance(m, nn.ConvTranspose2d):
        return m.groups == 1 and m.dilation == (1, 1) and m.output_padding == (0, 0)
    return next(m.parameters(), None) is None


def _transposed_stack(layers: nn.Sequential, weights: dict[str, Tensor], x: Tensor, first: int = 0) -> Tensor:
    """layers[first:](x[i]) with image i's own weights, for a stack of transposed convolutions and
    parameter-free layers (x: (N, C, h, w), the output of layers[:first]; for all of G, z as
    (N, z_dim, 1, 1)): each convolution as one batched matrix product (every image's input times its own
    weights) and one col2im (`F.fold`, which sums the overlapping patches a transposed convolution
    writes). vmap's grouped convolutions take cuDNN a small kernel per layer and direction plus
    layout transposes, about 530 launches a refinement step (docs/performance.md).

    Shapes chosen for few launches: the product takes the weights as they are stored, so their
    gradient comes out in the same layout (no copy of 3.6 M weights per image a step); the fold runs
    on all images as one (images folded into channels), so its backward, an im2col that torch runs
    image by image, is one launch instead of one per image."""
    for i in range(first, len(layers)):
        layer = layers[i]
        if not isinstance(layer, nn.ConvTranspose2d):
            x = layer(x)
            continue
        w, bias = weights[f"layers.{i}.weight"], weights.get(f"layers.{i}.bias")
        n, c_in, c_out, kh, kw = w.shape
        (h, width), (sh, sw), (ph, pw) = x.shape[-2:], layer.stride, layer.padding
        out = ((h - 1) * sh - 2 * ph + kh, (width - 1) * sw - 2 * pw + kw)
        cols = torch.bmm(x.reshape(n, c_in, h * width).transpose(1, 2), w.reshape(n, c_in, c_out * kh * kw))  # (n, hw, c_out k k)
        x = F.fold(cols.transpose(1, 2).reshape(1, n * c_out * kh * kw, h * width), out, (kh, kw), stride=(sh, sw), padding=(ph, pw))
        x = x.view(n, c_out, *out)
        if bias is not None:
            x = x + bias[:, :, None, None]
    return x


def _fine_tune(objective: Objective, part: slice, z: Tensor, steps: int, lr: float, first: int, on_step: Callable[[int], None]) -> Tensor:
    """G(z) for the images `part` of `objective`, each drawn by its own copy of G's layers from
    `first` on (`first_tuned`) after `steps` Adam steps on its image's context and prior losses."""
    g, zd, n = objective.generator, objective.z_dim, len(z)
    image, weights_eq15 = objective.image[part], objective.weights[part]
    tuned = [(name, p) for name, p in g.named_parameters() if not first or int(name.split(".")[1]) >= first]  # layers.{i}.*
    # One copy of every tuned weight per image, fine-tuned together: the losses are summed over
    # images and Adam's update is per element, so each copy moves by its own image alone.
    weights = {name: p.detach().unsqueeze(0).repeat(n, *[1] * p.dim()).requires_grad_(True) for name, p in tuned}
    if first:
        with torch.no_grad():
            head = g.layers[:first](z[:, :zd, None, None])
        render: Render = lambda w, _: _transposed_stack(g.layers, w, head, first)  # noqa: E731
    else:
        render = per_image_renderer(g)

    def draw() -> Tensor:
        x = render(weights, z[:, :zd])
        return apply_colour(x, z[:, zd:]) if z.shape[1] > zd else x

    opt = adam(list(weights.values()), lr)
    for t in range(steps):
        x = draw()
        loss = context_loss(x[:, None], image, weights_eq15)[:, 0] + prior_loss(objective.discriminator(x), objective.loss.prior_weight)
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
        on_step(t)
    with torch.no_grad():
        return draw()

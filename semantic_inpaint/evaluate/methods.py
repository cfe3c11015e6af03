"""The methods `evaluate` compares: GAN presets and local baselines, how they are grouped into
computations, and how many faces a search takes at once.

Methods are GAN presets (the keys of `config.PRESETS`: `thesis`, `yeh2017`, ...) and the local
baselines of the thesis's figure 6 (the keys of `baselines.BASELINES`: `tv`, `navier_stokes`,
`telea`, `biharmonic`, `nearest`), in any mix. Every preset runs its own search, except that
`thesis` and `yeh2017` share one when both are asked for: the hard landmark loss has no
gradient, so their z trajectories are the same and only the ranking of the candidates differs
(`Completion.without_landmark_ranking`); their `seconds` column is that shared search's time.
`nearest` fills holes from a library of faces (the training set), passed as `library`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from semantic_inpaint.baselines import BASELINES, NEEDS_LIBRARY, inpaint
from semantic_inpaint.complete import MIB_PER_CANDIDATE, complete
from semantic_inpaint.config import PRESETS
from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.losses.landmarks import LandmarkDetector
from semantic_inpaint.models.weights import Pretrained

# Presets that may share one search: they differ only in the hard landmark loss, which has no gradient.
SHARED_SEARCH = ("thesis", "yeh2017")
MAX_BATCH = 64  # on an H100, 16 -> 64 faces a batch gained 5 %, 64 -> 128 2 %: the GPU is full


def check_methods(methods: Sequence[str], library: object = None) -> list[str]:
    """`methods` without repeats, each checked: a GAN preset (a key of `config.PRESETS`) or a
    baseline (a key of `baselines.BASELINES`); `nearest` needs a `library` of faces."""
    methods = list(dict.fromkeys(methods))
    unknown = [m for m in methods if m not in PRESETS and m not in BASELINES]
    if unknown:
        raise InpaintInputError(f"unknown method(s) {unknown}; GAN presets: {sorted(PRESETS)}; baselines: {sorted(BASELINES)}")
    if library is None and NEEDS_LIBRARY & set(methods):
        raise InpaintInputError(
            "method 'nearest' fills each hole from the nearest face of a library (the training set) and none was given: "
            "pass library=load_images('synthetic', n=2000) (or 'celeba:DIR'); on the command line, --nn-data synthetic --nn-n 2000"
        )
    return methods


def runs(methods: list[str], overrides: dict[str, object]) -> list[tuple[str, ...]]:
    """The computations behind `methods`, in order: one tuple of methods per search or baseline.
    `thesis` and `yeh2017` share one search when both are asked for, unless an override gives
    the thesis a landmark loss with a gradient (then the two trajectories differ) or a
    refinement (which fine-tunes G for the candidate each ranking picks)."""
    shared = [m for m in methods if m in SHARED_SEARCH]
    thesis = PRESETS["thesis"].with_overrides(**overrides)
    if len(shared) < 2 or thesis.loss.landmark not in ("hard", "none") or thesis.refine_steps:
        return [(m,) for m in methods]
    return [tuple(shared) if m == shared[0] else (m,) for m in methods if m != shared[1]]


def complete_run(
    run: tuple[str, ...],
    x: Tensor,
    m: Tensor,
    models: Pretrained | None,
    device: str | torch.device | None,
    detector: LandmarkDetector,
    library: object,
    progress: bool | None,
    overrides: dict[str, object],
) -> dict[str, tuple[Tensor, Tensor | None]]:
    """Each method of `run` (one of `runs`): its completed images, and for GAN methods the
    landmark loss of the chosen candidate (None for baselines, which have none)."""
    if run[0] in BASELINES:
        return {run[0]: (inpaint(run[0], x, m, library=library), None)}
    lead = "thesis" if "thesis" in run else run[0]
    # dlib goes only to the hard landmark loss; complete() loads other landmark models itself.
    hard = PRESETS[lead].with_overrides(**overrides).loss.landmark == "hard"
    r = complete(x, m, preset=lead, models=models, device=device, landmark_model=detector if hard else None, progress=progress, **overrides)
    completed = {}
    for method in run:
        c = r if method == lead else r.without_landmark_ranking()
        completed[method] = (c.images, c.losses.landmark[torch.arange(len(x)), c.best])
    return completed


def default_batch_size(device: str | torch.device, candidates: int = 64) -> int:
    """Faces to search together by default. CPU: 1 (batching measured slower per face on 2
    cores). CUDA: the largest power of two up to MAX_BATCH whose search fits in half the free
    GPU memory (the other half for cuDNN's workspaces and the rest of the process), at least 1;
    docs/performance.md has the H100's rates by batch size."""
    device = torch.device(device)
    if device.type != "cuda":
        return 1
    free_mib = torch.cuda.mem_get_info(device)[0] / 2**20
    fits = int(0.5 * free_mib / (MIB_PER_CANDIDATE * candidates))
    return max(1, min(MAX_BATCH, 1 << max(fits, 1).bit_length() - 1))

"""Where `complete(preset="fast")`'s time goes: the encoder's guess, the z search, the refinement
(search/refine.py) and the Poisson blends, for each refinement chunk size and precision.

    python benchmarks/bench_fast_phases.py --device cuda --faces 64 --chunks 32,64 --masks centre,random
    python benchmarks/bench_fast_phases.py --device cuda --profile-refine 10

Each line times one `complete()` call on the first --faces `celeba-mini:test` faces (one batch,
after an untimed warm-up), its phases timed by wrapping the library's functions (the device is
synchronised around each, so the phases add up to about the whole). `--profile-refine N`
instead prints torch.profiler's table of N refinement steps on those faces (centre hole), the
kernels that take the refinement's time.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import time
from collections.abc import Callable, Iterator

import torch
from bench_refine_speed import centre_problem

from semantic_inpaint import complete, load_pretrained
from semantic_inpaint.config import FAST
from semantic_inpaint.data import load_images
from semantic_inpaint.machine import describe

# The modules, whose names complete() and search() look up when they call them.
complete_module = importlib.import_module("semantic_inpaint.complete")
loop_module = importlib.import_module("semantic_inpaint.search.loop")
completion_module = importlib.import_module("semantic_inpaint.completion")
refine_module = importlib.import_module("semantic_inpaint.search.refine")
PHASES = [(complete_module, "_encoder_start", "encoder"), (complete_module, "search", "search"), (loop_module, "refine", "refinement"), (completion_module, "put_back", "blends")]


@contextlib.contextmanager
def refine_chunk(size: int | None) -> Iterator[None]:
    """The refinement takes `size` faces at a time on any device while the block runs (None: as
    the library has it, search.refine.CHUNK and CUDA_CHUNK)."""
    saved = refine_module.CHUNK, refine_module.CUDA_CHUNK
    if size:
        refine_module.CHUNK = refine_module.CUDA_CHUNK = size
    try:
        yield
    finally:
        refine_module.CHUNK, refine_module.CUDA_CHUNK = saved


@contextlib.contextmanager
def vmap_refinement(on: bool) -> Iterator[None]:
    """While the block runs, with `on`, each face's copy of G in the refinement is drawn by
    torch.func's vmap (grouped convolutions), as the library did before `per_image_renderer`."""
    saved = refine_module.per_image_renderer
    if on:
        refine_module.per_image_renderer = refine_module.vmap_renderer
    try:
        yield
    finally:
        refine_module.per_image_renderer = saved


def timed(device: torch.device, seconds: dict[str, float]) -> Callable[[], None]:
    """Wrap each phase's function to add its seconds to `seconds`; returns the undo."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    saved = [(module, name, getattr(module, name)) for module, name, _ in PHASES]
    for (module, name, label), (_, _, f) in zip(PHASES, saved):

        def wrapper(*args, _f=f, _label=label, **kwargs):
            sync()
            t = time.perf_counter()
            out = _f(*args, **kwargs)
            sync()
            seconds[_label] = seconds.get(_label, 0.0) + time.perf_counter() - t
            return out

        setattr(module, name, wrapper)
    return lambda: [setattr(module, name, f) for module, name, f in saved]


def profile_refine(models, x: torch.Tensor, steps: int, device: torch.device) -> None:
    from torch.profiler import ProfilerActivity, profile

    objective, z = centre_problem(models, (x * 2 - 1).to(device))
    refine_module.refine(objective, z, 3, FAST.refine_lr)  # warm-up: cuDNN's set-up stays out
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        refine_module.refine(objective, z, steps, FAST.refine_lr)
        if device.type == "cuda":
            torch.cuda.synchronize()
    key = "cuda_time_total" if device.type == "cuda" else "cpu_time_total"
    print(prof.key_averages().table(sort_by=key, row_limit=25, max_name_column_width=60))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--faces", type=int, default=64)
    p.add_argument("--masks", default="centre,random")
    p.add_argument("--chunks", default="32,64", help="refinement chunk sizes (faces refined at a time)")
    p.add_argument("--precisions", default="fp32,bf16")
    p.add_argument("--profile-refine", type=int, default=0, metavar="N", help="profile N refinement steps instead")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = p.parse_args()
    device = torch.device(args.device)
    models = load_pretrained("celeba", device=device)
    x = torch.from_numpy(load_images("celeba-mini:test", n=args.faces)).permute(0, 3, 1, 2).float() / 255
    print(f"{describe(device)}; torch {torch.__version__}; fast, {len(x)} faces of celeba-mini:test in one batch")
    if args.profile_refine:
        profile_refine(models, x, args.profile_refine, device)
        return
    complete(x, "centre", "fast", models=models, device=device, progress=False, iterations=5, refine_steps=5)  # warm-up
    for chunk in (int(c) for c in args.chunks.split(",")):
        for mask in args.masks.split(","):
            for precision in args.precisions.split(","):
                seconds: dict[str, float] = {}
                undo = timed(device, seconds)
                try:
                    with refine_chunk(chunk):
                        t = time.perf_counter()
                        complete(x, mask, "fast", models=models, device=device, progress=False, precision=precision)
                        total = time.perf_counter() - t
                finally:
                    undo()
                seconds["search"] -= seconds["refinement"]  # the refinement runs inside search()
                split = ", ".join(f"{label} {seconds[label]:.3f}" for *_, label in PHASES)
                print(f"chunk {chunk:3} {mask:>7} {precision}: {total:.3f} s, {len(x) / total:5.1f} faces/s; {split}", flush=True)


if __name__ == "__main__":
    main()

"""Faces completed per second, end to end, and what each fast path does to PSNR.

    python benchmarks/bench_throughput.py --device cuda --faces 64 --batch-size 64 \
        --masks centre,left,right,random --variants fp32,bf16,halve,bf16+halve
    python benchmarks/bench_throughput.py --device cuda --preset fast --data celeba-mini:test \
        --faces 100 --masks centre,random --variants fp32,batch=128
    python benchmarks/bench_throughput.py --device cuda --weights synthetic --data synthetic-holdout \
        --faces 640 --masks centre --variants fp32,preset=fast

For each mask, every variant completes the same held-out faces with `--preset` (default
`yeh2017` at the thesis's settings, K = 64 and 1000 iterations), `--batch-size` faces per
`complete()` call, timed whole (the search, the final render, the overlay; after one untimed
warm-up call per variant). Variants: fp32 (the library's default), bf16 (`precision="bf16"`),
halve (successive halving at steps 400 and 700 of 1000, `halve_at=(400, 700)`), and their
combinations; batch=N (another batch size), layers=N (`refine_layers`: the refinement tunes G's
last N layers), preset=NAME (another preset on the same faces, with its own iterations unless
its=N or --iterations); nofold (G and D run as given, batch norm not folded: the library before
it folded), nondet (without cuDNN's deterministic algorithms: the library before it asked for
them), chunk=N (faces refined at a time), vmap (the refinement's per-face copies of G through
torch.func's vmap: the library before its batched products) and noahead (the Poisson systems
factorised after the search, not beside it on a GPU: the library before) tell what the library's own
execution choices do to the results. Each line gives faces per second and the PSNR of the
completions, and, against the first variant, the per-face PSNR difference (mean and bootstrap
95 % interval) and how many faces got the same candidate. `--out` keeps a CSV with a row per
face and variant.

Why `yeh2017`: `thesis` runs the same search and then re-ranks its candidates with dlib (about
0.1 s a face on one core), so its search speed is this one's.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import time
from pathlib import Path

import numpy as np
import torch
from bench_complete import Wrapped
from bench_fast_phases import refine_chunk, vmap_refinement

from semantic_inpaint import complete, load_pretrained
from semantic_inpaint.config import PRESETS
from semantic_inpaint.data import load_images
from semantic_inpaint.evaluate import bootstrap_ci
from semantic_inpaint.machine import describe
from semantic_inpaint.metrics import psnr

complete_module = importlib.import_module("semantic_inpaint.complete")  # the module; the package exports its function


# The variants' tokens that `run` acts on itself (beside chunk=N), not complete()'s options.
FLAGS = ("nofold", "nondet", "vmap", "noahead")


def variant_options(spec: str, preset: str, iterations: int | None, batch: int) -> tuple[dict[str, object], int, set[str]]:
    """complete() overrides (iterations included) and faces per call for a variant: 'fp32', or
    tokens joined by '+': 'bf16', 'halve' (at 40 % and 70 % of the iterations: (400, 700) at
    1000, the schedule that kept the picks on the CPU, docs/results/pruning.md), 'batch=N'
    (another batch size: on CUDA, other cuDNN algorithms, so another round-off), 'its=N'
    (another number of iterations), 'overlay' (no Poisson blend: what the blend costs in
    `fast`), 'layers=N' (the refinement tunes G's last N layers, refine_layers), 'refine=S:LR'
    (the refinement's steps and step size, refine_steps and refine_lr), 'preset=NAME'
    (another preset than `preset`, e.g. fast against yeh2017 on the same faces), 'nofold',
    'nondet', 'chunk=N', 'vmap' (the refinement's copies of G through vmap, as before
    `per_image_renderer`), 'noahead' (no factorising beside the search; returned as flags for `run`). `iterations` None: the
    variant's preset's own."""
    tokens = set(spec.split("+")) - {"fp32"}
    layers, refinement = None, {}
    for t in tokens:
        if t.startswith("batch="):
            batch = int(t.split("=", 1)[1])
        elif t.startswith("its="):
            iterations = int(t.split("=", 1)[1])
        elif t.startswith("layers="):
            layers = int(t.split("=", 1)[1])
        elif t.startswith("refine="):
            steps, lr = t.split("=", 1)[1].split(":")
            refinement = {"refine_steps": int(steps), "refine_lr": float(lr)}
        elif t.startswith("preset=") and t.split("=", 1)[1] in PRESETS:
            preset = t.split("=", 1)[1]
        elif t not in ("bf16", "halve", "overlay", *FLAGS) and not t.startswith("chunk="):
            raise SystemExit(
                f"unknown variant {spec!r}: use fp32 or tokens joined by '+': bf16, halve, batch=N, its=N, overlay, layers=N, refine=S:LR, "
                f"preset=NAME ({', '.join(sorted(PRESETS))}), nofold, nondet, chunk=N, vmap, noahead"
            )
    iterations = PRESETS[preset].iterations if iterations is None else iterations
    halve_at = (iterations * 4 // 10, iterations * 7 // 10) if "halve" in tokens else ()  # (400, 700) at 1000
    overrides = {"iterations": iterations, "precision": "bf16" if "bf16" in tokens else "fp32", "halve_at": halve_at}
    if "overlay" in tokens:
        overrides["blend"] = "overlay"
    if layers is not None:
        overrides["refine_layers"] = layers
    overrides |= refinement
    return overrides, batch, {t for t in tokens if t in FLAGS or t.startswith(("chunk=", "preset="))}


def run(truth: torch.Tensor, mask: str, models, device: str, batch: int, overrides: dict[str, object], flags: set[str] = frozenset(), preset: str = "yeh2017") -> tuple[float, np.ndarray, np.ndarray]:
    """Seconds to complete all of `truth` (N, 3, 64, 64) in [0, 1], each face's PSNR and pick."""
    cuda = device.startswith("cuda")
    scores, picks = [], []
    if "nofold" in flags:  # the search folds only the library's own Generator and Discriminator
        models = tuple(Wrapped(m, channels_last=False).eval() for m in models)  # eval: complete() takes them uncopied
    # complete() calls the search it imported; search.__wrapped__ is the search without its
    # deterministic-cuDNN decorator.
    searcher, ahead = complete_module.search, complete_module._factorised_meanwhile
    complete_module.search = searcher.__wrapped__ if "nondet" in flags else searcher
    if "noahead" in flags:
        complete_module._factorised_meanwhile = lambda *_: None
    size = next((int(f.split("=", 1)[1]) for f in flags if f.startswith("chunk=")), None)
    preset = next((f.split("=", 1)[1] for f in flags if f.startswith("preset=")), preset)
    try:
        with refine_chunk(size), vmap_refinement("vmap" in flags):
            if cuda:
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            for start in range(0, len(truth), batch):
                x = truth[start : start + batch]
                c = complete(x, mask, preset, models=models, device=device, progress=False, **overrides)
                scores.append(psnr(c.images, x).numpy())
                picks.append(c.best.numpy())
            if cuda:
                torch.cuda.synchronize()
            seconds = time.perf_counter() - t0
    finally:
        # the next variant gets the library's search back, even after an error
        complete_module.search, complete_module._factorised_meanwhile = searcher, ahead
    return seconds, np.concatenate(scores), np.concatenate(picks)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--faces", type=int, default=64, help="held-out faces per mask (the first of --data)")
    p.add_argument("--data", default="synthetic-holdout", help="held-out faces: synthetic-holdout or celeba-mini:test")
    p.add_argument("--weights", default=None, help="a weight set by name or folder (default: the library's, celeba)")
    p.add_argument("--preset", default="yeh2017", choices=sorted(PRESETS))
    p.add_argument("--batch-size", type=int, default=64, help="faces per complete() call")
    p.add_argument("--masks", default="centre,left,right,random")
    p.add_argument("--variants", default="fp32,bf16,halve,bf16+halve", help="the first is the reference for the PSNR differences")
    p.add_argument("--iterations", type=int, default=None, help="every variant's (default: each variant's preset's own, 1000 for yeh2017, 100 for fast)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--out", type=Path, default=None, help="CSV of per-face PSNR and picks")
    args = p.parse_args()
    variants = args.variants.split(",")
    config = PRESETS[args.preset]
    iterations = args.iterations or config.iterations
    options = {v: variant_options(v, args.preset, args.iterations, args.batch_size) for v in variants}
    models = load_pretrained(args.weights, device=args.device)
    truth = torch.from_numpy(load_images(args.data, n=args.faces)).permute(0, 3, 1, 2).float() / 255
    print(f"{describe(torch.device(args.device))}; torch {torch.__version__}; {args.preset}, K = {config.candidates}, {iterations} iterations, "
          f"{len(truth)} faces of {args.data} a mask, {args.batch_size} a batch")
    for v in variants:  # warm-up: cuDNN's set-up and allocations stay out of the timings
        overrides, batch, flags = variant_options(v, args.preset, 10, args.batch_size)
        run(truth[:batch], "centre", models, args.device, batch, overrides, flags, args.preset)
    rows, width = [], max(11, *map(len, variants))
    print(f"{'mask':>7} {'variant':>{width}} {'faces/s':>8} {'PSNR':>6} {'vs ' + variants[0] + ' (dB) [95 % CI]':>30} {'same pick':>9}")
    for mask in args.masks.split(","):
        ref = None
        for v in variants:
            overrides, batch, flags = options[v]
            seconds, score, pick = run(truth, mask, models, args.device, batch, overrides, flags, args.preset)
            if ref is None:
                ref, diff = (score, pick), ""
            else:
                d = score - ref[0]
                lo, hi = bootstrap_ci(d)
                diff = f"{d.mean():+.3f} [{lo:+.3f}, {hi:+.3f}] (worst {d.min():+.2f})"
            same = f"{int((pick == ref[1]).sum())}/{len(pick)}"
            print(f"{mask:>7} {v:>{width}} {len(truth) / seconds:8.3f} {score.mean():6.2f} {diff:>30} {same:>9}", flush=True)
            rows += [{"mask": mask, "variant": v, "face": i, "psnr": f"{s:.4f}", "pick": int(k), "seconds_per_face": f"{seconds / len(truth):.4f}"}
                     for i, (s, k) in enumerate(zip(score, pick))]
            if args.out:  # after every run, so that a run cut short keeps what it measured
                write_csv(args.out, rows)


def write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


if __name__ == "__main__":
    main()

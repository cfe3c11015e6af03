"""Seconds per search iteration and images per second at the thesis's settings.

    python benchmarks/bench_complete.py [--batches 1,4] [--iterations 20] [--device cpu]

Runs the search (K = 64 candidates, context + prior, Adam) for a few iterations per batch
size after a warm-up and extrapolates to the thesis's 1000 iterations. The hard landmark loss
runs once at the end (64 dlib calls, ~0.1 s), so it is left out. Cost model (from the
project's performance issue): G and D are about 104 M multiply-adds each per 64x64 image, so
one iteration over 64 candidates (forward G and D, backward to z) is about 54 GFLOP.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

from semantic_inpaint import load_pretrained
from semantic_inpaint.config import YEH2017
from semantic_inpaint.search import search
from semantic_inpaint.viz import from_uint8

GFLOP_PER_ITERATION_PER_IMAGE = 54.0  # 64 candidates, forward G and D and backward to z


def time_search(models, images: torch.Tensor, iterations: int) -> float:
    mask = torch.ones(len(images), 1, 64, 64, device=images.device)
    mask[..., 16:48, 16:48] = 0
    config = YEH2017.with_overrides(iterations=iterations)
    search(*models, images, mask, config.with_overrides(iterations=2), progress=False)  # warm-up
    if images.is_cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    search(*models, images, mask, config, progress=False)
    if images.is_cuda:
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / iterations


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batches", default="1,4")
    p.add_argument("--iterations", type=int, default=20)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = p.parse_args()
    device = torch.device(args.device)
    models = load_pretrained(device=device)
    faces = np.load("tests/data/holdout_faces.npy")
    name = torch.cuda.get_device_name() if device.type == "cuda" else f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"
    print(f"device: {device} ({name}); torch {torch.__version__}; K = 64; {args.iterations} timed iterations")
    print(f"{'images':>6} {'s/iteration':>12} {'s/image (1000 it)':>18} {'images/s':>9} {'GFLOP/s':>8}")
    for n in (int(b) for b in args.batches.split(",")):
        x = from_uint8(np.resize(faces, (n, 64, 64, 3))).to(device)
        s = time_search(models, x, args.iterations)
        per_image = s * 1000 / n
        print(f"{n:>6} {s:>12.3f} {per_image:>18.1f} {1 / per_image:>9.4f} {GFLOP_PER_ITERATION_PER_IMAGE * n / s:>8.1f}")


if __name__ == "__main__":
    main()

"""What the landmark losses cost: dlib per batch of 64 frames (serial, threads, processes) and
seconds per search iteration of each variant relative to SI (yeh2017).

    python benchmarks/bench_landmarks.py [--iterations 20] [--workers 2] [--device cpu]

Variants, one face, K = 64 candidates, shipped weights, centre mask:
  yeh2017                   context + prior (SI): the reference
  thesis                    + hard dlib loss at the end only (the preset)
  thesis, every step        + hard dlib loss every step (landmark_every=1), dlib serial
  thesis, every step, pool  the same with dlib in `--workers` processes
  structure                 + soft landmark loss (the distilled net, forward and backward)
"""

from __future__ import annotations

import argparse
import platform
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from semantic_inpaint import load_pretrained, masks
from semantic_inpaint.config import get_preset
from semantic_inpaint.losses.landmarks import LandmarkDetector, _detect
from semantic_inpaint.models import load_landmark_net
from semantic_inpaint.search import search
from semantic_inpaint.viz import from_uint8


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)  # the least disturbed run: other load only ever adds time


def bench_dlib(frames: np.ndarray, workers: int, repeats: int) -> None:
    serial = LandmarkDetector()
    pool = LandmarkDetector(workers=workers)
    pool(frames)  # start the workers before timing
    threads = ThreadPoolExecutor(workers)
    chunks = np.array_split(frames, workers)
    threaded = lambda: list(threads.map(lambda c: _detect(serial._predict, c), chunks))  # noqa: E731
    results = {
        "serial": best_of(lambda: serial(frames), repeats),
        f"{workers} threads": best_of(threaded, repeats),
        f"{workers} processes": best_of(lambda: pool(frames), repeats),
    }
    np.testing.assert_array_equal(serial(frames), pool(frames))
    pool.close()
    print(f"dlib on {len(frames)} masked 64x64 frames (best of {repeats}):")
    for name, s in results.items():
        print(f"  {name:>12}: {s * 1e3:7.1f} ms  ({s / len(frames) * 1e3:.2f} ms/frame, {results['serial'] / s:.2f}x serial)")


def bench_search(device: torch.device, iterations: int, workers: int, repeats: int) -> None:
    models = load_pretrained(device=device)
    net = load_landmark_net(device=device)
    face = from_uint8(np.load("tests/data/holdout_faces.npy")[:1]).to(device)
    mask = masks.centre()[None, None].to(device)
    serial, pool = LandmarkDetector(), LandmarkDetector(workers=workers)
    variants = {
        "yeh2017 (SI)": (get_preset("yeh2017"), None),
        "thesis (hard, ranking only)": (get_preset("thesis"), serial),
        "thesis, hard every step": (get_preset("thesis").with_overrides(landmark_every=1), serial),
        f"thesis, hard every step, {workers} processes": (get_preset("thesis").with_overrides(landmark_every=1), pool),
        "structure (soft)": (get_preset("structure"), None),
    }

    def run(config, detector, steps):
        search(*models, face, mask, config.with_overrides(iterations=steps), detector, landmark_net=net)
        if device.type == "cuda":
            torch.cuda.synchronize()

    times = {}
    for name, (config, detector) in variants.items():
        run(config, detector, 2)  # warm-up (and the pool's start)
        # Per-iteration time: the difference of two run lengths cancels the fixed costs (the
        # reference points, the final evaluation and ranking).
        short = best_of(lambda: run(config, detector, 2), repeats)
        long = best_of(lambda: run(config, detector, iterations), repeats)
        times[name] = (long - short) / (iterations - 2)
    pool.close()
    base = times["yeh2017 (SI)"]
    print(f"search, 1 face x 64 candidates on {device}, {iterations} iterations (best of {repeats}):")
    for name, s in times.items():
        print(f"  {name:>40}: {s * 1e3:7.1f} ms/iteration  {s / base:5.2f}x SI")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--iterations", type=int, default=20)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = p.parse_args()
    device = torch.device(args.device)
    name = torch.cuda.get_device_name() if device.type == "cuda" else f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads"
    print(f"device: {device} ({name}); torch {torch.__version__}")
    faces = np.load("tests/data/holdout_faces.npy")
    x = from_uint8(np.resize(faces, (64, 64, 64, 3)))
    from semantic_inpaint.losses.landmarks import masked_frames

    bench_dlib(masked_frames(x, masks.centre()[None, None]), args.workers, args.repeats * 3)
    bench_search(device, args.iterations, args.workers, args.repeats)


if __name__ == "__main__":
    main()

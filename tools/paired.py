"""Paired comparisons of methods from `evaluate`'s per_image.csv files, as docs/results.md shows
them: mean difference per face with a bootstrap 95 % interval, and wins.

    python tools/paired.py MASK A=CSV:METHOD B=CSV:METHOD [A=... ...] --pairs A-B,A-C

Each name stands for one method's rows in one CSV (the same method may come from two folders,
e.g. two weight sets). A pair is scored on the faces (image indices) both have.
Example:
    python tools/paired.py centre fast=results/fast/per_image.csv:fast \\
        yeh=docs/results/celeba/centre.csv:yeh2017 tv=docs/results/celeba/centre.csv:tv --pairs fast-yeh,fast-tv
"""

from __future__ import annotations

import argparse
import csv

import numpy as np

from semantic_inpaint.evaluate import mean_and_interval


def read(spec: str, mask: str) -> dict[int, tuple[float, float]]:
    """'CSV:METHOD' -> {image index: (psnr, ssim)} for that mask."""
    path, method = spec.rsplit(":", 1)
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["mask"] == mask and r["method"] == method]
    if not rows:
        raise SystemExit(f"no rows for mask {mask!r} and method {method!r} in {path}")
    return {int(r["image"]): (float(r["psnr"]), float(r["ssim"])) for r in rows}


def compare(a: dict[int, tuple[float, float]], b: dict[int, tuple[float, float]]) -> str:
    faces = sorted(set(a) & set(b))
    diff = np.array([[a[i][0] - b[i][0], a[i][1] - b[i][1]] for i in faces])
    wins = int((diff[:, 0] > 0).sum())
    # The intervals of results.md (evaluate's bootstrap_ci), paired here by face.
    return f"{len(faces)} | {mean_and_interval(diff[:, 0], 2, signed=True)} | {mean_and_interval(diff[:, 1], 3, signed=True)} | {wins} / {len(faces)}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mask")
    p.add_argument("columns", nargs="+", metavar="NAME=CSV:METHOD")
    p.add_argument("--pairs", required=True, help="comma-separated A-B pairs of the names")
    args = p.parse_args()
    data = {name: read(spec, args.mask) for name, spec in (c.split("=", 1) for c in args.columns)}
    print("| comparison (paired by face) | n | PSNR (dB) | SSIM | wins |")
    print("|---|---|---|---|---|")
    for pair in args.pairs.split(","):
        a, b = pair.split("-", 1)
        print(f"| `{a}` - `{b}` | {compare(data[a], data[b])} |")


if __name__ == "__main__":
    main()

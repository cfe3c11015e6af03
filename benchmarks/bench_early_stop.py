"""What early stopping saves, and what it costs in PSNR.

    python benchmarks/bench_early_stop.py [--faces 4] [--candidates 64] [--patience 50] [--mask centre]

For each held-out face (tests/data/holdout_faces.npy, then data/synthetic_holdout_*.npy if
more are asked for): the `yeh2017` search run to its 1000 iterations, and again with
`patience` (stop once no candidate's loss improved by more than 0.1 % over `patience` steps).
The early-stopped search is a prefix of the full one, so the difference is only where it ends.
Prints the steps each ran, whole-image and hole PSNR of both, and the speed-up in steps.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from semantic_inpaint import complete, masks
from semantic_inpaint.data import load_images
from semantic_inpaint.metrics import hole, psnr


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--faces", type=int, default=4)
    p.add_argument("--candidates", type=int, default=64)
    p.add_argument("--iterations", type=int, default=1000)
    p.add_argument("--patience", type=int, default=50)
    p.add_argument("--min-improvement", type=float, default=1e-3)
    p.add_argument("--mask", default="centre")
    p.add_argument("--device", default=None)
    args = p.parse_args()
    faces = np.load("tests/data/holdout_faces.npy")
    if args.faces > len(faces):
        faces = load_images("synthetic-holdout", n=args.faces)
    faces = faces[: args.faces]
    m = masks.named(args.mask)[None, None]
    truth = torch.from_numpy(faces).permute(0, 3, 1, 2).float() / 255
    common = dict(preset="yeh2017", candidates=args.candidates, iterations=args.iterations, device=args.device, progress=False)
    print(f"yeh2017, {args.mask} mask, K = {args.candidates}, up to {args.iterations} iterations, patience {args.patience}")
    print(f"{'face':>4} {'steps':>6} {'PSNR full':>10} {'PSNR early':>11} {'hole full':>10} {'hole early':>11} {'s full':>7} {'s early':>8}")
    complete(faces[:1], m, **(common | {"iterations": 2}))  # load the weights before timing
    rows = []
    for i in range(len(faces)):
        out = {}
        for name, extra in (("full", {}), ("early", {"patience": args.patience, "min_improvement": args.min_improvement})):
            start = time.perf_counter()
            r = complete(faces[i : i + 1], m, **common, **extra)
            seconds = time.perf_counter() - start
            x, t = r.images, truth[i : i + 1]
            out[name] = (len(r.history.context), float(psnr(x, t)[0]), float(psnr(x, t, region=hole(m))[0]), seconds)
        steps, pf, hf, sf = out["full"]
        se, pe, he, s_e = out["early"]
        rows.append((steps / se, pe - pf, he - hf, sf / s_e))
        print(f"{i:>4} {se:>6} {pf:>10.2f} {pe:>11.2f} {hf:>10.2f} {he:>11.2f} {sf:>7.1f} {s_e:>8.1f}")
    r = np.array(rows)
    print(f"mean: {r[:, 0].mean():.2f}x fewer steps, {r[:, 3].mean():.2f}x less time; PSNR change {r[:, 1].mean():+.3f} dB whole "
          f"(worst {r[:, 1].min():+.3f}), {r[:, 2].mean():+.3f} dB hole")


if __name__ == "__main__":
    main()

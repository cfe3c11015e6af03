"""The learned start against the uniform one: whole-image and hole PSNR against iterations.

    python benchmarks/bench_encoder.py [--data celeba-mini:val] [--n 16] [--masks centre]
        [--iterations 0,30,100,300] [--candidates 16] [--starts uniform,encoder]
        [--init-uniform 0.5] [--init-spread 0.2] [--weights celeba] [--encoder CKPT] [--csv OUT.csv] [--plot OUT.png]

For each face, mask, start and iteration count, one `yeh2017` search (context + prior; the
encoder start with `init='encoder'`, the rest as `yeh2017`), scored after the overlay of the
known pixels. Prints the mean PSNR of each (start, iterations) and the paired difference (bootstrap
95 % interval) of each against `uniform` at the most iterations, with the seconds a search took.
Choose settings on `celeba-mini:val`; report on `celeba-mini:test` (or `synthetic-holdout`).
--encoder: a `train-encoder` run's checkpoint.pt, to measure it before it is exported (default:
the weight set's encoder). A search of T iterations is a separate run (not the prefix of a longer one), so the seconds are
end to end, encoder included.
"""

from __future__ import annotations

import argparse
import csv
import time

import torch

from semantic_inpaint import complete, masks
from semantic_inpaint.data import load_images
from semantic_inpaint.evaluate import bootstrap_ci
from semantic_inpaint.metrics import hole, psnr
from semantic_inpaint.models import load_pretrained
from semantic_inpaint.models.encoder import Encoder


def plot(curves: dict[tuple[str, str], list[float]], steps: list[int], title: str, path: str) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 3.5))
    ax = fig.add_subplot()
    for (mask_name, start), psnrs in curves.items():
        ax.plot(steps, psnrs, marker="o", linestyle="-" if start == "encoder" else "--", label=f"{mask_name}, {start} start")
    ax.set(xlabel="iterations", ylabel="whole-image PSNR (dB)", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="celeba-mini:val")
    p.add_argument("--n", type=int, default=16)
    p.add_argument("--masks", default="centre")
    p.add_argument("--iterations", default="0,30,100,300")
    p.add_argument("--candidates", type=int, default=16)
    p.add_argument("--starts", default="uniform,encoder")
    p.add_argument("--init-uniform", type=float, default=0.5)
    p.add_argument("--init-spread", type=float, default=0.2)
    p.add_argument("--weights", default=None)
    p.add_argument("--encoder", default=None, metavar="CKPT")
    p.add_argument("--device", default="cpu")
    p.add_argument("--csv", default=None, help="also write one row per face, mask, start and iteration count")
    p.add_argument("--plot", default=None, help="also draw mean PSNR against iterations, one line per mask and start")
    args = p.parse_args()
    faces = load_images(args.data, n=args.n)
    truth = torch.from_numpy(faces).permute(0, 3, 1, 2).float() / 255
    models = load_pretrained(args.weights, args.device)
    encoder = None
    if args.encoder:
        encoder = Encoder()
        encoder.load_state_dict(torch.load(args.encoder, map_location="cpu", weights_only=True)["encoder"])
    steps = [int(t) for t in args.iterations.split(",")]
    print(f"{args.data}, {len(faces)} faces, K = {args.candidates}, init_uniform {args.init_uniform}, init_spread {args.init_spread}")
    rows, curves = [], {}
    for mask_name in args.masks.split(","):
        scores: dict[tuple[str, int], tuple[torch.Tensor, torch.Tensor, float]] = {}
        for start in args.starts.split(","):
            for t in steps:
                init = dict(init="encoder", init_uniform=args.init_uniform, init_spread=args.init_spread) if start == "encoder" else {}
                whole, in_hole, seconds = [], [], 0.0
                for i in range(len(faces)):  # one face at a time: the seconds of one search
                    m = masks.named(mask_name, seed=i)[None, None]
                    t0 = time.perf_counter()
                    done = complete(truth[i : i + 1], m, "yeh2017", models=models, encoder=encoder, device=args.device, progress=False, iterations=t, candidates=args.candidates, **init)
                    seconds += time.perf_counter() - t0
                    whole.append(psnr(done.images, truth[i : i + 1]))
                    in_hole.append(psnr(done.images, truth[i : i + 1], region=hole(m)))
                scores[start, t] = (torch.cat(whole), torch.cat(in_hole), seconds / len(faces))
                rows += [{"mask": mask_name, "start": start, "iterations": t, "image": i, "psnr": f"{a:.4f}", "hole_psnr": f"{b:.4f}"} for i, (a, b) in enumerate(zip(*scores[start, t][:2]))]
        for start in args.starts.split(","):
            curves[mask_name, start] = [float(scores[start, t][0].mean()) for t in steps]
        base = scores.get(("uniform", max(steps)))
        for (start, t), (whole, in_hole, seconds) in scores.items():
            line = f"{mask_name:8s} {start:8s} {t:5d} its: PSNR {whole.mean():6.2f} dB, hole {in_hole.mean():6.2f} dB, {seconds:5.1f} s a face"
            if base is not None and (start, t) != ("uniform", max(steps)):
                diff = (whole - base[0]).numpy()
                lo, hi = bootstrap_ci(diff)
                line += f"; - uniform at {max(steps)}: {diff.mean():+.2f} [{lo:+.2f}, {hi:+.2f}] dB"
            print(line, flush=True)
    if args.plot:
        plot(curves, steps, f"{args.data}, {len(faces)} faces, K = {args.candidates}", args.plot)
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    main()

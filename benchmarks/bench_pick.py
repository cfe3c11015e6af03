"""What fills the hole (SearchConfig.pick): the best candidate against the candidates' loss-weighted
mean, from one search per face, on faces the rule was not chosen on.

    python benchmarks/bench_pick.py --data celeba-mini:test --out results/pick

One `--preset` search per face and mask (default `fast`). Its completions differ only in what fills
the hole (Completion.repicked): `PRESET` as it ships, `PRESET_best` and, for each of
--temperatures, `PRESET_mean_T`. Faces and masks as `evaluate` has them (a random mask
seeded by the face's position in --data, plus --mask-seed). Writes OUT/per_image.csv in
`evaluate`'s columns, which tools/paired.py compares with other methods' tables, and prints
each method's difference from `PRESET_best`, paired by face: mean [bootstrap 95 % interval] (faces
where it is higher), for PSNR, SSIM and dlib's landmark error (px; lower is better). With
--figure N, OUT/MASK.png shows the first N faces of each mask: input, `PRESET_best`, `PRESET`, truth.
About 25 s a face and mask for `fast` on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import torch

from semantic_inpaint import complete, load_pretrained
from semantic_inpaint.data import load_images
from semantic_inpaint.evaluate.run import mask_for
from semantic_inpaint.evaluate.scores import score
from semantic_inpaint.evaluate.summary import mean_and_interval
from semantic_inpaint.figures import comparison_figure, save_figure
from semantic_inpaint.losses.landmarks import LandmarkDetector


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="celeba-mini:test")
    p.add_argument("--n", type=int, default=100, help="faces: the first n of --data")
    p.add_argument("--weights", default="celeba")
    p.add_argument("--preset", default="fast")
    p.add_argument("--masks", default="centre,random")
    p.add_argument("--temperatures", default="", help="pick_temperature values also scored for pick='mean', comma-separated (default: none)")
    p.add_argument("--mask-seed", type=int, default=0, help="a random mask is seeded by this plus the face's position (evaluate: 0; on celeba-mini:val, 850)")
    p.add_argument("--batch", type=int, default=25, help="faces a search")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--figure", type=int, default=0, metavar="N", help="draw the first N faces of each mask, both fills beside the truth")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    if args.n < 1:
        p.error("--n must be >= 1")
    temperatures = [float(t) for t in args.temperatures.split(",") if t]
    args.out.mkdir(parents=True, exist_ok=True)
    models = load_pretrained(args.weights, device=args.device)
    detector = LandmarkDetector()
    faces = torch.from_numpy(load_images(args.data, n=args.n)).permute(0, 3, 1, 2).float() / 255
    rows: list[dict[str, object]] = []
    for name in args.masks.split(","):
        drawn: dict[str, list[torch.Tensor]] = {}
        for lo in range(0, len(faces), args.batch):
            x = faces[lo : lo + args.batch]
            m = torch.stack([mask_for(name, args.mask_seed + lo + i) for i in range(len(x))])[:, None].float()
            c = complete(x, m, args.preset, models=models, device=args.device, progress=False)
            fills = {args.preset: c, f"{args.preset}_best": c.repicked("best")}
            fills |= {f"{args.preset}_mean_{t:g}": c.repicked("mean", t) for t in temperatures}
            for method, filled in fills.items():
                drawn.setdefault(method, []).extend(filled.images[: max(0, args.figure - lo)])
                scores = score(filled.images, None, x, m, detector)
                rows += [{"image": lo + i, "mask": name, "method": method, **s} for i, s in enumerate(scores)]
            with open(args.out / "per_image.csv", "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=list(rows[0]))
                w.writeheader()
                w.writerows(rows)
        report(rows, name, f"{args.preset}_best")
        if args.figure:
            shown = faces[: args.figure]
            holes = torch.stack([mask_for(name, args.mask_seed + i) for i in range(len(shown))])[:, None].float()
            columns = {"input (hole grey)": list(shown * holes + 0.5 * (1 - holes))}
            columns |= {f"{args.preset}_best": drawn[f"{args.preset}_best"], args.preset: drawn[args.preset]}
            save_figure(comparison_figure(columns | {"truth": list(shown)}, title=f"{args.preset}, mask: {name}"), args.out / f"{name}.png")


def report(rows: list[dict[str, object]], mask: str, base: str) -> None:
    """Each method's paired difference from `base` on `mask`."""
    scored: dict[str, list[list[float]]] = {}
    for r in rows:
        if r["mask"] == mask:
            scored.setdefault(str(r["method"]), []).append([float(r[k]) for k in ("psnr", "ssim", "landmark_error")])
    ref = np.array(scored.pop(base))
    print(f"{mask:>7}: {base} {ref[:, 0].mean():.2f} dB, SSIM {ref[:, 1].mean():.3f}, landmark error {np.nanmean(ref[:, 2]):.2f} px", flush=True)
    for method, got in scored.items():
        d = np.array(got) - ref
        lm = d[:, 2][np.isfinite(d[:, 2])]  # dlib may find no face on one of the pair
        print(
            f"{'':>9}{method}: {np.mean(got, axis=0)[0]:.2f} dB; - {base} {mean_and_interval(d[:, 0], 2, signed=True)} dB "
            f"({int((d[:, 0] > 0).sum())}/{len(d)}), SSIM {mean_and_interval(d[:, 1], 3, signed=True)}, "
            f"landmark error {mean_and_interval(lm, 2, signed=True)} px",
            flush=True,
        )


if __name__ == "__main__":
    main()

"""The refinement (search.refine) on faces it was not chosen on: `fast` with and without it, paired.

    python benchmarks/bench_refine.py --data celeba-mini:test --out results/refine

One search per face and mask (the `fast` preset with `--iterations` and `--refine-steps`); the unrefined result is
the same search's fill (as `fast` picks it), blended as `fast` blends it, so the columns differ by the
refinement alone. Faces and masks as `evaluate` has them (a random mask seeded by the face's
position in --data, plus --mask-seed). Writes OUT/per_image.csv in `evaluate`'s columns (image,
mask, method, psnr, ssim), which tools/paired.py compares with other methods, and prints the
paired difference per mask, mean [bootstrap 95 % interval] (faces where the refinement is higher).
Methods: `fast` (the refined and the unrefined completions mixed by trust at --refine-reach,
search.refine.combine), `fast_unrefined`, and, from the same two renderings, `fast_reach=R` for
each of --reaches and, with --mix-first, `fast_reach=R_mix_first`: the renderings mixed first and
the mix blended (the order docs/results.md compares). With --layers, `fast_layers=L` for each L:
the same search's best z refined again with only G's last L layers fine-tuned (refine_layers). With
--again STEPS:LR,..., `fast_steps=S_lr=L` for each: the same best z refined again for S steps of size L
(a shorter refinement against the shipped one, on the same searches).
The settings were chosen on `celeba-mini:val` (docs/results.md); run it on `celeba-mini:test`.
About 20 s a face and mask on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import torch

from semantic_inpaint import complete, load_pretrained
from semantic_inpaint.blend import put_back
from semantic_inpaint.completion import filled, mix
from semantic_inpaint.config import FAST
from semantic_inpaint.data import load_images
from semantic_inpaint.evaluate.run import mask_for
from semantic_inpaint.evaluate.summary import mean_and_interval
from semantic_inpaint.metrics import psnr, ssim
from semantic_inpaint.search import combine, refine
from semantic_inpaint.search.objective import Objective

MASKS = ("centre", "left", "right", "random")


def completions(c, x: torch.Tensor, m: torch.Tensor, blend: str, reaches: list[float], mix_first: bool) -> dict[str, torch.Tensor]:
    """Every method's completed images from one refined search `c` of faces `x` under masks `m`."""
    # What fills the hole before the refinement: the best candidate, or with pick='mean' the candidates' mix.
    picked, refined = mix(c.candidates, c.weights), c.refined
    plain, whole = put_back(picked, x, m, blend), put_back(refined, x, m, blend)
    out = {"fast_unrefined": plain, "fast": c.images}
    for r in reaches:
        out[f"fast_reach={r:g}"] = combine(whole, plain, m, r)
        if mix_first:
            out[f"fast_reach={r:g}_mix_first"] = put_back(combine(refined, picked, m, r), x, m, blend)
    return out


def refined_again(c, models, device: str, layers: int | None = None, steps: int | None = None, lr: float | None = None) -> torch.Tensor:
    """The completions of search `c` with its best z refined again: G's last `layers` layers alone
    (None: all of G), for `steps` Adam steps of size `lr` (None: as `c` was refined)."""
    objective = Objective.build(models.generator, models.discriminator, (c.inputs * 2 - 1).to(device), c.masks.to(device), c.config.loss)
    rows = torch.arange(len(c.z))
    z_best = torch.cat([c.z, c.colour], -1)[rows, c.best].to(device)
    with torch.enable_grad():
        again = refine(objective, z_best, c.config.refine_steps if steps is None else steps, c.config.refine_lr if lr is None else lr, layers=layers)
    return filled(c.candidates, c.weights, ((again.cpu() + 1) / 2).clamp(0, 1), c.inputs, c.masks, c.config)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="celeba-mini:test")
    p.add_argument("--n", type=int, default=100, help="faces (the first n of --data, or n from --start)")
    p.add_argument("--start", type=int, default=0, help="the position in --data of the first face: rows and random masks keep the positions, so runs of consecutive ranges pair with one `evaluate` table")
    p.add_argument("--weights", default="celeba")
    p.add_argument("--masks", default=",".join(MASKS))
    p.add_argument("--iterations", type=int, default=FAST.iterations, help="of the search before the refinement")
    p.add_argument("--refine-steps", type=int, default=FAST.refine_steps)
    p.add_argument("--refine-lr", type=float, default=FAST.refine_lr)
    p.add_argument("--refine-reach", type=float, default=FAST.refine_reach, help="px; inf: the refined G trusted everywhere")
    p.add_argument("--reaches", default="", help="more reaches (px, comma-separated, inf allowed) scored on the same renderings")
    p.add_argument("--mix-first", action="store_true", help="also score each of --reaches with the renderings mixed before the blend")
    p.add_argument("--layers", default="", help="refine_layers values (comma-separated) to refine the same searches with again")
    p.add_argument("--again", default="", help="STEPS:LR pairs (comma-separated) to refine the same searches with again, e.g. 50:2e-4")
    p.add_argument("--mask-seed", type=int, default=0, help="a random mask is seeded by this plus the face's position (evaluate: 0; tune_fast.py on val: 850)")
    p.add_argument("--batch", type=int, default=25, help="faces a search")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    if args.start < 0 or args.n < 1:
        p.error("--start must be >= 0 and --n >= 1")
    reaches = [float(r) for r in args.reaches.split(",") if r]
    layers = [int(n) for n in args.layers.split(",") if n]
    again = [(int(a), float(b)) for a, b in (pair.split(":") for pair in args.again.split(",") if pair)]
    args.out.mkdir(parents=True, exist_ok=True)
    models = load_pretrained(args.weights, device=args.device)
    faces = torch.from_numpy(load_images(args.data, n=args.start + args.n)[args.start :]).permute(0, 3, 1, 2).float() / 255
    if not len(faces):
        p.error(f"--data {args.data} has no face at position {args.start}")
    rows = []
    for name in args.masks.split(","):
        for lo in range(0, len(faces), args.batch):
            x = faces[lo : lo + args.batch]
            at = args.start + lo  # the first face's position in --data: its row's image and its random mask's seed
            m = torch.stack([mask_for(name, args.mask_seed + at + i) for i in range(len(x))])[:, None].float()
            c = complete(
                x, m, "fast", models=models, device=args.device, progress=False,
                iterations=args.iterations, refine_steps=args.refine_steps, refine_lr=args.refine_lr, refine_reach=args.refine_reach,
            )
            outs = completions(c, x, m, c.config.blend, reaches, args.mix_first)
            outs |= {f"fast_layers={n}": refined_again(c, models, args.device, layers=n) for n in layers}
            outs |= {f"fast_steps={n}_lr={lr:g}": refined_again(c, models, args.device, steps=n, lr=lr) for n, lr in again}
            for method, out in outs.items():
                scores = psnr(out, x), ssim(out, x)
                rows += [{"image": at + i, "mask": name, "method": method, "psnr": float(scores[0][i]), "ssim": float(scores[1][i])} for i in range(len(x))]
            with open(args.out / "per_image.csv", "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=list(rows[0]))
                w.writeheader()
                w.writerows(rows)
        scored = {}  # method -> (faces, 2) PSNR and SSIM, in the order the methods came
        for r in rows:
            if r["mask"] == name:
                scored.setdefault(r["method"], []).append([r["psnr"], r["ssim"]])
        base = np.array(scored.pop("fast_unrefined"))
        print(f"{name:>7}: unrefined {base[:, 0].mean():.2f} dB", flush=True)
        for method, got in scored.items():
            dp, ds = (np.array(got) - base).T
            print(
                f"{'':>9}{method}: {np.mean(got, axis=0)[0]:.2f} dB; - unrefined {mean_and_interval(dp, 2, signed=True)} dB "
                f"({int((dp > 0).sum())}/{len(dp)}), SSIM {mean_and_interval(ds, 3, signed=True)}",
                flush=True,
            )


if __name__ == "__main__":
    main()

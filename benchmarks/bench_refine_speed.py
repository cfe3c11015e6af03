"""Seconds of the refinement (search.refine) as the library runs it against an alternative, on
the same faces, interleaved rounds, and how far the two refined renderings differ.

    python benchmarks/bench_refine_speed.py [--compare adam|render|layers] [--faces 8] [--steps 20] [--rounds 3] [--device cpu]

--compare adam: the fused Adam the refinement uses against torch's default Adam.
--compare render: each image's copy of G drawn by batched matrix products and col2im (the
library's, `per_image_renderer`) against torch.func's vmap of G (`vmap_renderer`, grouped
convolutions).
--compare layers: all of G fine-tuned (`fast`'s) against its last --layers alone (refine_layers).

Times `refine` alone (`fast`'s 100-step refinement is `--steps 100`): an objective for the first
--faces `celeba-mini:val` faces under the centre mask, z from the encoder's guess. Prints the
best of --rounds for each variant, their ratio, and the largest pixel difference of the results.
"""

from __future__ import annotations

import argparse
import importlib
import time

import torch

from semantic_inpaint import load_pretrained
from semantic_inpaint import masks as mask_lib
from semantic_inpaint.config import FAST
from semantic_inpaint.data import load_images
from semantic_inpaint.models.weights import load_encoder
from semantic_inpaint.search.objective import Objective
from semantic_inpaint.validate import to_float

# the module, not the function of the same name that semantic_inpaint.search exports
refine_module = importlib.import_module("semantic_inpaint.search.refine")


def centre_problem(models, y: torch.Tensor) -> tuple[Objective, torch.Tensor]:
    """The refinement's input for faces `y` (N, 3, 64, 64) in [-1, 1] on the models' device under
    the centre mask: `fast`'s objective and the encoder's guess of z."""
    m = mask_lib.centre().expand(len(y), 1, 64, 64).float().to(y.device)
    with torch.no_grad():
        z = load_encoder(models.generator, "celeba", y.device)(y, m)
    return Objective.build(models.generator, models.discriminator, y, m, FAST.loss), z


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--compare", choices=("adam", "render", "layers"), default="adam")
    p.add_argument("--layers", type=int, default=3, help="with --compare layers: refine_layers against all of G")
    p.add_argument("--faces", type=int, default=8)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = p.parse_args()
    device = torch.device(args.device)
    models = load_pretrained("celeba", device=device)
    x = to_float(torch.from_numpy(load_images("celeba-mini:val", n=args.faces)).permute(0, 3, 1, 2), (-1, 1)).to(device)
    objective, z = centre_problem(models, x)

    def run(layers: int | None = None, **swap: object) -> torch.Tensor:
        """The refinement with G's last `layers` fine-tuned, the module's attributes in `swap` swapped in."""
        saved = {attr: getattr(refine_module, attr) for attr in swap}
        for attr, value in swap.items():
            setattr(refine_module, attr, value)
        try:
            return refine_module.refine(objective, z, args.steps, FAST.refine_lr, layers=layers)
        finally:
            for attr, value in saved.items():
                setattr(refine_module, attr, value)

    variants = {  # the library's way first
        "adam": {"fused (the library's)": lambda: run(), "torch's default": lambda: run(adam=lambda params, lr: torch.optim.Adam(params, lr=lr))},
        "render": {"bmm + fold (the library's)": lambda: run(), "vmap": lambda: run(per_image_renderer=refine_module.vmap_renderer)},
        "layers": {"all of G (fast's)": lambda: run(), f"refine_layers={args.layers}": lambda: run(layers=args.layers)},
    }[args.compare]
    best, out = {}, {}
    for _ in range(args.rounds):
        for name, variant in variants.items():
            t = time.perf_counter()
            out[name] = variant()
            if device.type == "cuda":
                torch.cuda.synchronize()
            best[name] = min(best.get(name, float("inf")), time.perf_counter() - t)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"{name}, torch {torch.__version__}, {torch.get_num_threads()} threads; {args.faces} faces, {args.steps} refinement steps, best of {args.rounds}")
    for k, v in best.items():
        print(f"{k:>22}: {v:7.2f} s, {v / args.faces / args.steps * 1000:6.1f} ms a face and step")
    (ours, theirs), (a, b) = best.values(), out.values()
    print(f"{list(best)[1]} / {list(best)[0]}: {theirs / ours:.2f}x; largest pixel difference {(a - b).abs().max().item():.2e} (images in [-1, 1])")


if __name__ == "__main__":
    main()

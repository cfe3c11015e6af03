"""Choose a training step by measurement on faces no run trains on: the validation slice.

    python benchmarks/validate_checkpoints.py CKPT.pt [CKPT.pt ...] [--data celeba-mini:val]
        [--faces 16] [--candidates 16] [--iterations 100] [--presets yeh2017,adapt]

For each training checkpoint or weight set (`checkpoint.pt` as `semantic-inpaint train` writes it; copy it
aside at the steps to compare) and each face of --data: G's projection PSNR (unmasked L1
search, as the model card's), and the whole-image PSNR of a centre-hole completion by each
preset (`fast` with the checkpoint's own encoder when it was trained with `--reconstruction`),
next to TV inpainting on the same faces. Prints one line per checkpoint; the
differences are paired by face. Use the validation slice (`celeba-mini:val`), never the test
split, so that the test figures stay unbiased.
"""

from __future__ import annotations

import argparse
import time

import torch

from semantic_inpaint import complete
from semantic_inpaint.baselines import inpaint
from semantic_inpaint.data import load_images
from semantic_inpaint.evaluate import bootstrap_ci
from semantic_inpaint.metrics import psnr
from semantic_inpaint.models import Discriminator, Generator, freeze, load_pretrained
from semantic_inpaint.models.encoder import Encoder
from semantic_inpaint.train.card import project


def load_checkpoint(path: str) -> tuple[tuple[Generator, Discriminator], Encoder | None]:
    """G and D of a training checkpoint, with the encoder trained beside them if it has one
    (`train --reconstruction`), or of a weight set (a name such as 'synthetic', or a folder),
    whose encoder `complete` finds itself."""
    if not path.endswith(".pt"):
        return load_pretrained(path, device="cpu"), None
    state = torch.load(path, map_location="cpu", weights_only=True)
    g, d = Generator(), Discriminator()
    g.load_state_dict(state["g"]), d.load_state_dict(state["d"])
    encoder = None
    if "encoder" in state:
        encoder = Encoder()
        encoder.load_state_dict(state["encoder"])
        encoder = freeze(encoder)
    return (freeze(g), freeze(d)), encoder


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoints", nargs="+")
    p.add_argument("--data", default="celeba-mini:val")
    p.add_argument("--faces", type=int, default=16)
    p.add_argument("--candidates", type=int, default=16)
    p.add_argument("--iterations", type=int, default=100)
    p.add_argument("--presets", default="yeh2017,adapt")
    args = p.parse_args()
    faces = load_images(args.data, n=args.faces)
    truth = torch.from_numpy(faces).permute(0, 3, 1, 2).float() / 255
    tv = psnr(inpaint("tv", truth, "centre"), truth)
    print(f"{args.data}, {len(faces)} faces, K = {args.candidates}, {args.iterations} iterations; TV centre {tv.mean():.2f} dB")
    settings = dict(candidates=args.candidates, iterations=args.iterations)
    for path in args.checkpoints:
        t0 = time.perf_counter()
        models, encoder = load_checkpoint(path)
        line = [f"{path}: projection {project(faces, models, batch_size=len(faces), **settings).mean():.2f} dB"]
        for preset in args.presets.split(","):
            mine = {"encoder": encoder} if encoder is not None else {}
            got = psnr(complete(truth, "centre", preset, models=models, device="cpu", progress=False, **mine, **settings).images, truth)
            lo, hi = bootstrap_ci((got - tv).numpy())
            line.append(f"{preset} centre {got.mean():.2f} dB ({(got - tv).mean():+.2f} [{lo:+.2f}, {hi:+.2f}] vs TV)")
        print("; ".join(line) + f" [{time.perf_counter() - t0:.0f} s]", flush=True)


if __name__ == "__main__":
    main()

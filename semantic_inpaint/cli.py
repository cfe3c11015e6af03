"""Command-line front end: `semantic-inpaint {complete,demo,train,evaluate}`. It only calls public functions."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _train(args: argparse.Namespace) -> None:
    from semantic_inpaint.data import load_images
    from semantic_inpaint.train import TrainConfig, export, teacher_warm_start, train

    images = load_images(args.data, n=args.n, cache_dir=args.cache)
    config = TrainConfig(
        steps=args.steps,
        batch_size=args.batch_size,
        lr_g=args.lr_g,
        lr_d=args.lr_d,
        d_only_steps=args.d_only_steps,
        damaged_negatives=args.damaged_negatives,
        seed=args.seed,
        sample_every=args.sample_every,
        checkpoint_every=args.sample_every,
    )
    warm = None
    if args.warm_start == "teacher":
        from semantic_inpaint.data.synthetic import load_teacher

        warm = teacher_warm_start(load_teacher())
    g, d = train(images, args.out, config, device=args.device or _default_device(), warm_start=warm)
    if args.export:
        info = {"command": "semantic-inpaint " + " ".join(sys.argv[1:]), "data": args.data, "train_images": len(images)}
        manifest = export(g, d, args.export, **info)
        print(json.dumps(manifest["files"], indent=2))


def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="semantic-inpaint", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train the 64x64 DCGAN (resumes from OUT/checkpoint.pt)")
    t.add_argument("--data", default="synthetic", help="'synthetic' (teacher-rendered faces), 'celeba:DIR' or a folder of face images")
    t.add_argument("--n", type=int, default=16384, help="images to use (synthetic: how many to render)")
    t.add_argument("--cache", default="data", help="folder for the rendered synthetic set")
    t.add_argument("--out", required=True, help="run folder: checkpoint, log.csv, samples/")
    t.add_argument("--steps", type=int, default=20_000)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--lr-g", type=float, default=2e-4)
    t.add_argument("--lr-d", type=float, default=2e-4)
    t.add_argument("--d-only-steps", type=int, default=0, help="train D alone first (after a warm start)")
    t.add_argument("--damaged-negatives", type=float, default=0.0, help="damaged real faces per real face shown to D as fake")
    t.add_argument("--warm-start", choices=["none", "teacher"], default="none")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--sample-every", type=int, default=250)
    t.add_argument("--device", default=None)
    t.add_argument("--export", default=None, help="write G and D as safetensors + manifest into this folder")
    t.set_defaults(func=_train)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()

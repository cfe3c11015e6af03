"""`semantic-inpaint evaluate` (the tables harness) and `semantic-inpaint card` (a weight
set's model-card assets)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from semantic_inpaint.baselines import BASELINES
from semantic_inpaint.cli.common import CACHE_HELP, SEARCH_OPTIONS, add_command, device_of, overrides, search_options
from semantic_inpaint.config import PRESETS
from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.models.weights import Pretrained, load_pretrained


def _positive(text: str) -> int:
    """A whole number >= 1, for evaluate's --n, --nn-n and --batch-size."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _data(spec: str) -> str:
    """evaluate's --data and --nn-data, a mistyped source refused while parsing: under torchrun
    every rank refuses it, not rank 0 alone while the others wait for its faces."""
    from semantic_inpaint.data import check_spec

    try:
        check_spec(spec)
    except InpaintInputError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return spec


def add_evaluate_parser(sub: argparse._SubParsersAction) -> None:
    e = add_command(sub, "evaluate", "the tables harness: methods x masks, per-image CSV and markdown tables", parents=[search_options()])
    e.add_argument("--data", type=_data, default="synthetic-holdout", help="'celeba-mini:test' (100 real faces, installed from PyPI), 'synthetic-holdout', 'celeba-test:DIR' or a folder of aligned faces")
    e.add_argument("--n", type=_positive, default=500, help="number of faces (the first n)")
    e.add_argument("--masks", default="centre,left,right,random", help="comma-separated mask names: centre, left, right, random (80 %% missing, seeded by the image index), eyes, lower-face, mouth, nose, freeform (default: the thesis's four)")
    e.add_argument(
        "--methods",
        default="yeh2017,thesis",
        help=f"comma-separated, in any mix: GAN presets ({', '.join(sorted(PRESETS))}) and the baselines of the thesis's "
        f"figure 6 ({', '.join(BASELINES)}); nearest needs --nn-data (default: yeh2017,thesis)",
    )
    e.add_argument("--nn-data", type=_data, default=None, metavar="DATA", help="the faces 'nearest' fills from: 'celeba-mini:fit', 'synthetic' (train split), 'celeba:DIR' or a folder")
    e.add_argument("--nn-n", type=_positive, default=2000, help="how many --nn-data faces (the first n)")
    e.add_argument("--out", required=True, metavar="DIR", help="per_image.csv (resumed from), results.md, images/ and figure_{mask}.png")
    e.add_argument("--batch-size", type=_positive, default=None, help="images searched together (default: 1 on CPU; on CUDA what half the free memory holds, up to 64)")
    e.add_argument("--seed", type=int, default=None, help="seed of the GAN methods' initial z (default: 0)")
    e.add_argument("--cache", default=None, help=CACHE_HELP)
    e.set_defaults(func=run_evaluate)


def add_card_parser(sub: argparse._SubParsersAction) -> None:
    k = add_command(sub, "card", "model-card assets: training curve, samples, D on held-out faces, projection PSNR", parents=[search_options()])
    k.add_argument("--run", default=None, help="the training run folder (its log.csv); without it, training_curve.png is left as it is")
    k.add_argument("--out", required=True, help="where to write training_curve.png, samples.png, prior.json")
    k.add_argument("--data", default="synthetic-holdout", help="the held-out faces: 'synthetic-holdout' or 'celeba-mini:test' (default: synthetic-holdout)")
    k.add_argument("--holdout", type=int, default=256, help="held-out faces for the D report (the first n of --data)")
    k.add_argument("--project", type=int, default=0, help="also project this many held-out faces (and, for synthetic faces, the teacher)")
    k.add_argument("--train-data", default=None, help="the training faces, for the memorisation check (16 samples beside their nearest training face)")
    k.add_argument("--batch-size", type=int, default=None, help="faces projected together (default: 1 on CPU; on CUDA what half the free memory holds, up to 64)")
    k.add_argument("--cache", default=None, help=CACHE_HELP)
    k.set_defaults(func=run_card)


def run_evaluate(args: argparse.Namespace) -> None:
    from semantic_inpaint import distributed
    from semantic_inpaint.data import load_images
    from semantic_inpaint.evaluate import check_methods, evaluate

    if args.preset is not None:
        raise InpaintInputError(f"evaluate runs the presets named in --methods (e.g. --methods {args.preset},tv), not --preset {args.preset}")
    device = distributed.init(device_of(args))  # under torchrun: join the group; on CUDA, one GPU per rank
    team = distributed.world()
    # Names checked before anything is loaded; --nn-data stands in for the library it names.
    methods = check_methods(args.methods.split(","), library=args.nn_data)
    # Rank 0 loads (and may render and cache) the faces; the other ranks need no copy of the data.
    nearest = "nearest" in methods and team.is_main
    library = team.broadcast(load_images(args.nn_data, n=args.nn_n, cache_dir=args.cache)[: args.nn_n] if nearest else None)
    images = team.broadcast(load_images(args.data, n=args.n, cache_dir=args.cache)[: args.n] if team.is_main else None)
    # The baselines need no GAN: load the weights only for the GAN methods.
    models = load_pretrained(args.weights, device) if any(m in PRESETS for m in methods) else None
    start = time.perf_counter()
    evaluate(
        images,
        args.out,
        masks=args.masks.split(","),
        methods=methods,
        models=models,
        batch_size=args.batch_size,
        library=library,
        device=device,
        **overrides(args, (*SEARCH_OPTIONS, "seed")),
    )
    if team.is_main:
        print(f"{len(images)} images in {time.perf_counter() - start:.0f} s; tables in {Path(args.out) / 'results.md'}")
    distributed.finish()


def run_card(args: argparse.Namespace) -> None:
    from semantic_inpaint.data import load_images
    from semantic_inpaint.train.card import memorisation, write_card_assets

    models = load_pretrained(args.weights, device_of(args))
    holdout = load_images(args.data, n=args.holdout, cache_dir=args.cache)
    report = write_card_assets(models, args.run, holdout, args.out) | {"held_out_data": args.data}
    if args.train_data:
        picture, report["memorisation"] = memorisation(models, load_images(args.train_data, cache_dir=args.cache), holdout)
        picture.save(Path(args.out) / "memorisation.png")
    if args.project:
        report |= _projection(args, models, holdout[: args.project])
    (Path(args.out) / "prior.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


def _projection(args: argparse.Namespace, models: Pretrained, faces: np.ndarray) -> dict[str, object]:
    """The card's projection PSNR of `faces`: the student's, and for synthetic faces the teacher's."""
    from semantic_inpaint.evaluate import default_batch_size
    from semantic_inpaint.train.card import project

    given = overrides(args, ("iterations", "candidates"))
    on = next(models.generator.parameters()).device
    batch = args.batch_size or default_batch_size(on, PRESETS["yeh2017"].with_overrides(**given).candidates)
    psnr = {"student": project(faces, models, batch, **given).tolist()}
    if args.data.startswith("synthetic"):
        # The teacher rendered the synthetic faces: the reference for how close G can get.
        from semantic_inpaint.data.synthetic import load_teacher
        from semantic_inpaint.models import Generator, freeze
        from semantic_inpaint.train import teacher_warm_start

        # The teacher's prior is N(0, 1); its warm-start form takes z in [-1, 1], like the search's clamp.
        teacher = Generator()
        teacher.load_state_dict(teacher_warm_start(load_teacher()))
        teacher = freeze(teacher.to(on))
        psnr["teacher"] = project(faces, (teacher, models.discriminator), batch, **given).tolist()
    return {"projection_psnr": psnr, "projection_settings": {"faces": len(faces), "batch_size": batch, **given}}

"""`semantic-inpaint train` (the DCGAN), `train-landmarks` (the soft landmark loss's net) and
`train-encoder` (the learned start's encoder)."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from semantic_inpaint.cli.common import CACHE_HELP, add_command, command_line, device_of
from semantic_inpaint.errors import WeightsError
from semantic_inpaint.models.weights import default_device, load_encoder, load_pretrained


def add_train_parser(sub: argparse._SubParsersAction) -> None:
    t = add_command(sub, "train", "train the 64x64 DCGAN (resumes from OUT/checkpoint.pt)")
    t.add_argument("--data", default="synthetic", help="'synthetic' (teacher-rendered faces), 'celeba-mini:fit' (849 real faces), 'celeba:DIR' or a folder of face images")
    t.add_argument("--n", type=int, default=16384, help="images to use (synthetic: how many to render)")
    t.add_argument("--cache", default=None, help=CACHE_HELP)
    t.add_argument("--out", required=True, help="run folder: checkpoint, log.csv, samples/")
    t.add_argument("--steps", type=int, default=20_000, help="training steps in all; a resumed run may be given more (default: 20000)")
    t.add_argument("--batch-size", type=int, default=64, help="faces a step, across all processes under torchrun (default: 64)")
    t.add_argument("--lr-g", type=float, default=2e-4, help="G's Adam step size (default: 2e-4)")
    t.add_argument("--lr-d", type=float, default=2e-4, help="D's Adam step size (default: 2e-4)")
    t.add_argument("--d-only-steps", type=int, default=0, help="train D alone first (after a warm start)")
    t.add_argument("--damaged-negatives", type=float, default=0.0, help="damaged real faces per real face shown to D as fake")
    t.add_argument("--augment", default="", metavar="POLICY", help="DiffAugment on D's inputs: 'color,translation', or a subset (default: none)")
    t.add_argument("--freeze-d", type=int, default=0, metavar="N", help="keep D's first N convolutions as warm-started (FreezeD; default 0)")
    t.add_argument(
        "--warm-start",
        default="none",
        metavar="none|teacher|WEIGHTS",
        help="start G from the teacher, or G and D from a weight set (a name such as 'synthetic', or a folder) (default: none)",
    )
    t.add_argument(
        "--reconstruction",
        type=float,
        default=0.0,
        metavar="WEIGHT",
        help="after each G step, G and an encoder also learn to rebuild real faces with holes, with this weight; "
        "the encoder (warm-started from the --warm-start set's, if it has one) is exported beside G and D (default: 0, off)",
    )
    t.add_argument("--lr-e", type=float, default=1e-4, help="the encoder's Adam step size, with --reconstruction (default: 1e-4)")
    t.add_argument("--seed", type=int, default=0, help="data order, z, augmentations and damage (default: 0)")
    t.add_argument("--sample-every", type=int, default=250)
    t.add_argument("--device", default=None)
    t.add_argument("--export", default=None, help="write G and D as safetensors + manifest into this folder")
    t.set_defaults(func=run_train)


def add_train_landmarks_parser(sub: argparse._SubParsersAction) -> None:
    lm = add_command(sub, "train-landmarks", "distil dlib's 68-point predictor into the soft landmark loss's net")
    lm.add_argument("--samples", type=int, default=32768, help="generator samples labelled by dlib")
    lm.add_argument("--faces", type=int, default=8192, help="synthetic training faces labelled by dlib, beside the samples")
    lm.add_argument("--epochs", type=int, default=10, help="passes over the labelled faces (default: 10)")
    lm.add_argument("--seed", type=int, default=0, help="(default: 0)")
    lm.add_argument("--workers", type=int, default=2, help="dlib processes for labelling")
    lm.add_argument("--weights", default=None, metavar="DIR", help="the generator to sample (default: the shipped one)")
    lm.add_argument("--device", choices=["cpu", "cuda"], default=None)
    lm.add_argument("--cache", default=None, help=CACHE_HELP)
    lm.add_argument("--out", required=True, help="run folder: log.csv, config.json")
    lm.add_argument("--export", default=None, metavar="DIR", help="add the net to this pretrained folder's manifest, with its card pictures")
    lm.set_defaults(func=run_train_landmarks)


def add_train_encoder_parser(sub: argparse._SubParsersAction) -> None:
    en = add_command(sub, "train-encoder", "train the encoder of the learned start (init='encoder', the 'fast' preset) for a weight set's generator")
    en.add_argument("--weights", default=None, metavar="WEIGHTS", help="the weight set whose generator it serves (default: celeba)")
    en.add_argument("--real", default=None, metavar="DATA", help="real faces to learn from beside G's samples, e.g. 'celeba-mini:fit' (default: samples only)")
    en.add_argument("--out", required=True, help="run folder: checkpoint.pt, log.csv (resumed from)")
    en.add_argument("--steps", type=int, default=3000, help="(default: 3000; a resumed run may be given more)")
    en.add_argument("--batch-size", type=int, default=64, help="(default: 64)")
    en.add_argument("--lr", type=float, default=2e-4, help="Adam's step size (default: 2e-4)")
    en.add_argument(
        "--warm-start", action="store_true", help="start from the encoder the --weights set has for its generator (a longer run of it; default: afresh)"
    )
    en.add_argument("--real-fraction", type=float, default=0.5, help="share of each batch from --real (default: 0.5; 1: real faces only, so no latent term)")
    en.add_argument("--seed", type=int, default=0, help="z, faces and holes drawn (default: 0)")
    en.add_argument("--cache", default=None, help=CACHE_HELP)
    en.add_argument("--device", default=None)
    en.add_argument("--export", default=None, metavar="DIR", help="add the encoder to this weight set's folder (manifest, sha256, the generator's fingerprint)")
    en.set_defaults(func=run_train_encoder)


def _warm_start(choice: str) -> tuple[dict | None, dict | None, dict | None, int]:
    """--warm-start as (G's state, D's state, the encoder's state, width): none; the teacher's G
    (at the DCGAN's width, 64); or G and D of a weight set, with its encoder if it has one for
    that G, at its width."""
    from semantic_inpaint.train import teacher_warm_start

    if choice == "none":
        return None, None, None, 64
    if choice == "teacher":
        from semantic_inpaint.data.synthetic import load_teacher

        return teacher_warm_start(load_teacher()), None, None, 64
    start = load_pretrained(choice, "cpu")
    try:
        encoder = load_encoder(start.generator, choice, "cpu").state_dict()
    except WeightsError:  # none, or one of another generator: the encoder starts afresh
        encoder = None
    return start.generator.state_dict(), start.discriminator.state_dict(), encoder, start.generator.width


def run_train(args: argparse.Namespace) -> None:
    from semantic_inpaint import distributed
    from semantic_inpaint.data import load_images
    from semantic_inpaint.train import TrainConfig, export, train

    device = distributed.init(device_of(args)) or default_device()  # under torchrun: data-parallel, one GPU per rank
    team = distributed.world()
    warm, warm_d, warm_e, width = _warm_start(args.warm_start)
    config = TrainConfig(  # its checks come before the faces, which may take minutes to render
        steps=args.steps,
        batch_size=args.batch_size,
        lr_g=args.lr_g,
        lr_d=args.lr_d,
        d_only_steps=args.d_only_steps,
        damaged_negatives=args.damaged_negatives,
        augment=args.augment,
        freeze_d=args.freeze_d,
        reconstruction=args.reconstruction,
        lr_e=args.lr_e,
        width=width,  # a warm start's, else the DCGAN's 64
        seed=args.seed,
        sample_every=args.sample_every,
        checkpoint_every=args.sample_every,
    )
    if not team.is_main:
        team.barrier()  # rank 0 loads first: it may render and cache the faces the others then read
    images = load_images(args.data, n=args.n, cache_dir=args.cache)
    if team.is_main:
        team.barrier()
    g, d, encoder = train(images, args.out, config, device=device, warm_start=warm, warm_start_d=warm_d, warm_start_e=warm_e)
    if args.export and team.is_main:
        from semantic_inpaint.models.weights import add_to_manifest, fingerprint

        # What the run started from, by the fingerprint of its G: a weight set's name may later
        # hold other weights (a retrained default set), the fingerprint names these ones.
        start = {"warm_start": args.warm_start} | ({"warm_start_generator": fingerprint(warm)} if warm is not None else {})
        info = dict(command=command_line(), data=args.data, train_images=len(images), steps=args.steps, **start)
        manifest = export(g, d, args.export, **info)
        if encoder is not None:  # trained with this G: the learned start of its weight set
            from semantic_inpaint.train.encoder import encoder_samples

            manifest = add_to_manifest(args.export, "encoder", encoder.cpu(), generator=fingerprint(g), command=command_line(), real=args.data)
            encoder_samples(encoder, g.cpu()).save(Path(args.export) / "encoder_samples.png")  # the model card's picture of it
        print(json.dumps(manifest["files"], indent=2))
    distributed.finish()


def run_train_landmarks(args: argparse.Namespace) -> None:
    from semantic_inpaint.data import load_images
    from semantic_inpaint.losses.landmarks import LandmarkDetector
    from semantic_inpaint.models.weights import add_to_manifest
    from semantic_inpaint.train.landmarks import LandmarkTrainConfig, card_assets, distil

    device = device_of(args) or str(default_device())
    config = LandmarkTrainConfig(samples=args.samples, faces=args.faces, epochs=args.epochs, seed=args.seed)
    generator = load_pretrained(args.weights, device).generator
    holdout = load_images("synthetic-holdout", n=256, cache_dir=args.cache)
    net, errors = distil(generator, load_images("synthetic", n=args.faces, cache_dir=args.cache), holdout, config, args.out, args.workers, device)
    print(f"held-out point error vs dlib: {errors['samples']:.2f} px on generator samples, {errors['faces']:.2f} px on faces")
    if args.export:
        add_to_manifest(args.export, "landmarks", net, command=command_line(), error_px=errors)
        card_assets(net, args.out, holdout, args.export, LandmarkDetector())


def run_train_encoder(args: argparse.Namespace) -> None:
    from semantic_inpaint.data import load_images
    from semantic_inpaint.figures import save_figure
    from semantic_inpaint.models.weights import add_to_manifest, fingerprint
    from semantic_inpaint.train.encoder import EncoderTrainConfig, encoder_curve, encoder_samples, train_encoder

    device = device_of(args) or str(default_device())
    config = EncoderTrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, real_fraction=args.real_fraction, seed=args.seed)
    generator = load_pretrained(args.weights, "cpu").generator
    warm = load_encoder(generator, args.weights, "cpu") if args.warm_start else None  # a named error if the set has none for this G
    real = load_images(args.real, cache_dir=args.cache) if args.real else None
    encoder = train_encoder(generator, args.out, config, real=real, device=device, warm_start=warm)
    if args.export:
        # A warm start is named by the fingerprint of its weights: the set's encoder it began from is replaced here.
        start = {"warm_start_encoder": fingerprint(warm.state_dict())} if warm is not None else {}
        add_to_manifest(args.export, "encoder", encoder.cpu(), generator=fingerprint(generator), command=command_line(), real=args.real or "none", **start)
        # The model card's pictures: the curve (its log beside it, to redraw) and starts on G's own samples.
        shutil.copyfile(Path(args.out) / "log.csv", Path(args.export) / "encoder_log.csv")
        save_figure(encoder_curve(Path(args.out) / "log.csv"), Path(args.export) / "encoder_curve.png")
        encoder_samples(encoder, generator).save(Path(args.export) / "encoder_samples.png")
        print(f"added the encoder to {args.export}, with encoder_log.csv, encoder_curve.png and encoder_samples.png")

"""Command-line front end: `semantic-inpaint {complete,demo,evaluate,card,train,train-landmarks,train-encoder}`.
It only calls public functions."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from importlib import resources
from pathlib import Path

from PIL import Image
from torch import Tensor

from semantic_inpaint import PRESETS, Completion, InpaintInputError, LandmarkError, WeightsError, complete, load_image, load_pretrained, masks
from semantic_inpaint.baselines import BASELINES
from semantic_inpaint.models.weights import default_device

EXAMPLE_FACE = "examples/face.png"  # inside the package: a held-out synthetic face (teacher id 1000000)


def _train(args: argparse.Namespace) -> None:
    from semantic_inpaint import distributed
    from semantic_inpaint.data import load_images
    from semantic_inpaint.train import TrainConfig, export, teacher_warm_start, train

    device = distributed.init(_device(args)) or default_device()  # under torchrun: data-parallel, one GPU per rank
    team = distributed.world()
    if not team.is_main:
        team.barrier()  # rank 0 loads first: it may render and cache the faces the others then read
    images = load_images(args.data, n=args.n, cache_dir=args.cache)
    if team.is_main:
        team.barrier()
    warm = warm_d = None
    width = 64
    if args.warm_start == "teacher":
        from semantic_inpaint.data.synthetic import load_teacher

        warm = teacher_warm_start(load_teacher())
    elif args.warm_start != "none":
        start = load_pretrained(args.warm_start, "cpu")
        warm, warm_d, width = start.generator.state_dict(), start.discriminator.state_dict(), start.generator.width
    config = TrainConfig(
        steps=args.steps,
        batch_size=args.batch_size,
        lr_g=args.lr_g,
        lr_d=args.lr_d,
        d_only_steps=args.d_only_steps,
        damaged_negatives=args.damaged_negatives,
        augment=args.augment,
        freeze_d=args.freeze_d,
        width=width,  # a warm start's, else the DCGAN's 64
        seed=args.seed,
        sample_every=args.sample_every,
        checkpoint_every=args.sample_every,
    )
    g, d = train(images, args.out, config, device=device, warm_start=warm, warm_start_d=warm_d)
    if args.export and team.is_main:
        info = {"command": "semantic-inpaint " + " ".join(sys.argv[1:]), "data": args.data, "train_images": len(images)}
        manifest = export(g, d, args.export, **info)
        print(json.dumps(manifest["files"], indent=2))
    distributed.finish()


def _train_landmarks(args: argparse.Namespace) -> None:
    from semantic_inpaint.data import load_images
    from semantic_inpaint.losses.landmarks import LandmarkDetector
    from semantic_inpaint.models.weights import add_to_manifest
    from semantic_inpaint.train.landmarks import LandmarkTrainConfig, card_assets, distil

    device = _device(args) or str(default_device())
    config = LandmarkTrainConfig(samples=args.samples, faces=args.faces, epochs=args.epochs, seed=args.seed)
    generator = load_pretrained(args.weights, device).generator
    holdout = load_images("synthetic-holdout", n=256, cache_dir=args.cache)
    net, errors = distil(generator, load_images("synthetic", n=args.faces, cache_dir=args.cache), holdout, config, args.out, args.workers, device)
    print(f"held-out point error vs dlib: {errors['samples']:.2f} px on generator samples, {errors['faces']:.2f} px on faces")
    if args.export:
        command = "semantic-inpaint " + " ".join(sys.argv[1:])
        add_to_manifest(args.export, "landmarks", net, command=command, error_px=errors)
        card_assets(net, args.out, holdout, args.export, LandmarkDetector())


def _train_encoder(args: argparse.Namespace) -> None:
    from semantic_inpaint.data import load_images
    from semantic_inpaint.models.weights import add_to_manifest, fingerprint
    from semantic_inpaint.figures import save_figure
    from semantic_inpaint.train.encoder import EncoderTrainConfig, encoder_curve, encoder_samples, train_encoder

    device = _device(args) or str(default_device())
    config = EncoderTrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, real_fraction=args.real_fraction, seed=args.seed)
    generator = load_pretrained(args.weights, "cpu").generator
    real = load_images(args.real, cache_dir=args.cache) if args.real else None
    encoder = train_encoder(generator, args.out, config, real=real, device=device)
    if args.export:
        command = "semantic-inpaint " + " ".join(sys.argv[1:])
        add_to_manifest(args.export, "encoder", encoder.cpu(), generator=fingerprint(generator), command=command, real=args.real or "none")
        # The model card's pictures: the curve (its log beside it, to redraw) and starts on G's own samples.
        shutil.copyfile(Path(args.out) / "log.csv", Path(args.export) / "encoder_log.csv")
        save_figure(encoder_curve(Path(args.out) / "log.csv"), Path(args.export) / "encoder_curve.png")
        encoder_samples(encoder, generator).save(Path(args.export) / "encoder_samples.png")
        print(f"added the encoder to {args.export}, with encoder_log.csv, encoder_curve.png and encoder_samples.png")


def _device(args: argparse.Namespace) -> str | None:
    """--device as given (None: the library's default), refusing CUDA where there is none."""
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise InpaintInputError("--device cuda: no CUDA device is available here; use --device cpu")
    return args.device


def _steps(text: str) -> tuple[int, ...]:
    """'400,700' -> (400, 700), for --halve-at."""
    try:
        return tuple(int(t) for t in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected step numbers separated by commas, e.g. 400,700; got {text!r}") from None


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


# The search options of the shared parser (`build_parser`), passed on when given.
SEARCH_OPTIONS = ("iterations", "candidates", "halve_at", "precision", "fp32_last")


def _overrides(args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, object]:
    """The search options given on the command line; the rest keep the preset's values."""
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def _mask(value: str, hole_white: bool) -> str | Tensor:
    """A mask name goes to complete() as it is; anything else is a mask image file."""
    if value in masks.NAMES:
        if hole_white:
            raise InpaintInputError(f"--hole-white is for mask image files; {value!r} is a named mask")
        return value
    if not Path(value).is_file():
        raise InpaintInputError(f"--mask {value!r} is neither a mask name ({', '.join(masks.NAMES)}) nor an existing image file")
    return masks.from_image(value, hole="white" if hole_white else "black")


def _box(value: str) -> tuple[int, ...]:
    try:
        box = tuple(int(v) for v in value.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not X0,Y0,X1,Y1 in whole pixels") from None
    if len(box) != 4:
        raise argparse.ArgumentTypeError(f"{value!r} is not X0,Y0,X1,Y1 (four numbers)")
    return box


def _is_photo(path: str, crop: bool) -> bool:
    """Whether `complete` takes the photo path: any picture that is not already a 64x64 face,
    unless --crop asks for the centre crop instead."""
    if crop:
        return False
    try:
        with Image.open(path) as picture:
            return picture.size != (64, 64)
    except (OSError, ValueError):
        return False  # load_image names the problem


def _complete_photo(args: argparse.Namespace, device: str | None, models: object) -> None:
    from semantic_inpaint.photo import complete_photo

    mask = args.mask if args.mask in masks.FACE else _mask(args.mask, args.hole_white)
    result = complete_photo(
        args.input,
        mask,
        args.preset or "thesis",
        box=args.box,
        models=models,
        device=device,
        progress=False if args.no_progress else None,
        **_overrides(args, (*SEARCH_OPTIONS, "seed", "blend")),
    )
    result.image.save(args.out)
    for face in result.faces:
        print(f"face at {face.box}: {_summary(face.completion)}")


def _summary(result: Completion) -> str:
    """One line: the best candidate of image 0 and its loss terms (eq. 20)."""
    b = int(result.best[0])
    terms = result.losses
    return (
        f"best candidate {b} of {result.config.candidates}: context {terms.context[0, b]:.4g}, prior {terms.prior[0, b]:.4g}, "
        f"landmark {terms.landmark[0, b]:.4g}, total {terms.total[0, b]:.4g}"
    )


FIGURE_FORMATS = (".png", ".jpg", ".jpeg", ".pdf", ".svg")


def _check_output(path: str, flag: str, formats: tuple[str, ...] | None = None) -> None:
    """Refuse an output path the image could not be written to, before minutes of search: a
    folder, an unknown picture format, a place that cannot be written. A missing parent folder
    is made. `formats`: the suffixes allowed (default: what PIL writes)."""
    out = Path(path)
    allowed = formats or tuple(ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.SAVE)
    if out.is_dir() or path.endswith(("/", os.sep)):
        raise InpaintInputError(f"{flag} {path} is a folder: give a file name, e.g. {out / 'completed.png'}")
    if out.suffix.lower() not in allowed:
        raise InpaintInputError(f"{flag} {path}: unknown picture format {out.suffix or '(none)'!r}; end the name in .png or .jpg")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InpaintInputError(f"{flag} {path}: cannot make its folder ({e.strerror}); write somewhere else") from None
    if not os.access(out.parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise InpaintInputError(f"{flag} {path}: not writable here; write somewhere else")


def _complete(args: argparse.Namespace) -> None:
    _check_output(args.out, "--out")
    if args.figure:
        _check_output(args.figure, "--figure", FIGURE_FORMATS)
    device = _device(args)
    models = load_pretrained(args.weights, device) if args.weights else None
    if _is_photo(args.input, args.crop):
        return _complete_photo(args, device, models)
    if args.box is not None:
        raise InpaintInputError("--box gives a face's box in a photo; this input is a 64x64 face (or --crop was given)")
    image = load_image(args.input)
    mask = _mask(args.mask, args.hole_white)
    result = complete(
        image,
        mask,
        args.preset or "thesis",
        models=models,
        device=device,
        progress=False if args.no_progress else None,
        mask_seed=args.mask_seed,
        **_overrides(args, (*SEARCH_OPTIONS, "seed", "blend")),
    )
    result.image().save(args.out)
    if args.figure:
        from semantic_inpaint.figures import completion_figure, save_figure  # matplotlib only when asked

        save_figure(completion_figure(result), args.figure)
    print(_summary(result))


def _example_face() -> tuple[Image.Image, str]:
    """The demo's face: the first celeba-mini test face (a real face no shipped model was trained
    on) when the package that ships it is installed, else the bundled synthetic face."""
    from semantic_inpaint.data import load_images

    try:
        return Image.fromarray(load_images("celeba-mini:test", n=1)[0]), "CelebA face 000900 (celeba-mini:test, never trained on)"
    except InpaintInputError as e:
        print(f"note: {e}; using the bundled synthetic face instead")
    with resources.as_file(resources.files("semantic_inpaint") / EXAMPLE_FACE) as path:
        return load_image(path), "the bundled synthetic face (teacher id 1000000)"


def _demo(args: argparse.Namespace) -> None:
    from semantic_inpaint.figures import completion_figure, save_figure

    device = _device(args)
    # Load the weights first and fail plainly: a demo on random or missing weights would mislead.
    try:
        models = load_pretrained(args.weights, device)
    except WeightsError as e:
        raise WeightsError(f"the demo needs pretrained weights and none could be loaded: {e}") from None
    image, which = _example_face()
    overrides = _overrides(args, SEARCH_OPTIONS)
    preset = args.preset or "thesis"
    config = PRESETS[preset].with_overrides(**overrides)
    print(f"completing the centre of {which}: preset {preset}, {config.iterations} iterations, K = {config.candidates}")
    start = time.perf_counter()
    result = complete(image, "centre", preset, models=models, device=device, **overrides)
    seconds = time.perf_counter() - start
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    image.save(out / "input.png")
    result.image().save(out / "completed.png")
    save_figure(completion_figure(result), out / "figure.png")
    print(_summary(result))
    print(f"wrote {out / 'input.png'}, {out / 'completed.png'} and {out / 'figure.png'}; search took {seconds:.1f} s")


def _evaluate(args: argparse.Namespace) -> None:
    from semantic_inpaint import distributed
    from semantic_inpaint.data import load_images
    from semantic_inpaint.evaluate import check_methods, evaluate

    if args.preset is not None:
        raise InpaintInputError(f"evaluate runs the presets named in --methods (e.g. --methods {args.preset},tv), not --preset {args.preset}")
    device = distributed.init(_device(args))  # under torchrun: join the group; on CUDA, one GPU per rank
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
        **_overrides(args, (*SEARCH_OPTIONS, "seed")),
    )
    if team.is_main:
        print(f"{len(images)} images in {time.perf_counter() - start:.0f} s; tables in {Path(args.out) / 'results.md'}")
    distributed.finish()


def _card(args: argparse.Namespace) -> None:
    from semantic_inpaint.data import load_images
    from semantic_inpaint.evaluate import default_batch_size, project
    from semantic_inpaint.train.card import memorisation, write_card_assets

    device = _device(args)
    models = load_pretrained(args.weights, device)
    holdout = load_images(args.data, n=args.holdout, cache_dir=args.cache)
    report = write_card_assets(models, args.run, holdout, args.out) | {"held_out_data": args.data}
    if args.train_data:
        picture, report["memorisation"] = memorisation(models, load_images(args.train_data, cache_dir=args.cache), holdout)
        picture.save(Path(args.out) / "memorisation.png")
    if args.project:
        faces = holdout[: args.project]
        overrides = _overrides(args, ("iterations", "candidates"))
        on = next(models.generator.parameters()).device
        batch = args.batch_size or default_batch_size(on, PRESETS["yeh2017"].with_overrides(**overrides).candidates)
        report["projection_psnr"] = {"student": project(faces, models, batch, **overrides).tolist()}
        if args.data.startswith("synthetic"):
            # The teacher rendered the synthetic faces: the reference for how close G can get.
            from semantic_inpaint.data.synthetic import load_teacher
            from semantic_inpaint.models import Generator, freeze
            from semantic_inpaint.train import teacher_warm_start

            # The teacher's prior is N(0, 1); its warm-start form takes z in [-1, 1], like the search's clamp.
            teacher = Generator()
            teacher.load_state_dict(teacher_warm_start(load_teacher()))
            teacher = freeze(teacher.to(on))
            report["projection_psnr"]["teacher"] = project(faces, (teacher, models.discriminator), batch, **overrides).tolist()
        report["projection_settings"] = {"faces": len(faces), "batch_size": batch, **overrides}
    (Path(args.out) / "prior.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


CACHE_HELP = "folder for the rendered synthetic faces (default: $SEMANTIC_INPAINT_CACHE, else ~/.cache/semantic-inpaint)"


def _command(sub: argparse._SubParsersAction, name: str, text: str, **kwargs: object) -> argparse.ArgumentParser:
    """A subcommand whose one line in the list is also the description atop its --help."""
    return sub.add_parser(name, help=text, description=text, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="semantic-inpaint",
        description="Face inpainting by latent-space search in a pretrained 64x64 DCGAN (masks: 1 = known, 0 = missing).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    # Options shared by `complete` and `demo`; unset search options keep the preset's values.
    search = argparse.ArgumentParser(add_help=False)
    search.add_argument("--preset", choices=sorted(PRESETS), default=None, help="thesis: context + prior + dlib landmark loss; yeh2017: context + prior; structure: context + prior + soft landmark loss; adapt: yeh2017 + a colour transform per candidate; fast: yeh2017 from the encoder's guess, K = 16, 100 steps (default: thesis)")
    search.add_argument("--iterations", type=int, default=None, help="Adam steps on z (preset default: 1000)")
    search.add_argument("--candidates", type=int, default=None, help="K latent vectors searched (preset default: 64)")
    search.add_argument(
        "--halve-at",
        type=_steps,
        default=None,
        metavar="STEPS",
        help="successive halving, e.g. 400,700: at each step keep the better half of the candidates (ours; default off; see docs/performance.md)",
    )
    search.add_argument(
        "--precision",
        choices=["fp32", "bf16"],
        default=None,
        help="the networks during the search: bf16 is about 2x faster where bf16 runs faster than fp32 (measured on AMD Zen 4; GPUs), "
        "and changes which candidate wins on some faces (default: fp32; see docs/performance.md)",
    )
    search.add_argument("--fp32-last", type=int, default=None, metavar="N", help="with --precision bf16: run the last N steps in fp32 (default: 0)")
    search.add_argument("--device", choices=["cpu", "cuda"], default=None, help="default: cuda when available, else cpu")
    search.add_argument("--weights", default=None, metavar="DIR", help="a weight set: a shipped one by name (celeba, synthetic) or a folder written by `train --export` (default: celeba)")

    c = sub.add_parser(
        "complete",
        parents=[search],
        help="inpaint one face picture",
        description="Inpaint a face: a 64x64 face directly; a photo of any size by finding each face the hole touches (dlib), aligning it to the 64x64 frame, filling the hole by latent search and pasting the result back into the hole only.",
    )
    c.add_argument(
        "input",
        metavar="IN",
        help="a 64x64 face, or a photo of any size: its faces are found (dlib), aligned, completed and pasted back into the hole",
    )
    c.add_argument(
        "--mask",
        required=True,
        metavar="NAME|MASK.png",
        help="a mask picture of the input's size where black = missing (the hole) and white = known (for pictures drawn the "
        "other way round, add --hole-white); or a name: eyes, lower-face, mouth, nose (drawn on each face found), and for "
        "64x64 faces also centre, left, right, random, freeform",
    )
    c.add_argument("--box", type=_box, default=None, metavar="X0,Y0,X1,Y1", help="a photo's face box, for a face dlib's detector misses")
    c.add_argument("--crop", action="store_true", help="centre-crop and resize the picture to 64x64 instead of finding the face")
    c.add_argument("--hole-white", action="store_true", help="the mask picture marks the missing pixels in white")
    c.add_argument("--out", required=True, metavar="OUT.png", help="where to write the completed image (the photo's size, or 64x64)")
    c.add_argument("--seed", type=int, default=None, help="seed of the initial z (default: 0)")
    c.add_argument("--mask-seed", type=int, default=0, help="seed of a random or freeform --mask, apart from --seed (default: 0)")
    c.add_argument("--blend", choices=["overlay", "poisson"], default=None, help="how the fill meets the known pixels (default: overlay)")
    c.add_argument("--figure", default=None, metavar="FIG.png", help="also write a figure: input, mask, candidates, result, losses")
    c.add_argument("--no-progress", action="store_true", help="no progress bar")
    c.set_defaults(func=_complete)

    demo = sub.add_parser(
        "demo",
        parents=[search],
        help="complete the centre of an example face and draw the figure",
        description="Complete the centre of an example face (the first celeba-mini test face, a real face no shipped model saw, when celeba-mini is installed; else a bundled synthetic face) with the shipped weights (thesis preset, 1000 iterations, K = 64 unless overridden).",
    )
    demo.add_argument("--out", default="semantic-inpaint-demo", metavar="DIR", help="folder for input.png, completed.png, figure.png")
    demo.set_defaults(func=_demo)

    e = _command(sub, "evaluate", "the tables harness: methods x masks, per-image CSV and markdown tables", parents=[search])
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
    e.set_defaults(func=_evaluate)

    k = _command(sub, "card", "model-card assets: training curve, samples, D on held-out faces, projection PSNR", parents=[search])
    k.add_argument("--run", default=None, help="the training run folder (its log.csv); without it, training_curve.png is left as it is")
    k.add_argument("--out", required=True, help="where to write training_curve.png, samples.png, prior.json")
    k.add_argument("--data", default="synthetic-holdout", help="the held-out faces: 'synthetic-holdout' or 'celeba-mini:test' (default: synthetic-holdout)")
    k.add_argument("--holdout", type=int, default=256, help="held-out faces for the D report (the first n of --data)")
    k.add_argument("--project", type=int, default=0, help="also project this many held-out faces (and, for synthetic faces, the teacher)")
    k.add_argument("--train-data", default=None, help="the training faces, for the memorisation check (16 samples beside their nearest training face)")
    k.add_argument("--batch-size", type=int, default=None, help="faces projected together (default: 1 on CPU; on CUDA what half the free memory holds, up to 64)")
    k.add_argument("--cache", default=None, help=CACHE_HELP)
    k.set_defaults(func=_card)

    t = _command(sub, "train", "train the 64x64 DCGAN (resumes from OUT/checkpoint.pt)")
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
    t.add_argument("--seed", type=int, default=0, help="data order, z, augmentations and damage (default: 0)")
    t.add_argument("--sample-every", type=int, default=250)
    t.add_argument("--device", default=None)
    t.add_argument("--export", default=None, help="write G and D as safetensors + manifest into this folder")
    t.set_defaults(func=_train)

    lm = _command(sub, "train-landmarks", "distil dlib's 68-point predictor into the soft landmark loss's net")
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
    lm.set_defaults(func=_train_landmarks)

    en = _command(sub, "train-encoder", "train the encoder of the learned start (init='encoder', the 'fast' preset) for a weight set's generator")
    en.add_argument("--weights", default=None, metavar="WEIGHTS", help="the weight set whose generator it serves (default: celeba)")
    en.add_argument("--real", default=None, metavar="DATA", help="real faces to learn from beside G's samples, e.g. 'celeba-mini:fit' (default: samples only)")
    en.add_argument("--out", required=True, help="run folder: checkpoint.pt, log.csv (resumed from)")
    en.add_argument("--steps", type=int, default=3000, help="(default: 3000; a resumed run may be given more)")
    en.add_argument("--batch-size", type=int, default=64, help="(default: 64)")
    en.add_argument("--lr", type=float, default=2e-4, help="Adam's step size (default: 2e-4)")
    en.add_argument("--real-fraction", type=float, default=0.5, help="share of each batch from --real")
    en.add_argument("--seed", type=int, default=0, help="z, faces and holes drawn (default: 0)")
    en.add_argument("--cache", default=None, help=CACHE_HELP)
    en.add_argument("--device", default=None)
    en.add_argument("--export", default=None, metavar="DIR", help="add the encoder to this weight set's folder (manifest, sha256, the generator's fingerprint)")
    en.set_defaults(func=_train_encoder)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Run the command line. Errors about the user's input, weights or dlib end with a one-line
    message and exit status 2 (argparse's status for usage errors); anything else is a bug and
    keeps its traceback."""
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (InpaintInputError, WeightsError, LandmarkError) as e:
        print(f"semantic-inpaint: error: {e}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()

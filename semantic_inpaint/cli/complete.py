"""`semantic-inpaint complete` (one face, or the faces of a photo) and `semantic-inpaint demo`."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image
from torch import Tensor

from semantic_inpaint import machine, masks, metrics
from semantic_inpaint.cli.common import SEARCH_OPTIONS, device_of, overrides, search_options
from semantic_inpaint.complete import Completion, complete, resolve_device
from semantic_inpaint.config import PRESETS
from semantic_inpaint.errors import InpaintInputError, WeightsError
from semantic_inpaint.io import load_image
from semantic_inpaint.models.weights import load_pretrained

DEMO_FACE = "scikit-image's astronaut (Eileen Collins, NASA, public domain), aligned to 64x64"
FIGURE_FORMATS = (".png", ".jpg", ".jpeg", ".pdf", ".svg")


def add_complete_parser(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser(
        "complete",
        parents=[search_options()],
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
    c.set_defaults(func=run_complete)


def add_demo_parser(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser(
        "demo",
        parents=[search_options()],
        help="complete the centre of an example face and draw the figure",
        description="Complete the centre of an example face (scikit-image's astronaut, a public-domain photo of Eileen Collins, aligned to 64x64: a real face no shipped model saw) with the shipped weights (thesis preset, 1000 iterations, K = 64 unless overridden), and score it against the original.",
    )
    demo.add_argument("--out", default="semantic-inpaint-demo", metavar="DIR", help="folder for input.png, completed.png, figure.png and summary.json")
    demo.set_defaults(func=run_demo)


def _box(value: str) -> tuple[int, ...]:
    """'X0,Y0,X1,Y1' -> four whole numbers, for --box."""
    try:
        box = tuple(int(v) for v in value.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not X0,Y0,X1,Y1 in whole pixels") from None
    if len(box) != 4:
        raise argparse.ArgumentTypeError(f"{value!r} is not X0,Y0,X1,Y1 (four numbers)")
    return box


def _mask(value: str, hole_white: bool) -> str | Tensor:
    """A mask name goes to complete() as it is; anything else is a mask image file."""
    if value in masks.NAMES:
        if hole_white:
            raise InpaintInputError(f"--hole-white is for mask image files; {value!r} is a named mask")
        return value
    if not Path(value).is_file():
        raise InpaintInputError(f"--mask {value!r} is neither a mask name ({', '.join(masks.NAMES)}) nor an existing image file")
    return masks.from_image(value, hole="white" if hole_white else "black")


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
    try:  # by writing: permission bits (os.access) pass root even where nothing can be written, e.g. /proc
        with tempfile.NamedTemporaryFile(dir=out.parent, prefix=".semantic-inpaint-"):
            pass
        if out.exists():
            open(out, "ab").close()  # append mode: the file is left as it is
    except OSError as e:
        raise InpaintInputError(f"{flag} {path}: not writable here ({e.strerror}); write somewhere else") from None


def _summary(result: Completion) -> str:
    """One line: the best candidate of image 0 and its loss terms (eq. 20)."""
    b = int(result.best[0])
    terms = result.losses
    return (
        f"best candidate {b} of {result.config.candidates}: context {terms.context[0, b]:.4g}, prior {terms.prior[0, b]:.4g}, "
        f"landmark {terms.landmark[0, b]:.4g}, total {terms.total[0, b]:.4g}"
        + ("; the hole from the candidates' loss-weighted mean (pick='mean')" if result.config.pick == "mean" else "")
    )


def run_complete(args: argparse.Namespace) -> None:
    _check_output(args.out, "--out")
    if args.figure:
        _check_output(args.figure, "--figure", FIGURE_FORMATS)
    device = device_of(args)
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
        **overrides(args, (*SEARCH_OPTIONS, "seed", "blend")),
    )
    result.image().save(args.out)
    if args.figure:
        from semantic_inpaint.figures import completion_figure, save_figure  # matplotlib only when asked

        save_figure(completion_figure(result), args.figure)
    print(_summary(result))


def _complete_photo(args: argparse.Namespace, device: str | None, models: object) -> None:
    from semantic_inpaint.photo import complete_photo

    mask = args.mask if args.mask in masks.FACE else _mask(args.mask, args.hole_white)
    result = complete_photo(
        args.input,
        mask,
        args.preset or "fast",
        box=args.box,
        models=models,
        device=device,
        progress=False if args.no_progress else None,
        **overrides(args, (*SEARCH_OPTIONS, "seed", "blend")),
    )
    result.image.save(args.out)
    for face in result.faces:
        print(f"face at {face.box}: {_summary(face.completion)}")


def _example_face() -> tuple[Image.Image, Image.Image]:
    """The demo's face: scikit-image's `astronaut` (Eileen Collins, NASA: public domain), read
    from the installed package and aligned to the 64x64 frame as the training faces were. A real
    face no shipped model was trained on, and one whose figure the docs may show."""
    from skimage import data

    from semantic_inpaint.photo import align_faces

    return align_faces(data.astronaut())[0].image


def run_demo(args: argparse.Namespace) -> None:
    from semantic_inpaint.figures import completion_figure, save_figure

    device = device_of(args)
    # Load the weights first and fail plainly: a demo on random or missing weights would mislead.
    try:
        models = load_pretrained(args.weights, device)
    except WeightsError as e:
        raise WeightsError(f"the demo needs pretrained weights and none could be loaded: {e}") from None
    image = _example_face()
    given = overrides(args, SEARCH_OPTIONS)
    preset = args.preset or "thesis"
    config = PRESETS[preset].with_overrides(**given)
    print(f"completing the centre of {DEMO_FACE}: preset {preset}, {config.iterations} iterations, K = {config.candidates}")
    start = time.perf_counter()
    result = complete(image, "centre", preset, models=models, device=device, **given)
    seconds = time.perf_counter() - start
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    image.save(out / "input.png")
    result.image().save(out / "completed.png")
    save_figure(completion_figure(result), out / "figure.png")
    record = _demo_record(result, preset, args.weights, seconds, device)
    (out / "summary.json").write_text(json.dumps(record, indent=1) + "\n")
    print(_summary(result))
    print(f"PSNR against the original face: {record['psnr']:.2f} dB (hole {record['psnr_hole']:.2f} dB)")
    print(f"wrote input.png, completed.png, figure.png and summary.json to {out}; search took {seconds:.1f} s")


def _demo_record(result: Completion, preset: str, weights: str | None, seconds: float, device: str | None) -> dict:
    """What a demo run gives, for docs/demo.json: its settings, its pick and scores, and the
    machine, since a seeded search repeats exactly only on the same kind of device. The demo's
    face is whole, so the search's input is the truth its completion is scored against."""
    b = int(result.best[0])
    hole = metrics.hole(result.masks)
    return {
        "face": DEMO_FACE,
        "weights": weights or "celeba",
        "preset": preset,
        "iterations": result.config.iterations,
        "candidates": result.config.candidates,
        "seed": result.config.seed,
        "best": b,
        "total": float(result.losses.total[0, b]),
        "psnr": float(metrics.psnr(result.images, result.inputs)),
        "psnr_hole": float(metrics.psnr(result.images, result.inputs, region=hole)),
        "seconds": round(seconds, 1),
        "machine": machine.describe(resolve_device(device)),
        "torch": torch.__version__,
    }

"""The reliability table: every bad input and fault the library is known to meet, what it gets
(a named error, a warning, or a correct conversion), checked here and written to
docs/reliability.md from what was observed.

Each `Case` exercises one bad input through the public API or the command line. An "error" must
be a named library error (or the command line's one-line error), never a bare TypeError or
ValueError from inside, and must come before any search starts (Adam is a tripwire while it
runs); a "warning" must warn and still give a sensible result; a "converted" input must come out
right (the call checks the value). Either way the message must hold the case's key words.

Regenerate the table after changing a case or a message:
    SEMANTIC_INPAINT_WRITE_DOCS=1 .venv/bin/python -m pytest tests/test_reliability.py
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from semantic_inpaint import (
    InpaintInputError,
    LandmarkDetector,
    LandmarkError,
    WeightsError,
    cli,
    complete,
    load_image,
    load_pretrained,
    masks,
)
from semantic_inpaint.evaluate import evaluate, image_path
from semantic_inpaint.losses.landmarks import MODEL_FILE
from semantic_inpaint.models import Generator
from semantic_inpaint.models.encoder import Encoder
from semantic_inpaint.models.weights import (
    FILES,
    MANIFEST,
    add_to_manifest,
    fingerprint,
    load_encoder,
)
from semantic_inpaint.safe_files import FolderLock
from semantic_inpaint.train import export

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "reliability.md"
WRITE_ENV = "SEMANTIC_INPAINT_WRITE_DOCS"
LIBRARY_ERRORS = (InpaintInputError, WeightsError, LandmarkError)
EXPECTS = ("error", "warning", "converted")
CLI_ERROR = re.compile(r"^semantic-inpaint(?: [\w-]+)?: error: .*$", re.MULTILINE)


@dataclass(frozen=True)
class Case:
    """One bad input or fault. `call` takes no argument (its files go in `tmp()`); it raises,
    warns, or returns: a `CliRun` for the command line, else for "converted" a short note of
    what it checked. `mentions`: lowercase key words the message must hold."""

    group: str
    what: str
    call: Callable[[], object]
    expect: str
    mentions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        assert self.expect in EXPECTS, self.expect
        assert all(m == m.lower() for m in self.mentions), self.mentions

    @property
    def id(self) -> str:
        return f"{self.group}:{re.sub(r'[^a-z0-9]+', '-', self.what.lower()).strip('-')}"


# ---------------------------------------------------------------------------------------------
# What the calls share: the faces and tiny DCGAN of conftest.py, a folder per case, helpers
# ---------------------------------------------------------------------------------------------

S = SimpleNamespace(faces=None, tiny=None, root=None, here=None, setting_up=False)


class Wrong(Exception):
    """A call's own check failed: the library accepted the input and did the wrong thing."""


class SearchStarted(Exception):
    """Adam was built: a search started before the input was refused."""


@contextlib.contextmanager
def setting_up() -> Iterator[None]:
    """A case's preparation, which may search (Adam is no tripwire there)."""
    S.setting_up = True
    try:
        yield
    finally:
        S.setting_up = False


def check(condition: bool, what: str) -> None:
    if not condition:
        raise Wrong(what)


def tmp() -> Path:
    """This case's own folder (written as <tmp> in the table)."""
    S.here.mkdir(parents=True, exist_ok=True)
    return S.here


def face(i: int = 0) -> np.ndarray:
    return S.faces[i]


def written(name: str, data: bytes) -> Path:
    path = tmp() / name
    path.write_bytes(data)
    return path


def face_file(name: str = "face.png") -> Path:
    path = tmp() / name
    Image.fromarray(face()).save(path, format="PNG")
    return path


def faces_folder(n: int = 1) -> Path:
    folder = tmp() / "faces"
    folder.mkdir(exist_ok=True)
    for i in range(n):
        Image.fromarray(face(i)).save(folder / f"{i}.png")
    return folder


def tiny_weights(name: str = "weights") -> Path:
    """The tiny DCGAN exported as a weight set (manifest, sha256), as `train --export` writes one."""
    folder = tmp() / name
    export(*S.tiny, folder)
    return folder


def fix_sha(folder: Path, name: str) -> None:
    """Record the current sha256 of `name`'s file in the manifest: the file is then wrong in itself, not modified."""
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["files"][name]["sha256"] = hashlib.sha256((folder / FILES[name]).read_bytes()).hexdigest()
    (folder / MANIFEST).write_text(json.dumps(manifest))


SMALL = {"iterations": 1, "candidates": 1, "progress": False}


def inpaint(image: object, mask: object = "centre", preset: object = "yeh2017", **kw: object):
    """`complete` on the tiny DCGAN with the smallest search, on the CPU."""
    return complete(image, mask, preset, **({"models": S.tiny, "device": "cpu"} | SMALL | kw))


def assess(images: object, **kw: object) -> list[dict]:
    """`evaluate` with one mask and a baseline (no search), into <tmp>/out unless `out` is given."""
    out = kw.pop("out", tmp() / "out")
    return evaluate(images, out, **({"masks": ("centre",), "methods": ("telea",), "progress": False} | kw))


@dataclass(frozen=True)
class CliRun:
    code: int | str | None
    err: str
    out: str


def run_cli(*argv: object) -> CliRun:
    """`semantic-inpaint ARGV` in this process, its exit status and output captured."""
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            cli.main([str(a) for a in argv])
            code: int | str | None = 0
        except SystemExit as e:
            code = e.code
    return CliRun(code, err.getvalue(), out.getvalue())


def cli_nothing_written(path: Path, *argv: object) -> CliRun:
    """`run_cli`, checked to leave `path` unwritten."""
    result = run_cli(*argv)
    check(not path.exists(), f"{path.name} was written")
    return result


def complete_argv(*extra: object) -> list[object]:
    """`semantic-inpaint complete` on a face with the tiny weights and the smallest search."""
    return ["complete", face_file(), "--mask", "centre", "--preset", "yeh2017", "--weights", tiny_weights(), "--device", "cpu",
            "--iterations", "1", "--candidates", "1", "--no-progress", *extra]


def on_missing_device(kind: str) -> Callable[[], object]:
    def call() -> object:
        here = torch.cuda.is_available() if kind == "cuda" else torch.backends.mps.is_available()
        if here:
            pytest.skip(f"this machine has {kind.upper()}: the case needs one without")
        return inpaint(face(), device=kind)

    return call


# ---------------------------------------------------------------------------------------------
# The calls that need more than one line
# ---------------------------------------------------------------------------------------------


def sixteen_bit_grey() -> np.ndarray:
    return face().mean(-1).round().astype(np.uint16) * 257  # 0..65535, as a 16-bit PNG holds it


def sixteen_bit_png() -> str:
    grey = sixteen_bit_grey()
    path = tmp() / "face16.png"
    Image.fromarray(grey).save(path)
    check(Image.open(path).mode.startswith("I"), "PIL did not write a 16-bit PNG")
    loaded = np.asarray(load_image(path))
    check(np.array_equal(loaded[..., 0], (grey // 257).astype(np.uint8)), "the grey levels are not 0..65535 scaled to 0..255")
    return "read as 8-bit RGB: levels 0..65535 scaled to 0..255, not clipped to white"


def sixteen_bit_pil() -> str:
    grey = sixteen_bit_grey()
    picture = Image.fromarray(grey)
    check(picture.mode.startswith("I;16"), f"PIL made mode {picture.mode}")
    result = inpaint(picture)
    expected = torch.from_numpy((grey // 257).astype(np.float32) / 255)
    check(torch.equal(result.inputs[0, 0], expected), "the grey levels are not 0..65535 scaled to 0..1")
    return "taken as 8-bit grey: levels 0..65535 scaled, not clipped to white"


def divided_twice_complete() -> object:
    x = face().astype(np.float32) / 255 / 255
    result = inpaint(x)
    m = result.masks[0]
    check(torch.equal(result.images[0] * m, torch.from_numpy(x).permute(2, 0, 1) * m), "the known pixels are not the input's")
    return result


def evaluate_nchw() -> str:
    assess(np.ascontiguousarray(S.faces[:2].transpose(0, 3, 1, 2)))
    truth = np.asarray(Image.open(image_path(tmp() / "out", "centre", "truth", 1)))
    check(np.array_equal(truth, face(1)), "the faces evaluate kept are not the faces passed")
    return "taken as channels first: the faces scored are the pixels passed"


def evaluate_pil_list() -> str:
    rows = assess([Image.fromarray(a) for a in S.faces[:2]])
    truth = np.asarray(Image.open(image_path(tmp() / "out", "centre", "truth", 1)))
    check(len(rows) == 2 and np.array_equal(truth, face(1)), "the faces evaluate kept are not the faces passed")
    return "converted to uint8 faces: the faces scored are the pixels passed"


def evaluate_one_mask_name() -> str:
    rows = assess(S.faces[:1], masks="centre")
    check([r["mask"] for r in rows] == ["centre"], f"masks read as {[r['mask'] for r in rows]}")
    return "one name alone is one mask: ['centre']"


def mask_rgb_channels_first() -> object:
    return inpaint(face(), torch.from_numpy(np.stack([masks.centre().numpy()] * 3)))


def mostly_hole_picture() -> object:
    picture = np.zeros((64, 64), np.uint8)
    picture[16:48, 16:48] = 255  # a white hole on black: this library reads black as the hole
    mask = masks.from_image(Image.fromarray(picture))
    check(float(mask.mean()) == 0.25, "the picture was not read as asked (black = missing)")
    return mask


def eight_bit_mask() -> str:
    picture = (masks.centre().numpy() * 255).astype(np.uint8)
    result = inpaint(face(), picture)
    check(torch.equal(result.masks[0, 0], masks.centre()), "255 was not read as known")
    return "0/255 levels read as 0/1 (255 = known)"


def too_many_candidates() -> object:
    return inpaint(face(), candidates=10**6)


def swapped_models() -> object:
    g, d = S.tiny
    return inpaint(face(), models=(d, g))


def copied_weight_set() -> Path:
    """The shipped celeba set's manifest, generator and discriminator, copied into <tmp>/celeba."""
    src, dst = load_pretrained_dir("celeba"), tmp() / "celeba"
    dst.mkdir()
    for name in (MANIFEST, FILES["generator"], FILES["discriminator"]):
        shutil.copyfile(src / name, dst / name)
    return dst


def load_pretrained_dir(name: str) -> Path:
    from semantic_inpaint.models.weights import pretrained_dir

    return pretrained_dir(name)


def sha_mismatch() -> object:
    folder = copied_weight_set()
    path = folder / FILES["generator"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # a weight byte deep in the file: still valid safetensors
    path.write_bytes(bytes(data))
    return load_pretrained(folder, device="cpu")


def missing_file() -> object:
    folder = tiny_weights()
    (folder / FILES["discriminator"]).unlink()
    return load_pretrained(folder, device="cpu")


def unreadable_safetensors() -> object:
    folder = tiny_weights()
    path = folder / FILES["generator"]
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    fix_sha(folder, "generator")
    return load_pretrained(folder, device="cpu")


def wrong_width() -> object:
    folder = tiny_weights()
    g = S.tiny[0]
    state = {k: v.detach().cpu().contiguous() for k, v in g.state_dict().items()}
    save_file(state, str(folder / FILES["generator"]), metadata={"arch": "generator", "z_dim": "100", "width": "16"})
    fix_sha(folder, "generator")
    return load_pretrained(folder, device="cpu")


def foreign_network() -> object:
    folder = tiny_weights()
    save_file({"conv.weight": torch.zeros(8, 3, 3, 3)}, str(folder / FILES["generator"]))  # another project's file: no architecture recorded
    fix_sha(folder, "generator")
    return load_pretrained(folder, device="cpu")


def swapped_manifest() -> object:
    folder = tiny_weights()
    manifest = json.loads((folder / MANIFEST).read_text())
    files = manifest["files"]
    files["generator"], files["discriminator"] = files["discriminator"], files["generator"]
    (folder / MANIFEST).write_text(json.dumps(manifest))
    return load_pretrained(folder, device="cpu")


def stale_encoder_set() -> Path:
    """The tiny weight set with an encoder trained for another generator (a retrained G, say)."""
    folder = tiny_weights()
    torch.manual_seed(2)
    other = Generator(width=8)
    add_to_manifest(folder, "encoder", Encoder(width=8).eval(), generator=fingerprint(other))
    return folder


def no_encoder() -> object:
    return inpaint(face(), preset="fast", models=load_pretrained(tiny_weights(), device="cpu"))


def encoder_of_another_generator_by_path() -> object:
    folder = stale_encoder_set()
    return load_encoder(load_pretrained(folder, device="cpu").generator, folder, device="cpu")


def encoder_of_another_generator() -> object:
    return inpaint(face(), preset="fast", models=load_pretrained(stale_encoder_set(), device="cpu"))


def garbage_dlib_model() -> object:
    path = tmp() / MODEL_FILE
    path.write_bytes(b"\x00not a model" * 100)
    return LandmarkDetector(path)


def second_concurrent_run() -> object:
    out = tmp() / "out"
    out.mkdir()
    with FolderLock(out):  # as a running evaluate holds it
        try:
            return assess(S.faces[:1], out=out)
        finally:
            check(sorted(p.name for p in out.iterdir()) == [".lock"], "the refused run read or wrote in the folder")


def resume_with_other_faces() -> object:
    assess(S.faces[:2])
    return assess(S.faces[2:4])


def resume_with_other_settings() -> object:
    gan = {"methods": ("yeh2017",), "models": load_pretrained(tiny_weights(), device="cpu"), "candidates": 1, "device": "cpu"}
    with setting_up():
        assess(S.faces[:1], iterations=1, **gan)
    return assess(S.faces[:1], iterations=2, **gan)


def train_argv(*extra: object) -> list[object]:
    """`semantic-inpaint train` for one step on a folder of faces, at the tiny DCGAN's width."""
    return ["train", "--data", faces_folder(4), "--out", tmp() / "run", "--steps", "1", "--batch-size", "4", "--device", "cpu", *extra]


def resume_training_with_other_settings() -> object:
    from semantic_inpaint.train import TrainConfig, train

    images = np.stack([face(i) for i in range(4)])
    with setting_up():
        train(images, tmp() / "run", TrainConfig(steps=1, batch_size=4, width=8), progress=False)
    return train(images, tmp() / "run", TrainConfig(steps=2, batch_size=4, width=8, lr_d=1e-3), progress=False)


def torn_last_row() -> list[dict]:
    assess(S.faces[:2])
    csv_path = tmp() / "out" / "per_image.csv"
    whole = csv_path.read_bytes()
    lines = whole.splitlines(keepends=True)
    csv_path.write_bytes(b"".join(lines[:-1]) + lines[-1][:12])  # killed while appending the last row
    rows = assess(S.faces[:2])
    check(len(rows) == 2 and csv_path.read_bytes().count(b"\n") == 3, "the torn row was not dropped and computed again")
    return rows


def figure_into_missing_folder() -> str:
    out, figure = tmp() / "done.png", tmp() / "figures" / "new" / "fig.png"
    result = run_cli(*complete_argv("--out", out, "--figure", figure))
    check(result.code == 0, f"exit {result.code}: {result.err[-300:]}")
    check(Image.open(out).size == (64, 64) and figure.is_file(), "the image or the figure was not written")
    return "the missing folder is made and the figure written there"


# ---------------------------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------------------------

U8 = np.uint8
CASES = [
    # -- images --------------------------------------------------------------------------------
    Case("images", "128x128 uint8 array", lambda: inpaint(np.zeros((128, 128, 3), U8)), "error", ("128x128", "64x64", "load_image")),
    Case("images", "(64, 64) array: 2 dims", lambda: inpaint(np.zeros((64, 64), U8)), "error", ("(64, 64)", "2 dims", "reshape")),
    Case("images", "(3, 64, 64) uint8 array: channels first", lambda: inpaint(np.zeros((3, 64, 64), U8)), "error", ("channels", "moveaxis")),
    Case("images", "(64, 64, 4) RGBA array", lambda: inpaint(np.zeros((64, 64, 4), U8)), "error", ("3 (rgb) channels", "alpha")),
    Case("images", "int64 array", lambda: inpaint(face().astype(np.int64)), "error", ("int64", "astype(np.uint8)")),
    Case("images", "complex tensor", lambda: inpaint(torch.zeros(3, 64, 64, dtype=torch.complex64)), "error", ("complex64", "float")),
    Case("images", "float array of 0..255 values", lambda: inpaint(face().astype(np.float32)), "error", ("outside [0, 1]", "divide by 255")),
    Case("images", "float tensor in [-1, 1]", lambda: inpaint(torch.linspace(-1, 1, 3 * 64 * 64).view(3, 64, 64)), "error", ("outside [0, 1]", "(x + 1) / 2")),
    Case("images", "NaN in a float tensor", lambda: inpaint(torch.full((3, 64, 64), float("nan"))), "error", ("nan", "nan_to_num")),
    Case("images", "a path that does not exist, to load_image", lambda: load_image(tmp() / "missing.png"), "error", ("cannot read image", "no such file")),
    Case("images", "a path string, to complete", lambda: inpaint(str(face_file())), "error", ("got a path", "load_image(path)")),
    Case("images", "a file that is not an image", lambda: load_image(written("notes.png", b"not a picture")), "error", ("cannot read image", "cannot identify image file")),
    Case("images", "a truncated PNG", lambda: load_image(written("cut.png", face_file().read_bytes()[:300])), "error", ("cannot read image", "truncated")),
    Case("images", "an empty list", lambda: inpaint([]), "error", ("empty list", "at least one")),
    Case("images", "a (0, 3, 64, 64) tensor", lambda: inpaint(torch.zeros(0, 3, 64, 64)), "error", ("empty", "(0, 3, 64, 64)", "at least one")),
    Case("images", "a tensor on the meta device", lambda: inpaint(torch.empty(1, 3, 64, 64, device="meta")), "error", ("meta", "pass one with data")),
    Case("images", "a 16-bit PNG (mode I;16), to load_image", sixteen_bit_png, "converted"),
    Case("images", "a 16-bit PIL image (mode I;16), to complete", sixteen_bit_pil, "converted"),
    Case("images", "float image divided by 255 twice, to complete", divided_twice_complete, "warning", ("divided by 255 twice", "[0, 1]")),
    Case("images", "float faces in [0, 1], to evaluate", lambda: assess(face()[None] / 255.0), "error", ("uint8", "float64", "astype(np.uint8)")),
    Case("images", "float faces divided by 255 twice, to evaluate", lambda: assess(face()[None] / 255.0 / 255.0), "error", ("divided by 255 twice",)),
    Case("images", "uint8 (N, 3, 64, 64) array, to evaluate", evaluate_nchw, "converted"),
    Case("images", "a list of PIL images, to evaluate", evaluate_pil_list, "converted"),
    Case("images", "128x128 uint8 arrays, to evaluate", lambda: assess(np.zeros((2, 128, 128, 3), U8)), "error", ("128x128", "64x64", "load_images")),
    Case("images", "(64, 64, 3) RGB mask array", lambda: inpaint(face(), np.ones((64, 64, 3), np.float32)), "error", ("rgb", "one channel", "from_image")),
    Case("images", "(3, 64, 64) channels-first RGB mask, one image", mask_rgb_channels_first, "error", ("3 masks for 1 image", "channel")),
    Case("images", "(1, 3, 64, 64) mask tensor", lambda: inpaint(face(), torch.ones(1, 3, 64, 64)), "error", ("(1, 3, 64, 64)", "(n, 1, h, w)")),
    # -- masks ---------------------------------------------------------------------------------
    Case("masks", "no missing pixel", lambda: inpaint(face(), np.ones((64, 64), np.float32)), "error", ("no missing pixel", "1 - mask")),
    Case("masks", "no known pixel", lambda: inpaint(face(), np.zeros((64, 64), np.float32)), "error", ("no known pixel", "1 - mask")),
    Case("masks", "values other than 0 and 1", lambda: inpaint(face(), np.full((64, 64), 0.5, np.float32)), "error", ("not binary", "0 or 1", "threshold")),
    Case("masks", "32x32 mask for 64x64 images", lambda: inpaint(face(), masks.centre(32)), "error", ("32x32", "image's size")),
    Case("masks", "2 masks for 3 images", lambda: inpaint(S.faces[:3], masks.centre().expand(2, 64, 64)), "error", ("2 masks for 3 images", "one per image")),
    Case("masks", "unknown name 'middle'", lambda: inpaint(face(), "middle"), "error", ("unknown mask 'middle'", "centre")),
    Case("masks", "masks='centre' as a string, to evaluate", evaluate_one_mask_name, "converted"),
    Case("masks", "uint8 0/255 mask picture as an array", eight_bit_mask, "converted"),
    Case("masks", "mask picture that is mostly hole (white hole on black)", mostly_hole_picture, "warning", ("75 % of this mask is hole", "hole='white'", "--hole-white")),
    # -- options -------------------------------------------------------------------------------
    Case("options", "preset='nope'", lambda: inpaint(face(), preset="nope"), "error", ("unknown preset 'nope'", "thesis", "searchconfig")),
    Case("options", "unknown override iteration=5", lambda: inpaint(face(), iteration=5), "error", ("unknown option", "'iteration'", "'iterations'")),
    Case("options", "lr=inf", lambda: inpaint(face(), lr=float("inf")), "error", ("lr", "finite and > 0")),
    Case("options", "prior_weight=-1", lambda: inpaint(face(), prior_weight=-1), "error", ("prior_weight", ">= 0")),
    Case("options", "weight=0", lambda: inpaint(face(), weight=0), "error", ("weight", "> 0", "use 1.0")),
    Case("options", "landmark_threshold=-1", lambda: inpaint(face(), landmark_threshold=-1), "error", ("landmark_threshold", "> 0")),
    Case("options", "pick='median'", lambda: inpaint(face(), pick="median"), "error", ("pick must be 'best'", "'mean'")),
    Case("options", "pick_temperature=0", lambda: inpaint(face(), pick="mean", pick_temperature=0), "error", ("pick_temperature must be > 0",)),
    Case("options", "iterations=1.5", lambda: inpaint(face(), iterations=1.5), "error", ("iterations", "whole number", "iterations=1000")),
    Case("options", "iterations=True", lambda: inpaint(face(), iterations=True), "error", ("iterations", "whole number", "bool")),
    Case("options", "iterations='10'", lambda: inpaint(face(), iterations="10"), "error", ("iterations", "whole number", "str")),
    Case("options", "candidates=1.5", lambda: inpaint(face(), candidates=1.5), "error", ("candidates", "whole number", "candidates=64")),
    Case("options", "candidates='2'", lambda: inpaint(face(), candidates="2"), "error", ("candidates", "whole number", "str")),
    Case("options", "candidates=10**6", too_many_candidates, "error", ("1000000 candidates", "gib", "lower candidates")),
    Case("options", "betas=(2, 3)", lambda: inpaint(face(), betas=(2, 3)), "error", ("betas", "[0, 1)", "betas=(0.9, 0.999)")),
    Case("options", "seed=2**70", lambda: inpaint(face(), seed=2**70), "error", ("seed", "[0, 2**63)")),
    Case("options", "seed=1.5", lambda: inpaint(face(), seed=1.5), "error", ("seed", "whole number", "seed=0")),
    Case("options", "seed='3'", lambda: inpaint(face(), seed="3"), "error", ("seed", "whole number", "str")),
    Case("options", "device='cuda' on a machine without CUDA", on_missing_device("cuda"), "error", ("no cuda device", "leave device out")),
    Case("options", "device='mps' on a machine without MPS", on_missing_device("mps"), "error", ("no mps device", "leave device out")),
    Case("options", "models=(D, G), swapped", swapped_models, "error", ("order is (generator, discriminator)", "models=(g, d)")),
    Case("options", "models='pretrained'", lambda: inpaint(face(), models="pretrained"), "error", ("(generator, discriminator) pair", "load_pretrained")),
    Case("options", "evaluate --preset structure", lambda: run_cli("evaluate", "--preset", "structure", "--methods", "tv", "--out", tmp() / "out"), "error", ("--methods", "not --preset")),
    Case("options", "evaluate --batch-size 0", lambda: run_cli("evaluate", "--data", faces_folder(), "--methods", "telea", "--batch-size", "0", "--out", tmp() / "out"), "error", ("--batch-size", ">= 1")),
    Case("options", "evaluate --n -1", lambda: run_cli("evaluate", "--data", faces_folder(), "--methods", "telea", "--n", "-1", "--out", tmp() / "out"), "error", ("--n", ">= 1", "'-1'")),
    Case("options", "evaluate --data foo:bar", lambda: run_cli("evaluate", "--data", "foo:bar", "--methods", "telea", "--out", tmp() / "out"), "error", ("unknown data 'foo:bar'", "synthetic")),
    # -- weights -------------------------------------------------------------------------------
    Case("weights", "load_pretrained('celebahq'): unknown weight set", lambda: load_pretrained("celebahq", device="cpu"), "error", ("unknown weight set 'celebahq'", "celeba, synthetic")),
    Case("weights", "complete --weights celebahq", lambda: cli_nothing_written(tmp() / "done.png", "complete", face_file(), "--mask", "centre", "--weights", "celebahq", "--out", tmp() / "done.png"), "error", ("unknown weight set 'celebahq'", "celeba, synthetic")),
    Case("weights", "a folder with no weight set", lambda: load_pretrained(tmp() / "nowhere", device="cpu"), "error", ("no pretrained weights found", "manifest.json", "train --export")),
    Case("weights", "a weight set missing discriminator.safetensors", missing_file, "error", ("weight file not found", "discriminator.safetensors")),
    Case("weights", "one byte changed in a copied weight set", sha_mismatch, "error", ("corrupt or modified", "sha256", "restore")),
    Case("weights", "a truncated safetensors file (sha256 matching)", unreadable_safetensors, "error", ("not a readable safetensors file", "re-export")),
    Case("weights", "a generator file recorded with the wrong width", wrong_width, "error", ("does not fit a generator of width 16", "export")),
    Case("weights", "another network's safetensors (no architecture)", foreign_network, "error", ("no known architecture", "save_weights")),
    Case("weights", "a manifest with generator and discriminator swapped", swapped_manifest, "error", ("manifest.json", "wrong way round")),
    # -- encoder -------------------------------------------------------------------------------
    Case("encoder", "preset='fast' with a weight set that has no encoder", no_encoder, "error", ("no encoder for this generator", "semantic-inpaint train-encoder", "init='uniform'")),
    Case("encoder", "load_encoder from a set whose encoder is another generator's", encoder_of_another_generator_by_path, "error", ("another generator", "train-encoder")),
    Case("encoder", "preset='fast' with a set whose encoder is another generator's", encoder_of_another_generator, "error", ("another generator", "train-encoder")),
    # -- dlib ----------------------------------------------------------------------------------
    Case("dlib", "flat grey face, preset='thesis'", lambda: inpaint(np.full((64, 64, 3), 128, U8), preset="thesis"), "error", ("could not read a face", "yeh2017")),
    Case("dlib", "LandmarkDetector(a missing model file)", lambda: LandmarkDetector(tmp() / "missing.dat"), "error", ("not found", MODEL_FILE)),
    Case("dlib", "LandmarkDetector(a file that is not a dlib model)", garbage_dlib_model, "error", ("cannot load", MODEL_FILE)),
    # -- output paths --------------------------------------------------------------------------
    Case("output paths", "complete --out /proc/x.png", lambda: run_cli(*complete_argv("--out", "/proc/x.png")), "error", ("--out /proc/x.png", "write somewhere else")),
    Case("output paths", "complete --out somedir/ (a folder)", lambda: cli_nothing_written(tmp() / "somedir", *complete_argv("--out", f"{tmp()}/somedir/")), "error", ("is a folder", "give a file name")),
    Case("output paths", "complete --out name.xyz", lambda: cli_nothing_written(tmp() / "name.xyz", *complete_argv("--out", tmp() / "name.xyz")), "error", ("unknown picture format '.xyz'", ".png")),
    Case("output paths", "complete --figure into a missing folder", figure_into_missing_folder, "converted"),
    Case("output paths", "complete --figure where no folder can be made", lambda: cli_nothing_written(tmp() / "done.png", *complete_argv("--out", tmp() / "done.png", "--figure", "/proc/missing/fig.png")), "error", ("--figure", "cannot make its folder", "write somewhere else")),
    Case("output paths", "evaluate --out where no folder can be made", lambda: run_cli("evaluate", "--data", faces_folder(), "--n", "1", "--masks", "centre", "--methods", "yeh2017", "--weights", tiny_weights(), "--iterations", "1", "--candidates", "1", "--out", "/proc/semantic-inpaint-results"), "error", ("cannot make the output folder", "somewhere else")),
    Case("output paths", "evaluate --out naming a file", lambda: run_cli("evaluate", "--data", faces_folder(), "--n", "1", "--masks", "centre", "--methods", "telea", "--out", face_file("results")), "error", ("cannot make the output folder", "somewhere else")),
    # -- evaluate data safety ------------------------------------------------------------------
    Case("evaluate data", "a second run into a folder in use", second_concurrent_run, "error", ("in use by another run", "pid <pid> on <host>", "wait for that run to finish", "another --out folder")),
    Case("evaluate data", "a resume with other faces", resume_with_other_faces, "error", ("other faces", "face 0 differs", "new --out folder")),
    Case("evaluate data", "a resume with other search settings", resume_with_other_settings, "error", ("other settings", "iterations: 1 there, 2 now", "same options")),
    Case("evaluate data", "a resume after a kill tore the last CSV row", torn_last_row, "warning", ("dropped its torn last line", "computed again")),
    # -- training --------------------------------------------------------------------------------
    Case("training", "train --reconstruction -1", lambda: cli_nothing_written(tmp() / "run", *train_argv("--reconstruction", "-1")), "error", ("--reconstruction must be >= 0", "e.g. --reconstruction 0.0")),
    Case("training", "train --lr-g 0", lambda: cli_nothing_written(tmp() / "run", *train_argv("--lr-g", "0")), "error", ("--lr-g must be > 0",)),
    Case("training", "train --augment cutout", lambda: cli_nothing_written(tmp() / "run", *train_argv("--augment", "cutout")), "error", ("unknown augmentation 'cutout'", "color, translation")),
    Case("training", "train --freeze-d 1 without a trained D", lambda: run_cli(*train_argv("--freeze-d", "1")), "error", ("needs warm_start_d", "--warm-start weights")),
    Case("training", "train-encoder --real-fraction 1.5", lambda: cli_nothing_written(tmp() / "run", "train-encoder", "--weights", tiny_weights(), "--out", tmp() / "run", "--real-fraction", "1.5"), "error", ("--real-fraction must be in [0, 1]",)),
    Case("training", "a resumed training run with other settings", resume_training_with_other_settings, "error", ("other training settings (lr_d)", "fresh out_dir")),
]


GROUPS = {
    "images": "Images",
    "masks": "Masks (1 = known pixel, 0 = missing)",
    "options": "Options",
    "weights": "Weights",
    "encoder": "The encoder (preset 'fast')",
    "dlib": "dlib (preset 'thesis')",
    "output paths": "Output paths",
    "evaluate data": "evaluate's results folder",
    "training": "Training (train, train-encoder)",
}

# Where the library is known to fall short: id -> (whether it does on this machine, what it
# does). Each such case must fail (strict xfail), so that a fix shows up here.
KNOWN_GAPS: dict[str, tuple[bool, str]] = {}


# ---------------------------------------------------------------------------------------------
# Running a case
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    kind: str  # error, warning, converted (as the case expects), or cryptic, silent
    label: str  # what the table says it gets, e.g. "error: InpaintInputError"
    message: str  # normalised


ADAM_INIT = torch.optim.Adam.__init__


def _tripwire(self, *args, **kwargs) -> None:
    if S.setting_up:
        return ADAM_INIT(self, *args, **kwargs)
    raise SearchStarted("a search started (Adam was built) before the input was refused")


def normalise(text: str) -> str:
    """The same text on every machine: temp folders, the checkout, pids, hosts, free memory."""
    for path, name in ((S.here, "<tmp>"), (S.root, "<tmp>"), (REPO, "<repo>")):
        for form in {str(path), str(Path(path).resolve())}:
            text = text.replace(form, name)
    text = re.sub(r"pid \d+ on \S+?(?=[;)\s])", "pid <pid> on <host>", text)
    return re.sub(r"the [\d.e+]+ GiB available", "the <free> GiB available", text)


def observe(case: Case) -> Outcome:
    """Run `case` (Adam a tripwire for an expected error) and say what it got."""
    S.here = S.root / re.sub(r"[^a-z0-9]+", "-", case.id)
    shutil.rmtree(S.here, ignore_errors=True)
    with warnings.catch_warnings(record=True) as caught, contextlib.ExitStack() as stack:
        warnings.simplefilter("always")
        if case.expect == "error":
            stack.enter_context(mock.patch.object(torch.optim.Adam, "__init__", _tripwire))
        try:
            value = case.call()
        except LIBRARY_ERRORS as e:
            got = Outcome("error", f"error: {type(e).__name__}", normalise(str(e)))
        except (SearchStarted, Wrong) as e:
            got = Outcome("silent", "**silent**", normalise(str(e)))
        except pytest.skip.Exception:
            raise
        except Exception as e:  # noqa: BLE001 -- a trace from inside: what the table exists to rule out
            got = Outcome("cryptic", f"**cryptic**: {type(e).__name__}", normalise(f"{type(e).__name__}: {e}"))
        else:
            got = None
    if got is None:
        user = [normalise(str(w.message)) for w in caught if issubclass(w.category, UserWarning)]
        if isinstance(value, CliRun) and value.code not in (0, None):
            lines = CLI_ERROR.findall(value.err)
            if "Traceback" in value.err or not lines:
                got = Outcome("cryptic", f"**cryptic**: exit {value.code}", normalise(value.err.strip().splitlines()[-1] if value.err.strip() else ""))
            else:
                got = Outcome("error", f"command-line error, exit {value.code}", normalise(lines[-1]))
        elif user:
            best = max(user, key=lambda w: sum(m in w.lower() for m in case.mentions))
            got = Outcome("warning", "warning: UserWarning", best)
        elif case.expect == "converted":
            got = Outcome("converted", "converted", value if isinstance(value, str) else "")
        else:
            got = Outcome("silent", "**silent**", "accepted without an error or a warning")
    if got.kind == case.expect and all(m in got.message.lower() for m in case.mentions):
        return got
    if got.kind in ("error", "warning") and got.kind == case.expect:
        missing = [m for m in case.mentions if m not in got.message.lower()]
        return Outcome("cryptic", f"**cryptic**: {got.label.split(': ')[-1]} without {', '.join(repr(m) for m in missing)}", got.message)
    if got.kind in ("error", "cryptic") or (got.kind == "warning" and case.expect == "error"):
        kind = "cryptic"
    else:
        kind = "silent"
    return Outcome(kind, got.label if got.kind == kind else f"**{kind}**: {got.label} (expected: {case.expect})", got.message)


OBSERVED: dict[str, Outcome] = {}


@pytest.fixture(scope="module", autouse=True)
def _shared(tiny_models, faces, tmp_path_factory) -> Iterator[None]:
    S.tiny, S.faces, S.root = tiny_models, faces, tmp_path_factory.mktemp("reliability")
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny networks: threads only cost time on a shared machine
    yield
    torch.set_num_threads(n)


def test_catalogue_is_well_formed() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "two cases with the same id"
    assert {c.group for c in CASES} == set(GROUPS)
    assert set(KNOWN_GAPS) <= set(ids)
    assert all(c.expect == "converted" or c.mentions for c in CASES)


def _params() -> list:
    return [
        pytest.param(c, id=c.id, marks=[pytest.mark.xfail(KNOWN_GAPS[c.id][0], strict=True, reason=KNOWN_GAPS[c.id][1])] if c.id in KNOWN_GAPS else [])
        for c in CASES
    ]


@pytest.mark.parametrize("case", _params())
def test_case(case: Case) -> None:
    got = observe(case)
    OBSERVED[case.id] = got
    assert got.kind == case.expect, f"{case.what}: expected {case.expect}, got {got.label}: {got.message}"


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------

INTRO = """\
# Reliability: what bad input gets

This table lists the bad inputs and faults semantic-inpaint is known to meet and what each one
gets: a **named error** (`InpaintInputError`, `WeightsError` or `LandmarkError`; on the command
line one line `semantic-inpaint: error: ...` and exit status 2, no traceback), a **warning**
(a `UserWarning` that names the problem and the fix, with a sensible result), or a
**conversion** (the input is taken and converted, and the converted value is checked). Every
error comes before any search starts. A **cryptic** outcome (a bare `TypeError`, `ValueError`
or the like from inside, or a message without its key words) or a **silent** one (accepted
with no word, or converted wrongly) is a bug.

`tests/test_reliability.py` generates this file: it runs every case through the public API or
the command line, checks the outcome and the key words of the message, and fails when this file
differs from what it observed. After changing a case or a message, regenerate it with

    SEMANTIC_INPAINT_WRITE_DOCS=1 .venv/bin/python -m pytest tests/test_reliability.py

Messages show their first line, shortened to about 140 characters; temporary folders read
`<tmp>`, process ids and hosts `<pid>` and `<host>`, free memory `<free>`. Device cases
describe a machine without that device.
"""

FAULTS = """\
## Faults: kills, concurrent runs, resumes

`evaluate` writes results for hours and resumes from them, so `tests/test_evaluate_safety.py`
also checks what a crash or a second run does to its folder:

- **concurrent runs**: a second run into a folder held by a run in another process is refused,
  naming that run's pid and host, before it reads or writes anything; once the holder is
  killed (SIGKILL), the kernel drops the lock and the next run goes ahead.
- **torn files**: an empty `per_image.csv` gets its header, a torn last row or header is
  dropped and computed again, truncated pictures are drawn again or left blank in the figure,
  a failed write leaves the old file and temp files of killed writes are cleared; every resume
  gives the rows of an uninterrupted run.
- **kills at random points** (`make test-slow`): runs of `semantic-inpaint evaluate` killed
  with SIGKILL at random moments and resumed end with every row once, with the numbers of an
  uninterrupted run, whole pictures and no temp files.
- **resume with other data**: `tests/test_evaluate.py` checks that a resume with other faces,
  other weights or other search settings is refused.

The section on evaluate's results folder above runs a small version of the lock, resume and
torn-row checks.
"""


def _cell(message: str, kind: str) -> str:
    first = next((line.strip() for line in message.splitlines() if line.strip()), "")
    if len(first) > 140:
        first = first[:137].rstrip() + "..."
    if kind == "converted" or not first:
        return first
    return "`` " + first.replace("|", "\\|") + " ``"


def render(outcomes: dict[str, Outcome]) -> str:
    parts = [INTRO]
    for group, title in GROUPS.items():
        parts.append(f"## {title}\n\n| input | what it gets | message |\n|---|---|---|\n")
        for case in (c for c in CASES if c.group == group):
            got = outcomes[case.id]
            label = got.label + (" (known gap)" if KNOWN_GAPS.get(case.id, (False,))[0] else "")
            parts[-1] += f"| {case.what.replace('|', '/').replace('*', chr(92) + '*')} | {label} | {_cell(got.message, got.kind)} |\n"
    count = {k: sum(o.kind == k for o in outcomes.values()) for k in ("error", "warning", "converted", "cryptic", "silent")}
    parts.append(
        f"{len(outcomes)} cases: {count['error']} named errors, {count['warning']} warnings, {count['converted']} conversions, "
        f"{count['cryptic']} cryptic, {count['silent']} silent.\n"
    )
    parts.append(FAULTS)
    return "\n".join(parts)


def test_reliability_table_is_current() -> None:
    if not all(here for here, _ in KNOWN_GAPS.values()):
        pytest.skip("the table is generated where every known gap shows (see KNOWN_GAPS)")
    outcomes = {}
    for case in CASES:
        if case.id not in OBSERVED:  # not run by test_case here (deselected, or a device this machine has)
            with mock.patch.object(torch.cuda, "is_available", lambda: False), mock.patch.object(torch.cuda, "device_count", lambda: 0), \
                    mock.patch.object(torch.backends.mps, "is_available", lambda: False):
                OBSERVED[case.id] = observe(case)
        outcomes[case.id] = OBSERVED[case.id]
    text = render(outcomes)
    if os.environ.get(WRITE_ENV):
        DOC.write_text(text)
    else:
        assert DOC.is_file() and DOC.read_text() == text, f"{DOC} is out of date: regenerate it with {WRITE_ENV}=1 (see its head)"

"""Weights as safetensors (no pickle), checked against the sha256 in a manifest.

`pretrained/` holds one folder per named weight set (`WEIGHT_SETS`): `celeba` (trained on real
CelebA faces) and `synthetic` (trained on rendered faces). Each has `generator.safetensors`,
`discriminator.safetensors`, `manifest.json` (sha256 and architecture of each) and a model
card; `synthetic` also holds `landmarks.safetensors`, the soft landmark loss's net, which every
set uses. A set may hold `encoder.safetensors`, the learned start for its generator (the `fast`
preset), whose manifest entry records that generator's fingerprint. In a source checkout `pretrained/` sits beside the package; a wheel carries it inside
the package as `semantic_inpaint/pretrained`.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import NamedTuple

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save
from torch import nn

from semantic_inpaint.errors import WeightsError
from semantic_inpaint.models.dcgan import Discriminator, Generator, freeze
from semantic_inpaint.models.encoder import Encoder
from semantic_inpaint.models.landmarks import LandmarkNet

ENV_VAR = "SEMANTIC_INPAINT_PRETRAINED"
# Named weight sets, each a folder of pretrained/. The default is the set that does better on
# real faces (pretrained/celeba/MODEL_CARD.md), since users bring real photos.
WEIGHT_SETS = ("celeba", "synthetic")
DEFAULT_WEIGHTS = "celeba"
LANDMARK_SET = "synthetic"  # the set whose folder holds the soft landmark loss's net
MANIFEST = "manifest.json"
FILES = {
    "generator": "generator.safetensors",
    "discriminator": "discriminator.safetensors",
    "landmarks": "landmarks.safetensors",
    "encoder": "encoder.safetensors",
}
ARCHS = {"generator": Generator, "discriminator": Discriminator, "landmarks": LandmarkNet, "encoder": Encoder}
SIZES = {"generator": ("z_dim", "width"), "discriminator": ("width",), "landmarks": ("width",), "encoder": ("z_dim", "width")}


class Pretrained(NamedTuple):
    generator: Generator
    discriminator: Discriminator


def sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _architecture(module: nn.Module) -> dict[str, str]:
    if isinstance(module, Generator):
        return {"arch": "generator", "z_dim": str(module.z_dim), "width": str(module.width)}
    if isinstance(module, Discriminator):
        return {"arch": "discriminator", "width": str(module.width)}
    if isinstance(module, LandmarkNet):
        return {"arch": "landmarks", "width": str(module.width)}
    if isinstance(module, Encoder):
        return {"arch": "encoder", "z_dim": str(module.z_dim), "width": str(module.width)}
    raise TypeError(f"expected a Generator, Discriminator, LandmarkNet or Encoder, got {type(module).__name__}")


def save_weights(module: nn.Module, path: str | os.PathLike) -> str:
    """Write `module`'s state (buffers included) as safetensors; returns the file's sha256."""
    state = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(_sorted_metadata(save(state, metadata=_architecture(module))))
    return sha256(path)


def _sorted_metadata(raw: bytes) -> bytes:
    """A safetensors file's bytes with its metadata's keys in sorted order. safetensors keeps the
    metadata in a hash map, which orders it anew in each run, so the same weights would get
    another sha256 each time they are exported; sorted, they get one. The header is JSON after
    its 8-byte little-endian length, padded with spaces to a multiple of 8 bytes; the tensors'
    offsets count from its end, so reordering it moves none of them."""
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + raw[8 + n :]


def load_weights(path: str | os.PathLike, expected_sha256: str | None = None) -> nn.Module:
    """Build the network (Generator, Discriminator, LandmarkNet or Encoder) a safetensors file describes and load it."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weight file not found: {path}. Pass the right path, or restore it with `git checkout -- {path}`.")
    if expected_sha256 is not None and (actual := sha256(path)) != expected_sha256:
        raise WeightsError(
            f"{path} is corrupt or modified: sha256 {actual[:12]}... does not match the manifest's "
            f"{expected_sha256[:12]}.... Restore it (`git checkout -- {path}`, or reinstall the package)."
        )
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise WeightsError(f"{path} is not a readable safetensors file ({e}). Restore or re-export it.") from None
    arch = meta.get("arch")
    if arch not in ARCHS:
        raise WeightsError(f"{path} has no known architecture in its metadata (arch={arch!r}); save it with save_weights().")
    try:
        sizes = {k: int(meta[k]) for k in SIZES[arch]}
        if min(sizes.values()) < 1:
            raise ValueError("sizes must be >= 1")
    except (KeyError, ValueError) as e:
        raise WeightsError(f"{path} has bad {arch} metadata {meta} ({e!r}); save it with save_weights().") from None
    module: nn.Module = ARCHS[arch](**sizes)
    try:
        module.load_state_dict(state)
    except RuntimeError as e:
        # torch's report lists every mismatched tensor; its first line says enough.
        first = str(e).strip().splitlines()[0]
        raise WeightsError(
            f"{path} does not fit a {arch} of width {meta.get('width')}, the size its metadata records ({first}): "
            "the file was changed or written by other code; restore it, or re-export it with save_weights() (`train --export`)"
        ) from None
    return module


def _candidates(name: str) -> list[Path]:
    here = Path(__file__).resolve().parent.parent  # the package folder
    return [here / "pretrained" / name, here.parent / "pretrained" / name]


def pretrained_dir(path: str | os.PathLike | None = None) -> Path:
    """The folder of a weight set: `path` (a name of `WEIGHT_SETS` or a folder), else
    $SEMANTIC_INPAINT_PRETRAINED (likewise), else the shipped `DEFAULT_WEIGHTS` set."""
    if path is None and os.environ.get(ENV_VAR):
        path = os.environ[ENV_VAR]
    if path is None:
        path = DEFAULT_WEIGHTS
    if str(path) in WEIGHT_SETS:
        folders = _candidates(str(path))
    elif Path(path).is_dir() or os.sep in str(path) or "/" in str(path):
        folders = [Path(path)]
    else:
        raise WeightsError(f"unknown weight set {str(path)!r}: use one of {', '.join(WEIGHT_SETS)}, or a folder written by `semantic-inpaint train --export`")
    for folder in folders:
        if (folder / MANIFEST).is_file():
            return folder
    raise WeightsError(
        f"no pretrained weights found (looked for {MANIFEST} in: {', '.join(map(str, folders))}). "
        f"Use a source checkout or an installed wheel, which ship them, or pass path= / set ${ENV_VAR} "
        f"to a weight set's name ({', '.join(WEIGHT_SETS)}) or a folder written by `semantic-inpaint train --export`."
    )


def write_manifest(folder: str | os.PathLike, generator: Generator, discriminator: Discriminator, **info: object) -> dict:
    """Save both networks into `folder` with a manifest of their sha256 (plus any `info`)."""
    folder = Path(folder)
    manifest: dict = {"files": {}, **info}
    for name, module in (("generator", generator), ("discriminator", discriminator)):
        digest = save_weights(module, folder / FILES[name])
        manifest["files"][name] = {"file": FILES[name], "sha256": digest, **_architecture(module)}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def load_pretrained(path: str | os.PathLike | None = None, device: str | torch.device | None = None) -> Pretrained:
    """A weight set's generator and discriminator, sha256-checked, frozen, in eval mode, on `device`.

    `path`: a shipped set's name ('celeba', the default, or 'synthetic') or a folder written by
    `semantic-inpaint train --export`."""
    folder = pretrained_dir(path)
    try:
        files = json.loads((folder / MANIFEST).read_text())["files"]
        entries = [(files[n]["file"], files[n]["sha256"]) for n in ("generator", "discriminator")]
        if not all(isinstance(f, str) and isinstance(h, str) for f, h in entries):
            raise TypeError("'file' and 'sha256' must be strings")
    except (ValueError, KeyError, TypeError) as e:
        raise WeightsError(f"{folder / MANIFEST} is corrupt ({e!r}); restore it with git or reinstall.") from None
    g, d = (load_weights(folder / f, h) for f, h in entries)
    if not isinstance(g, Generator) or not isinstance(d, Discriminator):
        raise WeightsError(f"{folder / MANIFEST} lists the networks the wrong way round.")
    g.weights_folder = str(folder)  # where an encoder for this generator may be (load_encoder)
    device = torch.device(device) if device is not None else default_device()
    return Pretrained(freeze(g.to(device)), freeze(d.to(device)))


def add_to_manifest(folder: str | os.PathLike, name: str, module: nn.Module, **info: object) -> dict:
    """Save `module` as FILES[name] in `folder` and record it (sha256, architecture, `info`) in
    the existing manifest, leaving the other entries as they are."""
    folder = Path(folder)
    manifest = json.loads((folder / MANIFEST).read_text())
    digest = save_weights(module, folder / FILES[name])
    manifest["files"][name] = {"file": FILES[name], "sha256": digest, **_architecture(module), **info}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def load_landmark_net(path: str | os.PathLike | None = None, device: str | torch.device | None = None) -> LandmarkNet:
    """The landmark net of the soft landmark loss, sha256-checked, frozen, on `device`: the one in
    the weight set `path` if its manifest lists one, else the shipped net (in the `synthetic` set).
    The net reads faces, not latents, so it serves every generator."""
    folder = pretrained_dir(LANDMARK_SET if path is None else path)
    if "landmarks" not in _manifest_files(folder):
        folder = pretrained_dir(LANDMARK_SET)
    try:
        entry = json.loads((folder / MANIFEST).read_text())["files"]["landmarks"]
        file, digest = entry["file"], entry["sha256"]
    except (ValueError, KeyError, TypeError) as e:
        raise WeightsError(
            f"{folder / MANIFEST} lists no landmark net ({e!r}); the 'soft' landmark loss needs one: "
            "restore the shipped pretrained/ folder, or train one with `semantic-inpaint train-landmarks`."
        ) from None
    net = load_weights(folder / file, digest)
    if not isinstance(net, LandmarkNet):
        raise WeightsError(f"{folder / file} is a {type(net).__name__}, not the landmark net.")
    device = torch.device(device) if device is not None else default_device()
    return freeze(net.to(device))


def fingerprint(generator: Generator | dict[str, torch.Tensor]) -> str:
    """sha256 of a generator's weights (names, shapes and float32 values), given the generator
    or its state dict: what an encoder's manifest entry records, so that it is only ever used
    with the generator it was trained for, however that generator was loaded or passed in."""
    state = generator if isinstance(generator, dict) else generator.state_dict()
    h = hashlib.sha256()
    for name, tensor in sorted(state.items()):
        h.update(f"{name}:{tuple(tensor.shape)};".encode())
        h.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return h.hexdigest()


def load_encoder(generator: Generator, path: str | os.PathLike | None = None, device: str | torch.device | None = None) -> Encoder:
    """The encoder trained for `generator`, sha256-checked, frozen, on `device`: from the weight
    set `path` (a name or folder), or, without one, from the set the generator was loaded from
    (`load_pretrained` records it) or any shipped set that holds one for it."""
    wanted = fingerprint(generator)
    # The set named, else the one the generator came from: an encoder of another generator there is
    # stale and named as such; the shipped sets are only searched for one that fits.
    own = pretrained_dir(path) if path is not None else Path(generator.weights_folder) if getattr(generator, "weights_folder", None) else None
    shipped = [] if path is not None else [f for name in WEIGHT_SETS for f in _candidates(name) if (f / MANIFEST).is_file()]
    for folder in ([own] if own else []) + shipped:
        entry = _manifest_files(folder).get("encoder")
        if not isinstance(entry, dict):
            continue
        if entry.get("generator") != wanted:
            if folder == own:
                raise WeightsError(
                    f"the encoder in {folder} was trained for another generator (fingerprint {str(entry.get('generator'))[:12]}..., "
                    f"this one {wanted[:12]}...): use the weight set it belongs to, or train one for this generator with "
                    f"`semantic-inpaint train-encoder --weights {folder} --out runs/encoder --export {folder}`"
                )
            continue
        net = load_weights(folder / str(entry.get("file")), entry.get("sha256"))
        if not isinstance(net, Encoder):
            raise WeightsError(f"{folder / str(entry.get('file'))} is a {type(net).__name__}, not an encoder.")
        return freeze(net.to(torch.device(device) if device is not None else default_device()))
    where = f"the weight set {own}" if path is not None else f"{str(own) + ' or ' if own else ''}the shipped weight sets ({', '.join(WEIGHT_SETS)})"
    raise WeightsError(
        f"no encoder for this generator in {where}: init='encoder' (the 'fast' preset) needs one; train it with "
        "`semantic-inpaint train-encoder --weights WEIGHTS --out runs/encoder --export WEIGHTS`, or use init='uniform'"
    )


def _manifest_files(folder: Path) -> dict:
    try:
        return json.loads((folder / MANIFEST).read_text())["files"]
    except (ValueError, KeyError, TypeError):
        return {}


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")

"""`complete()`: the one obvious entry point. Validates input, runs the search, overlays or blends."""

from __future__ import annotations

import functools
import os
from concurrent.futures import Future, ThreadPoolExecutor

import torch
from torch import Tensor

from semantic_inpaint.blend import HoleSystems, factorise
from semantic_inpaint.completion import Completion
from semantic_inpaint.config import SearchConfig, get_preset
from semantic_inpaint.errors import InpaintInputError
from semantic_inpaint.io import as_images, as_masks
from semantic_inpaint.losses.landmarks import LandmarkDetector
from semantic_inpaint.models.dcgan import Discriminator, Generator, frozen
from semantic_inpaint.models.encoder import Encoder
from semantic_inpaint.models.landmarks import LandmarkNet
from semantic_inpaint.models.weights import Pretrained, default_device, fingerprint, load_encoder, load_landmark_net, load_pretrained
from semantic_inpaint.progress import shown
from semantic_inpaint.search import SearchResult, search


def resolve_device(device: str | torch.device | None) -> torch.device:
    """Where to search: `device`, refused if this machine has no such device; default CUDA when available, else CPU."""
    if device is None:
        return default_device()
    kinds = (("cpu", True), ("cuda", torch.cuda.is_available()), ("mps", torch.backends.mps.is_available()))
    available = [kind for kind, here in kinds if here]
    try:
        d = torch.device(device)
    except (RuntimeError, TypeError):
        raise InpaintInputError(f"device={device!r} is not a device; available here: {', '.join(available)}") from None
    if d.type in ("cuda", "mps") and d.type not in available:
        raise InpaintInputError(
            f"device={device!r}: no {d.type.upper()} device is available here (available: {', '.join(available)}); "
            "pass one of those, or leave device out (CUDA when available, else CPU)"
        )
    if d.type == "cuda" and d.index is not None and d.index >= torch.cuda.device_count():
        raise InpaintInputError(f"device={device!r}: this machine has {torch.cuda.device_count()} CUDA device(s), numbered from 0; e.g. device='cuda:0'")
    return d


def _networks(models: object, device: torch.device) -> tuple[Generator, Discriminator]:
    """`models` (None: the shipped weights) checked to be a (generator, discriminator) pair of
    networks; wrapped ones (torch.compile, the benchmarks' wrappers) pass too."""
    if models is None:
        return _cached_pretrained(str(device))
    if isinstance(models, (tuple, list)) and len(models) == 2 and all(isinstance(net, torch.nn.Module) for net in models):
        g, d = models
        if isinstance(g, Discriminator) and isinstance(d, Generator):
            raise InpaintInputError("models are (discriminator, generator): the order is (generator, discriminator); pass models=(G, D)")
        return g, d
    given = repr(models) if isinstance(models, str) else f"a {type(models).__name__}"
    raise InpaintInputError(
        f"models must be a (generator, discriminator) pair, got {given}: pass load_pretrained('celeba') "
        "(or another weight set's name or folder), or leave models out for the shipped weights"
    )


# Peak memory of a search step per candidate: 2.8 MiB measured on the CPU (fp32 activations
# of G and D, kept for the backward pass). On an H100 the peak was 1.3 MiB at 16 - 128 faces a
# batch (2.5 MiB for one face, where fixed costs weigh), so 3.0 leaves room on any device.
MIB_PER_CANDIDATE = 3.0


def _check_memory(n: int, candidates: int, device: torch.device) -> None:
    """Refuse a search whose estimated peak memory exceeds what `device` has available now."""
    if device.type == "cuda":
        available = torch.cuda.mem_get_info(device)[0]
    elif device.type == "cpu" and "SC_AVPHYS_PAGES" in getattr(os, "sysconf_names", {}):
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    else:
        return  # no way to ask (MPS; a CPU whose system does not report free memory)
    need = MIB_PER_CANDIDATE * 2**20 * candidates * n
    if need > available:
        raise InpaintInputError(
            f"{n} image(s) x {candidates} candidates need about {need / 2**30:.3g} GiB for the search ({MIB_PER_CANDIDATE:g} MiB per "
            f"candidate per image), more than the {available / 2**30:.3g} GiB available on {device}: lower candidates (the thesis uses 64) "
            "or complete fewer images at a time"
        )


@functools.lru_cache(maxsize=2)
def _cached_pretrained(device: str) -> Pretrained:
    return load_pretrained(device=device)


@functools.lru_cache(maxsize=2)
def _cached_landmark_net(device: str) -> LandmarkNet:
    return load_landmark_net(device=device)


_encoders: dict[tuple[str, str | None, str], Encoder] = {}


def _encoder_for(generator: Generator, device: torch.device) -> Encoder:
    """The encoder trained for `generator` (as `load_encoder` finds it), loaded once per generator,
    weight set it was loaded from, and device: the same generator loaded from a set without an
    encoder is refused, not given another set's."""
    key = (fingerprint(generator), getattr(generator, "weights_folder", None), str(device))
    if key not in _encoders:
        _encoders[key] = load_encoder(generator, device=device)
    return _encoders[key]


def complete(
    image: object,
    mask: object,
    preset: str | SearchConfig = "thesis",
    *,
    models: Pretrained | tuple[Generator, Discriminator] | None = None,
    device: str | torch.device | None = None,
    landmark_model: str | os.PathLike | LandmarkDetector | LandmarkNet | None = None,
    progress: bool | None = None,
    encoder: Encoder | None = None,
    mask_seed: int = 0,
    **overrides: object,
) -> Completion:
    """Inpaint face(s) by searching the DCGAN's latent space (eqs. 14-20 of the thesis).

    image: a 64x64 RGB face or a batch: PIL image(s), uint8 (H, W, 3) / (N, H, W, 3) arrays, or
        float tensors (3, H, W) / (N, 3, H, W) in [0, 1]. `load_image(path)` crops and resizes.
    mask: **1 = known pixel, 0 = missing**. A name ('centre', 'left', 'right', 'random'), a
        PIL image (white = known; see masks.from_image for white-hole files), an array or a
        tensor (H, W), (N, H, W) or (N, 1, H, W); one mask for all images or one each.
    preset: 'thesis' (context + prior + hard dlib landmark loss), 'yeh2017' (context + prior),
        'structure' (context + prior + soft landmark loss), 'adapt' (yeh2017 with a colour
        transform per candidate), 'fast' (yeh2017 from the encoder's guess, K = 16, 100 steps,
        then the refinement, the candidates' mean, Poisson blending), or a SearchConfig. `overrides`
        replace its fields by name: iterations, candidates, lr, betas, seed, blend ('overlay'
        or 'poisson'), window, prior_weight, weight, landmark ('hard', 'soft', 'none'),
        landmark_threshold, landmark_tau, landmark_every, patience and min_improvement (early
        stopping, off by default), halve_at (successive halving of the candidates, off by default),
        precision ('fp32', or 'bf16': the networks in bf16 during the search steps, about 2x
        faster on GPUs and on CPUs with fast bf16 such as AMD Zen 4) and fp32_last (with
        'bf16', the last steps in fp32, so the final losses settle closer to fp32's), adapt
        ('none' or 'colour'), init ('uniform', or 'encoder': start around the encoder's
        guess), init_uniform and init_spread, refine_steps, refine_lr, refine_reach and
        refine_layers (after the search, a copy of G fine-tuned on each image's known pixels,
        trusted near them: search.refine; 0 steps = off; refine_layers=3 tunes G's last three
        layers alone, in about half the refinement's time), pick ('best': the hole from the best candidate, eq. 20;
        'mean': from the candidates' mean weighted by their losses) and pick_temperature.
    models: (generator, discriminator) to use instead of the shipped pretrained ones. The
        search runs them frozen (eval mode, no weight gradients, on `device`), as the method
        requires: networks already so (as `load_pretrained` returns them) as they are, others
        as frozen copies, so that a G and D still in training are left as they were.
    device: where to search; default CUDA when available, else CPU. A search whose estimated
        memory (MIB_PER_CANDIDATE per candidate per image) exceeds what the device has
        free is refused before it starts.
    landmark_model: for 'hard', a dlib 68-point model file or a LandmarkDetector (default: the
        installed one; `LandmarkDetector(workers=2)` runs dlib in 2 processes); for 'soft', a
        LandmarkNet (default: the shipped one), run frozen as `models` are.
    progress: True: a progress bar; False: nothing; None (default): a bar on a terminal, and
        elsewhere (logs, CI, notebooks) a line on stderr every 30 s of a long search.
    mask_seed: the seed of a 'random' or 'freeform' mask given by name, apart from the search's
        `seed`, so that another z seed searches the same hole.
    encoder: for init='encoder', the encoder trained for this generator (default: the shipped
        one whose recorded generator fingerprint matches, see models.weights.load_encoder).
    """
    config = get_preset(preset).with_overrides(**overrides)
    device = resolve_device(device)
    x = as_images(image)
    m = as_masks(mask, len(x), seed=mask_seed)
    g, d = _networks(models, device)
    _check_memory(len(x), config.candidates, device)
    # Frozen: batch norm on running statistics, and no weight gradients, which would double
    # the backward pass's work for nothing. Copies where needed: the caller's G and D stay as given.
    g, d = frozen(g, device), frozen(d, device)
    detector, net = _landmark_models(config, landmark_model, device)
    y, known = (x * 2 - 1).to(device), m.to(device)  # the search works in G's range, [-1, 1]
    start = _encoder_start(config, encoder, g, y, known)
    systems = _factorised_meanwhile(m, config, device)
    result = _search(g, d, y, known, config, progress, detector, net, start)
    return Completion.of(result, x, m, config, None if systems is None else systems.result())


def _factorised_meanwhile(m: Tensor, config: SearchConfig, device: torch.device) -> Future[HoleSystems] | None:
    """With blend='poisson' on a GPU, the masks' Poisson systems (blend.factorise), factorised on
    the CPU while the GPU searches, where the CPU would mostly wait: the blends after the search
    are then only the solves. The same pixels as factorising after it. On the CPU, None: there
    the search already has the cores."""
    if config.blend != "poisson" or device.type == "cpu":
        return None
    pool = ThreadPoolExecutor(1)
    systems = pool.submit(factorise, m)
    pool.shutdown(wait=False)  # the thread ends with its one task
    return systems


def _landmark_models(config: SearchConfig, landmark_model: object, device: torch.device) -> tuple[LandmarkDetector | None, LandmarkNet | None]:
    """The landmark model config.loss.landmark needs, from `landmark_model` (see `complete`):
    (dlib detector, None) for 'hard', (None, frozen LandmarkNet) for 'soft', else (None, None)."""
    if config.loss.landmark == "hard":
        if isinstance(landmark_model, LandmarkNet):
            raise InpaintInputError("landmark='hard' runs dlib: pass a dlib model path or LandmarkDetector, not a LandmarkNet")
        return (landmark_model if isinstance(landmark_model, LandmarkDetector) else LandmarkDetector(landmark_model)), None
    if config.loss.landmark == "soft":
        if landmark_model is None:
            return None, _cached_landmark_net(str(device))
        if isinstance(landmark_model, LandmarkNet):
            return None, frozen(landmark_model, device)
        raise InpaintInputError(f"landmark='soft' needs a LandmarkNet (or None for the shipped one), got {type(landmark_model).__name__}")
    return None, None


def _encoder_start(config: SearchConfig, encoder: Encoder | None, g: Generator, y: Tensor, m: Tensor) -> Tensor | None:
    """For init='encoder', the encoder's guess (N, z_dim) for each image `y` in [-1, 1] with mask `m`; else None."""
    if config.init != "encoder":
        return None
    enc = frozen(encoder, y.device) if isinstance(encoder, Encoder) else _encoder_for(g, y.device)
    with torch.no_grad():
        return enc(y, m)


def _search(
    g: Generator,
    d: Discriminator,
    y: Tensor,
    m: Tensor,
    config: SearchConfig,
    progress: bool | None,
    detector: LandmarkDetector | None,
    net: LandmarkNet | None,
    start: Tensor | None,
) -> SearchResult:
    """`search` on `y` in [-1, 1], showing its progress: a bar on a terminal (or always, with
    `progress=True`); with no terminal (logs, CI, a notebook's captured output) a line on
    stderr every 30 s of a long search; nothing with `progress=False`."""
    with shown("search", config.iterations + config.refine_steps, "steps", progress, quiet_end=True) as advance, torch.enable_grad():
        # enable_grad: the search needs autograd even if the caller runs under no_grad
        return search(g, d, y, m, config, detector, on_step=lambda _: advance(), landmark_net=net, start=start)

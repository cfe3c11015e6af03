"""Speed of the latent search at the thesis's settings, against a naive reference loop.

    python benchmarks/bench_complete.py [--batches 1,4,16,64] [--steps 5] [--repeats 1]
        [--threads N] [--options bf16+nofold+...] [--device cpu|cuda] [--no-tf32]
    python benchmarks/bench_complete.py --compare fp32,channels_last,bf16,compile,threads=1 --repeats 3
    python benchmarks/bench_complete.py --bf16 --quality [--quality-iterations 100]
    python benchmarks/bench_complete.py --profile --batches 64 [--device cuda]

Default mode: for each batch size (images searched together, K = 64 candidates each, context +
prior, Adam), the seconds per search iteration, the seconds and images per second of a whole
thesis-length search (1000 iterations, extrapolated), the achieved GFLOP/s against the cost
model, and the speed-up over `naive_reference` (the thesis loop as first written) timed in the
same run. It also checks that the naive loop and the library compute the same thing: same z
start, same losses, so the same final candidates after the same number of steps.

`--compare`: one search iteration of the library with each CPU option (bf16 autocast,
channels_last memory, torch.compile, thread count), interleaved A, B, A, B over `--repeats`
rounds so that load from other jobs hits every variant alike. `--quality`: how far the
options given (e.g. `--bf16`) move the result: PSNR of each completion against the fp32 one on
the 4 faces of tests/data/holdout_faces.npy. `--profile`: torch.profiler's table of the
operators of `--steps` steps at the first batch size, by their own time (on the GPU, the
device's time).

How a step is timed: `Clock` notes when each Adam step ends (a global optimizer hook); the
gaps are the step times (forward G and D, backward to z, Adam) and their median over `--steps`
steps is the figure: it leaves out the
first step's one-off work (oneDNN primitives, allocations, compilation) and is robust to
bursts of load from other jobs. The hard landmark loss runs once at the end (64 dlib calls,
~0.1 s), so it is left out.

Cost model (from the project's performance issue): G and D are about 104 M multiply-adds each
per 64x64 image, so one iteration over 64 candidates (forward G and D, backward to z) is about
54 GFLOP.
"""

from __future__ import annotations

import argparse
import copy
import time
from dataclasses import dataclass, replace
from itertools import chain
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.optim.optimizer import register_optimizer_step_post_hook

from semantic_inpaint import complete, load_pretrained
from semantic_inpaint.complete import MIB_PER_CANDIDATE
from semantic_inpaint.config import YEH2017, SearchConfig
from semantic_inpaint.machine import describe
from semantic_inpaint.masks import centre
from semantic_inpaint.metrics import psnr
from semantic_inpaint.models.dcgan import fold_batchnorm
from semantic_inpaint.search import search
from semantic_inpaint.viz import from_uint8

GFLOP_PER_ITERATION_PER_IMAGE = 54.0  # 64 candidates, forward G and D and backward to z
THESIS_ITERATIONS = 1000
K = 64  # candidates per image, as in the thesis
FLAGS = ("bf16", "channels_last", "nchw", "compile", "graphs", "fold", "nofold", "nondet", "autotune")
FACES = Path(__file__).resolve().parent.parent / "tests" / "data" / "holdout_faces.npy"


@dataclass(frozen=True)
class Options:
    """Execution options under test. bf16: the library's `precision="bf16"` (G and D under
    bf16 autocast; z, the losses and Adam's state stay fp32). channels_last: NHWC inputs
    forced (the library's default since `freeze` sets channels_last weights); nchw: the
    opposite, G and D in the NCHW layout (and not folded), the library as it was before
    channels_last. compile: torch.compile
    on G and D; graphs: the same in its "reduce-overhead" mode, which replays G's and D's
    kernels, forward and backward, as CUDA graphs. fold: batch norm folded into the convolutions
    (`models.dcgan.fold_batchnorm`; the search does it itself); nofold: G and D hidden from the
    search's own folding (the library as it was before). nondet: CUDA, the search without cuDNN's
    deterministic algorithms (what it asks for since runs were seen not to repeat). autotune:
    CUDA, cudnn.benchmark (cuDNN times its algorithms and takes the fastest). threads:
    torch.set_num_threads (None: torch's default)."""

    bf16: bool = False
    channels_last: bool = False
    nchw: bool = False
    compile: bool = False
    graphs: bool = False
    fold: bool = False
    nofold: bool = False
    nondet: bool = False
    autotune: bool = False
    threads: int | None = None

    @classmethod
    def parse(cls, spec: str) -> Options:
        """'fp32' (none), or options joined by '+': 'bf16+channels_last+threads=1'."""
        kw: dict[str, object] = {}
        for token in filter(None, spec.split("+")):
            if token.startswith("threads="):
                kw["threads"] = int(token.split("=", 1)[1])
            elif token in FLAGS:
                kw[token] = True
            elif token != "fp32":
                raise SystemExit(f"unknown option {token!r} in {spec!r}: use fp32, {', '.join(FLAGS)}, threads=N")
        return cls(**kw)

    def __str__(self) -> str:
        names = [n for n in FLAGS if getattr(self, n)]
        names += [f"threads={self.threads}"] if self.threads else []
        return "+".join(names) or "fp32"


class Wrapped(nn.Module):
    """G or D behind a wrapper: the search sees a plain module, not the library's Generator or
    Discriminator, so it does not fold it; with channels_last the input is made NHWC."""

    def __init__(self, module: nn.Module, channels_last: bool) -> None:
        super().__init__()
        self.z_dim = getattr(module, "z_dim", None)  # search() reads generator.z_dim
        self.module = module.to(memory_format=torch.channels_last) if channels_last else module
        self.channels_last = channels_last

    def forward(self, x: Tensor) -> Tensor:
        if self.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.module(x)


class StepMarked(nn.Module):
    """A compiled G in "reduce-overhead" mode that tells torch a new search step begins each time
    it runs (G runs once per step): the CUDA graphs may then reuse the last step's memory,
    which they otherwise refuse to overwrite while the search holds its tensors."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.z_dim = getattr(module, "z_dim", None)
        self.module = module

    def forward(self, z: Tensor) -> Tensor:
        torch.compiler.cudagraph_mark_step_begin()
        return self.module(z)


class Clock:
    """`with Clock() as clock:` notes when each Adam step ends, in wall time and in this
    process's CPU time (all its threads), through a global optimizer hook: the gaps between
    the notes are the step times (forward G and D, backward to z, Adam). On CUDA it
    synchronises first, so a note means the step has finished on the device."""

    def __enter__(self) -> Clock:
        self.ends: list[tuple[float, float]] = []
        self.handle = register_optimizer_step_post_hook(self.note)
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.remove()

    def note(self, optimizer: torch.optim.Optimizer, *_: object) -> None:
        if optimizer.param_groups[0]["params"][0].is_cuda:
            torch.cuda.synchronize()
        self.ends.append((time.perf_counter(), time.process_time()))

    def step_seconds(self) -> tuple[float, float]:
        """The median gap between step ends, wall and CPU seconds. CPU time is the steadier
        figure on a loaded machine when the process runs one thread."""
        wall, cpu = np.median(np.diff(np.array(self.ends), axis=0), axis=0)
        return float(wall), float(cpu)


def prepare(models: tuple[nn.Module, nn.Module], options: Options) -> tuple[nn.Module, nn.Module]:
    """Copies of (G, D) set up with `options`. Sets the thread count."""
    if options.threads:
        torch.set_num_threads(options.threads)
    g, d = (copy.deepcopy(m) for m in models)
    if options.fold:
        g, d = fold_batchnorm(g), fold_batchnorm(d)
    if options.nchw:
        g, d = (m.to(memory_format=torch.contiguous_format) for m in (g, d))
    if options.channels_last or options.nofold or options.nchw:  # the search's folding would undo nchw
        g, d = Wrapped(g, options.channels_last), Wrapped(d, options.channels_last)
    if options.compile:
        g, d = torch.compile(g), torch.compile(d)
    if options.graphs:
        g, d = StepMarked(torch.compile(g, mode="reduce-overhead")), torch.compile(d, mode="reduce-overhead")
    return g.eval(), d.eval()  # frozen as they are, so complete() takes them without a copy (models.dcgan.frozen)


def naive_reference(
    generator: nn.Module,
    discriminator: nn.Module,
    image: Tensor,
    mask: Tensor,
    iterations: int,
    config: SearchConfig = YEH2017,
) -> tuple[Tensor, Tensor, list[float]]:
    """The thesis loop (eqs. 14-16, 19) as a researcher first writes it in PyTorch: one image
    (1, 3, 64, 64) in [-1, 1] at a time, fp32, no batching of images, G and D in eval mode but
    not frozen (backward also computes their weight gradients), the loss read back with
    .item() every step, the textbook formulas. A reference for speed and for correctness;
    returns the final z (K, 100), the final candidates G(z) (K, 3, 64, 64) and the loss log.
    It unfreezes the networks it is given, as that loop would: pass copies.
    """
    # The default NCHW layout (the library sets channels_last in `freeze`; a first loop would not).
    G, D = (m.eval().to(memory_format=torch.contiguous_format) for m in (generator, discriminator))
    for p in chain(G.parameters(), D.parameters()):
        p.requires_grad_(True)
    lam = config.loss.prior_weight
    # Eq. 15: the share of missing pixels in the 7x7 window, counted inside the image only.
    box = torch.ones(1, 1, 7, 7, device=image.device)
    neighbours = F.conv2d(torch.ones_like(mask), box, padding=3)
    W = mask * F.conv2d(1 - mask, box, padding=3) / neighbours
    # z ~ U[-1, 1], drawn on the CPU from the seed, as the library does.
    z = torch.rand(config.candidates, 100, generator=torch.Generator().manual_seed(config.seed)) * 2 - 1
    z = z.to(image.device).requires_grad_(True)
    optimizer = torch.optim.Adam([z], lr=config.lr, betas=config.betas)
    log = []
    for _ in range(iterations):
        optimizer.zero_grad()
        x = G(z)
        context = torch.sum(torch.abs(W * (x - image)), dim=(1, 2, 3))  # eq. 16
        prior = lam * torch.log(1 - torch.sigmoid(D(x)))  # eq. 19
        loss = torch.sum(config.loss.weight * (context + prior))
        loss.backward()
        optimizer.step()
        z.data.clamp_(-1, 1)
        log.append(loss.item())
    with torch.no_grad():
        return z.detach(), G(z), log


def centre_masks(n: int, device: torch.device) -> Tensor:
    return centre()[None, None].repeat(n, 1, 1, 1).to(device)


def time_library(models: tuple[nn.Module, nn.Module], images: Tensor, steps: int, options: Options = Options()) -> tuple[float, float]:
    """Wall and CPU seconds per step of the library's search on `images`, K = 64: the median
    over `steps` steps, which leaves out the first step's one-off work (oneDNN primitives,
    allocations, compilation) when steps >= 3."""
    config = YEH2017.with_overrides(iterations=steps, candidates=K, precision="bf16" if options.bf16 else "fp32")
    # search.__wrapped__: the search without its deterministic-cuDNN decorator.
    run = search.__wrapped__ if options.nondet else search
    before = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = options.autotune
    try:
        with Clock() as clock:
            run(*models, images, centre_masks(len(images), images.device), config)
    finally:
        torch.backends.cudnn.benchmark = before
    return clock.step_seconds()


def time_naive(models: tuple[nn.Module, nn.Module], image: Tensor, steps: int) -> float:
    """Seconds per step of naive_reference on one image (median, as in time_library)."""
    with Clock() as clock:
        naive_reference(*(copy.deepcopy(m) for m in models), image, centre_masks(1, image.device), steps)
    return clock.step_seconds()[0]


def fits(n: int, device: torch.device) -> bool:
    """Whether a CPU search of n images x K candidates fits in the memory free now (batches that
    would not are skipped rather than risk the OOM killer)."""
    if device.type != "cpu":
        return True  # CUDA raises OutOfMemoryError, which the caller catches
    available_kib = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemAvailable"))
    return MIB_PER_CANDIDATE * n * K < 0.8 * available_kib / 1024


def run_table(models, faces: np.ndarray, device: torch.device, options: Options, args: argparse.Namespace) -> None:
    """The batch-size table, with the naive reference timed in the same run (and checked)."""
    prepared = prepare(models, options)
    face0 = from_uint8(faces[:1]).to(device)
    print(f"device: {device} ({describe(device)}); torch {torch.__version__}; options: {options}; K = {K}")
    print(f"per-step time: median over the timed steps, best of {args.repeats} round(s); 1000 iterations extrapolated")
    naive_s: list[float] = []
    batches = [int(b) for b in args.batches.split(",")]
    lib_s: dict[int, list[float]] = {n: [] for n in batches}
    peak_mib: dict[int, float] = {}  # CUDA: peak memory per candidate, against complete's MIB_PER_CANDIDATE
    for _ in range(args.repeats):
        naive_s.append(time_naive(models, face0, args.steps))
        for n in batches:
            if not fits(n, device):
                continue
            images = from_uint8(np.resize(faces, (n, 64, 64, 3))).to(device)
            try:
                if device.type == "cuda":
                    torch.cuda.reset_peak_memory_stats(device)
                lib_s[n].append(time_library(prepared, images, args.steps, options)[0])
                if device.type == "cuda":
                    peak_mib[n] = torch.cuda.max_memory_allocated(device) / 2**20 / (n * K)
            except torch.cuda.OutOfMemoryError:
                torch.cuda.empty_cache()

    naive = min(naive_s)
    naive_images_s = 1 / (naive * THESIS_ITERATIONS)
    print(f"{'':>16} {'s/iteration':>11} {'s/image (1000 it)':>17} {'images/s':>9} {'GFLOP/s':>8} {'x naive':>8}")
    row = "{:>16} {:>11.4f} {:>17.1f} {:>9.5f} {:>8.1f} {:>8.2f}"
    print(row.format("naive, 1 image", naive, naive * THESIS_ITERATIONS, naive_images_s, GFLOP_PER_ITERATION_PER_IMAGE / naive, 1.0))
    for n in batches:
        if not lib_s[n]:
            print(f"{f'library, {n}':>16}  skipped: does not fit in memory")
            continue
        s = min(lib_s[n])
        per_image = s * THESIS_ITERATIONS / n
        print(row.format(f"library, {n}", s, per_image, 1 / per_image, GFLOP_PER_ITERATION_PER_IMAGE * n / s, 1 / per_image / naive_images_s))

    if peak_mib:
        print("peak GPU memory per candidate (MiB): " + ", ".join(f"{n} images {m:.2f}" for n, m in peak_mib.items()) + f" (evaluate assumes {MIB_PER_CANDIDATE})")

    check(models, face0, args)


def check(models: tuple[nn.Module, nn.Module], face: Tensor, args: argparse.Namespace) -> None:
    """Same z start, same losses: the library (fp32, its defaults) must end where the naive loop
    ends. On CUDA both run in IEEE fp32 for this: with TF32 convolutions (PyTorch's default)
    each rounds to 10 mantissa bits in its own cuDNN algorithms, and Adam's sign-like first
    steps turn that into different paths (measured: 0.2 apart after 5 steps on an H100)."""
    before = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        z_naive, x_naive, _ = naive_reference(*(copy.deepcopy(m) for m in models), face, centre_masks(1, face.device), args.steps)
        r = search(*models, face, centre_masks(1, face.device), YEH2017.with_overrides(iterations=args.steps, candidates=K))
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = before
    dx = (r.candidates[0] - x_naive).abs().max().item()
    dz = (r.z[0] - z_naive).abs().max().item()
    verdict = "same" if dx < args.tolerance else "DIFFERENT"
    print(f"naive vs library after {args.steps} steps, IEEE fp32: max |candidate diff| {dx:.2e}, max |z diff| {dz:.2e} ({verdict}, tolerance {args.tolerance:g})")


def run_profile(models, faces: np.ndarray, device: torch.device, options: Options, args: argparse.Namespace) -> None:
    """Where a search step's time goes: torch.profiler over `--steps` steps of the library at
    the first batch size (after two untimed steps), operators by their own time on the device."""
    from torch.profiler import ProfilerActivity, profile

    n = int(args.batches.split(",")[0])
    prepared = prepare(models, options)
    images = from_uint8(np.resize(faces, (n, 64, 64, 3))).to(device)
    print(f"device: {device} ({describe(device)}); torch {torch.__version__}; options: {options}; {n} image(s) x {K} candidates")
    time_library(prepared, images, 2, options)  # cuDNN / oneDNN set-up and allocations stay out of the profile
    cuda = device.type == "cuda"
    with profile(activities=[ProfilerActivity.CPU, *([ProfilerActivity.CUDA] if cuda else [])]) as prof:
        time_library(prepared, images, args.steps, options)
    print(prof.key_averages().table(sort_by="self_device_time_total" if cuda else "self_cpu_time_total", row_limit=25))


def run_compare(models, faces: np.ndarray, device: torch.device, specs: list[str], args: argparse.Namespace) -> None:
    """One search step with each option set, interleaved over rounds."""
    variants = [Options.parse(s) for s in specs]
    n = int(args.batches.split(",")[0])
    print(f"device: {device} ({describe(device)}); torch {torch.__version__}; {n} image(s) x {K} candidates")
    print("s/iteration, wall | CPU (all threads), median over the timed steps; one column per round, interleaved")
    default_threads = torch.get_num_threads()
    prepared = [prepare(models, v) for v in variants]
    images = from_uint8(np.resize(faces, (n, 64, 64, 3))).to(device)
    times: list[list[tuple[float, float]]] = [[] for _ in variants]
    for _ in range(args.repeats):
        for v, m, t in zip(variants, prepared, times):
            torch.set_num_threads(v.threads or default_threads)
            t.append(time_library(m, images, args.steps, v))
    base_wall, base_cpu = (min(x) for x in zip(*times[0]))
    for v, t in zip(variants, times):
        wall, cpu = (min(x) for x in zip(*t))
        rounds = " ".join(f"{w:7.4f}|{c:7.4f}" for w, c in t)
        print(f"{str(v):>28} {rounds}   best {wall:7.4f}|{cpu:7.4f}   speed-up {base_wall / wall:4.2f}x|{base_cpu / cpu:4.2f}x")


def run_quality(models, faces: np.ndarray, device: torch.device, options: Options, args: argparse.Namespace) -> None:
    """PSNR of the completion with `options` against the fp32 one, per face (yeh2017, centre)."""
    kw = dict(preset="yeh2017", iterations=args.quality_iterations, candidates=K, device=device, progress=False)
    truth = torch.from_numpy(faces).permute(0, 3, 1, 2).float() / 255
    ref = complete(truth, "centre", models=models, **kw)
    g, d = prepare(models, options)
    test = complete(truth, "centre", models=(g, d), **kw | {"precision": "bf16" if options.bf16 else "fp32"})
    print(f"{options} vs fp32 after {args.quality_iterations} iterations, K = {K}, centre mask, {len(faces)} faces:")
    print(f"  PSNR of the completion vs fp32's (dB): {np.round(psnr(test.images, ref.images).numpy(), 2).tolist()}")
    print(f"  best candidate: fp32 {ref.best.tolist()}, {options} {test.best.tolist()}")
    print(f"  PSNR vs ground truth (dB): fp32 {np.round(psnr(ref.images, truth).numpy(), 2).tolist()}, {options} {np.round(psnr(test.images, truth).numpy(), 2).tolist()}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batches", default="1,4,16,64", help="images searched together (x 64 candidates); --compare uses the first")
    p.add_argument("--steps", type=int, default=5, help="search steps timed per measurement (the median is taken; >= 3)")
    p.add_argument("--tolerance", type=float, default=1e-3, help="max |candidate diff| naive vs library, in [-1, 1] units")
    p.add_argument("--repeats", type=int, default=1, help="rounds, interleaved; the best round is reported")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--bf16", action="store_true", help="bf16 autocast for G and D on the CPU")
    p.add_argument("--compile", action="store_true", help="torch.compile G and D")
    p.add_argument("--options", default="fp32", metavar="SPEC", help="option set for the table, --profile and --quality, as in --compare, e.g. bf16+nofold")
    p.add_argument("--compare", default=None, metavar="SPECS", help="comma-separated option sets, e.g. fp32,bf16,channels_last+bf16,threads=1")
    p.add_argument("--quality", action="store_true", help="PSNR of the result with the options given vs fp32")
    p.add_argument("--quality-iterations", type=int, default=100)
    p.add_argument("--profile", action="store_true", help="torch.profiler table of --steps steps at the first batch size")
    p.add_argument("--no-tf32", action="store_true", help="CUDA: plain fp32 convolutions and matmuls (PyTorch's default lets cuDNN use TF32)")
    args = p.parse_args()
    if args.steps < 3:
        p.error("--steps must be >= 3: the median of the step times must leave out the first step")
    device = torch.device(args.device)
    if args.no_tf32:
        # TF32 rounds inputs to 10 mantissa bits; whether it is what makes the naive loop and
        # the library part ways on CUDA (they pick different conv algorithms) is this run's question.
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    flags = dict(bf16=args.bf16, channels_last=args.channels_last, compile=args.compile, threads=args.threads)
    options = replace(Options.parse(args.options), **{k: v for k, v in flags.items() if v})
    if args.quality and str(options) == "fp32":
        p.error("--quality compares the options given (--options, --bf16, ...) with fp32: give at least one")
    if options.threads:
        torch.set_num_threads(options.threads)
    models = load_pretrained(device=device)
    faces = np.load(FACES)
    if args.profile:
        run_profile(models, faces, device, options, args)
    elif args.compare:
        run_compare(models, faces, device, args.compare.split(","), args)
    elif args.quality:
        run_quality(models, faces, device, options, args)
    else:
        run_table(models, faces, device, options, args)


if __name__ == "__main__":
    main()

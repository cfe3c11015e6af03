"""What the subcommands share: the search options of `complete`, `demo`, `evaluate` and `card`,
the checked --device, and the small helpers every command module uses."""

from __future__ import annotations

import argparse
import re
import sys

from semantic_inpaint.complete import resolve_device
from semantic_inpaint.config import PRESETS
from semantic_inpaint.errors import InpaintInputError

CACHE_HELP = "folder for the rendered synthetic faces (default: $SEMANTIC_INPAINT_CACHE, else ~/.cache/semantic-inpaint)"
# The options of `search_options`, passed on to the preset when given.
SEARCH_OPTIONS = ("iterations", "candidates", "halve_at", "precision", "fp32_last", "refine_steps", "refine_layers", "pick")


def add_command(sub: argparse._SubParsersAction, name: str, text: str, **kwargs: object) -> argparse.ArgumentParser:
    """A subcommand whose one line in the list is also the description atop its --help."""
    return sub.add_parser(name, help=text, description=text, **kwargs)


def _steps(text: str) -> tuple[int, ...]:
    """'400,700' -> (400, 700), for --halve-at."""
    try:
        return tuple(int(t) for t in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected step numbers separated by commas, e.g. 400,700; got {text!r}") from None


def search_options() -> argparse.ArgumentParser:
    """The options shared by the commands that search (a parent parser); unset search options
    keep the preset's values."""
    search = argparse.ArgumentParser(add_help=False)
    search.add_argument("--preset", choices=sorted(PRESETS), default=None, help="thesis: context + prior + dlib landmark loss; yeh2017: context + prior; structure: context + prior + soft landmark loss; adapt: yeh2017 + a colour transform per candidate; fast: yeh2017 from the encoder's guess, K = 16, 100 steps, refinement, the candidates' mean, Poisson blending (default: thesis; for a photo, fast)")
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
    search.add_argument(
        "--refine-steps",
        type=int,
        default=None,
        metavar="N",
        help="after the search, fine-tune a copy of G on the known pixels for N steps and trust it near them (ours; fast: 100, others: 0 = off)",
    )
    search.add_argument(
        "--refine-layers",
        type=int,
        default=None,
        metavar="N",
        help="the refinement fine-tunes G's last N layers alone (of 5; default: all): N=3 halves its time, "
        "the same PSNR on a centre hole, 0.4 dB less on a random mask (ours; see docs/results.md)",
    )
    search.add_argument(
        "--pick",
        choices=["best", "mean"],
        default=None,
        help="the hole from the best candidate (eq. 20), or from the candidates' mean weighted by their losses (ours; fast: mean, others: best)",
    )
    search.add_argument("--device", choices=["cpu", "cuda"], default=None, help="default: cuda when available, else cpu")
    search.add_argument("--weights", default=None, metavar="DIR", help="a weight set: a shipped one by name (celeba, synthetic) or a folder written by `train --export` (default: celeba)")
    return search


def overrides(args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, object]:
    """The search options given on the command line; the rest keep the preset's values."""
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def device_of(args: argparse.Namespace) -> str | None:
    """--device as given, checked by the library's `resolve_device` so that a device this machine
    lacks is refused before anything loads; None (not given) leaves the library's default
    (CUDA when available; under torchrun, each rank's own GPU)."""
    if args.device is None:
        return None
    try:
        resolve_device(args.device)
    except InpaintInputError as e:
        # The library names its keyword (device='cuda'); the command line, its option.
        raise InpaintInputError(str(e).replace(f"device={args.device!r}", f"--device {args.device}", 1)) from None
    return args.device


def in_flags(message: str, command: argparse.ArgumentParser) -> str:
    """`message` with the settings it names by the library's keyword ('lr_g must be > 0, got 0.0;
    e.g. lr_g=0.0002') named by `command`'s options instead ('--lr-g must be > 0, got 0.0; e.g.
    --lr-g 0.0002'), as a user of the command line gave them. Only the two places the settings'
    checks name them are rewritten, so a word such as 'steps' elsewhere in a message stays a word."""
    flags = {a.dest: max(a.option_strings, key=len) for a in command._actions if a.option_strings}
    message = re.sub(r"^(\w+)(?= must )", lambda m: flags.get(m[1], m[1]), message)
    return re.sub(r"e\.g\. (\w+)=(\S+)", lambda m: f"e.g. {flags[m[1]]} {m[2]}" if m[1] in flags else m[0], message)


def command_line() -> str:
    """This run's command, as a weight set's manifest records it."""
    return "semantic-inpaint " + " ".join(sys.argv[1:])

"""Command-line front end: `semantic-inpaint {complete,demo,evaluate,card,train,train-landmarks,train-encoder}`.
It only calls public functions.

One module per group of commands, each adding its parsers (`add_<command>_parser`) and the
function that runs them: `complete` (complete, demo), `evaluate` (evaluate, card) and `train`
(train, train-landmarks, train-encoder); `common` holds the search options and the checked
--device they share.
"""

from __future__ import annotations

import argparse
import sys

from semantic_inpaint.cli.common import in_flags
from semantic_inpaint.cli.complete import add_complete_parser, add_demo_parser
from semantic_inpaint.cli.evaluate import add_card_parser, add_evaluate_parser
from semantic_inpaint.cli.train import add_train_encoder_parser, add_train_landmarks_parser, add_train_parser
from semantic_inpaint.errors import InpaintInputError, LandmarkError, WeightsError


def build_parser() -> argparse.ArgumentParser:
    """The `semantic-inpaint` parser: each subcommand sets `func`, the function that runs it."""
    parser = argparse.ArgumentParser(
        prog="semantic-inpaint",
        description="Face inpainting by latent-space search in a pretrained 64x64 DCGAN (masks: 1 = known, 0 = missing).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (add_complete_parser, add_demo_parser, add_evaluate_parser, add_card_parser, add_train_parser, add_train_landmarks_parser, add_train_encoder_parser):
        add(sub)  # in this order in the list of subcommands
    return parser


def main(argv: list[str] | None = None) -> None:
    """Run the command line. Errors about the user's input, weights or dlib end with a one-line
    message and exit status 2 (argparse's status for usage errors); anything else is a bug and
    keeps its traceback. A setting named in a message is named by its option (--lr-g), as given."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (InpaintInputError, WeightsError, LandmarkError) as e:
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        print(f"semantic-inpaint: error: {in_flags(str(e), commands.choices[args.command])}", file=sys.stderr)
        raise SystemExit(2) from None


__all__ = ["build_parser", "main"]

"""Command-line interface. Each module registers its sub-commands; errors print as one clear line."""

from __future__ import annotations

import argparse
import sys

from ner_demo.cli import data, export, infer, ship, train
from ner_demo.errors import NerDemoError

# Sub-command modules, in the order of the help; each has ``register(subparsers)`` that sets ``func`` on
# its parsers. They import what a command runs on (models, evaluation, training) inside its handler, so
# that building this parser (every command, ``--help`` included) imports none of torch, transformers,
# seqeval or the training engines.
_MODULES = (data, infer, train, export, ship)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ner_demo",
        description="Named-entity recognition workbench: data, training, evaluation and tagging.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _MODULES:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except NerDemoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 1)  # 2 for a UsageError (ner_demo.cli.common)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130

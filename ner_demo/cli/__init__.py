"""Command-line interface. Each module registers its sub-commands; errors print as one clear line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ner_demo.cli import annotate, calibrate, compare, corpus, data, evaluate, export, infer, queueing, runs, ship, train
from ner_demo.errors import NerDemoError

# Sub-command modules, in the order of the help; each has ``register(subparsers)`` that sets ``func`` on
# its parsers. What is heavy is deferred (torch and transformers inside the model loaders, seqeval inside
# the commands that score), so building this parser, for every command and ``--help``, imports none of
# them (tests/test_layers.py).
_MODULES = (data, infer, corpus, evaluate, compare, calibrate, train, queueing, runs, export, ship, annotate)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_prog(),
        description="Named-entity recognition workbench: data, training, evaluation and tagging.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _MODULES:
        module.register(subparsers)
    return parser


def _prog() -> str:
    """``ner-demo`` when run as the installed console script, else ``python -m ner_demo``."""
    return "ner-demo" if Path(sys.argv[0]).name == "ner-demo" else "python -m ner_demo"


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

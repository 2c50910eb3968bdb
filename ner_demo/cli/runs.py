"""``runs``: list runs (filtered and sorted), and ``runs delete | rename | tag``.

``python -m ner_demo runs`` alone lists them, as before; ``runs list`` is the same with a name.
"""

from __future__ import annotations

import argparse
import sys

from ner_demo.cli.common import UsageError, print_json
from ner_demo.training import manage
from ner_demo.training.runs import STATES, format_runs_table


def _list_options(p, inherited: bool) -> None:
    """The list's options, on ``runs`` and on ``runs list`` (there without defaults, so that
    ``runs --state failed list`` keeps what the parent parsed)."""
    default = (lambda value: argparse.SUPPRESS) if inherited else (lambda value: value)
    p.add_argument("--runs-dir", default=default("runs"))
    p.add_argument("--state", choices=["all", *STATES], default=default("all"), help="only runs in this state")
    p.add_argument("--tag", default=default(None), help="only runs carrying this tag (case ignored)")
    p.add_argument("--text", default=default(None),
                   help="only runs whose id, name, tags, backbone, data or engine hold every word of TEXT")
    p.add_argument("--sort", choices=list(manage.SORTS), default=default("newest"),
                   help="; ".join(f"{k}: {v}" for k, v in manage.SORTS.items()) + " (default: newest)")
    p.add_argument("--json", action="store_true", default=default(False),
                   help="print machine-readable JSON instead of tables")


def register(subparsers) -> None:
    p = subparsers.add_parser("runs", help="list, delete, rename or tag runs",
                              description="List runs (default) or act on one: delete, rename, tag.")
    _list_options(p, inherited=False)
    p.set_defaults(func=_list)
    actions = p.add_subparsers(dest="action", metavar="ACTION")

    q = actions.add_parser("list", help="runs with their name, tags, state, progress and best dev F1")
    _list_options(q, inherited=True)
    q.set_defaults(func=_list)

    q = actions.add_parser("delete", help="delete a run that has ended (not one that trains or is queued)")
    q.add_argument("run_id")
    q.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    q.add_argument("--runs-dir", default=argparse.SUPPRESS)
    q.set_defaults(func=_delete)

    q = actions.add_parser("rename", help="give a run a display name (its id stays the same)")
    q.add_argument("run_id")
    q.add_argument("name", help='the new display name; "" clears it')
    q.add_argument("--runs-dir", default=argparse.SUPPRESS)
    q.set_defaults(func=_rename)

    q = actions.add_parser("tag", help="set a run's tags (a comma list; replaces the old ones)")
    q.add_argument("run_id")
    q.add_argument("tags", help='e.g. "baseline,conll"; "" clears them')
    q.add_argument("--runs-dir", default=argparse.SUPPRESS)
    q.set_defaults(func=_tag)


def _list(args) -> int:
    runs = manage.runs_view(args.runs_dir, state=args.state, text=args.text, tag=args.tag, sort=args.sort)
    if args.json:
        print_json([r.to_dict() for r in runs])
    else:
        print(format_runs_table(runs))
    return 0


def _delete(args) -> int:
    run = manage.open_run(args.run_id, args.runs_dir)  # an unknown id is reported before any question
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError(f"deleting run {run.id} removes its folder for good; add --yes to confirm")
        state = run.read_status().get("state")
        answer = input(f"Delete run {args.run_id} ({state}) and everything in its folder? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("not deleted")
            return 1
    print(f"deleted run {manage.delete_run(args.run_id, args.runs_dir)}")
    return 0


def _rename(args) -> int:
    meta = manage.rename_run(args.run_id, args.name, args.runs_dir)
    print(f"run {args.run_id}: name {meta['name']!r}" if meta["name"] else f"run {args.run_id}: name cleared")
    return 0


def _tag(args) -> int:
    meta = manage.tag_run(args.run_id, args.tags, args.runs_dir)
    print(f"run {args.run_id}: tags {', '.join(meta['tags']) or '(none)'}")
    return 0

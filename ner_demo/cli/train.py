"""``train``, ``recipes``, ``resume`` and ``cancel`` (``runs`` and its actions: cli/runs.py).

Several processes or GPUs (DDP): ``accelerate launch --multi_gpu --num_processes N -m ner_demo train --config ...``;
without a GPU that starts N CPU processes over gloo (accelerate's ``--cpu`` launcher needs MPI for N > 1).
"""

from __future__ import annotations

import argparse
import signal
import sys
from contextlib import contextmanager

from ner_demo.cli.common import add_json_flag, print_json
from ner_demo.errors import ConfigError
from ner_demo.training import background, create_run, resume, train
from ner_demo.training.common import distributed_state
from ner_demo.training.config import TrainConfig
from ner_demo.training.lifecycle import run_training
from ner_demo.training.preflight import prelaunch_warning
from ner_demo.training.recipes import RECIPES_ENV, format_recipes, list_recipes, load_recipe
from ner_demo.training.runs import Run


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train",
        help="fine-tune a token-classification model (a new run under runs/)",
        description="Train with a YAML/JSON config and key=value overrides. Keys:\n" + TrainConfig.describe_fields(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--config", help="a YAML or JSON file of TrainConfig keys (e.g. training/conll2003_distilbert.yaml)")
    p.add_argument("--recipe", help="a named recipe instead of --config (`python -m ner_demo recipes` lists them, "
                   "e.g. default-model); --set overrides apply on top")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one key; repeat for more (e.g. --set epochs=1 --set max_steps=30)",
    )
    p.add_argument("--background", action="store_true", help="train in a separate process and return at once")
    p.add_argument(
        "--queue", action="store_true",
        help="train in the background, after the runs already queued (see `queue`) instead of refusing while one trains"
    )
    p.add_argument("--run-dir", help="(internal) train this existing run folder, as a background process does")
    p.add_argument("--resume", action="store_true", help="(internal, with --run-dir) resume it")
    p.set_defaults(func=_train)

    p = subparsers.add_parser("recipes", help="list the training recipes: name, version, expected dev F1 and time",
                              description="Recipes are the training/*.yaml files with a recipe: block "
                              f"(another folder: ${RECIPES_ENV}). Train one with `train --recipe NAME`.")
    add_json_flag(p)
    p.set_defaults(func=_recipes)

    p = subparsers.add_parser("resume", help="continue a failed or cancelled run from its newest complete checkpoint")
    p.add_argument("run_id")
    p.add_argument("--runs-dir", default="runs")
    p.add_argument("--background", action="store_true", help="resume in a separate process and return at once")
    p.add_argument("--queue", action="store_true", help="resume in the background, queued behind the running run")
    p.set_defaults(func=_resume)

    p = subparsers.add_parser("cancel", help="stop a run at its next step (it stays resumable), or take a queued "
                                             "run out of the queue")
    p.add_argument("run_id")
    p.add_argument("--runs-dir", default="runs")
    p.set_defaults(func=_cancel)


@contextmanager
def _cancel_on_signals(run):
    """SIGTERM / first Ctrl-C: ask the run to stop at the next step, leaving a checkpoint to resume.

    A second Ctrl-C interrupts at once (default handler restored).
    """

    def handler(signum, frame):
        run.request_cancel()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _print_outcome(status: dict) -> int:
    best = status.get("best") or {}
    state = status.get("state")
    line = f"run {status.get('run_id')}: {state}"
    if best:
        line += f"; best dev strict F1 {best.get('strict_f1', float('nan')):.4f} at step {best.get('step')}"
    if status.get("error"):
        line += f"; error: {status['error']}"
    print(line, flush=True)
    return 0 if state in ("finished", "cancelled") else 1


def _train(args) -> int:
    if args.run_dir:  # a background child: the run folder and its config already exist
        run = Run(args.run_dir)
        try:
            with _cancel_on_signals(run):
                status = run_training(run, resume=args.resume)
        finally:
            background.finish_background(run)
        return _print_outcome(status)
    config = _config_of(args)
    if args.background or args.queue:  # a foreground run prints its warning as it starts (the engine's log line)
        if warning := prelaunch_warning(config):
            print(f"warning: {warning}", file=sys.stderr, flush=True)
        run = background.start(config, queue=args.queue)
        if run.read_status().get("launched"):
            print(f"started run {run.id} in the background ({run.path}); follow it with `python -m ner_demo runs`")
        else:
            print(f"queued run {run.id}: it starts when the runs before it have ended; see `python -m ner_demo queue`")
        return 0
    main = distributed_state(config).is_main_process
    run = create_run(config)
    if main:
        print(f"run {run.id}: {run.path}", flush=True)
    with _cancel_on_signals(run):
        train(config, run=run)
    return _print_outcome(run.read_status()) if main else 0


def _config_of(args) -> TrainConfig:
    """The config of ``--recipe`` or ``--config`` (one of them, or neither), with the ``--set`` overrides on top."""
    if args.config and args.recipe:
        raise ConfigError(f"--config {args.config} and --recipe {args.recipe}: give one of them (a recipe is a "
                          "named config file; add --set key=value to change its values)")
    if not (args.config or args.recipe or args.overrides):
        raise ConfigError("give --recipe NAME (`python -m ner_demo recipes` lists them), --config FILE "
                          "and/or --set key=value overrides")
    if args.recipe:
        config = load_recipe(args.recipe)[1]
    else:
        config = TrainConfig.from_file(args.config) if args.config else TrainConfig()
    return config.with_overrides(args.overrides)


def _recipes(args) -> int:
    recipes = list_recipes()
    if args.json:
        print_json([r.to_dict() for r in recipes])
    else:
        print(format_recipes(recipes))
    return 0


def _resume(args) -> int:
    if args.background or args.queue:
        run = background.resume_in_background(args.run_id, args.runs_dir, queue=args.queue)
        queued = not run.read_status().get("launched")
        print(f"run {run.id} queued for resuming; see `python -m ner_demo queue`" if queued
              else f"resuming run {run.id} in the background")
        return 0
    run = Run.open(args.run_id, args.runs_dir)
    with _cancel_on_signals(run):
        resume(run.path, args.runs_dir)
    return _print_outcome(run.read_status())


def _cancel(args) -> int:
    status = background.cancel(args.run_id, args.runs_dir)
    print(f"run {status.get('run_id')}: {status.get('message', status.get('state'))}")
    return 0

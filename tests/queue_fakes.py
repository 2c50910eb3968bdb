"""Stand-in trainers for the queue and learning-curve tests: the real watcher, a trainer without torch.

    python tests/queue_fakes.py watch RUN_DIR    # what background._launch starts (the test patches it so)
    python tests/queue_fakes.py train RUN_DIR    # the trainer the watcher waits for

``watch`` runs the shipped watcher, ``ner_demo.training.supervisor.main``, on the fake trainer, with the
same patch in its own process, so the run it launches next is a fake one too. The fake trainer does
what its config's name says: a name starting with ``hold`` waits until the runs folder holds a file
``release``; ``kill`` sends itself SIGKILL once it says running; ``fail`` exits with status 3 without
a word; any other name logs one dev evaluation, saves a "best" and ends finished, as a trainer does.
Every trainer appends its run id to ``<runs>/order.txt`` when it starts.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()


def watcher_command(run, resume: bool = False) -> list[str]:
    return [sys.executable, str(HERE), "watch", str(run.path)]


def patch(background) -> None:
    background._watcher_command = watcher_command


def watch(run_dir: str) -> int:
    from ner_demo.training import background, supervisor

    patch(background)
    return supervisor.main([run_dir, "--", sys.executable, str(HERE), "train", run_dir])


def per_type_for(name: str) -> dict:
    """Scores that grow with the share in the name (``...-lc50`` -> 0.5), so a curve has a shape."""
    share = int(name.rsplit("lc", 1)[1]) / 100 if "-lc" in name else 0.5
    return {"LOC": {"precision": share, "recall": share, "f1": share, "support": 4},
            "PER": {"precision": share / 2, "recall": share / 2, "f1": share / 2, "support": 6}}


def train(run_dir: str) -> int:
    from ner_demo.training.background import end_run
    from ner_demo.training.runs import Run

    run = Run(run_dir)
    name = json.loads(run.config_path.read_text(encoding="utf-8"))["name"]
    run.write_status(state="running", pid=os.getpid(), step=0, total_steps=1)
    with open(run.path.parent / "order.txt", "a", encoding="utf-8") as fh:
        fh.write(run.id + "\n")
    if name.startswith("hold"):
        deadline = time.time() + 120  # a safety net only: the test releases it
        while not (run.path.parent / "release").exists() and time.time() < deadline:
            time.sleep(0.02)
    if "kill" in name:
        os.kill(os.getpid(), signal.SIGKILL)
    if "fail" in name:
        return 3
    per_type = per_type_for(name)
    micro = sum(t["f1"] for t in per_type.values()) / len(per_type)
    run.log_metrics({"kind": "eval", "split": "dev", "step": 1, "epoch": 1.0, "strict_f1": micro, "per_type": per_type})
    end_run(run, state="finished", step=1, best={"step": 1, "epoch": 1.0, "strict_f1": micro})
    return 0


if __name__ == "__main__":
    mode, run_dir = sys.argv[1], sys.argv[2]
    sys.exit(watch(run_dir) if mode == "watch" else train(run_dir))

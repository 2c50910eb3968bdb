"""Shared pieces of the training tests: the tiny fixture corpus, a tiny model, a fast config."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from ner_demo.data import read_conll
from ner_demo.labels import LabelSet
from ner_demo.training import TrainConfig

DATA = Path(__file__).parent / "data"
TRAIN = DATA / "train_tiny.conll"
DEV = DATA / "dev_tiny.conll"
REPO = Path(__file__).resolve().parent.parent


def fixture_labels() -> LabelSet:
    return LabelSet.from_tags(s.tags for s in read_conll(TRAIN))


def build_model(folder: Path, arch: str = "distilbert") -> Path:
    """A random 2-layer model whose vocabulary holds every fixture word (one piece per word)."""
    from tiny_models import build_tiny_model

    words = sorted({w for path in (TRAIN, DEV) for s in read_conll(path) for w in s.words})
    return build_tiny_model(folder, fixture_labels(), words, arch=arch)


def tiny_config(model_dir: Path, runs_dir: Path, **changes) -> TrainConfig:
    """6 epochs of 5 steps (20 sentences, batch 4); a learning rate that a tiny model learns with."""
    values = dict(
        name="tiny", backbone=str(model_dir), train_file=str(TRAIN), dev_file=str(DEV), max_length=48,
        learning_rate=3e-3, batch_size=4, eval_batch_size=16, epochs=6, warmup_ratio=0.0, log_every=2,
        checkpoint_every=3, threads=1, runs_dir=str(runs_dir),
    )
    values.update(changes)
    return TrainConfig(**values)


def subprocess_env() -> dict:
    """Environment for `python -m ner_demo` children: this checkout importable, no crash hook inherited."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env.pop("NER_DEMO_CRASH_AT_STEP", None)
    env.setdefault("OMP_NUM_THREADS", "1")
    env["HF_HUB_OFFLINE"] = "1"
    return env


PYTHON = sys.executable


def wait_for_state(run_id: str, runs_dir, states: set[str], timeout: float = 120, interval: float = 0.05) -> dict:
    """Poll a background run until its state is one of ``states``; fail the test with its status if not."""
    from ner_demo.training import background

    deadline = time.time() + timeout
    while time.time() < deadline:
        status = background.poll(run_id, runs_dir)
        if status.get("state") in states:
            return status
        time.sleep(interval)
    raise AssertionError(f"run {run_id} did not reach {states}: {background.poll(run_id, runs_dir)}")

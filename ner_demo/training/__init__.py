"""Training: config, two engines (custom loop, HF Trainer), frozen-encoder mode, runs, checkpoints.

>>> from ner_demo.training import TrainConfig, train                        # doctest: +SKIP
>>> run = train(TrainConfig.from_file("training/conll2003_offline_minilm.yaml"))  # doctest: +SKIP
>>> run.read_status()["best"]["strict_f1"]                                 # doctest: +SKIP

Heavy imports (torch, transformers) happen when a run starts, not when this package is imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ner_demo.training.config import TrainConfig
from ner_demo.training.runs import Run, RunInfo, format_runs_table, list_runs

__all__ = ["Run", "RunInfo", "TrainConfig", "create_run", "format_runs_table", "list_runs", "resume", "train"]


def create_run(config: TrainConfig) -> Run:
    """A new run folder; under ``accelerate launch`` process 0 creates it and tells the others."""
    from ner_demo.training.common import distributed_state

    dist = distributed_state(config)
    path = str(Run.create(config).path) if dist.is_main_process else None
    if dist.num_processes > 1:
        from accelerate.utils import broadcast_object_list

        path = broadcast_object_list([path])[0]
    return Run(path)


def train(config: TrainConfig, callbacks: Sequence = (), run: Run | None = None) -> Run:
    """Train in this process (in every process, under ``accelerate launch``); returns the run."""
    from ner_demo.training.common import run_training

    run = run or create_run(config)
    run_training(run, resume=False, callbacks=callbacks)
    return run


def resume(run_id: str | Path, runs_dir: str | Path = "runs", callbacks: Sequence = ()) -> Run:
    """Continue a failed or cancelled run from its newest complete checkpoint, in this process."""
    from ner_demo.training.background import check_resumable
    from ner_demo.training.common import distributed_state, run_training

    run = Run.open(str(run_id), runs_dir)
    check_resumable(run)
    distributed_state(run.config()).wait_for_everyone()  # all have checked before process 0 says "running"
    run_training(run, resume=True, callbacks=callbacks)
    return run

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
    """A new run folder that holds the runs folder's one-run slot for this process (released when the run
    ends); under ``accelerate launch`` process 0 creates it and tells the others.

    Refused with RunBusyError, before any folder is made, while another run trains in the runs folder.
    """
    from ner_demo.training.background import create_claimed
    from ner_demo.training.common import distributed_state
    from ner_demo.training.limits import check_backbone_limits

    dist = distributed_state(config)
    if dist.is_main_process:
        check_backbone_limits(config)
    path = str(create_claimed(config).path) if dist.is_main_process else None
    if dist.num_processes > 1:
        from accelerate.utils import broadcast_object_list

        path = broadcast_object_list([path])[0]
    return Run(path)


def train(config: TrainConfig, callbacks: Sequence = (), run: Run | None = None) -> Run:
    """Train in this process (in every process, under ``accelerate launch``); returns the run."""
    from ner_demo.training.background import finish_background
    from ner_demo.training.common import distributed_state
    from ner_demo.training.lifecycle import run_training

    run = run or create_run(config)
    try:
        run_training(run, resume=False, callbacks=callbacks)
    finally:  # also on an error or Ctrl-C before training began: the slot never outlives the run
        if distributed_state(config).is_main_process:
            finish_background(run)
    return run


def resume(run_id: str | Path, runs_dir: str | Path = "runs", callbacks: Sequence = ()) -> Run:
    """Continue a failed or cancelled run from its newest complete checkpoint, in this process."""
    from ner_demo.training.background import check_resumable, claim_for_resume, finish_background
    from ner_demo.training.common import distributed_state
    from ner_demo.training.lifecycle import run_training

    run = Run.open(str(run_id), runs_dir)
    dist = distributed_state(run.config())
    if dist.is_main_process:
        claim_for_resume(run)  # the slot, as a background resume takes it; refused while another run trains
    else:
        check_resumable(run)
    dist.wait_for_everyone()  # all have checked before process 0 says "running"
    try:
        run_training(run, resume=True, callbacks=callbacks)
    finally:
        if dist.is_main_process:
            finish_background(run)
    return run

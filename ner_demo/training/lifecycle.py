"""A run's lifecycle: status "running", the chosen engine, then how it ended (finished, cancelled, failed).

The engines (custom loop, frozen encoder, HF Trainer) import their shared pieces from ``common``; this
module sits above all of them and dispatches, so no engine imports its dispatcher.
"""

from __future__ import annotations

import errno
import os
import time
import traceback
from typing import Sequence

from ner_demo.errors import NerDemoError
from ner_demo.training.background import end_run
from ner_demo.training.common import Cancelled, distributed_state
from ner_demo.training.preflight import zero_f1_hint
from ner_demo.training.runs import Run, without_paths


def run_training(run: Run, resume: bool = False, callbacks: Sequence = ()) -> dict:
    """Train ``run`` (its config.json) to the end; returns the final status.

    Exceptions are recorded in status.json before they propagate, so the app (or ``runs``) can show
    why a run failed. A cancel is not an error: the run is left resumable.
    """
    config = run.config()
    dist = distributed_state(config)
    main = dist.is_main_process
    if main:
        run.clear_cancel()
        # message=None: a resumed run must not keep saying "cancelled" (or anything else said before).
        run.write_status(state="running", pid=os.getpid(), started=time.strftime("%Y-%m-%dT%H:%M:%S"),
                         process_started_s=time.time(),  # Progress counts the set-up in the elapsed time
                         error=None, message=None, resumed=resume, processes=dist.num_processes,
                         phase="preparing the data and the model", skipped_checkpoints=[], hint=None)
    try:
        # deferred: each engine pulls in torch (the Trainer, transformers' training stack); only the chosen one loads
        if config.freeze_encoder and config.engine == "custom":
            from ner_demo.training.frozen import train_frozen as engine
        elif config.engine == "trainer":
            from ner_demo.training.trainer_engine import train_with_trainer as engine
        else:
            from ner_demo.training.loop import train_custom as engine
        summary = engine(run, config, resume=resume, callbacks=callbacks)
    except Cancelled:
        if main:
            run.clear_cancel()
            return end_run(run, state="cancelled", phase=None,
                           message="cancelled; Resume (or `python -m ner_demo resume`) continues from the last checkpoint")
        return run.read_status()
    except BaseException as exc:  # KeyboardInterrupt and SystemExit too: the status must not say "running"
        if main:
            end_run(run, state="failed", phase=None, error=describe_error(exc),
                    traceback=traceback.format_exc()[-4000:])
        raise
    if main:
        hint = zero_f1_hint({**run.read_status(), **summary, "state": "finished"})
        if hint:
            print(f"hint: {hint}", flush=True)
        return end_run(run, state="finished", phase=None, finished=time.strftime("%Y-%m-%dT%H:%M:%S"), hint=hint,
                       **summary)
    return run.read_status()


def describe_error(exc: BaseException) -> str:
    """One line for the user: what went wrong and, for out-of-memory, what to do (no server paths)."""
    return without_paths(_describe(exc))


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    if isinstance(exc, NerDemoError):
        return str(exc)
    if isinstance(exc, MemoryError) or "out of memory" in text.lower():
        return f"out of memory ({text[:300]}); lower batch_size or max_length, or use precision=bf16"
    # safetensors reports a full disk as SafetensorError("... No space left on device (os error 28)").
    if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or os.strerror(errno.ENOSPC) in text:
        return (f"the disk is full ({text[:300]}); free space where the run folder is (or use another "
                "--runs-dir), then resume: complete checkpoints are kept, half-written ones were removed")
    return text[:1000]

"""Run ``python -m ner_demo ...`` with a fault planted in it, for tests/test_training_faults.py.

    python tests/fault_hooks.py kill-in-checkpoint STEP -- train --run-dir RUN

``kill-in-checkpoint STEP``: while the checkpoint of step STEP is being written, after half of its
optimizer file is on disk, the process sends itself SIGKILL: the state a power cut or an OOM kill leaves.
The hook wraps ``safetensors.torch.save_file`` (what the checkpoint writer calls), so the code under
test is the shipped code, unchanged.

``hold-after-finish GATE``: after the run has recorded how it ended, the process waits until the file
GATE exists before its exit work (``finish_background``) runs: the slow exit of a loaded machine, made
as long as a test needs, so "finished, start the next run at once" is tried while the old process lives.
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
import time
from pathlib import Path


def kill_in_checkpoint(step: int) -> None:
    import safetensors.torch

    from ner_demo.training.checkpoints import TMP_PREFIX, checkpoint_name

    real = safetensors.torch.save_file
    target = TMP_PREFIX + checkpoint_name(step)

    def save_file(tensors, filename, metadata=None):
        real(tensors, filename, metadata)
        path = Path(filename)
        if path.parent.name == target and path.name == "optimizer.safetensors":
            with path.open("r+b") as fh:
                fh.truncate(path.stat().st_size // 2)
                fh.flush()
                os.fsync(fh.fileno())
            print(f"fault_hooks: SIGKILL while writing {path}", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    safetensors.torch.save_file = save_file


def hold_after_finish(gate: str) -> None:
    from ner_demo.training import background

    real = background.finish_background

    def finish_background(run):
        deadline = time.time() + 120  # a safety net: the test creates the gate as soon as it has checked
        while not Path(gate).exists() and time.time() < deadline:
            time.sleep(0.05)
        real(run)

    background.finish_background = finish_background


HOOKS = {"kill-in-checkpoint": lambda arg: kill_in_checkpoint(int(arg)), "hold-after-finish": hold_after_finish}

if __name__ == "__main__":
    hook, arg, sep, *rest = sys.argv[1:]
    assert sep == "--", "usage: fault_hooks.py HOOK ARG -- ner_demo arguments..."
    HOOKS[hook](arg)
    sys.argv = ["ner_demo", *rest]
    runpy.run_module("ner_demo", run_name="__main__", alter_sys=True)

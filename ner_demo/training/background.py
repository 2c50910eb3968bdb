"""Background runs for the app: each run trains in its own process.

A crash, an out-of-memory kill or a segfault ends that process only; the app keeps serving and learns
what happened from ``status.json`` (written by the run) or, when the process died without a word,
from its exit code (its watcher, below, records it as the failure reason). One run trains at a time per runs
folder, whether it trains here in the background or in the foreground (``python -m ner_demo train``):
the run holds the folder's slot (``.active.json``) from its creation until it ends. A second ``start``
is refused with a clear message, or queued with ``queue=True`` (``run_queue.py``: in the order of
joining) and started when the active run ends.
A run gives the slot back in the same locked step that records how it ended (``end_run``), so a client
that reads ``finished`` can start the next run at once.

Who starts the next queued run: each background trainer runs under a small watcher process
(``supervisor.py``) that waits for it to exit, records a death without a word (kill -9, OOM) with its
exit code, gives the slot back and launches the head of the queue. So the queue moves on whether or not
the app polls, and after a kill -9 of the trainer. The trainer itself starts the next run as it exits
(``finish_background``: foreground runs have no watcher), and so do ``poll``, ``start`` and the queue
listing, which notice a run whose watcher and trainer are both gone: a dead run never blocks the queue.

>>> run = start(TrainConfig.from_file("training/conll2003_offline_minilm.yaml"))      # doctest: +SKIP
>>> poll(run.id)["state"], poll(run.id).get("step")                      # doctest: +SKIP
('running', 12)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import ner_demo
from ner_demo.errors import NerDemoError
from ner_demo.training.config import TrainConfig
from ner_demo.training.limits import check_backbone_limits
from ner_demo.training.run_queue import queue_entries, queued_runs, take_number, waiting
from ner_demo.training.runs import ACTIVE_STATES, Run, list_runs, without_paths, write_json_atomic

# {run_id, pid}: the run that holds the slot, and its watcher's pid (a background run) or its own (foreground)
ACTIVE_FILE = ".active.json"
LOCK_FILE = ".lock"
CANCEL_MESSAGE = "cancel requested; the run stops at the next step and saves a checkpoint"
_children: dict[int, subprocess.Popen] = {}  # processes started here; a waiter thread reaps each (no zombies)


class RunBusyError(NerDemoError):
    """Another run is still training in this runs folder."""


@contextlib.contextmanager
def _locked(root: Path):
    """Serialise start/poll/next between the app and finishing runs (they may race)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_FILE, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def process_alive(pid: int | None) -> bool:
    if not pid:
        return False
    if pid in _children:  # its waiter thread sets returncode the moment it exits (and reaps it)
        return _children[pid].returncode is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped by its parent) is not alive
        with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _read_active(root: Path) -> dict | None:
    try:
        return json.loads((root / ACTIVE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def active_run(runs_dir: str | Path = "runs") -> Run | None:
    """The run whose process is training now, if any (records dead ones as failed on the way)."""
    root = Path(runs_dir)
    with _locked(root):
        return _active(root)


def _active(root: Path) -> Run | None:
    active = _read_active(root)
    if not active:
        return None
    run = Run(root / active["run_id"])
    if run.read_status().get("state") not in ACTIVE_STATES and run.status_path.exists():
        # It said how it ended (end_run releases first; this covers a slot file older than that).
        (root / ACTIVE_FILE).unlink(missing_ok=True)
        return None
    # The slot's pid is the watcher of a background run; the trainer (status pid) may outlive a killed watcher.
    trainer = run.read_status().get("pid")
    if process_alive(active.get("pid")) or process_alive(trainer):
        return run
    _record_death(run, trainer or active.get("pid"))
    (root / ACTIVE_FILE).unlink(missing_ok=True)
    return None


def _record_death(run: Run, pid: int | None, code: int | None = None) -> None:
    """A process that ended while its status still says running died without a word: say so.

    ``code``: its exit status, when the caller waited for it (the watcher); else it is known only for a
    process started here.
    """
    if not run.status_path.exists() or run.read_status().get("state") not in ACTIVE_STATES:
        return
    child = _children.pop(pid, None) if pid else None
    if code is None:
        code = child.returncode if child is not None else None
    if code is not None and code < 0:
        how = f"killed by signal {-code} ({signal.Signals(-code).name})"
        if -code == signal.SIGKILL:
            how += "; the system may have run out of memory"
    else:
        how = f"exit code {code}" if code is not None else "exit code unknown"
    tail = _log_tail(run)
    error = (f"the training process ended without reporting ({how}); Resume continues from its last checkpoint"
             + (f"; last output: {tail}" if tail else ""))
    # A SIGKILL between writing status.json's temp file and renaming it leaves the temp file behind.
    for dead in {pid, run.read_status().get("pid")} - {None}:
        if not process_alive(dead):
            run.remove_temp_files_of(dead)
    run.write_status(state="failed", error=error)


def _log_tail(run: Run, lines: int = 3) -> str:
    try:
        text = run.log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return without_paths(" | ".join(text[-lines:]))[-500:]


def _child_command(run: Run, resume: bool) -> list[str]:
    """The command of a background run's process (tests wrap it to plant faults)."""
    return [sys.executable, "-m", "ner_demo", "train", "--run-dir", str(run.path)] + (["--resume"] if resume else [])


def _watcher_command(run: Run, resume: bool) -> list[str]:
    """The watcher (``supervisor.py``) that runs the trainer's command and acts when it exits."""
    return [sys.executable, "-m", "ner_demo.training.supervisor", str(run.path), "--", *_child_command(run, resume)]


def _reap(child: subprocess.Popen) -> None:
    child.wait()  # sets returncode and reaps the process: a finished run leaves no <defunct> child


def _launch(run: Run, resume: bool) -> None:
    root = run.path.parent
    # Written before the child exists: once it runs, status.json is the child's alone (no lost updates).
    run.write_status(state="queued", launched=True, pid=None)  # a stale pid would look like a dead child
    cmd = _watcher_command(run, resume)
    env = dict(os.environ)
    package_root = str(Path(ner_demo.__file__).resolve().parent.parent)  # `-m ner_demo` must find this copy
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"  # log.txt fills as it goes
    with open(run.log_path, "ab") as log:
        child = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 env=env, start_new_session=True)
    _children[child.pid] = child
    threading.Thread(target=_reap, args=(child,), name=f"reap-{run.id}", daemon=True).start()
    write_json_atomic(root / ACTIVE_FILE, {"run_id": run.id, "pid": child.pid})


def busy_message(busy: Run) -> str:
    """What a user can do when the slot is taken."""
    return (f"run {busy.id} is still training (one run at a time per runs folder); wait for it to finish, or "
            f"cancel it (Cancel in the Train tab, or `python -m ner_demo cancel {busy.id}`), then start this one; "
            "or queue this one behind it (`python -m ner_demo train --queue`; Start in the Train tab queues)")


def _launch_next(root: Path) -> Run | None:
    """With the lock held and the slot free: launch the head of the queue, if any."""
    for run in queued_runs(root):
        status = run.read_status()
        if waiting(status):
            _launch(run, resume=bool(status.get("resume")))
            return run
    return None


def _free_slot_or_next(root: Path) -> Run | None:
    """With the lock held: the run that holds the slot; when it is free and runs wait, the head of the
    queue is launched first (a new start never jumps the queue), and that one is returned."""
    busy = _active(root)
    if busy is None:
        busy = _launch_next(root)
    return busy


def create_claimed(config: TrainConfig, runs_dir: str | Path | None = None, pid: int | None = None) -> Run:
    """A new run that holds the slot for a process training it here, in the foreground (``pid``: this one).

    Refused (RunBusyError, and no run folder is made) while another run trains in the folder.
    """
    root = Path(runs_dir or config.runs_dir)
    with _locked(root):
        busy = _free_slot_or_next(root)
        if busy is not None:
            raise RunBusyError(busy_message(busy))
        run = Run.create(config, root)
        # launched: started by its own process, not waiting in the queue (nothing else may launch or dequeue it)
        run.write_status(launched=True, pid=pid or os.getpid())
        write_json_atomic(root / ACTIVE_FILE, {"run_id": run.id, "pid": pid or os.getpid()})
    return run


def claim_for_resume(run: Run, pid: int | None = None) -> None:
    """Take the slot to resume ``run`` in this process (the foreground ``resume``)."""
    root = run.path.parent
    with _locked(root):
        check_resumable(run)
        busy = _active(root)
        if busy is not None and busy.id != run.id:
            raise RunBusyError(busy_message(busy))
        run.write_status(state="queued", resume=True, launched=True, pid=pid or os.getpid(), error=None, message=None)
        write_json_atomic(root / ACTIVE_FILE, {"run_id": run.id, "pid": pid or os.getpid()})


def end_run(run: Run, **fields) -> dict:
    """The run's last status write (finished / failed / cancelled), with its slot given back first.

    Both under the lock: whoever reads the final state finds the slot free, so "finished, start the
    next one" is never refused (it was, under load, when the slot went only after the status).
    """
    root = run.path.parent
    with _locked(root):
        _release(root, run)
        return run.write_status(**fields)


def _release(root: Path, run: Run) -> None:
    active = _read_active(root)
    if active and active.get("run_id") == run.id:
        (root / ACTIVE_FILE).unlink(missing_ok=True)


def start(config: TrainConfig, runs_dir: str | Path | None = None, queue: bool = False,
          tags: dict | None = None) -> Run:
    """Create a run and train it in a new process; returns at once (status: queued, then running).

    While another run trains: refused (RunBusyError), or with ``queue=True`` put at the end of the
    queue. ``tags``: extra status fields written before anything can start it (a learning curve's id).
    """
    check_backbone_limits(config)  # a ConfigError now, not a failed run after launch
    root = Path(runs_dir or config.runs_dir)
    with _locked(root):
        busy = _free_slot_or_next(root)
        if busy is not None and not queue:
            raise RunBusyError(busy_message(busy))
        run = Run.create(config, root)
        if tags:
            run.write_status(**tags)
        if busy is None:
            _launch(run, resume=False)
        else:
            run.write_status(**take_number(root))
    return run


def resume_in_background(run_id: str, runs_dir: str | Path = "runs", queue: bool = False) -> Run:
    """Resume a failed or cancelled run in a new process from its newest complete checkpoint."""
    root = Path(runs_dir)
    run = Run.open(run_id, root)
    root = run.path.parent
    with _locked(root):
        check_resumable(run)
        busy = _free_slot_or_next(root)
        if busy is not None and busy.id == run.id:
            raise RunBusyError(f"run {run.id} is starting already")
        if busy is not None and not queue:
            raise RunBusyError(busy_message(busy))
        run.write_status(state="queued", resume=True, launched=False, error=None, message=None)
        if busy is None:
            _launch(run, resume=True)
        else:
            run.write_status(**take_number(root))
    return run


def check_resumable(run: Run) -> None:
    status = run.read_status()
    if status.get("state") == "finished":
        raise NerDemoError(f"run {run.id} has finished; start a new run to train again")
    if status.get("state") == "running" and process_alive(status.get("pid")):
        raise RunBusyError(f"run {run.id} is still training; wait for it to finish, or cancel it first")


def start_next_queued(runs_dir: str | Path = "runs") -> Run | None:
    """Launch the oldest queued run if nothing is training (called when a run ends, and by poll)."""
    root = Path(runs_dir)
    with _locked(root):
        if _active(root) is not None:
            return None
        return _launch_next(root)


def queue(runs_dir: str | Path = "runs") -> tuple[Run | None, list]:
    """(the run training now, the waiting runs in order as ``QueueEntry``s), after the checks ``poll``
    makes: a dead active run is recorded as failed and the next one launched, so the listing is current."""
    root = Path(runs_dir)
    with _locked(root):
        busy = _free_slot_or_next(root)
        return busy, queue_entries(root)


def after_exit(run: Run, pid: int, code: int) -> None:
    """The watcher's work when its trainer (``pid``) has exited with ``code``: a run that did not say how
    it ended is recorded as failed with that code, the slot is given back and the next queued run starts."""
    root = run.path.parent
    with _locked(root):
        _record_death(run, pid, code)
        _release(root, run)
    start_next_queued(root)


def poll(run_id: str, runs_dir: str | Path = "runs") -> dict:
    """The run's status.json (progress, dev metrics, error); also notices dead processes and the queue."""
    run = Run.open(run_id, runs_dir)
    root = run.path.parent
    status = run.read_status()
    if status.get("state") in ACTIVE_STATES:
        with _locked(root):
            active = _read_active(root) or {}
            _active(root)  # records the active run as failed if its process died
            # The child writes its pid when it starts; until then the launcher's record has it.
            watcher = active.get("pid") if active.get("run_id") == run.id else None
            pid = status.get("pid") or watcher
            started = status.get("state") == "running" or status.get("launched")
            # A live watcher records its trainer's death itself, with the exit code this process cannot know.
            if started and not process_alive(pid) and not process_alive(watcher):
                _record_death(run, pid)
        start_next_queued(root)
        status = run.read_status()
    if status.get("state") in ACTIVE_STATES and run.cancel_requested():
        status.update(cancel_requested=True, message=CANCEL_MESSAGE)
    elif waiting(status):
        status.update(message=_queue_message(root, run.id))
    return status


def _queue_message(root: Path, run_id: str) -> str:
    active = _read_active(root) or {}
    entries = queue_entries(root)
    place = next((e.position for e in entries if e.run_id == run_id), None)
    behind = f"; it starts when run {active['run_id']} ends" if active.get("run_id") else ""
    return (f"waiting in the queue: position {place} of {len(entries)}{behind}" if place
            else "waiting in the queue")


def cancel(run_id: str, runs_dir: str | Path = "runs") -> dict:
    """Stop a run at its next step boundary (it saves a checkpoint; ``resume`` continues it).

    A queued run that has not started is simply marked cancelled.
    """
    run = Run.open(run_id, runs_dir)
    with contextlib.suppress(NerDemoError):  # under the lock: not launched meanwhile by a run that ends now
        return cancel_queued(run_id, runs_dir)
    status = run.read_status()
    state = status.get("state")
    if state not in ACTIVE_STATES:
        then = " (Resume continues it)" if state in ("failed", "cancelled") else ""
        raise NerDemoError(f"run {run.id} is {state}, not training: there is nothing to cancel{then}")
    run.request_cancel()  # the flag file, not status.json: that belongs to the training process while it runs
    return {**status, "cancel_requested": True, "message": CANCEL_MESSAGE}


def cancel_queued(run_id: str, runs_dir: str | Path = "runs") -> dict:
    """Take a waiting run out of the queue (state cancelled); refused for a run that is not waiting."""
    run = Run.open(run_id, runs_dir)
    with _locked(run.path.parent):
        status = run.read_status()
        if not waiting(status):
            state = status.get("state")
            what = "it has started: use cancel to stop it" if state in ACTIVE_STATES else f"it is {state}"
            raise NerDemoError(f"run {run.id} is not in the queue ({what})")
        return run.write_status(state="cancelled", message="cancelled before it started (removed from the queue)",
                                queue_seq=None)


def finish_background(run: Run) -> None:
    """Called by the run's own process as it exits (background or foreground): make sure the slot is
    free (``end_run`` gave it back already unless the process failed before training began) and start
    the next queued run."""
    root = run.path.parent
    with _locked(root):
        _release(root, run)
    start_next_queued(root)


def checked_runs(runs_dir: str | Path = "runs") -> list:
    """``list_runs``, after recording as failed every run that says it trains but whose process is dead
    (the check ``poll`` makes): a kill -9'd run is listed as failed, not running for ever."""
    root = Path(runs_dir)
    for info in list_runs(root):
        if info.state in ACTIVE_STATES:
            poll(info.run_id, root)
    return list_runs(root)

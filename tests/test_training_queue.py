"""The training queue (API level): order, cancel a queued run, the next run starts when the active one
ends (with nobody polling), and a dead active run does not block it.

The trainers here are stand-ins without torch (tests/queue_fakes.py) under the shipped watcher
(``ner_demo.training.supervisor``), so each test takes a second or two; tests/test_training_background.py
queues real tiny trainings.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest
import queue_fakes
from training_support import DEV, PYTHON, REPO, TRAIN, subprocess_env

from ner_demo.errors import NerDemoError
from ner_demo.training import Run, background
from ner_demo.training.config import TrainConfig
from ner_demo.training.run_queue import queue_entries

DEADLINE_S = 60.0  # a safety net only: every wait below is for a state


@pytest.fixture(autouse=True)
def fake_trainers(monkeypatch):
    monkeypatch.setattr(background, "_watcher_command", queue_fakes.watcher_command)


def _config(runs, name: str) -> TrainConfig:
    return TrainConfig(name=name, backbone="offline-minilm", train_file=str(TRAIN), dev_file=str(DEV), runs_dir=str(runs))


def _hold_slot(runs) -> subprocess.Popen:
    """A live process that holds the runs folder's slot, as a foreground ``train`` does: nothing else starts."""
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    run = background.create_claimed(_config(runs, "holder"), runs, pid=holder.pid)
    run.write_status(state="running", pid=holder.pid)
    return holder


def _release_slot(runs, holder: subprocess.Popen) -> None:
    """The holder ends as a run ends (``end_run``, then the exit work that starts the next run)."""
    (active,) = [Run(r.path) for r in background.list_runs(runs) if r.run_id.endswith("-holder")]
    background.end_run(active, state="finished")
    holder.kill()
    holder.wait()
    background.finish_background(active)


def _wait_states(runs, states_by_id: dict) -> None:
    """Read status.json files directly (no ``poll``: that would start queued runs itself)."""
    deadline = time.time() + DEADLINE_S
    while True:
        now = {run_id: Run(runs / run_id).read_status().get("state") for run_id in states_by_id}
        if now == states_by_id:
            return
        assert time.time() < deadline, now
        time.sleep(0.05)


def _order(runs) -> list[str]:
    path = runs / "order.txt"
    return path.read_text(encoding="utf-8").split() if path.exists() else []


def test_the_queue_keeps_the_order_of_joining_not_of_folder_names(tmp_path):
    runs = tmp_path / "runs"
    holder = _hold_slot(runs)
    try:
        queued = [background.start(_config(runs, name), runs, queue=True) for name in ("zz", "aa", "mm")]
        entries = queue_entries(runs)
    finally:
        holder.kill()
        holder.wait()
    assert [(e.position, e.run_id, e.name) for e in entries] == [(1, queued[0].id, "zz"), (2, queued[1].id, "aa"),
                                                                  (3, queued[2].id, "mm")]
    assert all(not r.read_status().get("launched") for r in queued)


def test_a_start_without_queue_is_refused_while_a_run_trains_and_makes_no_folder(tmp_path):
    runs = tmp_path / "runs"
    holder = _hold_slot(runs)
    try:
        with pytest.raises(background.RunBusyError, match=r"or queue this one behind it \(`python -m ner_demo train "
                                                          r"--queue`; Start in the Train tab queues\)"):
            background.start(_config(runs, "refused"), runs)
    finally:
        holder.kill()
        holder.wait()
    assert [r.run_id.rsplit("-", 1)[1] for r in background.list_runs(runs)] == ["holder"]


def test_clients_queueing_at_once_get_distinct_places_in_one_order(tmp_path):
    runs = tmp_path / "runs"
    holder = _hold_slot(runs)
    barrier = threading.Barrier(8)
    made: list = [None] * 8

    def join(i: int) -> None:
        barrier.wait()
        made[i] = background.start(_config(runs, f"c{i}"), runs, queue=True)

    try:
        threads = [threading.Thread(target=join, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(DEADLINE_S)
        entries = queue_entries(runs)
    finally:
        holder.kill()
        holder.wait()
    seqs = {r.id: r.read_status()["queue_seq"] for r in made}
    assert sorted(seqs.values()) == list(range(1, 9))  # one number each, none twice
    assert [e.run_id for e in entries] == sorted(seqs, key=seqs.get)
    assert [e.position for e in entries] == list(range(1, 9))


def test_a_cancelled_queued_run_leaves_the_queue_and_never_starts(tmp_path):
    runs = tmp_path / "runs"
    holder = _hold_slot(runs)
    first, second = (background.start(_config(runs, name), runs, queue=True) for name in ("first", "second"))
    status = background.cancel_queued(first.id, runs)
    assert status["state"] == "cancelled" and status["message"] == "cancelled before it started (removed from the queue)"
    assert [e.run_id for e in queue_entries(runs)] == [second.id]
    _release_slot(runs, holder)
    _wait_states(runs, {first.id: "cancelled", second.id: "finished"})
    assert _order(runs) == [second.id]


def test_cancel_queued_refuses_a_run_that_is_not_waiting(tmp_path):
    runs = tmp_path / "runs"
    run = background.start(_config(runs, "done"), runs, queue=True)  # nothing trains: it starts at once
    _wait_states(runs, {run.id: "finished"})
    with pytest.raises(NerDemoError, match=rf"^run {run.id} is not in the queue \(it is finished\)$"):
        background.cancel_queued(run.id, runs)


def test_the_next_run_starts_when_the_active_one_ends_with_nobody_polling(tmp_path):
    runs = tmp_path / "runs"
    active = background.start(_config(runs, "hold-a"), runs)
    queued = [background.start(_config(runs, name), runs, queue=True) for name in ("b", "c")]
    assert [e.run_id for e in queue_entries(runs)] == [r.id for r in queued]
    (runs / "release").touch()
    _wait_states(runs, {active.id: "finished", queued[0].id: "finished", queued[1].id: "finished"})
    assert _order(runs) == [active.id, queued[0].id, queued[1].id]
    assert not (runs / background.ACTIVE_FILE).exists()


def test_a_kill_9d_trainer_is_recorded_and_the_queue_moves_on_with_nobody_polling(tmp_path):
    runs = tmp_path / "runs"
    doomed = background.start(_config(runs, "hold-kill"), runs)
    after = background.start(_config(runs, "after"), runs, queue=True)
    (runs / "release").touch()
    _wait_states(runs, {doomed.id: "failed", after.id: "finished"})
    error = doomed.read_status()["error"]
    assert error.startswith("the training process ended without reporting (killed by signal 9 (SIGKILL); "
                            "the system may have run out of memory)")
    assert _order(runs) == [doomed.id, after.id]


def test_a_trainer_that_exits_without_a_word_is_recorded_with_its_exit_code(tmp_path):
    runs = tmp_path / "runs"
    run = background.start(_config(runs, "fail"), runs)
    _wait_states(runs, {run.id: "failed"})
    assert run.read_status()["error"].startswith("the training process ended without reporting (exit code 3)")


def test_a_dead_active_run_whose_watcher_died_too_does_not_block_the_queue(tmp_path):
    runs = tmp_path / "runs"
    holder = _hold_slot(runs)
    waiting = background.start(_config(runs, "waiting"), runs, queue=True)
    holder.kill()  # a kill -9 of a run nobody watches: no one is told
    holder.wait()
    assert waiting.read_status()["state"] == "queued"
    active, entries = background.queue(runs)  # the next look at the queue notices, and moves it on
    assert active is not None and active.id == waiting.id and entries == []
    (dead,) = [r for r in background.list_runs(runs) if r.run_id.endswith("-holder")]
    assert dead.state == "failed" and dead.error.startswith("the training process ended without reporting")
    _wait_states(runs, {waiting.id: "finished"})


def test_poll_of_a_queued_run_says_its_place_and_what_it_waits_for(tmp_path):
    runs = tmp_path / "runs"
    holder = _hold_slot(runs)
    try:
        first, second = (background.start(_config(runs, name), runs, queue=True) for name in ("one", "two"))
        message = background.poll(second.id, runs)["message"]
    finally:
        holder.kill()
        holder.wait()
    (held,) = [r.run_id for r in background.list_runs(runs) if r.run_id.endswith("-holder")]
    assert message == f"waiting in the queue: position 2 of 2; it starts when run {held} ends"


# ---- the CLI ---------------------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "ner_demo", *args], cwd=REPO, env=subprocess_env(), capture_output=True,
                          text=True, timeout=120)


def test_cli_train_queue_lists_it_and_queue_cancel_takes_it_out(tmp_path):
    runs = tmp_path / "runs"
    holder = _hold_slot(runs)
    try:
        done = _cli("train", "--queue", "--set", "name=later", "--set", "backbone=offline-minilm",
                    "--set", f"runs_dir={runs}")
        assert done.returncode == 0, done.stderr[-2000:]
        (later,) = [r.run_id for r in background.list_runs(runs) if r.run_id.endswith("-later")]
        assert done.stdout.strip() == (f"queued run {later}: it starts when the runs before it have ended; "
                                       "see `python -m ner_demo queue`")
        listed = json.loads(_cli("queue", "--runs-dir", str(runs), "--json").stdout)
        assert [(e["position"], e["run_id"], e["name"]) for e in listed["queue"]] == [(1, later, "later")]
        assert listed["active"].endswith("-holder")
        table = _cli("queue", "--runs-dir", str(runs)).stdout
        assert table.splitlines()[0] == f"training now: {listed['active']}" and later in table
        cancelled = _cli("queue", "--runs-dir", str(runs), "--cancel", later)
        assert cancelled.returncode == 0, cancelled.stderr[-2000:]
        assert cancelled.stdout.strip() == f"run {later}: cancelled before it started (removed from the queue)"
        again = _cli("queue", "--runs-dir", str(runs), "--cancel", later)
        assert again.returncode == 1 and again.stderr.strip() == f"error: run {later} is not in the queue (it is cancelled)"
        assert _cli("queue", "--runs-dir", str(runs)).stdout.splitlines()[1] == "the queue is empty"
    finally:
        holder.kill()
        holder.wait()


def test_a_foreground_run_being_set_up_is_not_in_the_queue(tmp_path):
    runs = tmp_path / "runs"
    run = background.create_claimed(_config(runs, "fg"), runs)  # this process trains it; not yet "running"
    assert run.read_status()["state"] == "queued" and queue_entries(runs) == []
    with pytest.raises(NerDemoError, match=rf"^run {run.id} is not in the queue \(it has started: use cancel to stop it\)$"):
        background.cancel_queued(run.id, runs)

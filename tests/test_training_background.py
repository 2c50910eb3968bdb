"""Runs in their own processes: the CLI, background runs, kill -9 then resume, one run at a time, DDP.

Each child process pays for importing torch and transformers (a few seconds), so these tests are few.
Deselect the DDP test with ``-k "not ddp"`` if it is too slow on a machine (about 20 s here).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import torch
from training_support import PYTHON, REPO, build_model, subprocess_env, tiny_config, wait_for_state

from ner_demo.errors import ConfigError
from ner_demo.training import Run, background, list_runs, train
from ner_demo.training.background import RunBusyError
from ner_demo.training.callbacks import CRASH_ENV

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return build_model(tmp_path_factory.mktemp("tiny") / "model")


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "ner_demo", *args], cwd=REPO, env=subprocess_env(),
                          capture_output=True, text=True, timeout=timeout)


def _sets(config) -> list[str]:
    out = []
    for key, value in config.to_dict().items():
        out += ["--set", f"{key}={'none' if value is None else value}"]
    return out


def _wait(run_id: str, runs_dir, states: set[str], timeout: float = 90) -> dict:
    return wait_for_state(run_id, runs_dir, states, timeout, interval=0.2)


def test_cli_train_then_runs_table_and_json(model_dir, tmp_path):
    config = tiny_config(model_dir, tmp_path / "runs", epochs=2)
    done = _cli("train", *_sets(config))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "finished; best dev strict F1" in done.stdout
    listed = _cli("runs", "--runs-dir", str(tmp_path / "runs"), "--json")
    runs = json.loads(listed.stdout)
    assert [(r["state"], r["step"], r["total_steps"]) for r in runs] == [("finished", 10, 10)]
    table = _cli("runs", "--runs-dir", str(tmp_path / "runs")).stdout
    assert runs[0]["run_id"] in table and "finished" in table and "BEST DEV F1" in table


def test_cli_reports_config_errors_in_one_line(tmp_path):
    done = _cli("train", "--set", "epochs=0", "--set", f"runs_dir={tmp_path}")
    assert done.returncode == 1
    assert done.stderr.strip() == "error: epochs=0: must be at least 1"


def test_kill_9_mid_epoch_then_resume_finishes(model_dir, tmp_path, monkeypatch):
    config = tiny_config(model_dir, tmp_path / "runs")
    reference = train(tiny_config(model_dir, tmp_path / "reference"))
    monkeypatch.setenv(CRASH_ENV, "8:kill")  # the child SIGKILLs itself after step 8 (mid-epoch 2)
    run = background.start(config)
    monkeypatch.delenv(CRASH_ENV)
    status = _wait(run.id, config.runs_dir, {"failed", "finished"})
    assert status["state"] == "failed" and "killed by signal 9" in status["error"]
    background.resume_in_background(run.id, config.runs_dir)
    status = _wait(run.id, config.runs_dir, {"finished", "failed"})
    assert status["state"] == "finished", status
    assert status["step"] == reference.read_status()["step"]
    assert [r["strict_f1"] for r in run.metrics("eval")] == [r["strict_f1"] for r in reference.metrics("eval")]


def test_a_dead_process_temp_status_file_is_removed_when_its_death_is_recorded(tmp_path):
    from ner_demo.training.config import TrainConfig

    run = Run.create(TrainConfig(name="r", backbone="offline-minilm"), tmp_path / "runs")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run.write_status(state="running", pid=dead.pid)
    torn = run.path / f".status.json.{dead.pid}.tmp"
    torn.write_text('{"state": "runn', encoding="utf-8")  # killed mid-write: never renamed
    other = run.path / f".status.json.{os.getppid()}.tmp"  # a live process's: left alone
    other.write_text("{}", encoding="utf-8")
    (tmp_path / "runs" / background.ACTIVE_FILE).write_text(json.dumps({"run_id": run.id, "pid": dead.pid}))
    assert background.active_run(tmp_path / "runs") is None
    assert run.read_status()["state"] == "failed" and not torn.exists() and other.exists()


def test_one_run_at_a_time_second_refused_or_queued(model_dir, tmp_path):
    config = tiny_config(model_dir, tmp_path / "runs", epochs=2)
    first = background.start(config)
    with pytest.raises(RunBusyError, match=f"run {first.id} is still training"):
        background.start(config)
    queued = background.start(config, queue=True)
    assert queued.read_status()["state"] == "queued"
    assert _wait(first.id, config.runs_dir, {"finished", "failed"})["state"] == "finished"
    assert _wait(queued.id, config.runs_dir, {"finished", "failed"})["state"] == "finished"
    assert not (tmp_path / "runs" / background.ACTIVE_FILE).exists()  # the slot is free again


def test_cli_cancel_background_run_then_resume(model_dir, tmp_path):
    config = tiny_config(model_dir, tmp_path / "runs", epochs=20, checkpoint_every=0)
    run = background.start(config)
    deadline = time.time() + 60
    while run.read_status().get("step", 0) < 1 and time.time() < deadline:
        time.sleep(0.1)
    done = _cli("cancel", run.id, "--runs-dir", str(config.runs_dir))
    assert done.returncode == 0 and "cancel requested" in done.stdout
    status = _wait(run.id, config.runs_dir, {"cancelled", "finished", "failed"})
    assert status["state"] == "cancelled" and status["step"] < 100
    done = _cli("resume", run.id, "--runs-dir", str(config.runs_dir))
    assert done.returncode == 0, done.stderr[-2000:]
    status = Run(run.path).read_status()
    assert status["state"] == "finished" and status["step"] == 100


def test_ddp_two_cpu_processes(model_dir, tmp_path):
    config = tiny_config(model_dir, tmp_path / "runs", batch_size=2, epochs=3)
    with socket.socket() as probe:  # a free local port for the rendezvous: parallel runs must not collide
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    cmd = [PYTHON, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
           "--main_process_port", port, "--mixed_precision", "no", "--dynamo_backend", "no",
           "-m", "ner_demo", "train", *_sets(config)]
    done = subprocess.run(cmd, cwd=REPO, env=subprocess_env(), capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    (path,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]  # beside .lock, the slot's lock file
    status = Run(path).read_status()
    assert status["state"] == "finished" and status["processes"] == 2
    assert status["total_steps"] == 15  # 10 batches of 2 per epoch, shared by 2 processes
    latest = sorted((path / "checkpoints").iterdir())[-1]
    assert {"rng-0.json", "rng-1.json"} <= {p.name for p in latest.iterdir()}  # each process's dropout stream
    assert (path / "best" / "model.safetensors").is_file()


# ---- the one-run slot, reaping, listing -------------------------------------------------------------


def _held_children(monkeypatch, gate) -> None:
    """Background runs launched through fault_hooks.py: each waits for ``gate`` after it has finished."""
    real = background._child_command
    hook = [PYTHON, str(REPO / "tests" / "fault_hooks.py"), "hold-after-finish", str(gate), "--"]
    monkeypatch.setattr(background, "_child_command", lambda run, resume: hook + real(run, resume)[3:])


def test_a_client_that_sees_finished_starts_the_next_run_at_once(model_dir, tmp_path, monkeypatch):
    gate = tmp_path / "gate"
    _held_children(monkeypatch, gate)
    config = tiny_config(model_dir, tmp_path / "runs", epochs=1)
    first = background.start(config)
    assert _wait(first.id, config.runs_dir, {"finished", "failed"})["state"] == "finished"
    assert background.process_alive(first.read_status()["pid"])  # held at its exit: the race, made certain
    try:
        second = background.start(config)  # the first process still lives (held): its slot must be free
    finally:
        gate.touch()
    assert _wait(second.id, config.runs_dir, {"finished", "failed"})["state"] == "finished"


def _zombie_children() -> list[int]:
    """Pids of this process's children that exited and were never reaped (State Z, ``<defunct>``)."""
    found = []
    for status in os.scandir("/proc"):
        if not status.name.isdigit():
            continue
        try:
            fields = dict(line.split(":\t", 1) for line in open(f"/proc/{status.name}/status").read().splitlines()
                          if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(os.getpid()) and fields.get("State", "").startswith("Z"):
            found.append(int(status.name))
    return found


def test_a_finished_background_run_leaves_no_defunct_child(model_dir, tmp_path):
    config = tiny_config(model_dir, tmp_path / "runs", epochs=1)
    run = background.start(config)
    pid = background._read_active(tmp_path / "runs")["pid"]
    assert _wait(run.id, config.runs_dir, {"finished", "failed"})["state"] == "finished"
    deadline = time.time() + 60  # the child exits shortly after it says finished; then it must be gone
    while (os.path.exists(f"/proc/{pid}") or _zombie_children()) and time.time() < deadline:
        time.sleep(0.05)
    assert _zombie_children() == [] and not os.path.exists(f"/proc/{pid}")


def test_runs_lists_a_kill_9d_run_as_failed_not_running(model_dir, tmp_path):
    config = tiny_config(model_dir, tmp_path / "runs", epochs=200, checkpoint_every=0)
    run = background.start(config)
    deadline = time.time() + 90
    while run.read_status().get("state") != "running" or not run.read_status().get("step"):
        assert time.time() < deadline, run.read_status()
        time.sleep(0.05)
    pid = run.read_status()["pid"]
    watcher = background._read_active(tmp_path / "runs")["pid"]
    os.kill(watcher, signal.SIGKILL)  # first its watcher (which would record the death at once), then the run
    os.kill(pid, signal.SIGKILL)
    while background.process_alive(pid) or background.process_alive(watcher):
        assert time.time() < deadline
        time.sleep(0.05)
    assert run.read_status()["state"] == "running"  # nobody has looked yet: the file still says so
    listed = _cli("runs", "--runs-dir", str(config.runs_dir), "--json")
    assert listed.returncode == 0, listed.stderr[-2000:]
    (info,) = json.loads(listed.stdout)
    assert info["state"] == "failed" and info["error"].startswith("the training process ended without reporting")
    assert run.read_status()["state"] == "failed"  # recorded, as poll records it
    assert not (tmp_path / "runs" / background.ACTIVE_FILE).exists()


def _foreground(config, *extra: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([PYTHON, "-m", "ner_demo", "train", *_sets(config), *extra], cwd=REPO,
                            env=env or subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_running(runs_dir, timeout: float = 90) -> Run:
    deadline = time.time() + timeout
    while True:
        runs = [Run(r.path) for r in list_runs(runs_dir)]
        if runs and runs[0].read_status().get("state") == "running":
            return runs[0]
        assert time.time() < deadline, [r.read_status() for r in runs]
        time.sleep(0.05)


def test_a_background_start_is_refused_while_a_foreground_train_runs(model_dir, tmp_path):
    config = tiny_config(model_dir, tmp_path / "runs", epochs=200, checkpoint_every=0)
    child = _foreground(config)
    try:
        run = _wait_running(config.runs_dir)
        with pytest.raises(RunBusyError, match=f"run {run.id} is still training .*wait for it to finish, or cancel it"):
            background.start(config)
        assert [r.run_id for r in list_runs(config.runs_dir)] == [run.id]  # the refused start made no folder
        background.cancel(run.id, config.runs_dir)
        out, err = child.communicate(timeout=120)
    finally:
        child.kill()
    assert child.returncode == 0, err[-2000:]
    assert run.read_status()["state"] == "cancelled"
    assert not (tmp_path / "runs" / background.ACTIVE_FILE).exists()  # given back at the end
    queued_after = background.start(tiny_config(model_dir, tmp_path / "runs", epochs=1))
    assert _wait(queued_after.id, config.runs_dir, {"finished", "failed"})["state"] == "finished"


def test_a_foreground_train_is_refused_while_a_background_run_trains(model_dir, tmp_path):
    config = tiny_config(model_dir, tmp_path / "runs", epochs=200, checkpoint_every=0)
    run = background.start(config)
    try:
        _wait_running(config.runs_dir)
        done = _cli("train", *_sets(config))
    finally:
        background.cancel(run.id, config.runs_dir)
    assert done.returncode == 1
    assert done.stderr.strip().startswith(f"error: run {run.id} is still training")
    assert "cancel it (Cancel in the Train tab, or `python -m ner_demo cancel" in done.stderr
    assert [r.run_id for r in list_runs(config.runs_dir)] == [run.id]
    assert _wait(run.id, config.runs_dir, {"cancelled", "finished", "failed"})["state"] == "cancelled"


def test_ctrl_c_on_a_foreground_train_cancels_it_and_gives_the_slot_back(model_dir, tmp_path):
    config = tiny_config(model_dir, tmp_path / "runs", epochs=200, checkpoint_every=0)
    child = _foreground(config)
    try:
        run = _wait_running(config.runs_dir)
        child.send_signal(signal.SIGINT)  # one Ctrl-C: stop at the next step, resumable
        _, err = child.communicate(timeout=120)
    finally:
        child.kill()
    assert child.returncode == 0, err[-2000:]
    assert run.read_status()["state"] == "cancelled"
    assert not (tmp_path / "runs" / background.ACTIVE_FILE).exists()


def test_a_foreground_run_that_crashes_gives_the_slot_back(model_dir, tmp_path):
    config = tiny_config(model_dir, tmp_path / "runs", epochs=2)
    env = {**subprocess_env(), CRASH_ENV: "3"}
    child = _foreground(config, env=env)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 1, err[-2000:]
    (info,) = list_runs(config.runs_dir)
    assert info.state == "failed" and info.error == "RuntimeError: simulated crash after step 3"
    assert not (tmp_path / "runs" / background.ACTIVE_FILE).exists()


def test_max_length_over_the_backbone_positions_is_refused_before_any_run_folder(model_dir, tmp_path):
    config = tiny_config(model_dir, tmp_path / "runs", max_length=5000)
    with pytest.raises(ConfigError, match="max_length=5000: the backbone .* reads at most 128 positions; set "
                                          "max_length to 128 or less"):
        background.start(config)
    done = _cli("train", *_sets(config))
    assert done.returncode == 1 and "error: max_length=5000: the backbone" in done.stderr
    assert list_runs(tmp_path / "runs") == []


@pytest.mark.parametrize("command", ["cancel", "resume"])
def test_cli_names_the_known_runs_for_an_unknown_run_id(tmp_path, command):
    from ner_demo.training.config import TrainConfig

    run = Run.create(TrainConfig(name="r", backbone="offline-minilm"), tmp_path / "runs")
    done = _cli(command, "nosuchrun", "--runs-dir", str(tmp_path / "runs"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (f"error: no run 'nosuchrun' in {tmp_path / 'runs'}/ (recent runs: {run.id}); "
                                   "see `python -m ner_demo runs`")

"""Faults during training: kill -9 mid-epoch and mid-checkpoint-write, a full disk, a nan loss, and two
runs started at once. Each run is a tiny model on the tiny fixture corpus, so each test takes seconds.

What must hold: a run either resumes and finishes with no finished epoch lost (its dev scores equal an
uninterrupted run's), or is marked failed with its reason in status.json; a half-written checkpoint is
never loaded; nothing on disk is left corrupt; the app keeps answering; the run registry stays consistent.
"""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import torch
from training_support import PYTHON, REPO, build_model, subprocess_env, tiny_config, wait_for_state

from ner_demo.errors import TrainingDivergedError
from ner_demo.training import Run, background, list_runs, train
from ner_demo.training.background import RunBusyError
from ner_demo.training.callbacks import CrashAt
from ner_demo.training.checkpoints import MARKER, TMP_PREFIX, complete_checkpoints, is_complete, latest_complete

torch.set_num_threads(1)

STEPS_PER_EPOCH = 20  # batch_size=1 over the 20 fixture sentences


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return build_model(tmp_path_factory.mktemp("tiny") / "model")


def faulty_config(model_dir: Path, runs_dir: Path, **changes):
    """4 epochs of 20 one-sentence steps; status written every step, so a test can see where it is."""
    values = dict(batch_size=1, epochs=4, log_every=1, checkpoint_every=0, keep_checkpoints=3)
    values.update(changes)
    return tiny_config(model_dir, runs_dir, **values)


@pytest.fixture(scope="module")
def reference(model_dir, tmp_path_factory) -> list[float]:
    """Dev strict F1 per epoch of the same run, never interrupted."""
    run = train(faulty_config(model_dir, tmp_path_factory.mktemp("reference") / "runs"))
    return [r["strict_f1"] for r in run.metrics("eval")]


def _wait(run_id: str, runs_dir, states: set[str], timeout: float = 120) -> dict:
    return wait_for_state(run_id, runs_dir, states, timeout, interval=0.05)


def _resumed_from(run: Run) -> tuple[int, int]:
    """(step, epoch) the last resume started from, as the run's log says."""
    found = re.findall(r"resumed from step-\d+: step (\d+), epoch (\d+)", run.log_path.read_text(encoding="utf-8"))
    assert found, run.log_path.read_text(encoding="utf-8")[-2000:]
    return int(found[-1][0]), int(found[-1][1])


def assert_nothing_corrupt(run: Run) -> None:
    """Every file a reader opens parses; every checkpoint folder that resume could pick is complete."""
    json.loads(run.status_path.read_text(encoding="utf-8"))
    json.loads(run.config_path.read_text(encoding="utf-8"))
    run.metrics()
    leftovers = [p.name for p in run.path.rglob("*") if p.name.startswith((".best.tmp", TMP_PREFIX))
                 or re.match(r"\..*\.tmp$", p.name)]
    assert leftovers == [], leftovers
    for folder in run.checkpoints_dir.glob("step-*"):
        assert is_complete(folder), f"{folder} is a step folder without a valid {MARKER}"
    if run.best_dir.exists():
        from ner_demo.models import load_trained

        load_trained(str(run.best_dir))


# ---- kill -9 ---------------------------------------------------------------------------------------


def test_kill_9_mid_epoch_then_resume_loses_no_finished_epoch(model_dir, tmp_path, reference, trained_tiny_dir):
    from app_harness import running_app
    from http_support import call

    config = faulty_config(model_dir, tmp_path / "runs")
    run = background.start(config)
    deadline = time.time() + 90
    while (run.read_status().get("step") or 0) < STEPS_PER_EPOCH + STEPS_PER_EPOCH // 2:  # halfway through epoch 2
        assert time.time() < deadline and run.read_status().get("state") in ("queued", "running"), run.read_status()
        time.sleep(0.01)
    pid = run.read_status()["pid"]
    os.kill(pid, signal.SIGKILL)
    checkpoint_at_kill = latest_complete(run.checkpoints_dir)
    status = _wait(run.id, config.runs_dir, {"failed", "finished"})
    assert status["state"] == "failed" and "killed by signal 9" in status["error"], status
    assert_nothing_corrupt(run)

    with running_app(tmp_path, str(trained_tiny_dir), None) as url:  # the app sees the dead run, and serves on
        event, (progress, _, runs_table, _) = call(url, "watch_run", [run.id])
        assert event == "complete" and "failed" in progress and "killed by signal 9" in progress
        assert [row[0] for row in runs_table["data"]] == [run.id]
        event, outputs = call(url, "tag", ["John met Mary in Paris .", "(default)", "first", 0.0])
        assert event == "complete" and outputs[1]["data"]
        event, _ = call(url, "resume_training", [run.id])  # resumed through the app, as a user would
        assert event == "complete"
        status = _wait(run.id, config.runs_dir, {"finished", "failed"})
    assert status["state"] == "finished" and status["step"] == 4 * STEPS_PER_EPOCH, status
    step, epoch = _resumed_from(run)
    assert checkpoint_at_kill is not None and step == int(checkpoint_at_kill.name.split("-")[1])
    assert epoch >= 1 and step >= epoch * STEPS_PER_EPOCH  # epoch 1 was not trained again
    assert [r["strict_f1"] for r in run.metrics("eval")] == reference  # nothing lost, nothing different
    assert_nothing_corrupt(run)


def test_kill_9_mid_checkpoint_write_never_loads_the_partial_one(model_dir, tmp_path, reference):
    config = faulty_config(model_dir, tmp_path / "runs")
    run = Run.create(config)
    victim = 2 * STEPS_PER_EPOCH  # the checkpoint at the end of epoch 2
    child = subprocess.run([PYTHON, str(REPO / "tests" / "fault_hooks.py"), "kill-in-checkpoint", str(victim), "--",
                            "train", "--run-dir", str(run.path)], cwd=REPO, env=subprocess_env(),
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stdout[-1500:] + child.stderr[-1500:]
    partial = run.checkpoints_dir / f"{TMP_PREFIX}step-{victim:07d}"
    assert partial.is_dir() and not (partial / MARKER).exists()  # the torn write is on disk...
    assert [p.name for p in complete_checkpoints(run.checkpoints_dir)] == ["step-0000020"]  # ...and ignored
    assert _wait(run.id, config.runs_dir, {"failed"})["state"] == "failed"  # a dead process is noticed

    background.resume_in_background(run.id, config.runs_dir)
    status = _wait(run.id, config.runs_dir, {"finished", "failed"})
    assert status["state"] == "finished" and status["step"] == 4 * STEPS_PER_EPOCH, status
    assert _resumed_from(run) == (STEPS_PER_EPOCH, 1)  # the complete one, never the torn one
    assert [r["strict_f1"] for r in run.metrics("eval")] == reference
    assert_nothing_corrupt(run)  # the torn folder was pruned on the way


def test_resume_skips_every_kind_of_incomplete_checkpoint(model_dir, tmp_path):
    run = train(faulty_config(model_dir, tmp_path / "runs", epochs=3))
    folders = complete_checkpoints(run.checkpoints_dir)
    assert [p.name for p in folders] == ["step-0000060", "step-0000040", "step-0000020"]
    newest, middle = folders[0], folders[1]
    with (newest / "model.safetensors").open("r+b") as fh:  # torn file inside a renamed folder
        fh.truncate(100)
    (middle / MARKER).unlink()  # a folder written by something that never finished
    (run.checkpoints_dir / f"{TMP_PREFIX}step-0000070").mkdir()  # a temp folder with a marker: not a checkpoint
    (run.checkpoints_dir / f"{TMP_PREFIX}step-0000070" / MARKER).write_text("{}", encoding="utf-8")
    assert latest_complete(run.checkpoints_dir).name == "step-0000020"
    hf_output = tmp_path / "trainer"  # the HF Trainer engine's folders, marked by our callback when complete
    (hf_output / "checkpoint-5").mkdir(parents=True)
    (hf_output / "checkpoint-5" / "model.safetensors").write_bytes(b"half")
    assert latest_complete(hf_output, "checkpoint-") is None


# ---- bytes changed on disk -------------------------------------------------------------------------


def _crashed_with_three_checkpoints(model_dir, runs_dir) -> Run:
    """A run that failed in epoch 4, with the checkpoints of epochs 1-3 (steps 20, 40, 60) on disk."""
    with pytest.raises(RuntimeError, match="simulated crash after step 65"):
        train(faulty_config(model_dir, runs_dir), callbacks=[CrashAt(3 * STEPS_PER_EPOCH + 5)])
    (info,) = list_runs(runs_dir)
    run = Run(info.path)
    assert [p.name for p in complete_checkpoints(run.checkpoints_dir)] == ["step-0000060", "step-0000040", "step-0000020"]
    return run


def _scribble(path: Path) -> None:
    """Random bytes over the last 4 kB of a file, its size unchanged: it still loads as safetensors."""
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.seek(size - 4096)
        fh.write(os.urandom(4096))
    assert path.stat().st_size == size


def test_random_bytes_in_a_checkpoints_weights_are_caught_and_resume_uses_the_one_before(model_dir, tmp_path, reference):
    from ner_demo.training import resume

    run = _crashed_with_three_checkpoints(model_dir, tmp_path / "runs")
    _scribble(run.checkpoints_dir / "step-0000060" / "model.safetensors")
    resume(run.id, tmp_path / "runs")
    status = run.read_status()
    assert status["state"] == "finished" and status["step"] == 4 * STEPS_PER_EPOCH, status
    assert status["resumed_from"] == "step-0000040"
    assert status["skipped_checkpoints"] == [{"checkpoint": "step-0000060", "reason": "model.safetensors does not "
                                              "match its recorded sha256 (changed on disk after it was written)"}]
    assert [r["strict_f1"] for r in run.metrics("eval")] == reference  # the corrupt weights never trained on
    assert (run.checkpoints_dir / "corrupt-step-0000060").is_dir()  # kept for a look, out of resume's way
    assert json.loads((run.best_dir / "ner_demo.json").read_text())["dev"]["strict_f1"] == max(reference)


def _garble(path: Path) -> None:
    size = path.stat().st_size
    path.write_bytes(b"\x00" + b"#" * (size - 1))


def test_a_garbled_state_json_makes_the_cli_resume_fall_back_and_say_so(model_dir, tmp_path, reference):
    run = _crashed_with_three_checkpoints(model_dir, tmp_path / "runs")
    _garble(run.checkpoints_dir / "step-0000060" / "state.json")
    done = subprocess.run([PYTHON, "-m", "ner_demo", "resume", run.id, "--runs-dir", str(tmp_path / "runs")], cwd=REPO,
                          env=subprocess_env(), capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "JSONDecodeError" not in done.stdout + done.stderr
    assert ("skipped checkpoint step-0000060: state.json does not match its recorded sha256 (changed on disk after "
            "it was written)") in done.stdout
    assert "resumed from step-0000040: step 40, epoch 2" in done.stdout
    assert run.read_status()["state"] == "finished"
    assert [r["strict_f1"] for r in run.metrics("eval")] == reference


def test_a_run_from_before_sha256_resumes_checked_by_size_and_skips_an_unreadable_state(model_dir, tmp_path, capsys):
    from ner_demo.training import resume

    run = _crashed_with_three_checkpoints(model_dir, tmp_path / "runs")
    for folder in complete_checkpoints(run.checkpoints_dir):  # the manifests as older runs wrote them
        manifest = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        del manifest["sha256"]
        (folder / MARKER).write_text(json.dumps(manifest), encoding="utf-8")
    _garble(run.checkpoints_dir / "step-0000060" / "state.json")
    capsys.readouterr()
    resume(run.id, tmp_path / "runs")
    out = capsys.readouterr().out
    assert "skipped checkpoint step-0000060: state.json cannot be read (" in out
    assert ("resumed from step-0000040: step 40, epoch 2 (an older checkpoint: its files were checked by size "
            "only, no sha256)") in out
    assert run.read_status()["state"] == "finished"


# ---- a full disk ---------------------------------------------------------------------------------


@pytest.fixture()
def small_disk(tmp_path, monkeypatch):
    """A 600 kB tmpfs mounted as the runs folder when this process may mount (root on Linux); otherwise
    the same folder on the normal disk with every checkpoint write failing with ENOSPC, half-way."""
    folder = tmp_path / "runs"
    folder.mkdir()
    try:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(folder)],
                                 capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        mounted = False
    if not mounted:
        import safetensors.torch

        real = safetensors.torch.save_file

        def full(tensors, filename, metadata=None):
            real(tensors, filename, metadata)
            Path(filename).write_bytes(Path(filename).read_bytes()[:100])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(safetensors.torch, "save_file", full)
    try:
        yield folder, "tmpfs" if mounted else "simulated"
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=20)


def test_full_disk_fails_the_run_with_its_reason_and_nothing_corrupt(model_dir, small_disk, monkeypatch):
    folder, how = small_disk
    config = faulty_config(model_dir, folder, epochs=2, checkpoint_every=3)
    with pytest.raises(Exception) as caught:  # OSError, or safetensors' SafetensorError for the same errno
        train(config)
    assert os.strerror(errno.ENOSPC) in str(caught.value), (how, caught.value)
    (info,) = list_runs(folder)
    run = Run(info.path)
    assert info.state == "failed" and "the disk is full" in info.error and "resume" in info.error, (how, info)
    assert_nothing_corrupt(run)
    if how == "tmpfs":  # free space (a bigger disk), then the same run finishes
        subprocess.run(["mount", "-o", "remount,size=16m", str(folder)], check=True, timeout=20)
        from ner_demo.training import resume

        resume(run.id, folder)
        assert run.read_status()["state"] == "finished"
        assert_nothing_corrupt(run)


# ---- a nan loss ----------------------------------------------------------------------------------


def _nan_at(real, step: int, step_of):
    def compute_loss(self, *args, **kwargs):
        out = real(self, *args, **kwargs)
        if step_of(self) + 1 == step:  # the step about to be taken
            loss = out[0] if isinstance(out, tuple) else out
            nan = loss * float("nan")
            return (nan, *out[1:]) if isinstance(out, tuple) else nan
        return out

    return compute_loss


@pytest.mark.parametrize("engine", ["custom", "trainer"])
def test_nan_loss_fails_the_run_with_the_reason_and_keeps_the_weights(model_dir, tmp_path, monkeypatch, engine):
    from safetensors.torch import load_file

    if engine == "custom":
        from ner_demo.training.loop import CustomLoop as Engine

        step_of = lambda loop: loop.state.step  # noqa: E731
    else:
        from ner_demo.training.trainer_engine import NerTrainer as Engine

        step_of = lambda trainer: trainer.state.global_step  # noqa: E731
    monkeypatch.setattr(Engine, "compute_loss", _nan_at(Engine.compute_loss, 8, step_of))
    config = faulty_config(model_dir, tmp_path / "runs", engine=engine, batch_size=4, epochs=3, checkpoint_every=3)
    with pytest.raises(TrainingDivergedError, match=r"the training loss is nan at step 8 "):
        train(config)
    (info,) = list_runs(tmp_path / "runs")
    assert info.state == "failed" and info.error.startswith("the training loss is nan at step 8"), info
    assert info.step <= 7  # the nan step was never taken
    run = Run(info.path)
    for weights in [*run.path.rglob("model.safetensors")]:
        assert all(torch.isfinite(t).all() for t in load_file(weights).values()), weights
    if engine == "custom":
        assert_nothing_corrupt(run)


# ---- two runs at once ---------------------------------------------------------------------------


def test_runs_started_at_once_are_serialised_and_the_registry_stays_consistent(model_dir, tmp_path):
    runs_dir = tmp_path / "runs"
    config = tiny_config(model_dir, runs_dir, epochs=1)
    barrier = threading.Barrier(3)
    outcomes: list = [None] * 3

    def start(i: int, queue: bool) -> None:
        barrier.wait()
        try:
            outcomes[i] = background.start(config, queue=queue)
        except RunBusyError as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=start, args=(i, q)) for i, q in enumerate((False, False, True))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    started = [o for o in outcomes if isinstance(o, Run)]
    refused = [o for o in outcomes if isinstance(o, RunBusyError)]
    assert len(started) + len(refused) == 3 and 1 <= len(started) <= 2
    assert all(re.match(r"run \S+ is still training .*; wait for it to finish, or cancel it", str(e)) for e in refused)
    assert isinstance(outcomes[2], Run)  # the queued start is never refused
    assert sorted(r.run_id for r in list_runs(runs_dir)) == sorted(r.id for r in started)  # no half-made runs
    active = json.loads((runs_dir / background.ACTIVE_FILE).read_text(encoding="utf-8"))
    assert active["run_id"] in {r.id for r in started}
    launched = [r for r in started if r.read_status().get("launched")]
    assert len(launched) == 1  # exactly one trains; the other (if any) waits its turn
    for run in started:
        assert _wait(run.id, runs_dir, {"finished", "failed"})["state"] == "finished"
    times = sorted((r.read_status()["started"], r.read_status()["finished"]) for r in started)
    assert all(times[k][1] <= times[k + 1][0] for k in range(len(times) - 1))  # one after the other
    assert {r.state for r in list_runs(runs_dir)} == {"finished"}
    assert not (runs_dir / background.ACTIVE_FILE).exists()

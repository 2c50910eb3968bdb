"""Learning curves (API and CLI): shares, nested sizes, the queued runs, the result file.

The runs are stand-ins without torch (tests/queue_fakes.py) under the shipped watcher; the browser test
(tests/test_train_queue_browser.py) trains a real tiny curve.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest
import queue_fakes
from training_support import DEV, PYTHON, REPO, TRAIN, subprocess_env

from ner_demo.errors import ConfigError
from ner_demo.training import Run, background
from ner_demo.training.config import TrainConfig
from ner_demo.training.curve import CurveNotFoundError, list_curves, parse_shares, plan, read_curve, start_curve

DEADLINE_S = 60.0


@pytest.fixture(autouse=True)
def fake_trainers(monkeypatch):
    monkeypatch.setattr(background, "_watcher_command", queue_fakes.watcher_command)


def _config(runs, **changes) -> TrainConfig:
    values = dict(name="tiny", backbone="offline-minilm", train_file=str(TRAIN), dev_file=str(DEV), runs_dir=str(runs))
    return TrainConfig(**(values | changes))


def _wait_curve(curve_id: str, runs, state: str) -> dict:
    deadline = time.time() + DEADLINE_S
    while True:
        record = json.loads((runs / "curves" / f"{curve_id}.json").read_text(encoding="utf-8"))  # the file as written
        if record.get("state") == state:
            return record
        assert time.time() < deadline, record
        time.sleep(0.05)


def test_parse_shares_reads_a_comma_list():
    assert parse_shares(" 0.25,0.5 , 0.75,1 ") == (0.25, 0.5, 0.75, 1.0)


@pytest.mark.parametrize("text, message", [
    ("", "shares: give at least one share of the train sentences, e.g. 0.25,0.5,0.75,1"),
    ("0.25,half", "shares '0.25,half': 'half' is not a number; give shares such as 0.25,0.5,0.75,1"),
    ("0.5,1.5", "shares '0.5,1.5': 1.5 is not in (0, 1]; a share of 1 is all the train sentences"),
    ("0,1", "shares '0,1': 0 is not in (0, 1]; a share of 1 is all the train sentences"),
    ("0.5,0.5", "shares '0.5,0.5': give them in increasing order, each once (e.g. 0.25,0.5,0.75,1)"),
])
def test_parse_shares_names_the_bad_value(text, message):
    with pytest.raises(ConfigError) as info:
        parse_shares(text)
    assert str(info.value) == message


def test_the_sizes_are_shares_of_the_limited_train_split(tmp_path):
    assert plan(_config(tmp_path), (0.25, 0.5, 0.75, 1.0)) == [(0.25, 5), (0.5, 10), (0.75, 15), (1.0, 20)]
    assert plan(_config(tmp_path, limit_train_sentences=12), (0.25, 0.5, 0.75, 1.0)) == [
        (0.25, 3), (0.5, 6), (0.75, 9), (1.0, 12)]


def test_shares_that_give_the_same_size_are_refused_before_any_run(tmp_path):
    with pytest.raises(ConfigError, match=r"^shares 0.25 and 0.3 of 4 train sentences both give 1 sentences"):
        start_curve(_config(tmp_path / "runs", limit_train_sentences=4), "0.25,0.3", tmp_path / "runs")
    assert background.list_runs(tmp_path / "runs") == []


def test_a_curve_queues_one_nested_run_per_share_and_writes_its_result(tmp_path):
    runs = tmp_path / "runs"
    record = start_curve(_config(runs, limit_train_sentences=12, seed=7), "0.25,0.5,0.75,1", runs)
    curve_id = record["curve_id"]
    assert list_curves(runs) == [curve_id]
    assert [(r["share"], r["train_sentences"]) for r in record["runs"]] == [(0.25, 3), (0.5, 6), (0.75, 9), (1.0, 12)]
    configs = [Run(runs / r["run_id"]).config() for r in record["runs"]]
    assert [(c.name, c.limit_train_sentences, c.seed) for c in configs] == [
        ("tiny-lc25", 3, 7), ("tiny-lc50", 6, 7), ("tiny-lc75", 9, 7), ("tiny-lc100", 12, 7)]
    assert {Run(runs / r["run_id"]).read_status()["curve"] for r in record["runs"]} == {curve_id}
    final = _wait_curve(curve_id, runs, "finished")  # written by the last run's watcher: nobody polled
    assert [(p["train_sentences"], p["state"], p["dev_f1"], p["per_type"]) for p in final["points"]] == [
        (3, "finished", 0.1875, {"LOC": 0.25, "PER": 0.125}), (6, "finished", 0.375, {"LOC": 0.5, "PER": 0.25}),
        (9, "finished", 0.5625, {"LOC": 0.75, "PER": 0.375}), (12, "finished", 0.75, {"LOC": 1.0, "PER": 0.5})]
    assert final["types"] == ["LOC", "PER"] and final["shares"] == [0.25, 0.5, 0.75, 1.0] and final["seed"] == 7
    assert _order(runs) == [r["run_id"] for r in record["runs"]]  # one after the other, smallest first


def _order(runs) -> list[str]:
    return (runs / "order.txt").read_text(encoding="utf-8").split()


def test_a_curve_with_a_failed_run_ends_without_that_point(tmp_path):
    runs = tmp_path / "runs"
    record = start_curve(_config(runs, name="fail"), "0.5,1", runs)
    final = _wait_curve(record["curve_id"], runs, "ended")
    assert [(p["state"], p["dev_f1"]) for p in final["points"]] == [("failed", None), ("failed", None)]
    assert final["points"][0]["error"].startswith("the training process ended without reporting (exit code 3)")


@pytest.mark.parametrize("curve_id", ["../x", "nope", "a/b"])
def test_read_curve_accepts_known_ids_only(tmp_path, curve_id):
    with pytest.raises(CurveNotFoundError, match=f"no learning curve {curve_id!r}"):
        read_curve(curve_id, tmp_path / "runs")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "ner_demo", *args], cwd=REPO, env=subprocess_env(), capture_output=True,
                          text=True, timeout=120)


def test_cli_learning_curve_queues_the_runs_and_curves_shows_it(tmp_path):
    runs = tmp_path / "runs"
    holder = background.create_claimed(_config(runs, name="holder"), runs)  # this process trains: the curve waits
    done = _cli("learning-curve", "--set", "name=cli", "--set", "backbone=offline-minilm", "--set", f"train_file={TRAIN}",
                "--set", f"dev_file={DEV}", "--set", f"runs_dir={runs}", "--shares", "0.5,1")
    assert done.returncode == 0, done.stderr[-2000:]
    (curve_id,) = list_curves(runs)
    assert done.stdout.startswith(f"learning curve {curve_id}: queued 2 runs (train sentences: 10, 20); follow it with")
    shown = _cli("curves", curve_id, "--runs-dir", str(runs))
    lines = shown.stdout.splitlines()
    assert lines[0] == f"learning curve {curve_id}: queued"
    assert lines[1].split() == ["SHARE", "SENTENCES", "RUN", "STATE", "DEV", "F1"]
    assert [line.split()[:2] + line.split()[3:4] for line in lines[2:]] == [["0.5", "10", "queued"], ["1", "20", "queued"]]
    assert _cli("curves", "--runs-dir", str(runs)).stdout.strip() == curve_id
    background.end_run(holder, state="finished")
    background.finish_background(holder)  # the launch from this process uses the stand-in trainers
    assert [p["state"] for p in _wait_curve(curve_id, runs, "finished")["points"]] == ["finished", "finished"]

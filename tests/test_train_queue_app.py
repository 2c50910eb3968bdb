"""The Train tab's queue and learning-curve handlers, called directly (no server): rows, cancel, and the
ids they accept (queued run ids and curve ids only, never paths)."""

from __future__ import annotations

import subprocess
import sys

import gradio as gr
import pytest
import queue_fakes
from app_harness import train_form
from training_support import DEV, TRAIN

from ner_demo.app import train_curve, train_queue
from ner_demo.app.train_format import form_names
from ner_demo.training import background
from ner_demo.training.config import TrainConfig


@pytest.fixture
def runs(tmp_path, monkeypatch):
    monkeypatch.setenv("NER_DEMO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setattr(background, "_watcher_command", queue_fakes.watcher_command)
    return tmp_path / "runs"


@pytest.fixture
def held(runs):
    """A live process holds the slot (as a foreground run does): started runs wait in the queue."""
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    background.create_claimed(_config(runs, "holder"), runs, pid=holder.pid).write_status(state="running",
                                                                                           pid=holder.pid)
    yield holder
    holder.kill()
    holder.wait()


def _config(runs, name: str) -> TrainConfig:
    return TrainConfig(name=name, backbone="offline-minilm", train_file=str(TRAIN), dev_file=str(DEV), runs_dir=str(runs))


def test_queue_rows_are_position_run_name_and_time_next_first(runs, held):
    a, b = (background.start(_config(runs, name), runs, queue=True) for name in ("zeta", "alpha"))
    rows = train_queue.queue_rows()
    assert [row[:3] for row in rows] == [[1, a.id, "zeta"], [2, b.id, "alpha"]]
    assert rows[0][3] == a.read_status()["queued_at"]


def test_cancel_queued_takes_the_picked_run_out(runs, held):
    a, b = (background.start(_config(runs, name), runs, queue=True) for name in ("one", "two"))
    note, rows, pick = train_queue.cancel_queued(a.id)
    assert note == f"Run {a.id} was taken out of the queue (cancelled before it started)."
    assert [row[1] for row in rows] == [b.id] and pick.value == b.id
    assert a.read_status()["state"] == "cancelled"


@pytest.mark.parametrize("picked, shown", [("../runs", "../runs"), ("/etc", "etc"), ("nosuchrun", "nosuchrun")])
def test_cancel_queued_accepts_queued_run_ids_only(runs, held, picked, shown):
    waiting = background.start(_config(runs, "waiting"), runs, queue=True)
    with pytest.raises(gr.Error) as info:
        train_queue.cancel_queued(picked)
    # an absolute path is shortened to its last name (friendly(): no server paths in messages)
    assert info.value.message == f"run {shown!r} is not waiting in the queue; pick one from the queue's list"
    assert waiting.read_status()["state"] == "queued"


def test_cancel_queued_of_an_empty_queue_says_so(runs):
    with pytest.raises(gr.Error, match="the queue is empty: there is no waiting run to cancel"):
        train_queue.cancel_queued(None)


@pytest.mark.parametrize("curve_id, shown", [("../runs/x", "../runs/x"), ("/etc/passwd", "passwd"), ("nosuch", "nosuch")])
def test_show_curve_accepts_known_curve_ids_only(runs, curve_id, shown):
    with pytest.raises(gr.Error) as info:
        train_curve.show_curve(curve_id)
    assert info.value.message == f"no learning curve {shown!r} in the runs folder; pick one from the list"


def test_the_curve_starter_names_its_inputs_when_given_too_few():
    with pytest.raises(gr.Error, match=f"start_learning_curve takes {len(form_names()) + 1} values, one per form field"):
        train_curve.curve_starter()("0.5,1")


def test_the_curve_starter_reports_bad_shares_before_any_run(runs):
    with pytest.raises(gr.Error) as info:
        train_curve.curve_starter()(*train_form(backbone="offline-minilm"), "0.5,2")
    assert info.value.message == "shares '0.5,2': 2 is not in (0, 1]; a share of 1 is all the train sentences"
    assert background.list_runs(runs) == []

"""Managing runs: delete (never an active one, never half-listed), rename and tag (meta.json), sort and
filter, and the same from the CLI (`runs list | delete | rename | tag`)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from training_support import PYTHON, REPO, subprocess_env

from ner_demo.errors import ConfigError, NerDemoError
from ner_demo.training import background, manage
from ner_demo.training.config import TrainConfig
from ner_demo.training.runs import Run, list_runs


def _run(runs_dir, name: str, state: str = "finished", f1: float | None = 0.5, **status) -> Run:
    run = Run.create(TrainConfig(name=name, backbone="offline-minilm"), runs_dir)
    run.write_status(state=state, best={"strict_f1": f1} if f1 is not None else None, **status)
    (run.best_dir).mkdir()
    (run.best_dir / "model.safetensors").write_bytes(b"x" * 64)
    return run


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "ner_demo", *args], cwd=REPO, env=subprocess_env(), input=stdin,
                          capture_output=True, text=True, timeout=120)


# ---- delete -----------------------------------------------------------------------------------------


def test_delete_removes_a_finished_run_and_its_folder(tmp_path):
    keep, gone = _run(tmp_path, "keep"), _run(tmp_path, "gone")
    assert manage.delete_run(gone.id, tmp_path) == gone.id
    assert [r.run_id for r in list_runs(tmp_path)] == [keep.id]
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".lock")) == [keep.id]


def test_delete_refuses_the_run_that_trains_and_names_it(tmp_path):
    run = background.create_claimed(TrainConfig(name="busy", backbone="offline-minilm"), tmp_path, pid=os.getpid())
    run.write_status(state="running", pid=os.getpid())
    with pytest.raises(manage.RunActiveError, match=f"run {run.id} is training: it cannot be deleted now; cancel it"):
        manage.delete_run(run.id, tmp_path)
    assert [r.run_id for r in list_runs(tmp_path)] == [run.id] and run.config_path.is_file()


def test_delete_refuses_a_queued_run(tmp_path):
    run = Run.create(TrainConfig(name="waiting", backbone="offline-minilm"), tmp_path)  # queued, not launched
    with pytest.raises(manage.RunActiveError, match=f"run {run.id} is queued"):
        manage.delete_run(run.id, tmp_path)
    assert run.config_path.is_file()


def test_delete_of_a_run_whose_process_died_records_it_failed_then_deletes(tmp_path):
    dead = subprocess.Popen([PYTHON, "-c", "pass"])
    dead.wait()
    run = background.create_claimed(TrainConfig(name="dead", backbone="offline-minilm"), tmp_path, pid=dead.pid)
    run.write_status(state="running", pid=dead.pid)
    assert manage.delete_run(run.id, tmp_path) == run.id
    assert list_runs(tmp_path) == []


def test_a_half_deleted_run_is_never_listed_and_the_next_delete_clears_it(tmp_path, monkeypatch):
    first, second = _run(tmp_path, "first"), _run(tmp_path, "second")
    real_rmtree = manage.shutil.rmtree

    def crash_half_way(path, ignore_errors=False):  # the process dies after removing part of the folder
        (path / "config.json").unlink()
        raise KeyboardInterrupt

    monkeypatch.setattr(manage.shutil, "rmtree", crash_half_way)
    with pytest.raises(KeyboardInterrupt):
        manage.delete_run(first.id, tmp_path)
    assert [r.run_id for r in list_runs(tmp_path)] == [second.id]
    monkeypatch.setattr(manage.shutil, "rmtree", real_rmtree)
    manage.delete_run(second.id, tmp_path)
    assert [p.name for p in tmp_path.iterdir() if p.name != ".lock"] == []


def test_delete_takes_run_ids_only_never_paths(tmp_path):
    outside = _run(tmp_path / "elsewhere", "outside")
    with pytest.raises(ConfigError, match="no run '.*outside.*' in the runs folder"):
        manage.delete_run(str(outside.path), tmp_path / "runs")
    with pytest.raises(ConfigError, match=r"no run '\.\./elsewhere'"):
        manage.delete_run("../elsewhere", tmp_path / "runs")
    assert outside.config_path.is_file()


# ---- rename and tag ---------------------------------------------------------------------------------


def test_rename_keeps_the_id_and_is_saved_in_meta_json(tmp_path):
    run = _run(tmp_path, "r")
    manage.rename_run(run.id, "  CoNLL   baseline ", tmp_path)
    (info,) = list_runs(tmp_path)
    assert (info.run_id, info.name) == (run.id, "CoNLL baseline")
    assert json.loads(run.meta_path.read_text()) == {"name": "CoNLL baseline", "tags": []}


def test_tags_are_a_trimmed_comma_list_without_duplicates_and_keep_the_name(tmp_path):
    run = _run(tmp_path, "r")
    manage.rename_run(run.id, "named", tmp_path)
    manage.tag_run(run.id, "baseline, conll,, baseline ", tmp_path)
    (info,) = list_runs(tmp_path)
    assert (info.name, info.tags) == ("named", ("baseline", "conll"))
    manage.tag_run(run.id, "", tmp_path)
    assert list_runs(tmp_path)[0].tags == ()


def test_a_name_with_control_characters_is_refused_and_nothing_changes(tmp_path):
    run = _run(tmp_path, "r")
    manage.rename_run(run.id, "good", tmp_path)
    with pytest.raises(ConfigError, match="name 'bad\\\\x00name': control characters are not allowed"):
        manage.rename_run(run.id, "bad\x00name", tmp_path)
    with pytest.raises(ConfigError, match="at most 80 characters"):
        manage.rename_run(run.id, "x" * 81, tmp_path)
    assert list_runs(tmp_path)[0].name == "good"


def test_a_corrupt_meta_json_lists_the_run_without_name_or_tags(tmp_path):
    run = _run(tmp_path, "r")
    run.meta_path.write_text('{"name": 3, "tags": "oops"', encoding="utf-8")
    (info,) = list_runs(tmp_path)
    assert (info.name, info.tags) == ("", ())


def test_renaming_a_running_run_leaves_its_status_alone(tmp_path):
    run = _run(tmp_path, "r", state="running", step=7)
    manage.rename_run(run.id, "live", tmp_path)
    assert run.read_status()["step"] == 7 and list_runs(tmp_path)[0].name == "live"


# ---- sort and filter --------------------------------------------------------------------------------


@pytest.fixture
def three_runs(tmp_path):
    a = _run(tmp_path, "a", f1=0.40)
    b = _run(tmp_path, "b", state="failed", f1=None, error="boom")
    c = _run(tmp_path, "c", f1=0.80)
    manage.rename_run(a.id, "Zeta baseline", tmp_path)
    manage.rename_run(c.id, "alpha", tmp_path)
    manage.tag_run(a.id, "conll,keep", tmp_path)
    manage.tag_run(b.id, "keep", tmp_path)
    return tmp_path, a.id, b.id, c.id


def test_sorts_newest_oldest_best_name_and_state(three_runs):
    root, a, b, c = three_runs
    runs = list_runs(root)
    assert [r.run_id for r in manage.select_runs(runs)] == [c, b, a]
    assert [r.run_id for r in manage.select_runs(runs, sort="oldest")] == [a, b, c]
    assert [r.run_id for r in manage.select_runs(runs, sort="best")] == [c, a, b]  # no F1 last
    assert [r.run_id for r in manage.select_runs(runs, sort="name")] == [c, a, b]  # alpha, Zeta, unnamed
    assert [r.run_id for r in manage.select_runs(runs, sort="state")] == [c, a, b]  # finished before failed


def test_filters_by_state_tag_and_text(three_runs):
    root, a, b, c = three_runs
    runs = list_runs(root)
    assert [r.run_id for r in manage.select_runs(runs, state="failed")] == [b]
    assert [r.run_id for r in manage.select_runs(runs, tag="KEEP")] == [b, a]
    assert [r.run_id for r in manage.select_runs(runs, text="baseline conll")] == [a]  # every word: name and tag
    assert manage.select_runs(runs, text="nothing-like-this") == []


def test_an_unknown_state_or_sort_is_refused_with_the_choices():
    with pytest.raises(ConfigError, match="state 'done': pick one of all, queued, running, finished"):
        manage.select_runs([], state="done")
    with pytest.raises(ConfigError, match="sort 'f1': pick one of newest, oldest, best, name, state"):
        manage.select_runs([], sort="f1")


# ---- CLI ----------------------------------------------------------------------------------------


def test_cli_runs_list_filters_sorts_and_prints_names_and_tags(three_runs):
    root, a, b, c = three_runs
    done = _cli("runs", "list", "--runs-dir", str(root), "--tag", "keep", "--sort", "oldest", "--json")
    assert done.returncode == 0, done.stderr
    assert [(r["run_id"], r["tags"]) for r in json.loads(done.stdout)] == [(a, ["conll", "keep"]), (b, ["keep"])]
    table = _cli("runs", "--runs-dir", str(root), "--state", "finished", "--sort", "best").stdout.splitlines()
    assert table[0].split()[:4] == ["RUN", "NAME", "TAGS", "STATE"]
    assert [line.split()[0] for line in table[1:]] == [c, a] and "Zeta baseline" in table[2]


def test_cli_rename_and_tag(three_runs):
    root, a, *_ = three_runs
    done = _cli("runs", "rename", a, "new name", "--runs-dir", str(root))
    assert done.returncode == 0 and done.stdout.strip() == f"run {a}: name 'new name'", done.stderr
    done = _cli("runs", "tag", a, "x, y", "--runs-dir", str(root))
    assert done.returncode == 0 and done.stdout.strip() == f"run {a}: tags x, y", done.stderr
    info = next(r for r in list_runs(root) if r.run_id == a)
    assert (info.name, info.tags) == ("new name", ("x", "y"))


def test_cli_delete_without_yes_and_no_terminal_refuses_and_keeps_the_run(three_runs):
    root, a, *_ = three_runs
    done = _cli("runs", "delete", a, "--runs-dir", str(root), stdin="y\n")
    assert done.returncode == 2 and done.stderr.strip() == (
        f"error: deleting run {a} removes its folder for good; add --yes to confirm")
    assert a in {r.run_id for r in list_runs(root)}


def test_cli_delete_with_yes_deletes(three_runs):
    root, a, b, c = three_runs
    done = _cli("runs", "delete", a, "--yes", "--runs-dir", str(root))
    assert done.returncode == 0 and done.stdout.strip() == f"deleted run {a}", done.stderr
    assert [r.run_id for r in list_runs(root)] == [b, c]


def test_cli_delete_of_an_active_run_is_refused_in_one_line(tmp_path):
    run = Run.create(TrainConfig(name="waiting", backbone="offline-minilm"), tmp_path)
    done = _cli("runs", "delete", run.id, "--yes", "--runs-dir", str(tmp_path))
    assert done.returncode == 1 and done.stderr.startswith(f"error: run {run.id} is queued: it cannot be deleted")
    assert isinstance(manage.RunActiveError("x"), NerDemoError)


# ---- the Train tab's handlers (train_runs.py) -------------------------------------------------------


def test_the_tabs_table_applies_state_and_sort(three_runs, monkeypatch):
    from ner_demo.app import train_runs

    root, a, b, c = three_runs
    monkeypatch.setenv("NER_DEMO_RUNS", str(root))
    rows = train_runs.show_runs("finished", "", "best")
    assert [(row[0], row[1], row[3], row[9]) for row in rows] == [(c, "alpha", "finished", 0.8),
                                                                  (a, "Zeta baseline", "finished", 0.4)]
    assert rows[1][2] == "conll, keep" and train_runs.VIEW_HEADERS[9] == "best dev F1"


def test_the_tabs_delete_step_refuses_a_queued_run_before_asking(tmp_path, monkeypatch):
    import gradio as gr

    from ner_demo.app import train_runs

    monkeypatch.setenv("NER_DEMO_RUNS", str(tmp_path))
    run = Run.create(TrainConfig(name="waiting", backbone="offline-minilm"), tmp_path)
    with pytest.raises(gr.Error, match=f"run {run.id} is queued: it cannot be deleted now"):
        train_runs.ask_delete(run.id)
    with pytest.raises(gr.Error, match="no run '../x' in the runs folder"):
        train_runs.confirm_delete("../x", "all", "", "newest")
    assert run.config_path.is_file()

"""What a run tells the people watching it: phase, elapsed time over resumes, messages, the loss curve,
and the Train tab's view of it (progress bar text, log without escape codes)."""

from __future__ import annotations

import pytest
import torch
from app_harness import train_form
from training_support import DEV, TRAIN, build_model, tiny_config

from ner_demo.app import train as train_tab
from ner_demo.app import train_format as tr
from ner_demo.training import Run, list_runs, resume, train
from ner_demo.training.callbacks import Callback

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return build_model(tmp_path_factory.mktemp("tiny") / "model")


class CancelAt(Callback):
    """Asks the run to stop after step ``step``, as the Cancel button does (the CANCEL flag file)."""

    def __init__(self, step: int):
        self.step = step

    def on_step_end(self, loop) -> None:
        if loop.state.step == self.step:
            loop.setup.run.request_cancel()


class Watch(Callback):
    """The run's status.json as a poller reads it, after every step."""

    def __init__(self):
        self.seen: list[dict] = []

    def on_step_end(self, loop) -> None:
        self.seen.append(loop.setup.run.read_status())


def _cancelled_run(model_dir, runs_dir) -> Run:
    run = train(tiny_config(model_dir, runs_dir, epochs=2), callbacks=[CancelAt(3)])
    status = run.read_status()
    assert status["state"] == "cancelled" and status["message"].startswith("cancelled; Resume")
    return run


def test_after_resume_the_cancelled_message_is_gone_while_training_and_after(model_dir, tmp_path):
    run = _cancelled_run(model_dir, tmp_path / "runs")
    watch = Watch()
    resume(run.id, tmp_path / "runs", callbacks=[watch])
    assert watch.seen and all(s["state"] == "running" and s.get("message") is None for s in watch.seen)
    final = run.read_status()
    assert final["state"] == "finished" and final.get("message") is None
    assert "cancelled" not in tr.progress_html(final)


def test_elapsed_time_adds_up_over_a_resume(model_dir, tmp_path):
    run = _cancelled_run(model_dir, tmp_path / "runs")
    cut = run.read_status()["step"]  # the cancel's checkpoint: the resume starts there
    run.write_status(elapsed_s=1000.0)  # what the first process had trained for
    watch = Watch()
    resume(run.id, tmp_path / "runs", callbacks=[watch])
    assert all(s["elapsed_s"] >= 1000.0 for s in watch.seen)
    assert run.read_status()["elapsed_s"] >= 1000.0
    assert all(r["elapsed_s"] >= 1000.0 for r in run.metrics("train") if r["step"] > cut)


def test_the_status_names_the_phase_evaluating_dev_and_saving(model_dir, tmp_path, monkeypatch):
    from ner_demo.training import common

    phases: list[str] = []
    real = common.dev_scores

    def dev_scores(*args, **kwargs):
        (info,) = list_runs(tmp_path / "runs")
        phases.append(Run(info.path).read_status()["phase"])
        return real(*args, **kwargs)

    monkeypatch.setattr(common, "dev_scores", dev_scores)
    watch = Watch()
    run = train(tiny_config(model_dir, tmp_path / "runs", epochs=2), callbacks=[watch])
    assert phases == ["evaluating on dev (8 sentences)"] * 2
    assert {s["phase"] for s in watch.seen} >= {"training, epoch 1 of 2", "training, epoch 2 of 2"}
    assert run.read_status()["phase"] is None  # finished: no phase left over


def test_a_20_step_run_logs_every_step_so_its_loss_curve_has_20_points(model_dir, tmp_path):
    run = train(tiny_config(model_dir, tmp_path / "runs", epochs=4, log_every=50))  # 5 steps an epoch
    assert [r["step"] for r in run.metrics("train")] == list(range(1, 21))


def test_progress_view_names_the_phase_and_an_eta_that_counts_the_evaluation():
    view = tr.progress_html({"run_id": "r", "state": "running", "step": 20, "total_steps": 20, "eta_s": 41,
                             "phase": "evaluating on dev (3250 sentences)"})
    assert "evaluating on dev (3250 sentences) · ETA 41 s (dev evaluation included)" in view
    training = tr.progress_html({"run_id": "r", "state": "running", "step": 5, "total_steps": 20, "eta_s": 9,
                                 "phase": "training, epoch 1 of 4"})
    assert "training, epoch 1 of 4" in training and "ETA 9 s" in training


def test_progress_view_says_which_checkpoints_a_resume_skipped_and_why():
    view = tr.progress_html({"run_id": "r", "state": "running", "resumed_from": "step-0000040", "skipped_checkpoints": [
        {"checkpoint": "step-0000060", "reason": "model.safetensors does not match its recorded sha256"}]})
    assert "resumed from step-0000040 · skipped step-0000060: model.safetensors does not match its recorded sha256" in view


def test_the_log_view_has_no_ansi_escape_codes_and_no_redrawn_bars():
    log = "step 1/4  loss 1.2\n\x1b[1m\x1b[31mwarning\x1b[0m: slow\n  0%|          | 0/3\r100%|##########| 3/3\n"
    assert tr.log_tail(log) == "step 1/4  loss 1.2\nwarning: slow\n100%|##########| 3/3"


def test_the_train_tabs_log_handler_strips_escape_codes(model_dir, tmp_path, monkeypatch):
    from ner_demo.training.config import TrainConfig

    monkeypatch.setenv("NER_DEMO_RUNS", str(tmp_path / "runs"))
    run = Run.create(TrainConfig(name="r", backbone=str(model_dir), train_file=str(TRAIN), dev_file=str(DEV)),
                     tmp_path / "runs")
    run.log_path.write_text("\x1b[32mdev @ step 5\x1b[0m: strict F1 0.5\n", encoding="utf-8")
    assert train_tab.run_log(run.id) == "dev @ step 5: strict F1 0.5"


def test_the_train_tab_refuses_max_length_5000_and_makes_no_run(model_dir, tmp_path, monkeypatch):
    import gradio as gr

    monkeypatch.setenv("NER_DEMO_RUNS", str(tmp_path / "runs"))
    form = train_form(backbone=str(model_dir), dataset=tr.DATASET_UPLOAD, train_file=str(TRAIN), dev_file=str(DEV),
                      name="long", learning_rate=3e-3, batch_size=4, epochs=1, max_length=5000, warmup_ratio=0.0,
                      weight_decay=0.0, seed=1)
    with pytest.raises(gr.Error, match="max_length=5000: the backbone .* reads at most 128 positions"):
        train_tab.start_training(*form)
    assert list_runs(tmp_path / "runs") == []


def test_a_failed_runs_error_names_the_file_but_no_server_folder(model_dir, tmp_path):
    missing = tmp_path / "uploads" / "3f2a9c" / "train.conll"
    with pytest.raises(Exception, match="no such file"):
        train(tiny_config(model_dir, tmp_path / "runs", train_file=str(missing)))
    (info,) = list_runs(tmp_path / "runs")
    assert info.state == "failed" and "train.conll" in info.error and str(tmp_path) not in info.error, info.error
    assert "uploads" not in info.error and "3f2a9c" not in info.error


def test_resume_in_the_background_clears_the_cancelled_message_at_once(model_dir, tmp_path, monkeypatch):
    from ner_demo.training import background

    run = _cancelled_run(model_dir, tmp_path / "runs")
    launched = []
    monkeypatch.setattr(background, "_launch", lambda run, resume: launched.append((run.id, resume)))
    background.resume_in_background(run.id, tmp_path / "runs")
    status = run.read_status()  # what the Train tab shows right after Resume, before the process starts
    assert launched == [(run.id, True)] and status["state"] == "queued" and status.get("message") is None
    assert "cancelled" not in tr.progress_html(status)


# ---- the ETA covers the whole run ---------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _progress(tmp_path, monkeypatch, **kwargs):
    from ner_demo.training import callbacks
    from ner_demo.training.config import TrainConfig

    clock = Clock()
    monkeypatch.setattr(callbacks.time, "time", clock)
    run = Run.create(TrainConfig(name="eta", backbone="offline-minilm"), tmp_path)
    return callbacks.Progress(run, 10, 5, 0, True, **kwargs), clock  # 2 epochs of 5 steps


def _steps(progress, clock, n: int, seconds: float = 1.0, tokens: int = 100) -> None:
    for _ in range(n):
        clock.now += seconds
        progress.add(0.5, tokens)


def test_before_the_first_evaluation_the_eta_estimates_it_from_dev_tokens_and_throughput(tmp_path, monkeypatch):
    progress, clock = _progress(tmp_path, monkeypatch, dev_tokens=3000)
    _steps(progress, clock, 5)  # 100 tokens/s in training: evaluation at 3x that reads 3000 tokens in 10 s
    assert progress.eta(5) == pytest.approx(5 * 1.0 + 2 * 10.0)  # 5 steps left, 2 evaluations left


def test_after_an_evaluation_its_measured_time_replaces_the_estimate(tmp_path, monkeypatch):
    progress, clock = _progress(tmp_path, monkeypatch, dev_tokens=3000)
    _steps(progress, clock, 5)
    with progress.paused():
        clock.now += 4.0  # the evaluation took 4 s: not step time
    progress.note_eval(4.0)
    assert progress.eta(5) == pytest.approx(5 * 1.0 + 1 * 4.0)


def test_the_eta_counts_checkpoint_writes_still_to_come(tmp_path, monkeypatch):
    progress, clock = _progress(tmp_path, monkeypatch, dev_tokens=3000, checkpoint_every=2)
    _steps(progress, clock, 1)
    progress.note_eval(3.0)  # as after a resume: evaluation time known
    progress.note_checkpoint(0.5)
    # steps 2, 4, 6, 8 are periodic checkpoints (10 is an epoch end); 1 evaluation and its checkpoint left
    assert progress.eta(1) == pytest.approx(9 * 1.0 + 1 * 3.0 + (1 + 4) * 0.5)


def test_without_dev_tokens_the_eta_waits_for_the_first_evaluation(tmp_path, monkeypatch):
    progress, clock = _progress(tmp_path, monkeypatch, dev_tokens=0)
    _steps(progress, clock, 2)
    assert progress.eta(2) is None  # no number rather than one that leaves the evaluations out


def test_a_tiny_run_reports_an_eta_at_every_step_and_while_it_evaluates(model_dir, tmp_path, monkeypatch):
    from ner_demo.training import common

    etas_while_evaluating: list = []
    real = common.dev_scores

    def dev_scores(*args, **kwargs):
        (info,) = list_runs(tmp_path / "runs")
        etas_while_evaluating.append(Run(info.path).read_status().get("eta_s"))
        return real(*args, **kwargs)

    monkeypatch.setattr(common, "dev_scores", dev_scores)
    watch = Watch()
    train(tiny_config(model_dir, tmp_path / "runs", epochs=2), callbacks=[watch])
    assert all(s["eta_s"] is not None for s in watch.seen[1:]), [s["eta_s"] for s in watch.seen]
    assert len(etas_while_evaluating) == 2 and all(e is not None and e >= 0 for e in etas_while_evaluating)


# ---- too little training: a warning before, a hint after --------------------------------------------


def test_a_small_training_set_is_warned_about_before_launch_with_the_numbers(model_dir, tmp_path):
    from ner_demo.training.preflight import prelaunch_warning

    warning = prelaunch_warning(tiny_config(model_dir, tmp_path / "runs", batch_size=16, epochs=3))
    assert warning == ("20 train sentences with batch_size 16: 2 steps per epoch, 6 steps in all (3 epochs). With so "
                       "few steps dev F1 will likely be 0.0000: use more data, a smaller batch_size or more epochs.")


def test_a_small_max_steps_on_a_full_dataset_is_warned_about_without_reading_it():
    from ner_demo.training.config import TrainConfig
    from ner_demo.training.preflight import prelaunch_warning

    assert prelaunch_warning(TrainConfig(max_steps=30)).startswith("max_steps=30: 30 steps in all.")
    assert prelaunch_warning(TrainConfig()) is None  # all of CoNLL-2003: not read, and no warning


def test_the_run_records_the_warning_in_its_status_and_log(model_dir, tmp_path, capsys):
    run = train(tiny_config(model_dir, tmp_path / "runs", epochs=2))
    warning = run.read_status()["warning"]
    assert warning.startswith("20 train windows with batch_size 4: 5 steps per epoch, 10 steps in all (2 epochs).")
    assert f"warning: {warning}" in capsys.readouterr().out  # stdout: a background run's log.txt
    assert "⚠️ 20 train windows with batch_size 4" in tr.progress_html(run.read_status())


def test_a_run_with_enough_steps_has_no_warning():
    from ner_demo.training.config import TrainConfig
    from ner_demo.training.preflight import small_run_warning

    assert small_run_warning(TrainConfig(batch_size=16, epochs=3), 14041) is None


def test_a_finished_run_at_dev_f1_0_gets_a_hint_that_names_possible_reasons():
    from ner_demo.training.preflight import zero_f1_hint

    status = {"state": "finished", "total_steps": 3, "best": {"strict_f1": 0.0, "token_accuracy": 0.83}}
    hint = zero_f1_hint(status)
    assert hint.startswith("dev F1 is 0.0000: no dev entity was found exactly (token accuracy 0.8300: it may tag "
                           "every word O). Possible reasons: too little training (3 steps in all;")
    assert "hint: dev F1 is 0.0000" in tr.progress_html({**status, "run_id": "r", "hint": hint})
    assert zero_f1_hint({**status, "best": {"strict_f1": 0.01}}) is None
    assert zero_f1_hint({**status, "state": "cancelled"}) is None


def test_the_hint_is_written_when_a_run_ends_at_dev_f1_0(model_dir, tmp_path, monkeypatch):
    from ner_demo.training import common

    real = common.eval_record

    def nothing_found(result, step, epoch):  # as when the model tags every dev word O
        return {**real(result, step, epoch), "strict_f1": 0.0}

    monkeypatch.setattr(common, "eval_record", nothing_found)
    run = train(tiny_config(model_dir, tmp_path / "runs", epochs=1))
    assert run.read_status()["hint"].startswith("dev F1 is 0.0000: no dev entity was found exactly")


def test_the_train_tab_warns_at_start_and_still_starts_the_run(model_dir, tmp_path, monkeypatch):
    from ner_demo.training import background

    monkeypatch.setenv("NER_DEMO_RUNS", str(tmp_path / "runs"))
    launched = []
    monkeypatch.setattr(background, "_launch", lambda run, resume: launched.append(run.id))
    form = train_form(backbone=str(model_dir), dataset=tr.DATASET_UPLOAD, train_file=str(TRAIN), dev_file=str(DEV),
                      name="small", learning_rate=3e-3, batch_size=16, epochs=3, max_length=48, warmup_ratio=0.0,
                      weight_decay=0.0, seed=1)
    with pytest.warns(UserWarning, match=r"^20 train sentences with batch_size 16: 2 steps per epoch, 6 steps in all"):
        train_tab.start_training(*form)
    (info,) = list_runs(tmp_path / "runs")
    assert launched and set(launched) == {info.run_id}  # started (the stub launches no process: polls retry it)


def test_the_cli_prints_the_warning_before_it_launches_a_background_run(model_dir, tmp_path, monkeypatch, capsys):
    from ner_demo.cli import main
    from ner_demo.training import background

    started = []
    monkeypatch.setattr(background, "start", lambda config, queue=False: started.append(config) or
                        Run.create(config, config.runs_dir))  # no process: the log line is tested above
    config = tiny_config(model_dir, tmp_path / "runs", epochs=1)
    sets = [a for key, value in config.to_dict().items()
            for a in ("--set", f"{key}={'none' if value is None else value}")]
    assert main(["train", "--background", *sets]) == 0 and len(started) == 1
    assert capsys.readouterr().err == ("warning: 20 train sentences with batch_size 4: 5 steps per epoch, 5 steps in "
                                       "all (1 epoch). With so few steps dev F1 will likely be 0.0000: use more data, "
                                       "a smaller batch_size or more epochs.\n")


def test_elapsed_time_counts_the_set_up_before_the_first_step(model_dir, tmp_path, monkeypatch):
    import time

    from ner_demo.training import loop

    real = loop.prepare

    def slow_set_up(config, run):  # as if reading the data and loading the model had taken 1000 s
        setup = real(config, run)
        run.write_status(process_started_s=time.time() - 1000.0)
        return setup

    monkeypatch.setattr(loop, "prepare", slow_set_up)
    run = train(tiny_config(model_dir, tmp_path / "runs", epochs=1))
    assert all(r["elapsed_s"] >= 1000.0 for r in run.metrics("train")) and run.read_status()["elapsed_s"] >= 1000.0

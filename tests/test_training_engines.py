"""Both engines on a tiny random model and a 20-sentence invented corpus (offline, seconds each).

Resume tolerance: on a CPU with one thread every operation is deterministic, and both engines replay
the same batch order (a function of seed and epoch) and the saved RNG states, so a resumed run must
reproduce the uninterrupted one: same final step, the same dev F1 at every epoch (exactly) and the
same logged losses and best weights to within 1e-6 (absolute).
"""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file
from training_support import DEV, build_model, tiny_config

from ner_demo.data import read_conll
from ner_demo.training import Run, list_runs, resume, train
from ner_demo.training.callbacks import Callback, CrashAt
from ner_demo.training.common import dev_scores

torch.set_num_threads(1)
TOL = 1e-6


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return build_model(tmp_path_factory.mktemp("tiny") / "model")


def _untrained_f1(model_dir) -> float:
    from ner_demo.models import load_trained

    model, tokenizer, features = load_trained(str(model_dir))
    return dev_scores(model, tokenizer, features, read_conll(DEV), "cpu").strict.micro.f1


def _evals(run: Run) -> list[tuple[int, float]]:
    return [(r["step"], r["strict_f1"]) for r in run.metrics("eval")]


def _losses(run: Run) -> list[tuple[int, float]]:
    return [(r["step"], r["loss"]) for r in run.metrics("train")]


def _assert_same_run(a: Run, b: Run) -> None:
    sa, sb = a.read_status(), b.read_status()
    assert sb["state"] == "finished" and sa["state"] == "finished"
    assert sb["step"] == sa["step"] == sa["total_steps"]
    assert _evals(b) == _evals(a)  # dev strict F1 per epoch: exactly equal
    la, lb = _losses(a), _losses(b)
    assert [s for s, _ in lb] == [s for s, _ in la]  # no duplicate or missing records after resume
    assert all(abs(x - y) <= TOL for (_, x), (_, y) in zip(la, lb))
    wa, wb = load_file(str(a.best_dir / "model.safetensors")), load_file(str(b.best_dir / "model.safetensors"))
    assert all(torch.allclose(wa[k], wb[k], atol=TOL, rtol=0) for k in wa)


@pytest.fixture(scope="module")
def reference(model_dir, tmp_path_factory):
    """An uninterrupted custom-loop run: 6 epochs x 5 steps, checkpoints every 3 steps."""
    return train(tiny_config(model_dir, tmp_path_factory.mktemp("runs")))


def test_custom_loop_learns_beyond_the_untrained_model(reference, model_dir):
    status = reference.read_status()
    assert status["state"] == "finished" and status["step"] == 30
    assert status["best"]["strict_f1"] > _untrained_f1(model_dir) + 0.3
    assert json.loads((reference.path / "config.json").read_text())["engine"] == "custom"
    kinds = {r["kind"] for r in reference.metrics()}
    assert kinds == {"train", "eval"}
    assert all(r["tokens_per_s"] > 0 for r in reference.metrics("train"))
    assert "Dev metrics" in (reference.best_dir / "README.md").read_text()


def test_crash_mid_epoch_then_resume_matches_uninterrupted(reference, model_dir, tmp_path):
    config = tiny_config(model_dir, tmp_path)
    with pytest.raises(RuntimeError, match="simulated crash after step 8"):
        train(config, callbacks=[CrashAt(8)])  # mid-epoch 2; last complete checkpoint: step 6
    run = Run(list_runs(tmp_path)[0].path)
    assert run.read_status()["state"] == "failed"
    assert "simulated crash" in run.read_status()["error"]
    resume(run.path)
    _assert_same_run(reference, run)
    assert run.read_status()["resumed"] is True


class _CancelAt(Callback):
    def __init__(self, step: int):
        self.step = step

    def on_step_end(self, loop) -> None:
        if loop.state.step == self.step:
            loop.setup.run.request_cancel()  # as `python -m ner_demo cancel` does


def test_cancel_then_resume(reference, model_dir, tmp_path):
    run = train(tiny_config(model_dir, tmp_path), callbacks=[_CancelAt(11)])
    status = run.read_status()
    assert status["state"] == "cancelled" and status["step"] == 12  # stops at the next step boundary
    assert (run.checkpoints_dir / "step-0000012" / "COMPLETE").is_file()
    assert not run.cancel_path.exists()
    resume(run.path)
    _assert_same_run(reference, run)


def test_half_written_checkpoint_is_never_loaded(reference, model_dir, tmp_path):
    config = tiny_config(model_dir, tmp_path)
    with pytest.raises(RuntimeError):
        train(config, callbacks=[CrashAt(7)])
    run = Run(list_runs(tmp_path)[0].path)
    # A newer checkpoint folder without its marker, with garbage weights: resume must skip it.
    half = run.checkpoints_dir / "step-0000007"
    half.mkdir()
    (half / "model.safetensors").write_bytes(b"\x00" * 100)
    (half / "state.json").write_text('{"step": 7}')
    resume(run.path)
    _assert_same_run(reference, run)
    assert not half.exists()  # pruned as junk


@pytest.fixture(scope="module")
def trainer_reference(model_dir, tmp_path_factory):
    return train(tiny_config(model_dir, tmp_path_factory.mktemp("runs"), engine="trainer"))


def test_trainer_engine_learns_and_marks_its_checkpoints(trainer_reference, model_dir):
    run = trainer_reference
    status = run.read_status()
    assert status["state"] == "finished" and status["step"] == 30
    assert status["best"]["strict_f1"] > _untrained_f1(model_dir) + 0.3
    assert [r["step"] for r in run.metrics("eval")] == [5, 10, 15, 20, 25, 30]
    checkpoints = list((run.path / "trainer").glob("checkpoint-*"))
    assert checkpoints and all((p / "COMPLETE").is_file() for p in checkpoints)
    assert "trainer engine" in (run.best_dir / "README.md").read_text()


@pytest.mark.parametrize("engine", ["custom", "trainer"])
def test_best_folder_loads_in_transformers_pipeline(engine, reference, trainer_reference):
    from transformers import pipeline

    run = reference if engine == "custom" else trainer_reference
    ner = pipeline("token-classification", model=str(run.best_dir), aggregation_strategy="first")
    entities = ner("Tomas visited Larkmoor on Friday .")
    assert entities and {e["entity_group"] for e in entities} <= {"PER", "ORG", "LOC"}
    assert all(e["word"] for e in entities)


def test_trainer_crash_then_resume_matches_uninterrupted(trainer_reference, model_dir, tmp_path):
    with pytest.raises(RuntimeError, match="simulated crash after step 8"):
        train(tiny_config(model_dir, tmp_path, engine="trainer"), callbacks=[CrashAt(8)])
    run = Run(list_runs(tmp_path)[0].path)
    assert run.read_status()["state"] == "failed"
    # A newer HF checkpoint without our marker (as if the Trainer died while writing it): skipped.
    (run.path / "trainer" / "checkpoint-7").mkdir()
    resume(run.path)
    _assert_same_run(trainer_reference, run)


def test_trainer_resume_skips_a_checkpoint_whose_state_was_changed_on_disk(trainer_reference, model_dir, tmp_path):
    from ner_demo.training.checkpoints import complete_checkpoints

    with pytest.raises(RuntimeError, match="simulated crash after step 12"):
        train(tiny_config(model_dir, tmp_path, engine="trainer"), callbacks=[CrashAt(12)])
    run = Run(list_runs(tmp_path)[0].path)
    newest, older = complete_checkpoints(run.path / "trainer", "checkpoint-")[:2]
    state = newest / "trainer_state.json"
    state.write_bytes(b"\x00" * state.stat().st_size)  # same size: only the sha256 tells
    resume(run.path)
    status = run.read_status()
    assert status["resumed_from"] == older.name
    assert status["skipped_checkpoints"] == [{"checkpoint": newest.name, "reason": "trainer_state.json does not "
                                              "match its recorded sha256 (changed on disk after it was written)"}]
    _assert_same_run(trainer_reference, run)


def test_frozen_encoder_trains_only_the_head(model_dir, tmp_path):
    run = train(tiny_config(model_dir, tmp_path, freeze_encoder=True, learning_rate=5e-2, epochs=6))
    status = run.read_status()
    assert status["state"] == "finished"
    assert (run.path / "cache" / "frozen-encoder.safetensors").is_file()
    before, after = load_file(str(model_dir / "model.safetensors")), load_file(str(run.best_dir / "model.safetensors"))
    encoder = [k for k in before if not k.startswith("classifier")]
    assert encoder and all(torch.equal(before[k], after[k]) for k in encoder)
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("classifier"))
    losses = [loss for _, loss in _losses(run)]
    assert losses[-1] < losses[0]
    assert "strict_f1" in status["dev"] and "token_accuracy" in status["dev"]  # entity F1 beside accuracy


def test_class_weights_all_subwords_and_early_stopping(model_dir, tmp_path):
    run = train(tiny_config(model_dir, tmp_path, class_weighted_loss=True, all_subwords=True,
                            early_stopping_patience=1, learning_rate=1e-6, epochs=6))
    status = run.read_status()
    assert status["state"] == "finished" and status["stopped"] == "early_stopping"
    assert status["step"] < 30


@pytest.mark.parametrize("engine", ["custom", "trainer"])
def test_fixed_loss_reduction_learns_in_both_engines(engine, model_dir, tmp_path):
    run = train(tiny_config(model_dir, tmp_path, engine=engine, loss_reduction="fixed"))
    status = run.read_status()
    assert status["state"] == "finished" and status["best"]["strict_f1"] > _untrained_f1(model_dir) + 0.3


class _Snapshots(Callback):
    """The trainable weights after the given steps, and the loop's state at the last epoch's end."""

    def __init__(self, steps: set[int]):
        self.steps, self.weights, self.final = steps, {}, {}

    def on_step_end(self, loop) -> None:
        if loop.state.step in self.steps:
            self.weights[loop.state.step] = [p.detach().clone() for p in loop.average.params]

    def on_epoch_end(self, loop, record: dict) -> None:
        self.final = {"record": record, "mean": [m.clone() for m in loop.average.mean or []],
                      "model": [p.detach().clone() for p in loop.average.params]}


def test_weight_average_is_the_mean_of_the_tail_and_leaves_training_weights_alone(model_dir, tmp_path):
    # 30 steps, averaging from step 15 every 5 steps: the weights after steps 20, 25 and 30.
    snaps = _Snapshots({20, 25, 30})
    run = train(tiny_config(model_dir, tmp_path, average_from=0.5, average_every=5), callbacks=[snaps])
    assert snaps.final["record"]["averaged_weights"] == 3
    expected = [torch.stack(ws).mean(0) for ws in zip(*(snaps.weights[s] for s in (20, 25, 30)))]
    assert all(torch.allclose(m, e, atol=TOL, rtol=0) for m, e in zip(snaps.final["mean"], expected))
    # The evaluation swapped the mean in and back out: the model holds its step-30 weights again.
    assert all(torch.equal(p, w) for p, w in zip(snaps.final["model"], snaps.weights[30]))
    evals = run.metrics("eval")
    assert [r.get("averaged_weights", 0) for r in evals] == [0, 0, 0, 1, 2, 3]  # epochs end at 5, 10, ... 30


def test_weight_average_survives_a_crash_and_resume(model_dir, tmp_path):
    config = tiny_config(model_dir, tmp_path / "a", average_from=0.5, average_every=2)
    whole = train(config)
    crashed = tiny_config(model_dir, tmp_path / "b", average_from=0.5, average_every=2)
    with pytest.raises(RuntimeError, match="simulated crash after step 25"):
        train(crashed, callbacks=[CrashAt(25)])  # last checkpoint at step 24: steps 17, 19, 21, 23 averaged
    run = Run(list_runs(tmp_path / "b")[0].path)
    assert json.loads((run.checkpoints_dir / "step-0000024" / "state.json").read_text())["averaged"] == 4
    resume(run.path)
    _assert_same_run(whole, run)


def test_trainer_engine_refuses_weight_averaging(model_dir, tmp_path):
    from ner_demo.errors import ConfigError

    with pytest.raises(ConfigError, match="average_from=0.5: weight averaging is part of the custom engine"):
        tiny_config(model_dir, tmp_path, engine="trainer", average_from=0.5)


def test_encoder_layers_train_and_save_a_smaller_model(model_dir, tmp_path):
    from transformers import AutoConfig

    run = train(tiny_config(model_dir, tmp_path, encoder_layers="1", epochs=1))
    assert run.read_status()["state"] == "finished"
    assert AutoConfig.from_pretrained(str(run.best_dir)).num_hidden_layers == 1

"""TrainConfig: defaults, YAML/JSON round trips, overrides and the errors that name key and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from ner_demo.errors import ConfigError
from ner_demo.training.config import TrainConfig, coerce

SHIPPED = sorted((Path(__file__).resolve().parent.parent / "training").glob("*.yaml"))


def test_defaults_are_the_seeds():
    c = TrainConfig()
    assert (c.backbone, c.dataset, c.label_subset) == ("distilbert-base-cased", "conll2003", "all")
    assert (c.max_length, c.learning_rate, c.batch_size, c.epochs) == (128, 5e-5, 16, 3)
    assert (c.weight_decay, c.warmup_ratio, c.seed, c.grad_clip) == (0.01, 0.1, 42, 1.0)
    assert (c.freeze_encoder, c.class_weighted_loss, c.all_subwords, c.early_stopping_patience) == (
        False,
        False,
        False,
        0,
    )
    assert (c.precision, c.engine, c.device, c.casing, c.context_words) == ("auto", "custom", "auto", False, 0)


def test_json_round_trip(tmp_path):
    c = TrainConfig(name="x", epochs=5, max_steps=30, casing=True, engine="trainer")
    c.save(tmp_path / "c.json")
    assert TrainConfig.from_file(tmp_path / "c.json") == c


def test_yaml_round_trip_and_name_from_file(tmp_path):
    path = tmp_path / "my_run.yaml"
    path.write_text("backbone: offline-minilm\nlearning_rate: 5e-5\nepochs: 2\nmax_steps: null\n", encoding="utf-8")
    c = TrainConfig.from_file(path)
    assert (c.backbone, c.learning_rate, c.epochs, c.max_steps, c.name) == ("offline-minilm", 5e-5, 2, None, "my_run")


def test_overrides_coerce_types():
    c = TrainConfig().with_overrides(
        ["epochs=7", "learning_rate=1e-4", "freeze_encoder=yes", "max_steps=none", "backbone=offline-minilm"]
    )
    assert (c.epochs, c.learning_rate, c.freeze_encoder, c.max_steps, c.backbone) == (
        7,
        1e-4,
        True,
        None,
        "offline-minilm",
    )


def test_coerce_optional_int():
    assert coerce("max_steps", "30", int | None) == 30


@pytest.mark.parametrize("shipped", SHIPPED, ids=lambda p: p.name)
def test_shipped_configs_load(shipped):
    assert TrainConfig.from_file(shipped).name


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"engine": "keras"}, "engine='keras'"),
        ({"precision": "int8"}, "precision='int8'"),
        ({"batch_size": 0}, "batch_size=0"),
        ({"learning_rate": 5.0}, "learning_rate=5.0"),
        ({"warmup_ratio": 1.5}, "warmup_ratio=1.5"),
        ({"max_length": 20}, "max_length=20"),
        ({"precision": "fp16", "device": "cpu"}, "precision='fp16'"),
        ({"max_steps": 0}, "max_steps=0"),
    ],
)
def test_invalid_values_name_key_and_value(changes, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        TrainConfig(**changes)


def test_unknown_key_in_file_suggests_the_close_one(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("epoch: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown key 'epoch'; did you mean 'epochs'\?"):
        TrainConfig.from_file(path)


def test_wrong_type_in_file_names_key(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("epochs: three\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"epochs='three': expected int"):
        TrainConfig.from_file(path)


def test_bad_override_syntax_and_value():
    with pytest.raises(ConfigError, match="expected key=value"):
        TrainConfig().with_overrides(["epochs"])
    with pytest.raises(ConfigError, match=r"freeze_encoder='maybe': expected true or false"):
        TrainConfig().with_overrides(["freeze_encoder=maybe"])
    with pytest.raises(ConfigError, match="unknown key 'lr'"):
        TrainConfig().with_overrides(["lr=1e-3"])


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("epochs: 3\nbatch_size: [16\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c.yaml, line \d+: invalid YAML"):
        TrainConfig.from_file(path)


def test_unknown_loss_reduction_is_refused():
    from ner_demo.errors import ConfigError
    from ner_demo.training.config import TrainConfig

    with pytest.raises(ConfigError, match="loss_reduction='sum'"):
        TrainConfig(loss_reduction="sum")


def test_fixed_loss_is_the_sum_over_a_constant_and_batch_mean_the_mean():
    import math

    import torch

    from ner_demo.training.loss import token_loss

    logits = torch.zeros(1, 3, 3)  # uniform over 3 labels: ln 3 per token
    labels = torch.tensor([[0, -100, 1]])
    assert math.isclose(token_loss(logits, labels, None, "batch-mean", 99.0).item(), math.log(3), rel_tol=1e-6)
    assert math.isclose(token_loss(logits, labels, None, "fixed", 4.0).item(), 2 * math.log(3) / 4, rel_tol=1e-6)


def test_a_run_saved_before_loss_reduction_existed_resumes_with_the_batch_mean(tmp_path):
    import json

    from ner_demo.training.config import TrainConfig
    from ner_demo.training.runs import Run

    data = TrainConfig().to_dict()
    del data["loss_reduction"]
    (tmp_path / "config.json").write_text(json.dumps(data))
    assert Run(tmp_path).config().loss_reduction == "batch-mean"


def test_context_dropout_needs_context():
    with pytest.raises(ConfigError, match="context_dropout=0.5 needs context_words > 0"):
        TrainConfig(context_dropout=0.5)


def test_context_dropout_must_be_a_share():
    with pytest.raises(ConfigError, match=r"context_dropout=1.0: must be in \[0, 1\)"):
        TrainConfig(context_words=8, context_dropout=1.0)


@pytest.mark.parametrize("value", ["0,x", "1,1", "-1"])
def test_bad_encoder_layers_are_refused_naming_the_value(value):
    with pytest.raises(ConfigError, match=f"encoder_layers={value!r}"):
        TrainConfig(encoder_layers=value)

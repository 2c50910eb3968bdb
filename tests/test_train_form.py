"""The Train form is made from TrainConfig: a new field reaches the tab and `train --help` with no other
edit, and every key of the shipped recipe can be set from the tab."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import gradio as gr
import pytest
import yaml

import ner_demo.cli.train as cli_train
from ner_demo.app import train as train_tab
from ner_demo.app import train_format as tr
from ner_demo.cli import build_parser
from ner_demo.training import config as config_module
from ner_demo.training.config import PRECISIONS, RECIPE_KEY, TrainConfig

RECIPE = Path(__file__).resolve().parent.parent / "training" / "minilm_conll2003_default.yaml"

Extended = dataclasses.make_dataclass(
    "Extended",
    [("label_smoothing", float, dataclasses.field(
        default=0.0, metadata={"help": "Share of each label's weight spread over the others.", "group": "optimisation"}))],
    bases=(TrainConfig,), frozen=True,
)


def _tab(config_cls: type = TrainConfig) -> dict:
    with gr.Blocks() as demo:
        train_tab.build(demo, config_cls)
    return demo.config


def _inputs(config: dict) -> dict[str, dict]:
    return {c["props"]["elem_id"]: c["props"] for c in config["components"] if c["props"].get("elem_id")}


def test_a_new_field_appears_in_the_train_tab():
    config = _tab(Extended)
    field = _inputs(config)["train-label-smoothing"]
    assert field["label"] == "Label smoothing" and field["value"] == 0.0
    assert field["info"] == "Share of each label's weight spread over the others."
    start = next(d for d in config["dependencies"] if d["api_name"] == "start_training")
    ids = {c["id"]: c["props"].get("elem_id") for c in config["components"]}
    assert [ids[i] for i in start["inputs"]][-1] == "train-label-smoothing"  # the last field, the last input


def test_a_new_field_appears_in_train_help(monkeypatch, capsys):
    monkeypatch.setattr(config_module, "TrainConfig", Extended)
    monkeypatch.setattr(cli_train, "TrainConfig", Extended, raising=False)  # if the CLI imports it at the top
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    assert "label_smoothing (default 0.0): Share of each label's weight spread over the others." in \
        capsys.readouterr().out


def test_a_new_fields_form_value_reaches_the_config():
    values = {"backbone": "offline-minilm", "dataset": tr.DATASET_CONLL, "label_smoothing": 0.1}
    assert tr.config_from_form(values, "runs", Extended).label_smoothing == 0.1


def _recipe_settings() -> dict:
    """The shipped recipe's TrainConfig keys (its ``recipe:`` block describes it and is no setting)."""
    data = yaml.safe_load(RECIPE.read_text(encoding="utf-8"))
    assert RECIPE_KEY in data
    return {k: v for k, v in data.items() if k != RECIPE_KEY}


def test_every_key_of_the_shipped_recipe_is_a_train_form_input():
    recipe = _recipe_settings()
    inputs = _inputs(_tab())
    assert [key for key in recipe if train_tab.elem_id(key) not in inputs] == []


def test_the_shipped_recipe_set_in_the_form_is_the_recipe():
    recipe = _recipe_settings()
    assert tr.config_from_form(recipe, "runs") == TrainConfig.from_file(RECIPE)


def test_choices_come_from_the_field_metadata():
    precision = _inputs(_tab())["train-precision"]
    assert [value for _, value in precision["choices"]] == list(PRECISIONS)
    assert precision["value"] == TrainConfig.from_file(RECIPE).precision == "fp32"  # the form starts from the recipe


def test_fields_kept_out_of_the_form_by_metadata():
    assert "runs_dir" not in tr.form_names()  # metadata={"form": False}: the app's own runs folder
    assert len(tr.form_names()) == len(dataclasses.fields(TrainConfig)) - 1


def test_every_form_field_lands_in_one_group():
    grouped = tr.grouped(tr.form_fields())
    assert [title for _, title, _ in grouped] == list(tr.GROUPS.values())
    assert sorted(f.name for _, _, items in grouped for f in items) == sorted(tr.form_names())


def test_the_distillation_fields_are_train_form_inputs():
    inputs = _inputs(_tab())
    assert (inputs["train-teacher"]["value"], inputs["train-distill-weight"]["value"],
            inputs["train-distill-temperature"]["value"]) == ("", 0.5, 2.0)
    assert inputs["train-teacher"]["info"].startswith("Distil from a trained NER model")


def test_the_distillation_fields_are_in_train_help(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps long lines
    assert "teacher (default ''): Distil from a trained NER model" in out
    assert "distill_weight (default 0.5): With a teacher: the loss is (1 - w) * cross-entropy" in out
    assert "distill_temperature (default 2.0): With a teacher: the softmax temperature T" in out


def test_a_teacher_set_in_the_form_reaches_the_config():
    values = {"backbone": "offline-minilm", "dataset": tr.DATASET_CONLL, "teacher": "minilm-conll2003",
              "distill_weight": 0.3, "distill_temperature": 4}
    config = tr.config_from_form(values, "runs")
    assert (config.teacher, config.distill_weight, config.distill_temperature) == ("minilm-conll2003", 0.3, 4.0)

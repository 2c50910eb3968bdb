"""The Train tab's recipes: the form starts from the shipped recipe (offline too, and says why), a recipe
picked fills every input, and Start with no edits starts exactly the shipped recipe."""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
import pytest
from app_harness import write_fake_conll2003

import ner_demo.app.train_format as tr
import ner_demo.app.train_recipes as recipes_ui
from ner_demo import models
from ner_demo.app import train as train_tab
from ner_demo.training import background
from ner_demo.training.config import TrainConfig
from ner_demo.training.recipes import list_recipes, load_recipe

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_YAML = ROOT / "training" / "minilm_conll2003_default.yaml"


@pytest.fixture
def offline(monkeypatch):
    """The Hub does not answer: HF_HUB_OFFLINE, and no answer remembered from another test."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(tr, "_hub_cache", None)
    monkeypatch.setattr(models, "_hub_check", None)
    monkeypatch.setattr(tr, "_in_hub_cache", lambda repo_id: False)  # whatever this machine's HF cache holds


def _tab() -> gr.Blocks:
    with gr.Blocks() as demo:
        train_tab.build(demo)
    return demo


def _start_values(demo: gr.Blocks) -> list:
    """What the start button sends when nothing was edited: each form input's value as the page shows it,
    through the component's own preprocessing (as a browser's request is)."""
    start = next(d for d in demo.config["dependencies"] if d["api_name"] == "start_training")
    values = []
    for block_id in start["inputs"]:
        block = demo.blocks[block_id]
        props = next(c["props"] for c in demo.config["components"] if c["id"] == block_id)
        values.append(block.preprocess(props.get("value")))
    return values


def test_the_form_starts_from_the_shipped_recipe():
    props = {c["props"].get("elem_id"): c["props"] for c in _tab().config["components"]}
    assert props["train-recipe"]["value"] == "default-model"
    shipped = TrainConfig.from_file(SHIPPED_YAML)
    for name in ("backbone", "context_words", "epochs", "learning_rate", "average_from", "decoding", "chunk_share"):
        assert props[train_tab.elem_id(name)]["value"] == getattr(shipped, name), name


def test_offline_the_note_says_why_the_form_starts_from_the_shipped_recipe(offline):
    note = recipes_ui.start_note(tr.hub_available())
    assert note.startswith("The Hugging Face Hub does not answer, so the form starts from the shipped recipe on the "
                           "bundled offline encoder. Recipe **default-model** (version 1):")
    assert "expected dev F1 **0.9443** in 84 min" in note


def test_offline_start_with_no_edits_starts_exactly_the_shipped_recipe(offline, tmp_path, monkeypatch):
    monkeypatch.setenv("NER_DEMO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("NER_DEMO_HOME", str(tmp_path / "home"))
    write_fake_conll2003(tmp_path / "home")
    launched = []
    monkeypatch.setattr(background, "_launch", lambda run, resume: launched.append(run.id))  # nothing trains
    watched, *_ = train_tab.start_training(*_start_values(_tab()))
    (run_dir,) = [p for p in (tmp_path / "runs").iterdir() if p.is_dir()]
    saved = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    expected = TrainConfig.from_file(SHIPPED_YAML).to_dict()
    assert {k: v for k, v in saved.items() if k != "runs_dir"} == {k: v for k, v in expected.items() if k != "runs_dir"}
    assert launched[0] == run_dir.name == watched.value and run_dir.name.endswith("-default-model")


@pytest.mark.parametrize("name", [r.name for r in list_recipes()])
def test_a_recipe_shown_in_the_form_is_the_recipe(name):
    _, config = load_recipe(name)
    assert tr.config_from_form(recipes_ui.form_values(config), "runs") == config


def test_picking_a_recipe_fills_every_input(offline):
    names = tr.form_names()
    note, *values = recipes_ui.recipe_filler(names)("fast-model")
    filled = dict(zip(names, values))
    assert note.startswith("Recipe **fast-model** (version 1): The shipped fast model")
    assert (filled["encoder_layers"], filled["chunk_share"], filled["epochs"]) == ("0,2,4", 1.0, 4)
    assert filled["max_steps"] == 0  # not set
    assert filled["dataset"].value == tr.DATASET_CONLL
    assert [n for n in names if filled[n] is None] == []  # uploads are left as they are (skip), never blanked


def test_an_offline_hub_recipe_says_it_needs_the_hub(offline):
    note, *_ = recipes_ui.recipe_filler(tr.form_names())("conll2003-distilbert")
    assert note.endswith(f"⚠️ {recipes_ui.HUB_NEEDED}")


def test_an_unknown_recipe_name_from_the_api_is_refused_with_the_known_ones():
    with pytest.raises(gr.Error, match="no recipe 'x'; known recipes: default-model, fast-model"):
        recipes_ui.recipe_filler(tr.form_names())("x")


def test_without_a_recipes_folder_the_tab_still_builds_and_says_why(tmp_path, monkeypatch):
    monkeypatch.setenv("NER_DEMO_RECIPES", str(tmp_path / "nowhere"))
    props = {c["props"].get("elem_id"): c["props"] for c in _tab().config["components"]}
    assert props["train-recipe"]["choices"] == [] and props["train-backbone"]["value"] == TrainConfig().backbone
    assert recipes_ui.start_note(False).startswith("⚠️ The shipped recipe could not be read (no recipes folder")

"""Recipes: the training/*.yaml presets by name and version, what they state, and `train --recipe`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import ner_demo.cli.train as cli_train
from ner_demo.cli import build_parser, main
from ner_demo.errors import ConfigError
from ner_demo.training.config import TrainConfig
from ner_demo.training.recipes import RECIPES_ENV, list_recipes, load_recipe, recipes_dir

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = (ROOT / "BENCHMARKS.md").read_text(encoding="utf-8")
SHIPPED = ["default-model", "fast-model", "conll2003-distilbert", "conll2003-distilbert-trainer", "conll2003-frozen",
           "conll2003-offline-minilm", "fast-model-distilled", "multinerd-all", "multinerd-five"]


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """recipe:
  name: {name}
  version: 2
  title: "A test recipe"
  expected_dev_f1: null
  expected_time: null
  measured: "never"
backbone: offline-minilm
epochs: 1
"""


def test_every_training_yaml_is_a_recipe_the_shipped_ones_first():
    assert [r.name for r in list_recipes()] == SHIPPED
    assert sorted(r.path.name for r in list_recipes()) == sorted(p.name for p in (ROOT / "training").glob("*.yaml"))


def test_the_seeds_distilbert_recipe_says_lr_5e5_batch_16_3_epochs_length_128():
    _, config = load_recipe("conll2003-distilbert")
    assert (config.backbone, config.learning_rate, config.batch_size, config.epochs, config.max_length) == (
        "distilbert-base-cased", 5e-5, 16, 3, 128)


def test_the_shipped_recipes_state_what_benchmarks_measured():
    recipes = {r.name: r for r in list_recipes()}
    assert (recipes["default-model"].expected_dev_f1, recipes["default-model"].expected_time) == (0.9443, "84 min")
    assert (recipes["fast-model"].expected_dev_f1, recipes["fast-model"].expected_time) == (0.9233, "59 min")
    frozen = recipes["conll2003-frozen"]
    assert (frozen.expected_dev_f1, frozen.expected_time) == (0.5880, "about 4 min")


def test_a_recipe_never_measured_here_says_so_and_why():
    recipes = {r.name: r for r in list_recipes()}
    for name in ("conll2003-distilbert", "conll2003-distilbert-trainer", "multinerd-all", "multinerd-five"):
        assert recipes[name].expected_dev_f1 is None and recipes[name].expected_time is None
        assert recipes[name].measured.startswith("Not measured here:") and "Hub" in recipes[name].measured


def test_every_expected_dev_f1_and_cited_section_is_in_benchmarks():
    headings = [line for line in BENCHMARKS.splitlines() if line.startswith("#")]
    for recipe in list_recipes():
        if recipe.expected_dev_f1 is not None:
            assert f"{recipe.expected_dev_f1:.4f}" in BENCHMARKS, recipe.name
        for section in re.findall(r'BENCHMARKS\.md, "([^"]+)"', recipe.measured):
            assert any(section in h for h in headings), (recipe.name, section)


def test_the_shipped_recipes_keep_the_shipped_models_inference_features():
    for name, model in (("default-model", "minilm-conll2003"), ("fast-model", "minilm3-conll2003-fast")):
        _, config = load_recipe(name)
        shipped = json.loads((ROOT / "models" / model / "ner_demo.json").read_text(encoding="utf-8"))["input_features"]
        assert (config.casing, config.context_words, config.max_length, config.chunk_share) == (
            shipped["casing"], shipped["context_words"], shipped["max_length"], shipped.get("chunk_share", 0.5))
        assert config.decoding == "auto"  # chosen on dev, as ship chose theirs ("bio")


def test_a_recipe_loads_as_its_file_does_with_train_config():
    recipe, config = load_recipe("fast-model")
    assert config == TrainConfig.from_file(recipe.path) and config.encoder_layers == "0,2,4"


def test_the_distilled_fast_recipe_is_the_fast_recipe_with_the_shipped_default_model_as_teacher():
    from dataclasses import replace

    from ner_demo.training.distill import resolve_teacher

    _, fast = load_recipe("fast-model")
    recipe, distilled = load_recipe("fast-model-distilled")
    assert distilled == replace(fast, name="fast-model-distilled", teacher="minilm-conll2003", distill_weight=0.5,
                                distill_temperature=2.0)
    assert resolve_teacher(distilled).folder == ROOT / "models" / "minilm-conll2003"
    assert recipe.expected_dev_f1 is None and recipe.measured.startswith("Not measured here yet:")


def test_an_unknown_recipe_is_named_with_the_known_ones():
    with pytest.raises(ConfigError) as caught:
        load_recipe("default-modle")
    assert str(caught.value).startswith("no recipe 'default-modle' (did you mean 'default-model'?); known recipes: "
                                        "default-model, fast-model, conll2003-distilbert,")


def test_recipes_are_read_from_the_folder_the_environment_names(tmp_path, monkeypatch):
    _write(tmp_path / "mine", "one.yaml", MINIMAL.format(name="mine"))
    _write(tmp_path / "mine", "plain.yaml", "backbone: offline-minilm\n")  # a plain config: not a recipe
    monkeypatch.setenv(RECIPES_ENV, str(tmp_path / "mine"))
    assert recipes_dir() == tmp_path / "mine"
    assert [(r.name, r.version) for r in list_recipes()] == [("mine", 2)]
    assert load_recipe("mine")[1].epochs == 1


def test_a_missing_recipes_folder_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv(RECIPES_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match=f"looked in {RECIPES_ENV}=.*nowhere; set {RECIPES_ENV}"):
        list_recipes()


def test_a_recipe_block_with_an_unknown_key_names_the_file_and_the_key(tmp_path, monkeypatch):
    _write(tmp_path, "bad.yaml", MINIMAL.format(name="bad").replace("  measured:", "  expected_f1: 0.9\n  measured:"))
    monkeypatch.setenv(RECIPES_ENV, str(tmp_path))
    with pytest.raises(ConfigError, match=r"^bad.yaml: recipe: unknown key 'expected_f1'"):
        list_recipes()


def test_a_recipe_with_a_dev_f1_above_1_is_refused(tmp_path, monkeypatch):
    _write(tmp_path, "bad.yaml", MINIMAL.format(name="bad").replace("expected_dev_f1: null", "expected_dev_f1: 94.4"))
    monkeypatch.setenv(RECIPES_ENV, str(tmp_path))
    with pytest.raises(ConfigError, match=r"^bad.yaml: recipe.expected_dev_f1=94.4: a dev F1 between 0 and 1"):
        list_recipes()


def test_two_recipes_of_one_name_are_an_error_naming_both_files(tmp_path, monkeypatch):
    _write(tmp_path, "a.yaml", MINIMAL.format(name="same"))
    _write(tmp_path, "b.yaml", MINIMAL.format(name="same"))
    monkeypatch.setenv(RECIPES_ENV, str(tmp_path))
    with pytest.raises(ConfigError, match="two recipes are named 'same': a.yaml and b.yaml"):
        list_recipes()


def test_a_training_setting_typo_in_a_recipe_is_still_caught(tmp_path, monkeypatch):
    _write(tmp_path, "typo.yaml", MINIMAL.format(name="typo") + "epoch: 3\n")
    monkeypatch.setenv(RECIPES_ENV, str(tmp_path))
    with pytest.raises(ConfigError, match="unknown key 'epoch'; did you mean 'epochs'"):
        load_recipe("typo")


# ---- the CLI ----------------------------------------------------------------------------------------


def test_train_recipe_takes_overrides_on_top():
    args = build_parser().parse_args(["train", "--recipe", "fast-model", "--set", "epochs=1"])
    config = cli_train._config_of(args)
    assert (config.epochs, config.encoder_layers, config.chunk_share) == (1, "0,2,4", 1.0)


def test_train_with_both_config_and_recipe_is_refused_with_a_clear_message(capsys):
    code = main(["train", "--config", "training/conll2003_frozen.yaml", "--recipe", "fast-model"])
    assert code == 1
    assert capsys.readouterr().err == (
        "error: --config training/conll2003_frozen.yaml and --recipe fast-model: give one of them (a recipe is a "
        "named config file; add --set key=value to change its values)\n")


def test_train_with_an_unknown_recipe_lists_the_known_ones(capsys):
    assert main(["train", "--recipe", "nope"]) == 1
    assert "error: no recipe 'nope'; known recipes: default-model, fast-model" in capsys.readouterr().err


def test_the_recipes_command_prints_name_version_dev_f1_and_time(capsys):
    assert main(["recipes"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["recipe", "version", "dev", "F1"]
    assert lines[1].split()[:5] == ["default-model", "1", "0.9443", "84", "min"]
    assert lines[3].split()[:4] == ["conll2003-distilbert", "1", "not", "measured"]


def test_the_recipes_command_as_json(capsys):
    assert main(["recipes", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)[0]
    assert {k: first[k] for k in ("name", "version", "expected_dev_f1", "expected_time", "file")} == {
        "name": "default-model", "version": 1, "expected_dev_f1": 0.9443, "expected_time": "84 min",
        "file": "minilm_conll2003_default.yaml"}

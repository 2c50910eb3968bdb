"""The Train tab's recipe picker: a dropdown above the form that fills every input from a recipe
(``training/*.yaml``, :mod:`ner_demo.training.recipes`), and the form's starting values.

The form starts from the shipped default recipe (the bundled offline encoder, so it trains with or
without the Hugging Face Hub); the values are the components' own, set when the tab is built, so a page
load never resets them. A line under the picker says where the values come from, and why offline.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import gradio as gr

import ner_demo.app.train_format as tr
from ner_demo.app.common import LIGHT, friendly
from ner_demo.errors import ConfigError, NerDemoError
from ner_demo.training.config import TrainConfig
from ner_demo.training.recipes import DEFAULT_RECIPE, Recipe, list_recipes, load_recipe

HUB_NEEDED = ("It needs the Hugging Face Hub (for its backbone or its data), which does not answer from here: "
              "pick a recipe on the offline encoder, or set a local backbone below.")
FILL_FAILED = "⚠️ That recipe could not fill the form (see the error message); the inputs kept their values."
OFFLINE_NOTE = ("The Hugging Face Hub does not answer, so the form starts from the shipped recipe on the bundled "
                "offline encoder.")


def form_values(config: TrainConfig, config_cls: type = TrainConfig) -> dict[str, Any]:
    """The form inputs' values that show ``config``: what :func:`train_format.config_from_form` turns back
    into ``config`` (``runs_dir`` aside, which the app sets). Upload inputs get None: a recipe names no
    upload. A dataset the form cannot show (a folder) is a ConfigError that points to the CLI.

    >>> v = form_values(TrainConfig(dataset="multinerd", label_subset="five", max_steps=None))
    >>> v["dataset"], v["label_subset"], v["max_steps"]
    ('multinerd:five', 'five', 0)
    """
    if config.train_file or config.dev_file:
        raise ConfigError("a recipe with train_file/dev_file cannot fill the form (uploads come from the browser); "
                          "upload the files, or train it with `python -m ner_demo train --recipe`")
    if config.dataset == "multinerd":
        dataset = tr.DATASET_MULTINERD_FIVE if config.label_subset == "five" else tr.DATASET_MULTINERD_ALL
    elif config.dataset == tr.DATASET_CONLL:
        dataset = tr.DATASET_CONLL
    else:
        raise ConfigError(f"dataset={config.dataset!r}: the Train form offers CoNLL-2003, MultiNERD and uploads; "
                          "train this recipe with `python -m ner_demo train --recipe`")
    values = {}
    for f in tr.form_fields(config_cls):
        value = getattr(config, f.name)
        values[f.name] = 0 if value is None and f.kind in ("int", "float") else value  # 0: "not set"
    return values | {"dataset": dataset, "train_file": None, "dev_file": None}


def describe(recipe: Recipe) -> str:
    """What the picked recipe is and what it gave on this machine, for the line under the picker."""
    if recipe.expected_dev_f1 is not None:
        time = recipe.expected_time or "a time not measured"
        expected = f"expected dev F1 **{recipe.expected_dev_f1:.4f}** in {time}"
    else:
        expected = "no dev F1 measured on this machine"
    return f"Recipe **{recipe.name}** (version {recipe.version}): {recipe.title}; {expected}. {recipe.measured}"


def starting_recipe(config_cls: type = TrainConfig) -> tuple[Recipe | None, TrainConfig | None, str]:
    """(the recipe the form starts from, its config, a problem) : the shipped default; when it cannot be
    read, (None, None, why), and the form starts from ``config_cls``'s defaults with that said."""
    try:
        recipe, config = load_recipe(DEFAULT_RECIPE, config_cls)
        form_values(config, config_cls)  # a recipe the form cannot show is a problem here, not a wrong form
    except NerDemoError as exc:
        return None, None, (f"The shipped recipe could not be read ({exc}), so the form starts from "
                            "TrainConfig's defaults.")
    return recipe, config, ""


def starting_fields(config_cls: type = TrainConfig) -> list[tr.FormField]:
    """The form's fields with the starting recipe's values as their defaults (the components' values)."""
    _, config, _ = starting_recipe(config_cls)
    fields = tr.form_fields(config_cls)
    if config is None:
        return fields
    values = form_values(config, config_cls)
    return [replace(f, default=values[f.name]) for f in fields]


def start_note(hub: bool, config_cls: type = TrainConfig) -> str:
    """The line under the picker when the page loads: where the form's values come from, and why."""
    recipe, _, problem = starting_recipe(config_cls)
    if recipe is None:
        return f"⚠️ {problem}"
    why = OFFLINE_NOTE if not hub else "The form starts from the shipped recipe, on the bundled offline encoder."
    return f"{why} {describe(recipe)}"


def needs_hub(config: TrainConfig, hub: bool) -> bool:
    """Whether ``config`` cannot train here because its backbone or its data comes from an unreachable Hub."""
    return not hub and (config.dataset == "multinerd" or tr.backbone_problem(config.backbone, hub) is not None)


def _choices() -> list[tuple[str, str]]:
    try:
        return [(r.label, r.name) for r in list_recipes()]
    except NerDemoError:  # no recipes folder (e.g. an installed wheel): the note says why the picker is empty
        return []


def build_picker(config_cls: type = TrainConfig) -> tuple[gr.Dropdown, gr.Markdown]:
    """The recipe dropdown and the line under it, laid out where this is called (above the form)."""
    recipe, _, _ = starting_recipe(config_cls)
    picker = gr.Dropdown(choices=_choices(), value=recipe.name if recipe else None, label="Recipe",
                         info="A named, versioned preset (training/*.yaml): picking one fills every input below, "
                         "which you can still edit.", elem_id="train-recipe")
    note = gr.Markdown(elem_id="train-recipe-note")
    return picker, note


def recipe_filler(names: list[str], config_cls: type = TrainConfig):
    """The handler of the picker: a recipe name -> the note, then one value per form field in ``names``' order."""

    @friendly
    def fill_from_recipe(name: str | None):
        if not name:
            raise gr.Error("pick a recipe from the list")
        recipe, config = load_recipe(name, config_cls)
        values = form_values(config, config_cls)
        hub = tr.hub_available()
        note = describe(recipe) + (f" ⚠️ {HUB_NEEDED}" if needs_hub(config, hub) else "")
        # the radio offers MultiNERD only with the Hub; a MultiNERD recipe shows it anyway (the note says why)
        dataset = gr.Radio(choices=tr.dataset_choices(hub or config.dataset == "multinerd"), value=values["dataset"])
        values = values | {"dataset": dataset}
        # upload inputs keep what the user put there: the dataset radio decides whether they are used
        return (note, *(gr.skip() if n in ("train_file", "dev_file") else values[n] for n in names))

    return fill_from_recipe


def wire(demo: gr.Blocks, picker: gr.Dropdown, note: gr.Markdown, inputs: dict, config_cls: type = TrainConfig) -> None:
    """Picking a recipe fills the form; each page load says where the form's values come from."""
    names = tr.form_names(config_cls)
    filled = picker.input(recipe_filler(names, config_cls), picker, [note, *(inputs[n] for n in names)],
                          api_name="fill_from_recipe", **LIGHT)

    def fill_failed():
        return FILL_FAILED  # the note must not keep describing the recipe picked before

    filled.failure(fill_failed, None, note, queue=False, show_progress="hidden", api_visibility="private")
    demo.load(lambda: start_note(tr.hub_available(), config_cls), None, note, api_name="recipe_note", **LIGHT)

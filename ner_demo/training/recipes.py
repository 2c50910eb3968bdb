"""Recipes: named, versioned training presets, one ``training/*.yaml`` each.

A recipe is a TrainConfig file with a top-level ``recipe:`` mapping that says what it is and what it
gives on this machine (``TrainConfig.from_file`` skips that mapping; it is not a training setting)::

    recipe:
      name: default-model          # what `train --recipe` and the Train tab call it
      version: 1                   # raised whenever a value of the recipe changes
      title: "The shipped default model: ..."
      expected_dev_f1: 0.9443      # dev strict F1 measured on this machine, or null (never measured)
      expected_time: "84 min"      # wall time measured on this machine, or null
      measured: >-                 # where and how (a BENCHMARKS.md section), or why it was not measured

The recipes folder (:func:`recipes_dir`): ``$NER_DEMO_RECIPES`` when set, else the checkout's
``training/`` beside the package (as :func:`ner_demo.models.shipped_model_dir` finds ``models/``).

>>> recipe, config = load_recipe("default-model")                          # doctest: +SKIP
>>> recipe.version, recipe.expected_dev_f1, config.backbone                # doctest: +SKIP
(1, 0.9443, 'offline-minilm')
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path

from ner_demo.errors import ConfigError
from ner_demo.training.config import RECIPE_KEY, TrainConfig

RECIPES_ENV = "NER_DEMO_RECIPES"
CHECKOUT_RECIPES = Path(__file__).resolve().parent.parent.parent / "training"
# The shipped default model's recipe: the Train tab starts from it (it trains offline, on the bundled encoder).
DEFAULT_RECIPE = "default-model"
SHIPPED_RECIPES = (DEFAULT_RECIPE, "fast-model")  # listed first, in this order; then the others by name
_REQUIRED = ("name", "version", "title", "measured")
_OPTIONAL = ("expected_dev_f1", "expected_time")


@dataclass(frozen=True)
class Recipe:
    """A recipe's description (its ``recipe:`` mapping) and the file it lives in."""

    name: str
    version: int
    title: str
    expected_dev_f1: float | None  # None: never measured here (``measured`` says why)
    expected_time: str | None
    measured: str  # where and how the expectations were measured (BENCHMARKS.md), or why not
    path: Path

    @property
    def label(self) -> str:
        """One line for a picker: name, version, expected dev F1 and time.

        >>> Recipe("fast", 1, "t", 0.9233, "59 min", "m", Path("f.yaml")).label
        'fast (v1): dev F1 0.9233, 59 min'
        """
        f1 = f"dev F1 {self.expected_dev_f1:.4f}" if self.expected_dev_f1 is not None else "dev F1 not measured here"
        return f"{self.name} (v{self.version}): {f1}, {self.expected_time or 'time not measured here'}"

    def to_dict(self) -> dict:
        return {"name": self.name, "version": self.version, "title": self.title,
                "expected_dev_f1": self.expected_dev_f1, "expected_time": self.expected_time,
                "measured": self.measured, "file": self.path.name}


def recipes_dir() -> Path:
    """Where recipes are read: ``$NER_DEMO_RECIPES`` when set (a folder of ``*.yaml``), else the checkout's
    ``training/``. A ConfigError says where it looked when the folder is missing."""
    chosen = os.environ.get(RECIPES_ENV)
    folder = Path(chosen).expanduser() if chosen else CHECKOUT_RECIPES
    if not folder.is_dir():
        where = f"{RECIPES_ENV}={chosen}" if chosen else "training/ beside the package (a source checkout)"
        raise ConfigError(f"no recipes folder: looked in {where}; set {RECIPES_ENV} to a folder of recipe YAML files")
    return folder


def _description(path: Path) -> Recipe | None:
    """The ``recipe:`` mapping of one YAML file (None: the file has none, a plain config)."""
    import yaml  # deferred as in TrainConfig.from_file: only reading configs needs it

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path.name}{where}: invalid YAML ({getattr(exc, 'problem', exc)})") from None
    block = data.get(RECIPE_KEY) if isinstance(data, dict) else None
    if block is None:
        return None
    if not isinstance(block, dict):
        raise ConfigError(f"{path.name}: {RECIPE_KEY}: must be a mapping of {', '.join(_REQUIRED + _OPTIONAL)}")
    unknown = sorted(set(block) - set(_REQUIRED + _OPTIONAL))
    missing = [key for key in _REQUIRED if key not in block]
    if unknown or missing:
        problem = f"unknown key {unknown[0]!r}" if unknown else f"missing {', '.join(missing)}"
        raise ConfigError(f"{path.name}: {RECIPE_KEY}: {problem} (keys: {', '.join(_REQUIRED + _OPTIONAL)})")
    name, version, f1 = block["name"], block["version"], block.get("expected_dev_f1")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{path.name}: {RECIPE_KEY}.name={name!r}: give a short name such as 'default-model'")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ConfigError(f"{path.name}: {RECIPE_KEY}.version={version!r}: must be a whole number, 1 or more")
    if f1 is not None and (isinstance(f1, bool) or not isinstance(f1, (int, float)) or not 0 <= f1 <= 1):
        raise ConfigError(f"{path.name}: {RECIPE_KEY}.expected_dev_f1={f1!r}: a dev F1 between 0 and 1, or null")
    time = block.get("expected_time")
    return Recipe(name.strip(), version, str(block["title"]), None if f1 is None else float(f1),
                  None if time is None else str(time), " ".join(str(block["measured"]).split()), path)


def list_recipes() -> list[Recipe]:
    """Every recipe of :func:`recipes_dir`, the shipped models' first, then by name. YAML files without a
    ``recipe:`` mapping are plain configs (``train --config``), not recipes; two recipes of one name are
    an error naming both files."""
    found: dict[str, Recipe] = {}
    for path in sorted(recipes_dir().glob("*.yaml")):
        recipe = _description(path)
        if recipe is None:
            continue
        if recipe.name in found:
            raise ConfigError(f"two recipes are named {recipe.name!r}: {found[recipe.name].path.name} and {path.name}")
        found[recipe.name] = recipe
    first = {name: i for i, name in enumerate(SHIPPED_RECIPES)}
    return sorted(found.values(), key=lambda r: (first.get(r.name, len(first)), r.name))


def load_recipe(name: str, config_cls: type = TrainConfig) -> tuple[Recipe, TrainConfig]:
    """The recipe called ``name`` and its config (``config_cls.from_file``: every key checked). An unknown
    name is a ConfigError that lists the known ones."""
    recipes = list_recipes()
    for recipe in recipes:
        if recipe.name == name:
            return recipe, config_cls.from_file(recipe.path)
    known = [r.name for r in recipes]
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ConfigError(f"no recipe {name!r}{hint}; known recipes: {', '.join(known) or 'none'} "
                      f"(`python -m ner_demo recipes` lists them)")


def format_recipes(recipes: list[Recipe]) -> str:
    """The ``recipes`` command's table: name, version, expected dev F1 and time, title."""
    rows = [("recipe", "version", "dev F1", "time", "what")]
    rows += [(r.name, str(r.version), f"{r.expected_dev_f1:.4f}" if r.expected_dev_f1 is not None else "not measured",
              r.expected_time or "not measured", r.title) for r in recipes]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row[:4], widths)) + "  " + row[4] for row in rows)

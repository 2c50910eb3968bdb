"""Which models the pickers offer, and a small cache of loaded models shared by every request.

A picker value is one of: :data:`DEFAULT_CHOICE` (the shipped model, or ``$NER_DEMO_MODEL``), another
shipped model's folder (the fast model), the ``best/`` folder of a finished run, a Hub id, or a local
model folder typed by the user.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

from ner_demo.errors import ModelLoadError
from ner_demo import models
from ner_demo.inference import Tagger, load_for_serving
from ner_demo.models import default_model

DEFAULT_CHOICE = "(default)"  # not a valid Hub id or a folder name anyone types, so it cannot collide
# What a loaded model is read from: its weights, its config and ner_demo.json (a calibration saved from
# the Evaluate tab or `calibrate --write` changes the Tagger's temperature and thresholds).
_WEIGHT_FILES = ("model.safetensors", "config.json", "ner_demo.json")


def default_model_problem() -> str | None:
    """A sentence for the UI when the default model is unavailable, else None."""
    try:
        location = default_model()
    except ModelLoadError:
        return (
            f"The shipped model is not installed (no `{models.DEFAULT_SHIPPED}` under `models/`). "
            "Pick a finished training run, type a Hub id (needs internet) or a local model folder, "
            "or train one in the Train tab."
        )
    # A Hub id in $NER_DEMO_MODEL is not a folder: only loading it can tell whether it works.
    if Path(location).exists() and not (Path(location) / "config.json").is_file():
        return f"The default model `{location}` is not a model folder (no config.json); pick another model."
    return None


def default_label() -> str:
    chosen = os.environ.get("NER_DEMO_MODEL")
    if chosen:
        return f"default: {Path(chosen).name or chosen} (NER_DEMO_MODEL)"
    return f"shipped default: {models.DEFAULT_SHIPPED}"


def finished_run_models(runs_dir: str | Path) -> list[tuple[str, str]]:
    """(label, best/ folder) of every run that left a loadable best model, newest first.

    A run that is still going but already wrote ``best/`` is listed too (marked), since its best
    model so far is complete on disk: ``best/`` is only ever swapped in whole.
    """
    from ner_demo.training.runs import list_runs

    out = []
    for info in reversed(list_runs(runs_dir)):
        best = Path(info.path) / "best"
        if not (best / "config.json").is_file():
            continue
        f1 = f", dev F1 {info.best_f1:.3f}" if info.best_f1 is not None and info.best_f1 >= 0 else ""
        state = "" if info.state == "finished" else f", {info.state}"
        out.append((f"run {info.run_id}{f1}{state}", str(best)))
    return out


def model_choices(runs_dir: str | Path) -> list[tuple[str, str]]:
    """Picker choices: the default first (when it exists), the other shipped models, then finished runs."""
    choices = [] if default_model_problem() else [(default_label(), DEFAULT_CHOICE)]
    shipped = [(f"shipped: {folder.name}", str(folder)) for folder in models.other_shipped_models()]
    return choices + shipped + finished_run_models(runs_dir)


def initial_choice(runs_dir: str | Path) -> str | None:
    choices = model_choices(runs_dir)
    return choices[0][1] if choices else None


def resolve_choice(value: str | None) -> str:
    """The folder or Hub id behind a picker value; raises ModelLoadError with advice when empty."""
    value = (value or "").strip()
    if not value:
        raise ModelLoadError("no model chosen: pick one from the list, or type a Hub id or a local model folder")
    return default_model() if value == DEFAULT_CHOICE else value


def _stamp(location: str) -> tuple:
    """Changes when a local model is rewritten (a run's best/ is replaced when dev F1 improves, a calibration
    is saved into its ner_demo.json)."""
    folder = Path(location)
    if not folder.is_dir():
        return ()
    return tuple((folder / name).stat().st_mtime_ns if (folder / name).exists() else 0 for name in _WEIGHT_FILES)


class ModelCache:
    """Loaded ``(model, tokenizer, features)`` by location, least recently used evicted.

    Taggers are kept too, per model and aggregation: building one may start an ONNX
    Runtime session (or, the first time ever, export the model), which no request should pay for
    twice. A lock per location makes concurrent first requests load a model once.
    """

    def __init__(self, size: int = 3):
        self.size = size
        self._items: OrderedDict[tuple, tuple] = OrderedDict()
        self._taggers: dict[tuple, object] = {}
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}

    def load(self, location: str) -> tuple:

        key = (location, _stamp(location))
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            gate = self._loading.setdefault(location, threading.Lock())
        with gate:
            with self._lock:
                if key in self._items:
                    return self._items[key]
            # PyTorch folders, Hub ids and ONNX exports alike; a folder served by its cached ONNX export (the
            # shipped models) without torch or transformers in this process (inference.load_for_serving).
            loaded = load_for_serving(location)
            with self._lock:
                for old in [k for k in self._items if k[0] == location]:
                    del self._items[old]  # a stale copy of a rewritten folder
                self._items[key] = loaded
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
                self._taggers = {k: t for k, t in self._taggers.items() if k[0] in self._items}
            return loaded

    def tagger(self, choice: str | None, aggregation: str = "first"):
        """The Tagger of a picker value, run as its folder chooses (backend and precision ``auto``: what
        :meth:`load` loads it for)."""

        location = resolve_choice(choice)
        model, tokenizer, features = self.load(location)
        key = ((location, _stamp(location)), aggregation)
        with self._lock:
            if key in self._taggers:
                return self._taggers[key]
        with self._loading[location]:  # set by load(); one export/session build per model at a time
            with self._lock:
                if key in self._taggers:
                    return self._taggers[key]
            tagger = Tagger(model, tokenizer, features, aggregation=aggregation)
            with self._lock:
                if key[0] in self._items:  # not evicted meanwhile
                    self._taggers[key] = tagger
            return tagger

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._taggers.clear()

"""The Train tab without gradio: the form read from TrainConfig and its values back to a TrainConfig,
the Hub check for backbones, run progress and the runs table; the curves are
:func:`ner_demo.plots.training.curves_figure`."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Mapping, Sequence

from ner_demo.errors import ConfigError, ModelLoadError
from ner_demo.models import OFFLINE_ENCODER, resolve_backbone
from ner_demo.training.config import TrainConfig, base_type, field_types
from ner_demo.training.runs import RunInfo

DATASET_CONLL = "conll2003"
DATASET_MULTINERD_ALL = "multinerd:all"
DATASET_MULTINERD_FIVE = "multinerd:five"
DATASET_UPLOAD = "upload"
ANNOTATION_PREFIX = "annotation:"  # ner_demo.annotation.source.PREFIX
RUNS_HEADERS = ["run", "state", "engine", "backbone", "data", "progress", "best dev F1", "error"]
BACKBONE_SUGGESTIONS = ["distilbert-base-cased", OFFLINE_ENCODER, "bert-base-cased", "roberta-base"]
_HUB_CHECK_TTL_S = 60.0
_hub_cache: tuple[float, bool] | None = None


def dataset_choices(hub: bool) -> list[tuple[str, str]]:
    """CoNLL-2003 and an upload always; MultiNERD only when the Hub answers (it lives there)."""
    choices = [("CoNLL-2003 (local cache)", DATASET_CONLL)]
    if hub:
        choices += [("MultiNERD, all 15 types (Hub)", DATASET_MULTINERD_ALL),
                    ("MultiNERD, five types PER/ORG/LOC/DIS/ANIM (Hub)", DATASET_MULTINERD_FIVE)]
    return choices + [("uploaded train + dev CoNLL files", DATASET_UPLOAD)]


def hub_available(refresh: bool = False) -> bool:
    """:func:`ner_demo.data.hub_reachable`, remembered for a minute: the probe can take seconds."""
    global _hub_cache
    from ner_demo.data.hub import hub_reachable

    now = time.monotonic()
    if refresh or _hub_cache is None or now - _hub_cache[0] > _HUB_CHECK_TTL_S:
        _hub_cache = (now, hub_reachable())
    return _hub_cache[1]


def _in_hub_cache(repo_id: str) -> bool:
    """Whether a Hub model's config is already in the local Hugging Face cache (usable offline)."""
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)
    except Exception:  # an odd id or cache layout: treat as not cached
        return False


def backbone_problem(name: str, hub: bool | None = None) -> str | None:
    """A plain sentence when ``name`` cannot be used here (bad name, or Hub needed but unreachable)."""
    try:
        backbone = resolve_backbone(name)
    except ModelLoadError as exc:
        return str(exc)
    if not backbone.needs_hub or _in_hub_cache(backbone.location):
        return None
    if hub if hub is not None else hub_available():
        return None
    return (f"`{name}` is downloaded from the Hugging Face Hub, and this machine cannot reach the Hub. "
            f"Use the offline encoder `{OFFLINE_ENCODER}` (all-MiniLM-L6-v2, installed with the app) "
            "or a local model folder instead.")


@dataclass(frozen=True)
class FormField:
    """One input of the Train form, read from a TrainConfig field and its metadata."""

    name: str
    kind: str  # "bool", "int", "float", "str" or "choice"
    default: Any
    optional: bool  # ``int | None``: 0 or empty means "not set" (such fields are at least 1 when set)
    help: str
    choices: tuple[str, ...]
    group: str

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").capitalize()


# The form's accordions, in order; a field whose group is not named here lands in "Other settings".
GROUPS = {"data": "Data", "backbone": "Backbone", "features": "Inference features", "optimisation": "Optimisation",
          "engine": "Engine, hardware and checkpoints"}
OTHER_GROUP = "Other settings"
CLOSED_GROUPS = ("engine",)  # open at start: every group that the tests and a first run reach for


def form_fields(config_cls: type = TrainConfig) -> list[FormField]:
    """The Train form's inputs, one per field of ``config_cls`` in the dataclass's order; a field with
    ``metadata={"form": False}`` is not a form input (the app sets it, e.g. ``runs_dir``).

    >>> [f.name for f in form_fields()][:3], form_fields()[0].kind
    (['name', 'backbone', 'dataset'], 'str')
    """
    types = field_types(config_cls)
    out = []
    for f in fields(config_cls):
        if f.metadata.get("form", True) is False:
            continue
        base, optional = base_type(types[f.name])
        choices = tuple(f.metadata.get("choices", ()))
        kind = "choice" if choices else {bool: "bool", int: "int", float: "float"}.get(base, "str")
        out.append(FormField(f.name, kind, f.default, optional, f.metadata.get("help", ""), choices,
                             f.metadata.get("group", "")))
    return out


def form_names(config_cls: type = TrainConfig) -> list[str]:
    """The names of the form's inputs, in the order the ``start_training`` endpoint takes their values."""
    return [f.name for f in form_fields(config_cls)]


def grouped(form: Sequence[FormField]) -> list[tuple[str, str, list[FormField]]]:
    """(group key, title, fields) in the order of :data:`GROUPS`, then the other groups."""
    groups: dict[str, list[FormField]] = {key: [] for key in GROUPS}
    for f in form:
        groups.setdefault(f.group if f.group in GROUPS else "", []).append(f)
    return [(key, GROUPS.get(key, OTHER_GROUP), items) for key, items in groups.items() if items]


def config_from_form(values: Mapping[str, Any], runs_dir: str | Path, config_cls: type = TrainConfig) -> TrainConfig:
    """A TrainConfig from the form's values, one per form field (see :func:`form_fields`), validated by
    ``TrainConfig.from_dict``: the messages are the CLI's. ``dataset`` is the dataset radio's value
    (:func:`dataset_choices`); an optional input (``int | None``) left at 0 or empty means "not set" (a
    number box always shows a number, and those fields are at least 1 when set); an empty name is "app".

    >>> values = {"backbone": " offline-minilm ", "dataset": DATASET_MULTINERD_FIVE, "epochs": 1}
    >>> cfg = config_from_form(values, "runs")
    >>> cfg.backbone, cfg.dataset, cfg.label_subset, cfg.epochs, cfg.name
    ('offline-minilm', 'multinerd', 'five', 1, 'app')
    """
    optional = {f.name for f in form_fields(config_cls) if f.optional}
    data = {k: (None if k in optional and v in (None, "", 0) else v) for k, v in values.items()}
    choice = data.pop("dataset", DATASET_CONLL)
    train_file, dev_file = data.pop("train_file", None), data.pop("dev_file", None)
    data.update(dataset=DATASET_CONLL, train_file=None, dev_file=None)
    if choice in (DATASET_MULTINERD_ALL, DATASET_MULTINERD_FIVE):
        subset = choice.split(":")[1]
        own = (data.get("label_subset") or "all").strip()
        if subset == "five" and own not in ("all", "five"):
            raise ConfigError(f"label_subset={own!r}: the dataset choice 'MultiNERD, five types' sets the types; "
                              "pick 'MultiNERD, all 15 types' to keep your own label_subset")
        data.update(dataset="multinerd", label_subset=subset if subset == "five" else own)
    elif choice == DATASET_UPLOAD:
        if not train_file or not dev_file:
            raise ConfigError("upload both a train and a dev CoNLL file, or pick CoNLL-2003")
        data.update(train_file=str(train_file), dev_file=str(dev_file))
    elif str(choice).startswith(ANNOTATION_PREFIX):  # a dataset of the Annotate tab (annotation:<name>[@<db>])
        data.update(dataset=choice)
    elif choice != DATASET_CONLL:
        raise ConfigError(f"dataset {choice!r} is not one of {', '.join(v for _, v in dataset_choices(True))}")
    for key in ("init_from", "teacher"):  # a cleared dropdown: start from the backbone / no teacher
        if key in data and data[key] is None:
            data[key] = ""
    for key in ("name", "backbone", "label_subset", "init_from", "teacher"):
        if isinstance(data.get(key), str):
            data[key] = data[key].strip()
    data["name"] = data.get("name") or "app"
    data["runs_dir"] = str(runs_dir)
    return config_cls.from_dict(data, source="the Train form")


def field_help(name: str, config_cls: type = TrainConfig) -> str:
    """The TrainConfig help text of a field, shown under the form's inputs."""
    for f in fields(config_cls):
        if f.name == name:
            return f.metadata.get("help", "")
    raise KeyError(name)


# ---- progress ------------------------------------------------------------------------------------


def format_duration(seconds: float | None) -> str:
    """Seconds for people.

    >>> format_duration(3725), format_duration(42), format_duration(None)
    ('1 h 02 min', '42 s', '—')
    """
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


def progress_fraction(status: dict) -> float:
    total = int(status.get("total_steps") or 0)
    if status.get("state") == "finished":
        return 1.0
    return min(1.0, int(status.get("step") or 0) / total) if total else 0.0


def progress_html(status: dict) -> str:
    """A progress bar with step, epoch, ETA, speed and the latest dev F1; the error when it failed."""
    import html

    state = status.get("state", "unknown")
    frac = progress_fraction(status)
    step, total = int(status.get("step") or 0), int(status.get("total_steps") or 0)
    parts = [f"<b>{html.escape(str(status.get('run_id', '')))}</b> · <b class='ner-state-{state}'>{state}</b>"]
    if total:
        parts.append(f"step {step:,}/{total:,} ({100 * frac:.0f}%)")
    if status.get("epoch") is not None and state in ("running", "queued"):
        parts.append(f"epoch {float(status['epoch']):.2f}")
    phase = status.get("phase") if state == "running" else None
    if phase:  # "evaluating on dev": the bar may sit at 100 % meanwhile
        parts.append(html.escape(str(phase)))
    if state == "running":  # the whole run's: the steps left, and the dev evaluations and checkpoints to come
        parts.append(f"ETA {format_duration(status.get('eta_s'))} (dev evaluation included)")
    if status.get("elapsed_s") is not None:
        parts.append(f"elapsed {format_duration(status.get('elapsed_s'))}")
    if status.get("tokens_per_s"):
        parts.append(f"{float(status['tokens_per_s']):,.0f} tokens/s")
    if status.get("loss") is not None:
        parts.append(f"loss {float(status['loss']):.4f}")
    best = status.get("best") or {}
    if best.get("strict_f1") is not None:
        parts.append(f"best dev F1 {best['strict_f1']:.4f}")
    lines = [" · ".join(parts)]
    if status.get("skipped_checkpoints"):
        skipped = "; ".join(f"{s.get('checkpoint')}: {s.get('reason')}" for s in status["skipped_checkpoints"])
        resumed = status.get("resumed_from")
        lines.append(html.escape(f"resumed from {resumed}" if resumed else "no checkpoint verified: started again")
                     + f" · skipped {html.escape(skipped)}")
    if status.get("warning"):
        lines.append(f"<span class='ner-warning'>⚠️ {html.escape(str(status['warning']))}</span>")
    if status.get("hint"):
        lines.append(f"<span class='ner-hint'>hint: {html.escape(str(status['hint']))}</span>")
    if status.get("error"):
        lines.append(f"<span class='ner-error'>error: {html.escape(str(status['error']))}</span>")
    elif status.get("message"):
        lines.append(html.escape(str(status["message"])))
    bar = (f"<div class='ner-progress' role='progressbar' aria-valuenow='{100 * frac:.0f}' aria-valuemin='0' "
           f"aria-valuemax='100'><div class='ner-progress-fill ner-state-{state}' "
           f"style='width:{100 * frac:.1f}%'></div></div>")
    return bar + "<div class='ner-progress-text'>" + "<br>".join(lines) + "</div>"


_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")


def strip_ansi(text: str) -> str:
    r"""Terminal control out of a log: ANSI escape sequences go, and of a line that a progress bar
    redrew with carriage returns only its last state stays.

    >>> strip_ansi("\x1b[32mok\x1b[0m done\n 10%|#  \r 100%|##\n")
    'ok done\n 100%|##\n'
    """
    text = _ANSI.sub("", text)
    return "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in text.split("\n"))


def log_tail(text: str, lines: int = 40) -> str:
    """The last ``lines`` lines of a run's log, as a person reads them (no escape codes)."""
    return "\n".join(strip_ansi(text).splitlines()[-lines:])


def known_run(run_id: str | None, runs: Sequence[RunInfo]) -> str:
    """``run_id`` if it names one of ``runs``; else a ConfigError. Requests name runs by id only, never
    by path, so nothing outside the runs folder can be read, cancelled or resumed through the app.

    >>> known_run("../../etc", [])
    Traceback (most recent call last):
    ...
    ner_demo.errors.ConfigError: no run '../../etc' in the runs folder; pick one from the list
    """
    if run_id and run_id in {r.run_id for r in runs}:
        return run_id
    raise ConfigError(f"no run {run_id!r} in the runs folder; pick one from the list")


def runs_rows(runs: Sequence[RunInfo]) -> list[list]:
    """Newest first: id, state, engine, backbone, data, step/total, best dev strict F1, error."""
    rows = []
    for r in reversed(runs):
        f1 = round(r.best_f1, 4) if r.best_f1 is not None and r.best_f1 >= 0 else None
        progress = f"{r.step}/{r.total_steps}" if r.total_steps else "-"
        rows.append([r.run_id, r.state, r.engine, r.backbone, r.dataset, progress, f1, (r.error or "")[:200]])
    return rows

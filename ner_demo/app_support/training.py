"""The Train tab: its form -> TrainConfig, the Hub check for backbones, run progress, curves, runs table."""

from __future__ import annotations

import re
import time
from dataclasses import fields
from pathlib import Path
from typing import Sequence

from ner_demo.errors import ConfigError, ModelLoadError
from ner_demo.models import OFFLINE_ENCODER, resolve_backbone
from ner_demo.training.config import TrainConfig
from ner_demo.training.runs import RunInfo

DEFAULTS = TrainConfig()
DATASET_CONLL = "conll2003"
DATASET_MULTINERD_ALL = "multinerd:all"
DATASET_MULTINERD_FIVE = "multinerd:five"
DATASET_UPLOAD = "upload"
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
    from ner_demo.data.sources import hub_reachable

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


def _positive_or_none(value: float | None) -> int | None:
    return int(value) if value else None


def build_config(
    *, backbone: str, dataset: str, train_file: str | None = None, dev_file: str | None = None, name: str = "",
    learning_rate: float = DEFAULTS.learning_rate, batch_size: int = DEFAULTS.batch_size,
    epochs: int = DEFAULTS.epochs, max_steps: int | None = None, max_length: int = DEFAULTS.max_length,
    warmup_ratio: float = DEFAULTS.warmup_ratio, weight_decay: float = DEFAULTS.weight_decay,
    seed: int = DEFAULTS.seed, limit_train_sentences: int | None = None, limit_dev_sentences: int | None = None,
    engine: str = DEFAULTS.engine, freeze_encoder: bool = False, early_stopping_patience: int = 0,
    precision: str = DEFAULTS.precision, runs_dir: str | Path = DEFAULTS.runs_dir,
    log_every: int | None = None,
) -> TrainConfig:
    """A TrainConfig from the form's values; 0 or empty means "not set" for the optional limits.

    >>> cfg = build_config(backbone="offline-minilm", dataset="multinerd:five", epochs=1, max_steps=0)
    >>> cfg.dataset, cfg.label_subset, cfg.max_steps
    ('multinerd', 'five', None)
    """
    data: dict = {"dataset": DATASET_CONLL, "label_subset": "all"}
    if dataset in (DATASET_MULTINERD_ALL, DATASET_MULTINERD_FIVE):
        data = {"dataset": "multinerd", "label_subset": dataset.split(":")[1]}
    elif dataset == DATASET_UPLOAD:
        if not train_file or not dev_file:
            raise ConfigError("upload both a train and a dev CoNLL file, or pick CoNLL-2003")
        data = {"dataset": DATASET_CONLL, "train_file": str(train_file), "dev_file": str(dev_file), "label_subset": "all"}
    elif dataset != DATASET_CONLL:
        raise ConfigError(f"dataset {dataset!r} is not one of {', '.join(v for _, v in dataset_choices(True))}")
    max_steps_value = _positive_or_none(max_steps)
    log = log_every or DEFAULTS.log_every  # a short run logs more often by itself (TrainConfig.log_every_for)
    return TrainConfig(
        name=(name or "").strip() or "app", backbone=(backbone or "").strip(), **data,
        learning_rate=float(learning_rate), batch_size=int(batch_size), epochs=int(epochs),
        max_steps=max_steps_value, max_length=int(max_length), warmup_ratio=float(warmup_ratio),
        weight_decay=float(weight_decay), seed=int(seed),
        limit_train_sentences=_positive_or_none(limit_train_sentences),
        limit_dev_sentences=_positive_or_none(limit_dev_sentences),
        engine=engine, freeze_encoder=bool(freeze_encoder), early_stopping_patience=int(early_stopping_patience or 0),
        precision=precision, runs_dir=str(runs_dir), log_every=log,
    )  # fmt: skip


def field_help(name: str) -> str:
    """The TrainConfig help text of a field, shown under the form's inputs."""
    for f in fields(TrainConfig):
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
    if phase:  # "evaluating on dev": the bar may sit at 100 % meanwhile, and the ETA covers training steps only
        parts.append(html.escape(str(phase)))
    if state == "running" and (not phase or str(phase).startswith("training")):
        parts.append(f"ETA {format_duration(status.get('eta_s'))}")
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


def curves_figure(train: Sequence[dict], evals: Sequence[dict], title: str = ""):
    """Training loss by step (left) and dev strict / conlleval F1 by epoch (right)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("training loss", "dev F1 per epoch"))
    fig.add_trace(go.Scatter(x=[r["step"] for r in train], y=[r["loss"] for r in train], mode="lines+markers",
                             name="loss", hovertemplate="step %{x}: %{y:.4f}<extra>loss</extra>"), row=1, col=1)
    for key, label in (("strict_f1", "strict F1"), ("conlleval_f1", "conlleval F1")):
        fig.add_trace(go.Scatter(x=[r["epoch"] for r in evals], y=[r.get(key) for r in evals], mode="lines+markers",
                                 name=label, hovertemplate="epoch %{x:.2f}: %{y:.4f}<extra>" + label + "</extra>"),
                      row=1, col=2)
    fig.update_xaxes(title_text="step", row=1, col=1)
    fig.update_xaxes(title_text="epoch", row=1, col=2)
    fig.update_yaxes(range=[0, 1], row=1, col=2)
    fig.update_layout(title=title or None, legend={"orientation": "h", "y": -0.25}, margin={"t": 60})
    if not train and not evals:
        fig.add_annotation(text="no metrics yet", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    return fig


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

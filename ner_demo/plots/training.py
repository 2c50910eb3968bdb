"""Figures of a training run's metrics (the rows of its ``metrics.jsonl``, :meth:`Run.metrics`), and of a
learning curve (a record of ``training.curve.read_curve``: several runs on growing shares of the data)."""

from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ner_demo.plots.style import LEGEND_BELOW, note_if_empty


def curves_figure(train: Sequence[dict], evals: Sequence[dict], title: str = "") -> go.Figure:
    """Training loss by step (left) and dev strict / conlleval F1 by epoch (right).

    ``train`` rows carry ``step`` and ``loss``; ``evals`` rows ``epoch`` and ``strict_f1`` /
    ``conlleval_f1`` (a missing score leaves a gap)."""
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
    fig.update_layout(title=title or None, legend=LEGEND_BELOW, margin={"t": 60})
    return note_if_empty(fig, not train and not evals, "no metrics yet")


def learning_curve_figure(record: dict | None) -> go.Figure:
    """Dev strict F1 against the number of train sentences: one line for the micro F1 and one (dotted) per
    entity type, a point per finished run of the curve; how many runs have finished is in the title.

    ``record`` has ``curve_id``, ``shares``, ``types`` and ``points`` (``share``, ``train_sentences``,
    ``dev_f1``, ``per_type``); a point whose ``dev_f1`` is None (a run waiting, training or failed) is left out."""
    record = record or {}
    points = [p for p in record.get("points", []) if p.get("dev_f1") is not None]
    sizes = [p["train_sentences"] for p in points]
    shares = [f"{100 * p['share']:g}%" for p in points]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=sizes, y=[p["dev_f1"] for p in points], customdata=shares, mode="lines+markers",
                             name="micro F1", line={"width": 3},
                             hovertemplate="%{x} sentences (%{customdata}): %{y:.4f}<extra>micro F1</extra>"))
    for entity_type in record.get("types", []):
        fig.add_trace(go.Scatter(x=sizes, y=[p["per_type"].get(entity_type) for p in points], customdata=shares,
                                 mode="lines+markers", name=entity_type, line={"dash": "dot"},
                                 hovertemplate="%{x} sentences (%{customdata}): %{y:.4f}<extra>" + entity_type
                                 + "</extra>"))
    total = len(record.get("shares", []))
    title = f"learning curve {record.get('curve_id', '')}: dev strict F1 by train size"
    if total and len(points) < total:
        title += f" ({len(points)} of {total} runs finished)"
    fig.update_layout(title=title, xaxis_title="train sentences", yaxis_title="dev strict F1", yaxis={"range": [0, 1]},
                      legend=LEGEND_BELOW, margin={"t": 60})
    return note_if_empty(fig, not points, "no finished run yet")


def order_curves_figure(points: Sequence[dict], metric: str = "f1", title: str = "") -> go.Figure:
    """A score against the number of annotated sentences, one line per selection order (the annotation
    loop's value: uncertainty queue against random, say).

    ``points`` have ``order``, ``sentences`` and ``metric`` (None leaves the point out); lines are drawn in
    the order their first point comes, each sorted by sentences."""
    fig = go.Figure()
    by_order: dict[str, list[dict]] = {}
    for p in points:
        if p.get(metric) is not None:
            by_order.setdefault(p["order"], []).append(p)
    for order, rows in by_order.items():
        rows = sorted(rows, key=lambda r: r["sentences"])
        fig.add_trace(go.Scatter(x=[r["sentences"] for r in rows], y=[r[metric] for r in rows], mode="lines+markers",
                                 name=order, hovertemplate="%{x} sentences: %{y:.4f}<extra>" + order + "</extra>"))
    fig.update_layout(title=title or None, xaxis_title="annotated sentences", yaxis_title=metric,
                      yaxis={"range": [0, 1]}, legend=LEGEND_BELOW, margin={"t": 60})
    return note_if_empty(fig, not by_order, "no finished run yet")

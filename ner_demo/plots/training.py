"""Figures of a training run's metrics (the rows of its ``metrics.jsonl``, :meth:`Run.metrics`)."""

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

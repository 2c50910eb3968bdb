"""Plotly figures of the Evaluate tab's analysis views: intervals, schemes, buckets, reliability and
threshold curves. Plain ``go.Figure``s from the core's results; every one draws something (a note) for
empty input, since the app renders whatever comes back."""

from __future__ import annotations

from typing import Mapping, Sequence

import plotly.graph_objects as go

from ner_demo.evaluation.bootstrap import BootstrapResult
from ner_demo.evaluation.calibration import Reliability, ThresholdCurve
from ner_demo.evaluation.generalisation import BucketTable
from ner_demo.evaluation.schemes import SchemeScore


def _note_if_empty(fig: go.Figure, empty: bool, message: str) -> go.Figure:
    if empty:
        fig.add_annotation(text=message, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    return fig


def interval_bar(boot: BootstrapResult) -> go.Figure:
    """Strict F1 per type and micro, with the bootstrap interval as error bars."""
    items = [*boot.per_type.items(), ("micro avg", boot.micro)]
    fig = go.Figure(go.Bar(
        x=[name for name, _ in items], y=[i.point for _, i in items], name="strict F1",
        error_y={"type": "data", "symmetric": False, "array": [i.high - i.point for _, i in items],
                 "arrayminus": [i.point - i.low for _, i in items]},
        customdata=[[i.low, i.high] for _, i in items],
        hovertemplate="%{x}: %{y:.4f} [%{customdata[0]:.4f}, %{customdata[1]:.4f}]<extra></extra>",
    ))
    fig.update_layout(title=f"Strict F1 with 95% intervals ({boot.describe()}, seed {boot.seed})",
                      yaxis={"title": {"text": "F1"}, "range": [0, 1.05]}, xaxis={"title": {"text": "entity type"}})
    return _note_if_empty(fig, not boot.per_type, "no entities in gold or predictions")


def schemes_bar(rows: Sequence[SchemeScore]) -> go.Figure:
    """Micro precision, recall and F1 under each scoring scheme."""
    fig = go.Figure([go.Bar(name=title, x=[r.scheme for r in rows], y=[getattr(r, attr) for r in rows],
                            hovertemplate="%{x}: %{y:.4f}<extra>" + title + "</extra>")
                     for attr, title in (("precision", "Precision"), ("recall", "Recall"), ("f1", "F1"))])
    fig.update_layout(title="Micro scores under every scheme", barmode="group",
                      yaxis={"title": {"text": "score"}, "range": [0, 1]})
    return _note_if_empty(fig, not rows, "no sentences scored")


def bucket_bar(table: BucketTable, metric: str = "recall") -> go.Figure:
    """``metric`` (recall, precision or f1) per bucket: one bar group per type and one for all types.
    Undefined scores (no gold or no predictions in the bucket) are left out, not drawn as 0."""
    groups = [("all", table.overall), *table.per_type.items()]
    traces = []
    for bucket in table.buckets:
        xs, ys, counts = [], [], []
        for label, scores in groups:
            s = scores[bucket]
            value = getattr(s, metric)
            if value is not None:
                xs.append(label)
                ys.append(value)
                counts.append(s.n_gold if metric == "recall" else s.n_pred)
        traces.append(go.Bar(name=bucket, x=xs, y=ys, customdata=counts,
                             hovertemplate="%{x}, " + bucket + ": %{y:.4f} (of %{customdata})<extra></extra>"))
    fig = go.Figure(traces)
    fig.update_layout(title=f"Strict {metric} by {table.name}", barmode="group",
                      yaxis={"title": {"text": metric}, "range": [0, 1.05]}, xaxis={"title": {"text": "entity type"}})
    return _note_if_empty(fig, not table.per_type, "no entities in gold or predictions")


def reliability_diagram(curves: Mapping[str, Reliability], title: str) -> go.Figure:
    """Share correct against mean confidence per bin, one line per curve (e.g. before / after a
    temperature), with the diagonal of perfect calibration; empty bins are left out."""
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated",
                               line={"dash": "dash", "color": "grey"}, hoverinfo="skip"))
    for name, r in curves.items():
        filled = [b for b in r.bins if b.count]
        fig.add_trace(go.Scatter(
            x=[b.confidence for b in filled], y=[b.accuracy for b in filled], mode="lines+markers",
            name=f"{name} (ECE {r.ece:.4f})", customdata=[b.count for b in filled],
            hovertemplate="confidence %{x:.3f}: %{y:.3f} correct (%{customdata} entities)<extra></extra>"))
    fig.update_layout(title=title, xaxis={"title": {"text": "mean confidence of the bin"}, "range": [0, 1]},
                      yaxis={"title": {"text": "share of entities correct"}, "range": [0, 1.02]})
    return _note_if_empty(fig, not any(r.n for r in curves.values()), "no predicted entities")


def threshold_figure(curves: Mapping[str, ThresholdCurve], chosen: Mapping[str, float]) -> go.Figure:
    """Each type's strict F1 (solid), precision and recall (dotted) against its confidence threshold,
    with a marker at the threshold ``chosen`` for it."""
    fig = go.Figure()
    for label, c in curves.items():
        fig.add_trace(go.Scatter(x=c.thresholds, y=c.f1, mode="lines", name=f"{label} F1", legendgroup=label,
                                 hovertemplate=label + " at %{x:.2f}: F1 %{y:.4f}<extra></extra>"))
        for attr in ("precision", "recall"):
            fig.add_trace(go.Scatter(x=c.thresholds, y=getattr(c, attr), mode="lines", name=f"{label} {attr[0].upper()}",
                                     legendgroup=label, line={"dash": "dot", "width": 1}, visible="legendonly"))
        if label in chosen:
            threshold = chosen[label]
            at = min(range(len(c.thresholds)), key=lambda k: abs(c.thresholds[k] - threshold))
            fig.add_trace(go.Scatter(x=[threshold], y=[c.f1[at]], mode="markers", marker={"size": 10, "symbol": "x"},
                                     name=f"{label} threshold {threshold:.4f}", legendgroup=label))
    fig.update_layout(title="Strict P/R/F1 per type against its confidence threshold (dev)",
                      xaxis={"title": {"text": "threshold (entities scored below it dropped)"}, "range": [0, 1]},
                      yaxis={"title": {"text": "score"}, "range": [0, 1.02]})
    return _note_if_empty(fig, not curves, "no entities in gold or predictions")

"""Figures of calibration as the Evaluate tab fits it: the reliability diagram before and after a
temperature, and each type's P/R/F1 against its confidence threshold. Each takes the core's typed
results and returns a ``go.Figure`` that says so when there is nothing to draw."""

from __future__ import annotations

from typing import Mapping

import plotly.graph_objects as go

from ner_demo.evaluation.calibration import Reliability, ThresholdCurve
from ner_demo.plots.style import note_if_empty


def reliability_before_after(curves: Mapping[str, Reliability], title: str) -> go.Figure:
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
    return note_if_empty(fig, not any(r.n for r in curves.values()), "no predicted entities")


def threshold_curves_figure(curves: Mapping[str, ThresholdCurve], chosen: Mapping[str, float]) -> go.Figure:
    """Each type's strict F1 (solid), precision and recall (dotted) against its confidence threshold,
    with a marker at the threshold ``chosen`` for it (none at 0: no threshold)."""
    fig = go.Figure()
    for label, c in curves.items():
        fig.add_trace(go.Scatter(x=c.thresholds, y=c.f1, mode="lines", name=f"{label} F1", legendgroup=label,
                                 hovertemplate=label + " at %{x:.2f}: F1 %{y:.4f}<extra></extra>"))
        for attr in ("precision", "recall"):
            fig.add_trace(go.Scatter(x=c.thresholds, y=getattr(c, attr), mode="lines", name=f"{label} {attr[0].upper()}",
                                     legendgroup=label, line={"dash": "dot", "width": 1}, visible="legendonly"))
        if chosen.get(label, 0.0) > 0:  # 0 keeps every entity: nothing to mark
            threshold = chosen[label]
            at = min(range(len(c.thresholds)), key=lambda k: abs(c.thresholds[k] - threshold))
            fig.add_trace(go.Scatter(x=[threshold], y=[c.f1[at]], mode="markers", marker={"size": 10, "symbol": "x"},
                                     name=f"{label} threshold {threshold:.4f}", legendgroup=label))
    fig.update_layout(title="Strict P/R/F1 per type against its confidence threshold (dev)",
                      xaxis={"title": {"text": "threshold (entities scored below it dropped)"}, "range": [0, 1]},
                      yaxis={"title": {"text": "score"}, "range": [0, 1.02]})
    return note_if_empty(fig, not curves, "no entities in gold or predictions")

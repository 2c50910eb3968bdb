"""Figures of evaluation results (:class:`EvaluationResult`): plain ``go.Figure``s, no UI code.

Every function accepts results with no entities (or no runs) and returns a figure that says so,
because the app renders whatever comes back and an exception would blank the whole tab.
"""

from __future__ import annotations

from typing import Mapping

import plotly.graph_objects as go

from ner_demo.evaluation.metrics import ZERO, EvaluationResult, Mode, Scores
from ner_demo.plots.style import note_if_empty

_METRICS = (("precision", "Precision"), ("recall", "Recall"), ("f1", "F1"))
_MODE_NAMES = {"strict": "strict IOB2", "conlleval": "conlleval"}


def per_type_bar(result: EvaluationResult, mode: Mode = "strict") -> go.Figure:
    """Grouped bars: precision, recall and F1 per entity type, then the micro average."""
    scores = _scores(result, mode)
    categories = [*scores.per_type, "micro avg"]
    rows = [*scores.per_type.values(), scores.micro]
    fig = go.Figure(
        [
            go.Bar(
                name=title,
                x=categories,
                y=[getattr(row, attr) for row in rows],
                customdata=[row.support for row in rows],
                hovertemplate="%{x}: %{y:.4f} (support %{customdata})<extra>" + title + "</extra>",
            )
            for attr, title in _METRICS
        ]
    )
    fig.update_layout(
        title=f"Per-type scores ({_MODE_NAMES[mode]}), micro F1 {scores.micro.f1:.4f}",
        barmode="group",
        yaxis={"title": {"text": "score"}, "range": [0, 1]},
        xaxis={"title": {"text": "entity type"}},
    )
    return note_if_empty(fig, not scores.per_type, "no entities in gold or predictions")


def confusion_heatmap(result: EvaluationResult) -> go.Figure:
    """Entity-level confusion matrix: gold types down the side, predicted types along the top."""
    cm = result.confusion
    fig = go.Figure(
        go.Heatmap(
            z=cm.counts,
            x=cm.column_labels,
            y=cm.row_labels,
            text=cm.counts,
            texttemplate="%{text}",
            colorscale="Blues",
            hovertemplate="gold %{y}, predicted %{x}: %{z}<extra></extra>",
        )
    )
    fig.update_layout(
        title="Entity confusion (exact spans; boundary errors count as missed + spurious)",
        xaxis={"title": {"text": "predicted"}, "side": "top"},
        # Reversed so that the first gold type is the top row, as in a printed matrix.
        yaxis={"title": {"text": "gold"}, "autorange": "reversed"},
    )
    return note_if_empty(fig, not cm.labels, "no entities in gold or predictions")


def compare_runs_bar(
    results: Mapping[str, EvaluationResult], baseline: str | None = None, mode: Mode = "strict"
) -> go.Figure:
    """F1 per entity type (and micro) for several runs, one bar group per type.

    With ``baseline`` naming one of the runs, the other runs' bars are F1 minus the baseline's F1
    (a type a run never saw counts as F1 0).
    """
    if baseline is not None and baseline not in results:
        raise ValueError(f"baseline {baseline!r} is not one of the runs: {', '.join(results) or 'none'}")
    types = sorted({t for result in results.values() for t in _scores(result, mode).per_type})
    categories = [*types, "micro avg"]

    def f1s(result: EvaluationResult) -> list[float]:
        scores = _scores(result, mode)
        return [scores.per_type.get(t, ZERO).f1 for t in types] + [scores.micro.f1]

    base = f1s(results[baseline]) if baseline is not None else None
    traces = []
    for name, result in results.items():
        if name == baseline:
            continue
        values = f1s(result)
        if base is not None:
            values = [v - b for v, b in zip(values, base)]
        traces.append(go.Bar(name=name, x=categories, y=values, hovertemplate="%{x}: %{y:+.4f}<extra>" + name + "</extra>"))
    fig = go.Figure(traces)
    what = "F1" if baseline is None else f"F1 change vs {baseline}"
    fig.update_layout(
        title=f"{what} per type ({_MODE_NAMES[mode]})",
        barmode="group",
        yaxis={"title": {"text": what}},
        xaxis={"title": {"text": "entity type"}},
    )
    return note_if_empty(fig, not traces, "no runs to compare")


def _scores(result: EvaluationResult, mode: Mode) -> Scores:
    if mode not in _MODE_NAMES:
        raise ValueError(f"unknown scoring mode {mode!r}; expected 'strict' or 'conlleval'")
    return result.strict if mode == "strict" else result.conlleval


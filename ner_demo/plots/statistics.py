"""Figures of the statistics beyond the scores: intervals, scoring schemes, buckets, calibration,
suspicious gold. Each takes a typed result of :mod:`ner_demo.evaluation` and returns a ``go.Figure``
that says so when there is nothing to draw."""

from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go

from ner_demo.evaluation.bootstrap import BootstrapResult
from ner_demo.evaluation.calibration import CalibrationReport, Reliability
from ner_demo.evaluation.generalisation import BucketTable
from ner_demo.evaluation.schemes import SchemeScore
from ner_demo.evaluation.suspicious import SuspiciousItem
from ner_demo.plots.style import note_if_empty


def interval_bar(intervals: BootstrapResult) -> go.Figure:
    """Strict F1 per type and micro, with the bootstrap interval as error bars."""
    names = [*intervals.per_type, "micro"]
    values = [*intervals.per_type.values(), intervals.micro]
    fig = go.Figure(go.Bar(
        x=names, y=[i.point for i in values],
        error_y={"type": "data", "symmetric": False, "array": [i.high - i.point for i in values],
                 "arrayminus": [i.point - i.low for i in values]},
        customdata=[[i.low, i.high] for i in values],
        hovertemplate="%{x}: %{y:.4f} (95% interval %{customdata[0]:.4f}-%{customdata[1]:.4f})<extra></extra>",
    ))
    fig.update_layout(title=f"Strict F1 with 95% intervals ({intervals.describe()})",
                      yaxis={"title": {"text": "F1"}, "range": [0, 1]}, xaxis={"title": {"text": "entity type"}})
    return note_if_empty(fig, not intervals.per_type, "no entities in gold or predictions")


def schemes_bar(schemes: Sequence[SchemeScore]) -> go.Figure:
    """Micro precision, recall and F1 under every scoring scheme, side by side."""
    fig = go.Figure([
        go.Bar(name=title, x=[s.scheme for s in schemes], y=[getattr(s, attr) for s in schemes],
               hovertemplate="%{x}: %{y:.4f}<extra>" + title + "</extra>")
        for attr, title in (("precision", "Precision"), ("recall", "Recall"), ("f1", "F1"))
    ])
    fig.update_layout(title="Scoring schemes (micro)", barmode="group",
                      yaxis={"title": {"text": "score"}, "range": [0, 1]}, xaxis={"title": {"text": "scheme"}})
    return note_if_empty(fig, not schemes, "no schemes scored")


def bucket_bar(table: BucketTable) -> go.Figure:
    """Strict recall and F1 per bucket (undefined ones left out), the bucket's gold count in the hover."""
    buckets = list(table.buckets)
    scores = [table.overall[b] for b in buckets]
    fig = go.Figure([
        go.Bar(name=title, x=buckets, y=[getattr(s, attr) for s in scores],
               customdata=[[s.n_gold, s.n_pred] for s in scores],
               hovertemplate="%{x}: %{y:.4f} (gold %{customdata[0]}, predicted %{customdata[1]})<extra>"
               + title + "</extra>")
        for attr, title in (("recall", "Recall"), ("f1", "F1"))
    ])
    fig.update_layout(title=f"Strict scores by {table.name}", barmode="group",
                      yaxis={"title": {"text": "score"}, "range": [0, 1]}, xaxis={"title": {"text": table.name}})
    return note_if_empty(fig, not any(s.n_gold or s.n_pred for s in scores), "no entities in gold or predictions")


def reliability_figure(report: CalibrationReport) -> go.Figure:
    """The reliability diagram of all predicted entities: share correct against mean confidence per
    bin (the bar), the diagonal of perfect calibration, and each bin's entity count in the hover."""
    overall: Reliability = report.overall
    used = [b for b in overall.bins if b.count]
    fig = go.Figure([
        go.Bar(name="share correct", x=[(b.low + b.high) / 2 for b in used], y=[b.accuracy for b in used],
               width=[b.high - b.low for b in used], customdata=[[b.count, b.confidence] for b in used],
               hovertemplate="confidence %{customdata[1]:.3f}: %{y:.3f} correct (%{customdata[0]} entities)"
               "<extra></extra>"),
        go.Scatter(name="perfect calibration", x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dash"}),
    ])
    fig.update_layout(title=f"Reliability of predicted entities (ECE {overall.ece:.4f}, {overall.n} entities)",
                      xaxis={"title": {"text": "confidence"}, "range": [0, 1]},
                      yaxis={"title": {"text": "share correct"}, "range": [0, 1]})
    return note_if_empty(fig, not used, "no predicted entities")


def type_ece_bar(report: CalibrationReport) -> go.Figure:
    """Expected calibration error per predicted type, and overall."""
    names = [*report.types, "overall"]
    values = [*report.types.values(), report.overall]
    fig = go.Figure(go.Bar(x=names, y=[r.ece for r in values], customdata=[r.n for r in values],
                           hovertemplate="%{x}: ECE %{y:.4f} (%{customdata} entities)<extra></extra>"))
    fig.update_layout(title="Expected calibration error per predicted type",
                      yaxis={"title": {"text": "ECE"}}, xaxis={"title": {"text": "predicted type"}})
    return note_if_empty(fig, not report.types, "no predicted entities")


def suspicious_bar(items: Sequence[SuspiciousItem], top: int = 20) -> go.Figure:
    """The ``top`` suspicious gold annotations' scores, most suspicious at the top."""
    shown = list(items[:top])[::-1]
    labels = [f"#{len(shown) - k} s{it.sentence}: {it.span_text[:30]} ({it.gold_label or 'none'} -> "
              f"{it.suggested_label or 'none'})" for k, it in enumerate(shown)]
    fig = go.Figure(go.Bar(x=[it.score for it in shown], y=labels, orientation="h",
                           customdata=[", ".join(it.signals) for it in shown],
                           hovertemplate="%{y}: %{x:.3f} (%{customdata})<extra></extra>"))
    fig.update_layout(title=f"Suspicious gold, top {len(shown)}", xaxis={"title": {"text": "score"}, "range": [0, 1]},
                      height=max(300, 24 * len(shown) + 120), margin={"l": 320})
    return note_if_empty(fig, not shown, "no suspicious gold annotations")

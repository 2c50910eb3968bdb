"""Figures of generalisation per entity type: a score per bucket (seen/unseen, lengths, subword
splits), one bar group per type and one for all types. (:func:`ner_demo.plots.statistics.bucket_bar`
draws the overall buckets alone, as the report does.)"""

from __future__ import annotations

import plotly.graph_objects as go

from ner_demo.evaluation.generalisation import BucketTable
from ner_demo.plots.style import note_if_empty


def bucket_type_bar(table: BucketTable, metric: str = "recall") -> go.Figure:
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
    return note_if_empty(fig, not table.per_type, "no entities in gold or predictions")

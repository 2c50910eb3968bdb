"""Figures of a dataset's statistics (:mod:`ner_demo.data.stats`): entities per type and split, sentence
and entity lengths."""

from __future__ import annotations

from typing import Mapping

import plotly.graph_objects as go

from ner_demo.data.stats import LengthStats, SplitStats, merge_lengths, summarize_lengths
from ner_demo.plots.style import LEGEND_BELOW, note_if_empty


def entity_distribution_figure(stats: Mapping[str, SplitStats]) -> go.Figure:
    """Grouped bars: entities of each type per split; the hover shows the share within the split."""
    types = sorted({t for s in stats.values() for t in s.entities})
    fig = go.Figure([
        go.Bar(name=split, x=types, y=[s.entities.get(t, 0) for t in types],
               customdata=[100 * s.entities.get(t, 0) / max(1, s.total_entities) for t in types],
               hovertemplate="%{x}: %{y:,} (%{customdata:.1f}% of " + split + ")<extra></extra>")
        for split, s in stats.items()
    ])
    fig.update_layout(title="Entities per type and split", barmode="group",
                      xaxis={"title": {"text": "entity type"}}, yaxis={"title": {"text": "entities"}})
    return note_if_empty(fig, not types, "no entities")


def sentence_length_figure(lengths: Mapping[str, LengthStats]) -> go.Figure:
    """Words per sentence, one line per split, as a share of the split's sentences (splits of any size
    compare); the legend gives each split's mean, median and longest."""
    fig = go.Figure()
    for split, stats in lengths.items():
        summary = summarize_lengths(stats.sentences)
        x = list(stats.sentences)
        counts = list(stats.sentences.values())
        fig.add_trace(go.Scatter(
            x=x, y=[100 * n / max(1, summary.count) for n in counts], customdata=counts, mode="lines+markers",
            line={"shape": "hvh"}, marker={"size": 4},
            name=f"{split} (mean {summary.mean:.1f}, median {summary.median}, longest {summary.longest})",
            hovertemplate=f"{split}: " + "%{x} words: %{customdata:,} sentences (%{y:.1f}%)<extra></extra>",
        ))
    fig.update_layout(title="Sentence lengths", xaxis={"title": {"text": "words per sentence"}},
                      yaxis={"title": {"text": "% of the split's sentences"}}, legend=LEGEND_BELOW)
    return note_if_empty(fig, not any(s.sentences for s in lengths.values()), "no sentences")


def entity_length_figure(lengths: Mapping[str, LengthStats]) -> go.Figure:
    """Words per entity, grouped bars per type over all splits, as a share of the type's entities."""
    merged = merge_lengths(lengths.values())
    longest = max((max(h) for h in merged.entities.values()), default=0)
    x = list(range(1, longest + 1))
    fig = go.Figure()
    for label, histogram in merged.entities.items():
        summary = summarize_lengths(histogram)
        counts = [histogram.get(n, 0) for n in x]
        fig.add_trace(go.Bar(
            x=x, y=[100 * n / summary.count for n in counts], customdata=counts,
            name=f"{label} (mean {summary.mean:.2f})",
            hovertemplate=f"{label}: " + "%{x} words: %{customdata:,} entities (%{y:.1f}%)<extra></extra>",
        ))
    fig.update_layout(title=f"Entity lengths ({', '.join(lengths)})", barmode="group",
                      xaxis={"title": {"text": "words per entity"}, "dtick": 1},
                      yaxis={"title": {"text": "% of the type's entities"}})
    return note_if_empty(fig, not merged.entities, "no entities")

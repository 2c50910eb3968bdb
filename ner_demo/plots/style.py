"""What every figure shares: the note drawn on an empty figure and the legend placed below the plot."""

from __future__ import annotations

import plotly.graph_objects as go

# Below the plot, so that long trace names (a split's mean, median and longest) do not squeeze it.
LEGEND_BELOW = {"orientation": "h", "y": -0.25}


def note_if_empty(fig: go.Figure, empty: bool, message: str) -> go.Figure:
    """``fig`` with ``message`` written across its middle when ``empty``: the app renders whatever comes
    back, and a figure that says "no entities" reads better than a blank one or an exception."""
    if empty:
        fig.add_annotation(text=message, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    return fig

"""The figure of a learning curve: dev strict F1 against the number of train sentences, micro and per type."""

from __future__ import annotations


def learning_curve_figure(record: dict | None):
    """Plotly figure of a curve record (``curve.read_curve``): one line for the micro F1 and one per
    entity type, a point per finished run; runs still waiting or training are counted in the title."""
    import plotly.graph_objects as go  # deferred: plotly is only needed when a figure is drawn

    fig = go.Figure()
    record = record or {}
    points = [p for p in record.get("points", []) if p.get("dev_f1") is not None]
    sizes = [p["train_sentences"] for p in points]
    shares = [f"{100 * p['share']:g}%" for p in points]
    fig.add_trace(go.Scatter(x=sizes, y=[p["dev_f1"] for p in points], customdata=shares, mode="lines+markers",
                             name="micro F1", line={"width": 3},
                             hovertemplate="%{x} sentences (%{customdata}): %{y:.4f}<extra>micro F1</extra>"))
    for entity_type in record.get("types", []):
        ys = [p["per_type"].get(entity_type) for p in points]
        fig.add_trace(go.Scatter(x=sizes, y=ys, customdata=shares, mode="lines+markers", name=entity_type,
                                 line={"dash": "dot"},
                                 hovertemplate="%{x} sentences (%{customdata}): %{y:.4f}<extra>" + entity_type + "</extra>"))
    total = len(record.get("shares", []))
    done = len(points)
    title = f"learning curve {record.get('curve_id', '')}: dev strict F1 by train size"
    if total and done < total:
        title += f" ({done} of {total} runs finished)"
    fig.update_layout(title=title, xaxis_title="train sentences", yaxis_title="dev strict F1",
                      yaxis={"range": [0, 1]}, legend={"orientation": "h", "y": -0.25}, margin={"t": 60})
    if not points:
        fig.add_annotation(text="no finished run yet", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    return fig

"""Every plotly figure of the project, one module per subject: :mod:`.evaluation` (scores per type,
confusion, runs compared), :mod:`.data` (a dataset's entities and lengths), :mod:`.training` (a run's
curves, a learning curve, a score by annotated sentences per selection order); :mod:`.style` holds what they share. Each function takes plain data or a
typed result and returns a ``go.Figure``: no UI code, so the app, a notebook or a report can draw the
same figures.

Scoring, training and the CLI never import this package, so they do not load plotly.
"""

from ner_demo.plots.data import entity_distribution_figure, entity_length_figure, sentence_length_figure
from ner_demo.plots.evaluation import compare_runs_bar, confusion_heatmap, per_type_bar
from ner_demo.plots.training import curves_figure, learning_curve_figure, order_curves_figure

__all__ = [
    "compare_runs_bar",
    "confusion_heatmap",
    "curves_figure",
    "entity_distribution_figure",
    "entity_length_figure",
    "learning_curve_figure",
    "order_curves_figure",
    "per_type_bar",
    "sentence_length_figure",
]

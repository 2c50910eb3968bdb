"""Evaluation: seqeval entity scores (strict IOB2 headline, conlleval beside it), token accuracy,
an entity-level confusion matrix and a categorised error list.

Plotly figures built from these results live in :mod:`ner_demo.evaluation.plots`, imported on
demand so that scoring does not load plotly.
"""

from ner_demo.evaluation.analysis import (
    ERROR_KINDS,
    MISSED,
    SPURIOUS,
    ConfusionMatrix,
    EntityError,
    analyse,
    confusion_matrix,
    entity_errors,
)
from ner_demo.evaluation.metrics import EvaluationResult, Scores, TypeScore, evaluate, format_report

__all__ = [
    "ERROR_KINDS",
    "MISSED",
    "SPURIOUS",
    "ConfusionMatrix",
    "EntityError",
    "EvaluationResult",
    "Scores",
    "TypeScore",
    "analyse",
    "confusion_matrix",
    "entity_errors",
    "evaluate",
    "format_report",
]

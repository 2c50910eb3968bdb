"""Evaluation: seqeval entity scores (strict IOB2 headline, conlleval beside it), token accuracy,
an entity-level confusion matrix and a categorised error list; bootstrap intervals and a paired test
(:mod:`.bootstrap`, :mod:`.significance`), seen/unseen and length buckets (:mod:`.generalisation`), and
every scoring scheme side by side with nervaluate (:mod:`.schemes`). Text tables: :mod:`.tables`.

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
from ner_demo.evaluation.bootstrap import BootstrapResult, Interval, bootstrap_f1
from ner_demo.evaluation.generalisation import (
    BucketScore,
    BucketTable,
    Overlap,
    length_tables,
    overlap,
    seen_unseen,
    training_surfaces,
)
from ner_demo.evaluation.metrics import EvaluationResult, Scores, TypeScore, evaluate, format_report
from ner_demo.evaluation.schemes import SCHEMES, SchemeDifference, SchemeScore, scheme_differences, scheme_scores
from ner_demo.evaluation.significance import Difference, Disagreement, PairedTest, disagreements, paired_bootstrap

__all__ = [
    "ERROR_KINDS",
    "MISSED",
    "SCHEMES",
    "SPURIOUS",
    "BootstrapResult",
    "BucketScore",
    "BucketTable",
    "ConfusionMatrix",
    "Difference",
    "Disagreement",
    "EntityError",
    "EvaluationResult",
    "Interval",
    "Overlap",
    "PairedTest",
    "SchemeDifference",
    "SchemeScore",
    "Scores",
    "TypeScore",
    "analyse",
    "bootstrap_f1",
    "confusion_matrix",
    "disagreements",
    "entity_errors",
    "evaluate",
    "format_report",
    "length_tables",
    "overlap",
    "paired_bootstrap",
    "scheme_differences",
    "scheme_scores",
    "seen_unseen",
    "training_surfaces",
]

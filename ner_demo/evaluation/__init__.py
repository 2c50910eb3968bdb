"""Evaluation: seqeval entity scores (strict IOB2 headline, conlleval beside it), token accuracy,
an entity-level confusion matrix and a categorised error list; bootstrap intervals and a paired test
(:mod:`.bootstrap`, :mod:`.significance`), seen/unseen and length buckets (:mod:`.generalisation`), and
every scoring scheme side by side with nervaluate (:mod:`.schemes`), and gold labels that are probably
wrong, ranked into a review list (:mod:`.suspicious`). Text tables: :mod:`.tables`.
Calibration (entity-level reliability and ECE, temperatures, per-type thresholds): :mod:`.calibration`,
fitted on a corpus by :func:`calibrate_on` (:mod:`.model_calibration`); tagging a corpus goes through
the prediction cache of :mod:`.cache` (:func:`predict_corpus`, :func:`corpus_probabilities`).

Plotly figures built from these results live in :mod:`ner_demo.plots.evaluation`, a floor above, so
that scoring does not load plotly.
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
from ner_demo.evaluation.cache import PREDICTIONS, PredictionCache, disk_cache, prediction_key
from ner_demo.evaluation.calibration import (
    CalibrationReport,
    Reliability,
    ScoredEntity,
    ThresholdChoice,
    ThresholdCurve,
    best_thresholds,
    calibration_report,
    fit_temperature,
    fit_type_temperatures,
    reliability,
    scored_entities,
    threshold_curves,
)
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
from ner_demo.evaluation.model_calibration import CalibrationResult, SplitCalibration, calibrate_on
from ner_demo.evaluation.model_eval import corpus_probabilities, predict_corpus, predict_corpus_scored
from ner_demo.evaluation.schemes import SCHEMES, SchemeDifference, SchemeScore, scheme_differences, scheme_scores
from ner_demo.evaluation.significance import Difference, Disagreement, PairedTest, disagreements, paired_bootstrap
from ner_demo.evaluation.suspicious import (
    REVIEW_VERSION,
    SuspiciousItem,
    read_review_list,
    suspicious_gold,
    write_review_list,
)

__all__ = [
    "ERROR_KINDS",
    "MISSED",
    "PREDICTIONS",
    "REVIEW_VERSION",
    "SCHEMES",
    "SPURIOUS",
    "BootstrapResult",
    "BucketScore",
    "BucketTable",
    "CalibrationReport",
    "CalibrationResult",
    "ConfusionMatrix",
    "Difference",
    "Disagreement",
    "EntityError",
    "EvaluationResult",
    "Interval",
    "Overlap",
    "PairedTest",
    "PredictionCache",
    "Reliability",
    "SchemeDifference",
    "SchemeScore",
    "ScoredEntity",
    "SuspiciousItem",
    "Scores",
    "SplitCalibration",
    "ThresholdChoice",
    "ThresholdCurve",
    "TypeScore",
    "analyse",
    "best_thresholds",
    "bootstrap_f1",
    "calibrate_on",
    "calibration_report",
    "confusion_matrix",
    "corpus_probabilities",
    "disagreements",
    "disk_cache",
    "entity_errors",
    "evaluate",
    "fit_temperature",
    "fit_type_temperatures",
    "format_report",
    "length_tables",
    "overlap",
    "paired_bootstrap",
    "predict_corpus",
    "predict_corpus_scored",
    "prediction_key",
    "read_review_list",
    "reliability",
    "scheme_differences",
    "scheme_scores",
    "scored_entities",
    "seen_unseen",
    "suspicious_gold",
    "threshold_curves",
    "training_surfaces",
    "write_review_list",
]

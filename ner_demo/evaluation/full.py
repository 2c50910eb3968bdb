"""Everything one evaluation shows, computed in one call from gold and predicted tags.

:func:`full_evaluation` gathers what the CLI's ``evaluate`` prints, the report
(:func:`ner_demo.report.build_report`) draws and the app's Evaluate tab can show: strict and conlleval
scores per type (:func:`~ner_demo.evaluation.metrics.evaluate`), their bootstrap intervals, every
scoring scheme and the entities each pair counts differently, seen/unseen and length buckets with the
train-test overlap, the entity-level calibration (when word scores are given) and the suspicious gold
(the model's signals when word probabilities are given). Each part is ``None`` (or empty) when what it needs is missing,
and :attr:`FullEvaluation.notes` says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

from ner_demo.evaluation.bootstrap import DEFAULT_REPLICATES, DEFAULT_SEED, BootstrapResult, bootstrap_f1
from ner_demo.evaluation.calibration import CalibrationReport, calibration_report, scored_entities
from ner_demo.evaluation.generalisation import BucketTable, Overlap, length_tables, overlap, seen_unseen
from ner_demo.evaluation.metrics import EvaluationResult, evaluate
from ner_demo.evaluation.schemes import SchemeDifference, SchemeScore, scheme_differences, scheme_scores
from ner_demo.evaluation.suspicious import SuspiciousItem, suspicious_gold


@dataclass(frozen=True)
class FullEvaluation:
    """The parts of one evaluation (see the module docstring); ``meta``: what was evaluated (model,
    data, split, tagger settings), free-form strings for the report's header."""

    result: EvaluationResult
    intervals: BootstrapResult | None
    schemes: list[SchemeScore]
    differences: list[SchemeDifference]
    overlap: Overlap | None
    buckets: list[BucketTable]
    calibration: CalibrationReport | None
    suspicious: list[SuspiciousItem]
    meta: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # part -> why it is missing

    def to_dict(self, top: int | None = None) -> dict:
        """Every figure as JSON-ready data (``top``: how many suspicious items; None: all)."""
        suspicious = self.suspicious if top is None else self.suspicious[:top]
        return {
            "meta": dict(self.meta), **self.result.to_dict(),
            "bootstrap": None if self.intervals is None else self.intervals.to_dict(),
            "schemes": [row.to_dict() for row in self.schemes],
            "scheme_differences": [d.to_dict() for d in self.differences],
            "overlap": None if self.overlap is None else self.overlap.to_dict(),
            "buckets": [table.to_dict() for table in self.buckets],
            "calibration": None if self.calibration is None else self.calibration.to_dict(),
            "suspicious": [it.to_dict(rank=n) for n, it in enumerate(suspicious, start=1)],
            "n_suspicious": len(self.suspicious),
            "notes": dict(self.notes),
        }


def full_evaluation(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    words: Sequence[Sequence[str]],
    doc_ids: Sequence[int] | None = None,
    scores: Sequence[Sequence[float]] | None = None,
    probs: Sequence[np.ndarray] | None = None,
    labels: Sequence[str] | None = None,
    seen: Mapping[str, frozenset[str]] | None = None,
    pieces: Callable[[str], int] | None = None,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
    meta: Mapping[str, str] | None = None,
    notes: Mapping[str, str] | None = None,
) -> FullEvaluation:
    """Score ``pred`` against ``gold`` every way this package knows.

    ``scores``: each predicted tag's probability (calibration); ``probs`` and ``labels``: each word's
    probabilities over the model's labels (suspicious gold); ``seen``: training surfaces
    (:func:`~ner_demo.evaluation.generalisation.training_surfaces`, for seen/unseen and overlap);
    ``pieces``: word -> subword count (the subword bucket); ``replicates`` 0: no intervals. ``notes``:
    the caller's reasons for parts it could not give (e.g. why there is no ``seen``).
    """
    result = evaluate(gold, pred, words)
    out_notes = dict(notes or {})
    intervals = bootstrap_f1(gold, pred, doc_ids, replicates, seed) if replicates else None
    if intervals is None:
        out_notes.setdefault("bootstrap", "no resamples asked for")
    buckets = [] if seen is None else [seen_unseen(gold, pred, words, seen)]
    if seen is None:
        out_notes.setdefault("seen_unseen", "no training data given")
    buckets += length_tables(gold, pred, words, pieces)
    calibration = None
    if scores is not None:
        calibration = calibration_report(scored_entities(gold, pred, scores))
    else:
        out_notes.setdefault("calibration", "no confidence scores given")
    # The corpus signal needs no model: without probabilities the list is made from it alone.
    suspicious = suspicious_gold(words, gold, doc_ids, probs, labels, pred)
    if probs is None:
        out_notes.setdefault("suspicious", "no word probabilities given: the model's signals are off, "
                                           "only inconsistent labels of the same string are ranked")
    return FullEvaluation(
        result, intervals, scheme_scores(gold, pred, result), scheme_differences(gold, pred, words),
        None if seen is None else overlap(gold, words, seen), buckets, calibration, suspicious,
        dict(meta or {}), out_notes,
    )

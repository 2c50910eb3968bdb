"""Bootstrap confidence intervals on strict IOB2 micro and per-type F1, resampling whole documents.

Sentences of one document share topics and names, so their errors are not independent: resampling
sentences would make the interval too narrow. The unit is therefore the document (CoNLL ``-DOCSTART-``
blocks, :attr:`ner_demo.data.conll.Sentence.doc_id`); a corpus that is one document (no ``-DOCSTART-``
lines, or the Hub copy of CoNLL-2003) falls back to sentences, and the result says which it used.

Each unit's strict TP/predicted/gold counts per type are computed once
(:func:`ner_demo.evaluation.counts.entity_counts`); a replicate is a row of how many times each unit
was drawn, so all replicates' totals are one matrix product and seqeval runs once, not 1,000 times.
The interval is the percentile interval of the replicates' F1; the point estimate is the F1 of the
data as it is, equal to seqeval's strict score.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal, Sequence

import numpy as np

from ner_demo.evaluation.counts import GOLD, PRED, TP, EntityCounts, entity_counts, f1_scores

DEFAULT_REPLICATES = 1000
DEFAULT_SEED = 0
Unit = Literal["document", "sentence"]


@dataclass(frozen=True)
class Interval:
    """A point estimate and its ``confidence`` percentile interval ``[low, high]``."""

    point: float
    low: float
    high: float
    confidence: float = 0.95

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class BootstrapResult:
    """Intervals on strict micro F1 and on each type's F1 (``per_type`` sorted by type)."""

    micro: Interval
    per_type: dict[str, Interval] = field(default_factory=dict)
    replicates: int = DEFAULT_REPLICATES
    unit: Unit = "document"
    n_units: int = 0
    seed: int = DEFAULT_SEED

    def to_dict(self) -> dict:
        return {"micro": self.micro.to_dict(), "per_type": {t: i.to_dict() for t, i in self.per_type.items()},
                "replicates": self.replicates, "unit": self.unit, "n_units": self.n_units, "seed": self.seed}

    def describe(self) -> str:
        """``"1,000 document resamples"``: how the interval was made, for a report line."""
        return f"{self.replicates:,} {self.unit} resamples"


def resampling_units(doc_ids: Sequence[int] | None, n_sentences: int) -> tuple[np.ndarray, Unit]:
    """The unit index (0, 1, ... in order of first appearance) of each sentence, and its kind:
    documents when there are at least two, else sentences.

    >>> units, kind = resampling_units([0, 0, 1, 1, 1], 5)
    >>> units.tolist(), kind
    ([0, 0, 1, 1, 1], 'document')
    >>> resampling_units([0, 0, 0], 3)[1]
    'sentence'
    """
    if doc_ids is not None and len(doc_ids) != n_sentences:
        raise ValueError(f"doc_ids has {len(doc_ids)} entries but there are {n_sentences} sentences")
    if doc_ids is None or len(set(doc_ids)) < 2:
        return np.arange(n_sentences), "sentence"
    _, first, inverse = np.unique(np.asarray(doc_ids), return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))  # renumber the documents by where they first appear
    return order[inverse], "document"


def unit_counts(counts: EntityCounts, units: np.ndarray) -> np.ndarray:
    """Per-sentence counts summed per unit: shape ``(n_units, n_types, 3)``."""
    n_units = int(units.max()) + 1 if len(units) else 0
    out = np.zeros((n_units, *counts.counts.shape[1:]), dtype=np.int64)
    np.add.at(out, units, counts.counts)
    return out


def replicate_weights(n_units: int, replicates: int, seed: int) -> np.ndarray:
    """How many times each unit is drawn in each replicate: shape ``(replicates, n_units)``, each row
    summing to ``n_units``. The same seed and sizes give the same draws, so two models scored with
    them are resampled on the same documents (a paired bootstrap)."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_units, size=(replicates, n_units))
    weights = np.zeros((replicates, n_units), dtype=np.int64)
    np.add.at(weights, (np.repeat(np.arange(replicates), n_units), draws.ravel()), 1)
    return weights


def replicate_f1(per_unit: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Micro F1 (shape ``(replicates,)``) and per-type F1 (``(replicates, n_types)``) of each replicate."""
    n_units, n_types, _ = per_unit.shape
    totals = (weights @ per_unit.reshape(n_units, n_types * 3)).reshape(len(weights), n_types, 3)
    micro = totals.sum(axis=1)
    return (f1_scores(micro[:, TP], micro[:, PRED], micro[:, GOLD]),
            f1_scores(totals[..., TP], totals[..., PRED], totals[..., GOLD]))


def point_f1(counts: EntityCounts) -> tuple[float, np.ndarray]:
    """Micro and per-type strict F1 of the whole data: seqeval's numbers, bit for bit."""
    totals = counts.counts.sum(axis=0)  # (n_types, 3)
    micro = totals.sum(axis=0)
    return (float(f1_scores(micro[None, TP], micro[None, PRED], micro[None, GOLD])[0]),
            f1_scores(totals[:, TP], totals[:, PRED], totals[:, GOLD]))


def percentile_interval(point: float, samples: np.ndarray, confidence: float) -> Interval:
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(samples, [tail, 100.0 - tail])
    return Interval(point, float(low), float(high), confidence)


def bootstrap_f1(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    doc_ids: Sequence[int] | None = None,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
    confidence: float = 0.95,
) -> BootstrapResult:
    """Percentile bootstrap intervals on strict IOB2 micro F1 and each type's F1.

    ``doc_ids`` (one per sentence) names each sentence's document; without them, or with a single
    document, sentences are resampled. Every replicate draws as many units as there are.

    >>> gold = [["B-PER"], ["B-PER"], ["B-LOC"], ["B-LOC"]]
    >>> result = bootstrap_f1(gold, gold, doc_ids=[0, 1, 2, 3], replicates=200)
    >>> result.micro
    Interval(point=1.0, low=1.0, high=1.0, confidence=0.95)
    >>> result.describe()
    '200 document resamples'
    """
    if replicates < 1:
        raise ValueError(f"replicates must be at least 1, got {replicates}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie between 0 and 1, got {confidence}")
    counts = entity_counts(gold, pred)
    units, unit = resampling_units(doc_ids, len(gold))
    micro_point, type_points = point_f1(counts)
    if not len(gold):
        zero = Interval(0.0, 0.0, 0.0, confidence)
        return BootstrapResult(zero, {t: zero for t in counts.types}, replicates, unit, 0, seed)
    per_unit = unit_counts(counts, units)
    micro, per_type = replicate_f1(per_unit, replicate_weights(len(per_unit), replicates, seed))
    return BootstrapResult(
        percentile_interval(micro_point, micro, confidence),
        {t: percentile_interval(float(type_points[i]), per_type[:, i], confidence) for i, t in enumerate(counts.types)},
        replicates, unit, len(per_unit), seed,
    )

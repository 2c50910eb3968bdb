"""Two models (or runs) on the same data: is the F1 difference real? And where do they disagree?

The test is a paired bootstrap: each replicate draws documents once and scores both models on the
same draw (:func:`ner_demo.evaluation.bootstrap.replicate_weights`), so what varies between the two
is the models, not the sample. The difference is always B minus A. The two-sided p-value is twice the
smaller share of replicates on either side of zero, with the observed sample counted on both sides
(``(k + 1) / (n + 1)``), capped at 1: identical models get exactly 1.0, and no p-value is 0, since
1,000 replicates cannot show less than about 0.002.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal, Sequence

import numpy as np

from ner_demo.evaluation.analysis import check_aligned
from ner_demo.evaluation.bootstrap import (
    DEFAULT_REPLICATES,
    DEFAULT_SEED,
    Unit,
    point_f1,
    replicate_f1,
    replicate_weights,
    resampling_units,
    unit_counts,
)
from ner_demo.evaluation.counts import entity_counts, entity_types, strict_entities
from ner_demo.spans import WordSpan

Closer = Literal["A", "B", "neither"]


@dataclass(frozen=True)
class Difference:
    """F1 of A and of B, ``diff`` = B - A, its percentile interval and the two-sided p-value."""

    a: float
    b: float
    diff: float
    low: float
    high: float
    p_value: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PairedTest:
    micro: Difference
    per_type: dict[str, Difference] = field(default_factory=dict)
    replicates: int = DEFAULT_REPLICATES
    unit: Unit = "document"
    n_units: int = 0
    seed: int = DEFAULT_SEED
    confidence: float = 0.95

    def to_dict(self) -> dict:
        return {"micro": self.micro.to_dict(), "per_type": {t: d.to_dict() for t, d in self.per_type.items()},
                "replicates": self.replicates, "unit": self.unit, "n_units": self.n_units, "seed": self.seed,
                "confidence": self.confidence}


def two_sided_p(samples: Sequence[float] | np.ndarray) -> float:
    """Twice the smaller share of ``samples`` at or below / at or above zero, each with the observed
    sample added, capped at 1.

    >>> two_sided_p(np.zeros(9))
    1.0
    >>> two_sided_p(np.full(9, 0.1))
    0.2
    """
    samples = np.asarray(samples, dtype=np.float64)
    n = len(samples)
    below = (int(np.count_nonzero(samples <= 0.0)) + 1) / (n + 1)
    above = (int(np.count_nonzero(samples >= 0.0)) + 1) / (n + 1)
    return min(1.0, 2.0 * min(below, above))


def _difference(a: float, b: float, samples: np.ndarray, confidence: float) -> Difference:
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(samples, [tail, 100.0 - tail])
    return Difference(a, b, b - a, float(low), float(high), two_sided_p(samples))


def paired_bootstrap(
    gold: Sequence[Sequence[str]],
    pred_a: Sequence[Sequence[str]],
    pred_b: Sequence[Sequence[str]],
    doc_ids: Sequence[int] | None = None,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
    confidence: float = 0.95,
) -> PairedTest:
    """Paired bootstrap test of strict IOB2 micro and per-type F1, B minus A (documents resampled,
    sentences when there is one document).

    >>> gold = [["B-PER"], ["B-PER"], ["B-PER"], ["B-PER"]]
    >>> test = paired_bootstrap(gold, gold, gold, doc_ids=[0, 1, 2, 3], replicates=100)
    >>> test.micro.diff, test.micro.p_value
    (0.0, 1.0)
    """
    if replicates < 1:
        raise ValueError(f"replicates must be at least 1, got {replicates}")
    check_aligned(gold, pred_b)
    # One set of columns for both: a type only one model predicts scores 0 for the other.
    types = entity_types(gold, pred_a, pred_b)
    counts_a, counts_b = entity_counts(gold, pred_a, types), entity_counts(gold, pred_b, types)
    units, unit = resampling_units(doc_ids, len(gold))
    (micro_a, types_a), (micro_b, types_b) = point_f1(counts_a), point_f1(counts_b)
    if not len(gold):
        zero = Difference(0.0, 0.0, 0.0, 0.0, 0.0, 1.0)
        return PairedTest(zero, {t: zero for t in types}, replicates, unit, 0, seed, confidence)
    per_unit_a, per_unit_b = unit_counts(counts_a, units), unit_counts(counts_b, units)
    weights = replicate_weights(len(per_unit_a), replicates, seed)  # the same draws for A and B
    (rep_micro_a, rep_types_a), (rep_micro_b, rep_types_b) = (
        replicate_f1(per_unit_a, weights), replicate_f1(per_unit_b, weights))
    return PairedTest(
        _difference(micro_a, micro_b, rep_micro_b - rep_micro_a, confidence),
        {t: _difference(float(types_a[i]), float(types_b[i]), rep_types_b[:, i] - rep_types_a[:, i], confidence)
         for i, t in enumerate(types)},
        replicates, unit, len(per_unit_a), seed, confidence,
    )


@dataclass(frozen=True)
class Disagreement:
    """A sentence where A's and B's strict entities differ; ``closer`` says which one has exactly the
    gold entities (``"neither"`` when both are wrong). Entity lists are sorted by position."""

    sentence: int
    closer: Closer
    gold: tuple[WordSpan, ...]
    a: tuple[WordSpan, ...]
    b: tuple[WordSpan, ...]
    words: tuple[str, ...] | None = None

    def to_dict(self) -> dict:
        def spans(entities):
            return [{**asdict(e), "text": None if self.words is None else " ".join(self.words[e.start:e.end])}
                    for e in entities]
        return {"sentence": self.sentence, "closer": self.closer, "gold": spans(self.gold), "a": spans(self.a),
                "b": spans(self.b), "words": None if self.words is None else list(self.words)}


def disagreements(
    gold: Sequence[Sequence[str]],
    pred_a: Sequence[Sequence[str]],
    pred_b: Sequence[Sequence[str]],
    words: Sequence[Sequence[str]] | None = None,
) -> list[Disagreement]:
    """Every sentence whose strict entities differ between A and B, in order, with which of the two
    matches gold. Tags that differ without changing a strict entity (a stray ``I-`` that strict IOB2
    drops) are no disagreement: neither score sees them.

    >>> [(d.sentence, d.closer) for d in disagreements([["B-PER"], ["B-LOC"]], [["B-PER"], ["O"]], [["O"], ["O"]])]
    [(0, 'A')]
    """
    check_aligned(gold, pred_a, words)
    check_aligned(gold, pred_b)
    out = []
    for i, (g, a, b) in enumerate(zip(strict_entities(gold), strict_entities(pred_a), strict_entities(pred_b))):
        if a == b:
            continue
        closer: Closer = "A" if a == g else "B" if b == g else "neither"
        out.append(Disagreement(i, closer, *(tuple(sorted(s, key=_position)) for s in (g, a, b)),
                                None if words is None else tuple(words[i])))
    return out


def _position(span: WordSpan) -> tuple[int, int, str]:
    return span.start, span.end, span.label

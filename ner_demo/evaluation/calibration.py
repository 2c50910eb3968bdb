"""Does a score of 0.9 mean 90 %? Entity-level calibration, a fitted temperature, per-type thresholds.

- :func:`scored_entities`: every predicted strict IOB2 entity with its score (the mean of its words', as
  :class:`ner_demo.spans.Entity` scores are) and whether it is correct (a gold entity with the same
  sentence, span and type, seqeval's strict match);
- :func:`reliability` / :func:`calibration_report`: the reliability diagram (equal-width bins of
  confidence against the share correct) and the expected calibration error
  ``ECE = sum_b n_b / N * |share correct_b - mean confidence_b|``, overall and per type;
- :func:`fit_temperature`: the temperature ``T`` minimising the negative log-likelihood of the gold
  labels of the words (first-subword predictions) under ``softmax(logits / T)``; a golden-section
  search on ``1 / T``, over which that NLL is convex;
- :func:`threshold_curves` / :func:`best_thresholds`: per-type precision, recall and F1 against a
  confidence threshold (entities below it dropped), and the F1-optimal threshold of each type.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Mapping, Sequence

import numpy as np

from ner_demo.backends import apply_temperature
from ner_demo.evaluation.analysis import check_aligned
from ner_demo.evaluation.counts import strict_entities
from ner_demo.spans import WordSpan

N_BINS = 10
TEMPERATURE_RANGE = (0.05, 20.0)  # the search's bounds; a fit at a bound says the data are degenerate
THRESHOLD_GRID = tuple(round(0.01 * k, 2) for k in range(101))  # the curves' thresholds, for plots


@dataclass(frozen=True)
class ScoredEntity:
    sentence: int
    span: WordSpan
    score: float
    correct: bool


def scored_entities(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]],
                    scores: Sequence[Sequence[float]]) -> list[ScoredEntity]:
    """The predicted strict entities of every sentence, in sentence and span order, scored and marked.

    >>> [(e.span.label, e.score, e.correct) for e in scored_entities([["B-PER", "O"]], [["B-PER", "B-LOC"]],
    ...                                                                  [[0.9, 0.6]])]
    [('PER', 0.9, True), ('LOC', 0.6, False)]
    """
    check_aligned(gold, pred)
    if len(scores) != len(pred) or any(len(s) != len(p) for s, p in zip(scores, pred)):
        raise ValueError("scores must have one value per predicted tag")
    out = []
    for i, (g, p) in enumerate(zip(strict_entities(gold), strict_entities(pred))):
        for span in sorted(p, key=lambda s: (s.start, s.end, s.label)):
            score = float(sum(scores[i][span.start : span.end]) / (span.end - span.start))
            out.append(ScoredEntity(i, span, score, span in g))
    return out


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    count: int
    confidence: float  # mean score of the entities in the bin (0 when empty)
    accuracy: float  # share of them that are correct (0 when empty)


@dataclass(frozen=True)
class Reliability:
    """A reliability diagram's data and its expected calibration error (``ece``, 0 with no entities)."""

    bins: tuple[Bin, ...]
    ece: float
    n: int
    confidence: float  # mean score over all entities
    accuracy: float  # share correct over all entities (the strict precision)

    def to_dict(self) -> dict:
        return {"ece": self.ece, "n": self.n, "confidence": self.confidence, "accuracy": self.accuracy,
                "bins": [asdict(b) for b in self.bins]}


def reliability(scores: Sequence[float], correct: Sequence[bool], n_bins: int = N_BINS) -> Reliability:
    """Equal-width bins over [0, 1] (the last one closed: a score of 1 falls in it).

    >>> r = reliability([0.95, 0.95, 0.55, 0.55], [True, False, True, True])
    >>> round(r.ece, 4), [(b.low, b.count, b.accuracy) for b in r.bins if b.count]
    (0.45, [(0.5, 2, 1.0), (0.9, 2, 0.5)])
    """
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins}")
    s = np.asarray(scores, dtype=np.float64)
    c = np.asarray(correct, dtype=np.float64)
    if s.shape != c.shape:
        raise ValueError("scores and correct must have the same length")
    index = np.minimum((s * n_bins).astype(np.int64), n_bins - 1)
    bins, ece = [], 0.0
    for b in range(n_bins):
        inside = index == b
        count = int(inside.sum())
        confidence = float(s[inside].mean()) if count else 0.0
        accuracy = float(c[inside].mean()) if count else 0.0
        ece += count / len(s) * abs(accuracy - confidence) if count else 0.0
        bins.append(Bin(b / n_bins, (b + 1) / n_bins, count, confidence, accuracy))
    return Reliability(tuple(bins), ece, len(s), float(s.mean()) if len(s) else 0.0,
                       float(c.mean()) if len(c) else 0.0)


@dataclass(frozen=True)
class CalibrationReport:
    overall: Reliability
    types: dict[str, Reliability]  # by predicted type, sorted

    def to_dict(self) -> dict:
        return {"overall": self.overall.to_dict(), "types": {t: r.to_dict() for t, r in self.types.items()}}


def calibration_report(entities: Sequence[ScoredEntity], n_bins: int = N_BINS) -> CalibrationReport:
    """ECE and reliability bins of all predicted entities and of each predicted type."""
    by_type: dict[str, list[ScoredEntity]] = {}
    for e in entities:
        by_type.setdefault(e.span.label, []).append(e)
    return CalibrationReport(
        reliability([e.score for e in entities], [e.correct for e in entities], n_bins),
        {t: reliability([e.score for e in es], [e.correct for e in es], n_bins) for t, es in sorted(by_type.items())},
    )


def format_calibration(report: CalibrationReport, temperature: float = 1.0) -> str:
    """The ECE lines of ``evaluate``: overall, then per predicted type.

    >>> print(format_calibration(calibration_report(scored_entities([["B-PER"]], [["B-PER"]], [[0.75]]))))
    expected calibration error (entities, strict, temperature 1): 0.2500 over 1 predicted entities
      PER      0.2500  (1; mean score 0.7500, share correct 1.0000)
    """
    lines = [f"expected calibration error (entities, strict, temperature {temperature:g}): "
             f"{report.overall.ece:.4f} over {report.overall.n} predicted entities"]
    for label, r in report.types.items():
        lines.append(f"  {label:<8} {r.ece:.4f}  ({r.n}; mean score {r.confidence:.4f}, "
                     f"share correct {r.accuracy:.4f})")
    return "\n".join(lines)


# ---- temperature ------------------------------------------------------------------------------------


def nll(probs: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    """Mean negative log-likelihood of ``labels`` (N,) under ``probs`` (N, L) tempered by ``temperature``."""
    with np.errstate(divide="ignore"):
        log_p = np.log(np.asarray(probs, dtype=np.float64)) / temperature
    finite_max = np.where(np.isfinite(log_p), log_p, -np.inf).max(axis=1, keepdims=True)
    lse = finite_max[:, 0] + np.log(np.exp(log_p - finite_max).sum(axis=1))
    picked = log_p[np.arange(len(labels)), labels]
    # A gold label given probability 0 (underflow): its log-likelihood is clipped, not -inf.
    return float(np.mean(lse - np.maximum(picked, finite_max[:, 0] - 745.0)))


def fit_temperature(probs: np.ndarray, labels: Sequence[int], tolerance: float = 1e-4) -> float:
    """The temperature minimising :func:`nll` of ``labels`` under ``probs`` (rows: one word each, from
    the model at temperature 1), by golden-section search on ``1 / T`` within :data:`TEMPERATURE_RANGE`.

    >>> p = np.array([[0.9, 0.1], [0.9, 0.1], [0.9, 0.1], [0.9, 0.1]])
    >>> round(fit_temperature(p, [0, 0, 0, 1]), 3)  # 90 % sure, 75 % right: ln 9 / T = ln 3
    2.0
    """
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    if probs.ndim != 2 or len(probs) != len(labels) or len(labels) == 0:
        raise ValueError("fit_temperature needs (N, L) probabilities and N >= 1 labels")
    lo, hi = 1 / TEMPERATURE_RANGE[1], 1 / TEMPERATURE_RANGE[0]  # over beta = 1 / T
    ratio = (math.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = nll(probs, labels, 1 / a), nll(probs, labels, 1 / b)
    while hi - lo > tolerance:
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = nll(probs, labels, 1 / a)
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = nll(probs, labels, 1 / b)
    return float(1 / ((lo + hi) / 2))


def word_labels(probs: Sequence[np.ndarray], gold: Sequence[Sequence[str]],
                labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(probs, label ids)`` of every word whose gold tag is one of the model's ``labels``, stacked."""
    index = {label: i for i, label in enumerate(labels)}
    rows, ids = [], []
    for p, tags in zip(probs, gold):
        if len(p) != len(tags):
            raise ValueError(f"a sentence has {len(tags)} gold tags but {len(p)} predictions")
        keep = [k for k, t in enumerate(tags) if t in index]
        rows.append(np.asarray(p)[keep])
        ids += [index[tags[k]] for k in keep]
    width = len(labels)
    return (np.concatenate(rows) if rows else np.zeros((0, width))), np.asarray(ids, dtype=np.int64)


MIN_TYPE_WORDS = 100  # fewer words predicted as a type: it keeps the global temperature


def fit_type_temperatures(probs: np.ndarray, labels: Sequence[int], names: Sequence[str],
                          min_words: int = MIN_TYPE_WORDS) -> dict[str, float]:
    """A temperature per type (and "O"), each fitted like :func:`fit_temperature` on the words whose most
    likely label is of that type (``names``: the label of each column); the Tagger tempers a distribution
    with its argmax type's temperature, so the argmax stays. Types with fewer than ``min_words`` such
    words get none (they keep the global temperature).

    >>> p = np.array([[0.9, 0.1]] * 4 + [[0.2, 0.8]] * 4)
    >>> {t: round(v, 3) for t, v in fit_type_temperatures(p, [0, 0, 0, 1, 1, 1, 1, 1], ["O", "B-PER"], 1).items()}
    {'O': 2.0, 'PER': 0.05}
    """
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    types = np.array([n if n == "O" else n.split("-", 1)[-1] for n in names])
    predicted = types[probs.argmax(axis=1)] if len(probs) else np.array([], dtype=types.dtype)
    out = {}
    for label in sorted(set(types.tolist())):
        rows = predicted == label
        if rows.sum() >= min_words:
            out[label] = fit_temperature(probs[rows], labels[rows])
    return out


def tempered(probs: Sequence[np.ndarray], temperature: float, by_label: np.ndarray | None = None) -> list[np.ndarray]:
    """Each sentence's word probabilities at ``temperature``, or at their argmax label's (``by_label``;
    see :func:`ner_demo.backends.apply_temperature`)."""
    return [apply_temperature(p, temperature, by_label) for p in probs]


# ---- thresholds -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThresholdCurve:
    """Strict precision, recall and F1 of one type when its entities scored below each threshold are dropped."""

    label: str
    thresholds: tuple[float, ...]
    precision: tuple[float, ...]
    recall: tuple[float, ...]
    f1: tuple[float, ...]
    n_gold: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ThresholdChoice:
    label: str
    threshold: float  # entities scored below it are dropped (0: keep all)
    precision: float
    recall: float
    f1: float
    f1_without: float  # F1 with no threshold

    def to_dict(self) -> dict:
        return asdict(self)


def _prf(tp: np.ndarray, kept: np.ndarray, n_gold: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    precision = tp / np.where(kept == 0, 1, kept)
    recall = tp / (n_gold or 1)
    denominator = precision + recall
    return precision, recall, 2 * precision * recall / np.where(denominator == 0, 1, denominator)


def _by_type(entities: Sequence[ScoredEntity], gold: Sequence[Sequence[str]]):
    n_gold: dict[str, int] = {}
    for sentence in strict_entities(gold):
        for span in sentence:
            n_gold[span.label] = n_gold.get(span.label, 0) + 1
    scored: dict[str, list[tuple[float, bool]]] = {t: [] for t in n_gold}
    for e in entities:
        scored.setdefault(e.span.label, []).append((e.score, e.correct))
    return {t: (np.array([s for s, _ in v], dtype=np.float64), np.array([c for _, c in v], dtype=bool),
                n_gold.get(t, 0)) for t, v in sorted(scored.items())}


def threshold_curves(entities: Sequence[ScoredEntity], gold: Sequence[Sequence[str]],
                     grid: Sequence[float] = THRESHOLD_GRID) -> dict[str, ThresholdCurve]:
    """Per type (of gold or predictions), P/R/F1 at each threshold of ``grid`` (kept: score >= threshold).

    >>> entities = scored_entities([["B-PER", "O"]], [["B-PER", "B-PER"]], [[0.9, 0.6]])
    >>> threshold_curves(entities, [["B-PER", "O"]], grid=[0.0, 0.7])["PER"].f1
    (0.6666666666666666, 1.0)
    """
    out = {}
    for label, (scores, correct, n_gold) in _by_type(entities, gold).items():
        keep = scores[None, :] >= np.asarray(grid, dtype=np.float64)[:, None]  # (grid, entities)
        p, r, f = _prf((keep & correct).sum(axis=1), keep.sum(axis=1), n_gold)
        out[label] = ThresholdCurve(label, tuple(float(t) for t in grid), tuple(p.tolist()), tuple(r.tolist()),
                                    tuple(f.tolist()), n_gold)
    return out


def best_thresholds(entities: Sequence[ScoredEntity], gold: Sequence[Sequence[str]]) -> dict[str, ThresholdChoice]:
    """Each type's F1-optimal threshold, searched over every score its entities have (exact, not a grid):
    the lowest threshold reaching the best F1, floored to 4 decimals so that the entity it is taken from
    is kept; 0 where no threshold beats keeping all.

    >>> choice = best_thresholds(scored_entities([["B-PER", "O"]], [["B-PER", "B-PER"]], [[0.9, 0.6]]),
    ...                          [["B-PER", "O"]])["PER"]
    >>> choice.threshold, choice.f1, round(choice.f1_without, 4)
    (0.9, 1.0, 0.6667)
    """
    out = {}
    for label, (scores, correct, n_gold) in _by_type(entities, gold).items():
        candidates = np.concatenate([[0.0], np.unique(scores)])
        keep = scores[None, :] >= candidates[:, None]
        p, r, f = _prf((keep & correct).sum(axis=1), keep.sum(axis=1), n_gold)
        best = int(np.argmax(f))  # the first, i.e. the lowest threshold, among equal F1
        threshold = math.floor(float(candidates[best]) * 1e4) / 1e4
        out[label] = ThresholdChoice(label, threshold, float(p[best]), float(r[best]), float(f[best]), float(f[0]))
    return out


def apply_thresholds(entities: Sequence[ScoredEntity], thresholds: Mapping[str, float]) -> list[ScoredEntity]:
    """The entities at or above their type's threshold (types without one keep all)."""
    return [e for e in entities if e.score >= thresholds.get(e.span.label, 0.0)]

"""Entity scores from seqeval, token accuracy, and the one result object the CLI and app show.

The headline is seqeval's strict IOB2 score (``mode="strict", scheme=IOB2``); the conlleval-style
score (seqeval's default mode) sits beside it. Both are seqeval's numbers, bit for bit: the entities are
chunked as seqeval chunks them (:mod:`ner_demo.evaluation.chunks`, once per corpus of tags, where
seqeval's ``classification_report`` would chunk it again on every call, seconds on CoNLL-2003), and
the counts go through seqeval's formulas in its float operations (:func:`_mode_scores`);
tests/test_evaluation_metrics.py compares every figure with ``classification_report`` on random tags.

Zero divisions score 0, never NaN: a type with no predictions has precision 0, one with no gold
entities has recall 0, and input with no entities at all (or no sentences) gets all-zero scores and
no per-type rows. seqeval would warn and average an empty array to NaN there, so we do not call it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Collection, Literal, Sequence

import numpy as np
from seqeval.metrics import accuracy_score

from ner_demo.evaluation.analysis import (
    ERROR_KINDS,
    ConfusionMatrix,
    EntityError,
    analyse,
)
from ner_demo.evaluation.chunks import chunk
from ner_demo.evaluation.counts import f1_scores
from ner_demo.spans import WordSpan

if TYPE_CHECKING:
    from ner_demo.evaluation.bootstrap import BootstrapResult

Mode = Literal["strict", "conlleval"]


@dataclass(frozen=True)
class TypeScore:
    precision: float
    recall: float
    f1: float
    support: int  # gold entities of this type (or of all types, on the micro/macro rows)


ZERO = TypeScore(0.0, 0.0, 0.0, 0)


@dataclass(frozen=True)
class Scores:
    """One seqeval mode's report. ``per_type`` is sorted by type name.

    ``per_type`` lists every type found in gold or pred by conlleval chunking. In strict mode a type
    whose every tag run opens with ``I-`` has no entity; it still gets a row, all zeros, so the two
    modes' tables line up. ``macro`` is seqeval's and averages only over the types the mode found.
    """

    mode: Mode
    micro: TypeScore
    macro: TypeScore
    weighted: TypeScore
    per_type: dict[str, TypeScore] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "mode": self.mode,
            "micro": asdict(self.micro),
            "macro": asdict(self.macro),
            "weighted": asdict(self.weighted),
            "per_type": {label: asdict(score) for label, score in self.per_type.items()},
        }


@dataclass(frozen=True)
class EvaluationResult:
    strict: Scores
    conlleval: Scores
    token_accuracy: float
    n_sentences: int
    n_tokens: int
    confusion: ConfusionMatrix
    errors: list[EntityError]

    @property
    def types(self) -> list[str]:
        return list(self.confusion.labels)

    def error_counts(self) -> dict[str, int]:
        """How many errors of each kind, every kind listed (0 when absent), in ``ERROR_KINDS`` order."""
        counts = dict.fromkeys(ERROR_KINDS, 0)
        for error in self.errors:
            counts[error.kind] += 1
        return counts

    def to_dict(self) -> dict:
        return {
            "strict": self.strict.to_dict(),
            "conlleval": self.conlleval.to_dict(),
            "token_accuracy": self.token_accuracy,
            "n_sentences": self.n_sentences,
            "n_tokens": self.n_tokens,
            "confusion": self.confusion.to_dict(),
            "error_counts": self.error_counts(),
            "errors": [error.to_dict() for error in self.errors],
        }


def evaluate(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    words: Sequence[Sequence[str]] | None = None,
) -> EvaluationResult:
    """Score word-level IOB2 predictions against gold tags.

    ``gold`` and ``pred`` hold one tag list per sentence, of equal lengths; ``words`` (optional)
    gives each error its sentence for context. Raises ``ValueError`` naming the sentence on a length
    mismatch or a tag that is not O, B-X or I-X.

    >>> result = evaluate([["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "B-ORG"]])
    >>> result.strict.micro.f1, result.token_accuracy
    (0.5, 0.75)
    >>> [(e.kind, e.gold.label, e.pred.label) for e in result.errors]
    [('wrong_type', 'LOC', 'ORG')]
    """
    confusion, errors = analyse(gold, pred, words)  # also checks lengths and tags
    n_tokens = sum(len(tags) for tags in gold)
    g, p = chunk(gold), chunk(pred)
    return EvaluationResult(
        strict=_mode_scores("strict", g.strict, p.strict, confusion.labels),
        conlleval=_mode_scores("conlleval", g.conlleval, p.conlleval, confusion.labels),
        # seqeval insists on lists of lists (it rejects tuples).
        token_accuracy=float(accuracy_score([list(t) for t in gold], [list(t) for t in pred])) if n_tokens else 0.0,
        n_sentences=len(gold),
        n_tokens=n_tokens,
        confusion=confusion,
        errors=errors,
    )


def _mode_scores(mode: Mode, gold: Sequence[Collection[WordSpan]], pred: Sequence[Collection[WordSpan]],
                 types: Sequence[str]) -> Scores:
    """seqeval's ``classification_report`` of one mode, from each sentence's entities under that mode's
    chunking; ``types`` are the conlleval-chunked types (every one gets a row).

    seqeval's arithmetic (``_precision_recall_fscore_support`` with ``zero_division=0``): per type
    P = tp / pred and R = tp / gold (0 where the denominator is 0), F1 = 2PR / (P + R) (0 where P + R
    is 0); micro from the summed counts; macro the ``np.average`` of the per-type values; weighted
    their ``np.average`` weighted by gold support (all 0 without gold entities). The types are those
    this mode's chunking finds, sorted, as seqeval's ``target_names``.
    """
    per_type = dict.fromkeys(types, ZERO)
    counts: dict[str, list[int]] = {}  # type -> [tp, pred, gold]
    for g, p in zip(gold, pred):
        for e in p:
            row = counts.setdefault(e.label, [0, 0, 0])
            row[1] += 1
            row[0] += e in g
        for e in g:
            counts.setdefault(e.label, [0, 0, 0])[2] += 1
    if not counts:  # seqeval would average an empty array to NaN
        return Scores(mode, ZERO, ZERO, ZERO, per_type)
    names = sorted(counts)
    tp, n_pred, n_gold = (np.array([counts[t][k] for t in names], dtype=np.int64) for k in range(3))
    f1 = f1_scores(tp, n_pred, n_gold)
    precision = tp / np.where(n_pred == 0, 1, n_pred)
    recall = tp / np.where(n_gold == 0, 1, n_gold)
    micro_tp, micro_pred, micro_gold = (np.array([a.sum()]) for a in (tp, n_pred, n_gold))
    micro = TypeScore(float(micro_tp[0] / (micro_pred[0] or 1)), float(micro_tp[0] / (micro_gold[0] or 1)),
                      float(f1_scores(micro_tp, micro_pred, micro_gold)[0]), int(micro_gold[0]))
    support = int(n_gold.sum())
    macro = TypeScore(float(np.average(precision)), float(np.average(recall)), float(np.average(f1)), support)
    if support == 0:
        weighted = TypeScore(0.0, 0.0, 0.0, 0)
    else:
        weighted = TypeScore(float(np.average(precision, weights=n_gold)), float(np.average(recall, weights=n_gold)),
                             float(np.average(f1, weights=n_gold)), support)
    per_type.update({t: TypeScore(float(precision[i]), float(recall[i]), float(f1[i]), int(n_gold[i]))
                     for i, t in enumerate(names)})
    return Scores(mode, micro, macro, weighted, per_type)


def format_report(result: EvaluationResult, digits: int = 4, intervals: "BootstrapResult | None" = None) -> str:
    """Plain-text table: per type P/R/F1/support for strict IOB2 and conlleval, micro/macro rows; with
    ``intervals`` (:func:`ner_demo.evaluation.bootstrap.bootstrap_f1` of the same tags), a last column
    with each strict F1's confidence interval (micro and per type; macro has none)."""
    width = max([len("micro avg"), *(len(t) for t in result.types)])
    num = digits + 2  # "0." plus the digits
    header_cells = " ".join(f"{h:>{num}}" for h in ("P", "R", "F1")) + f" {'N':>6}"
    group = len(header_cells)
    ci_header = "" if intervals is None else f"  strict F1 {intervals.micro.confidence:.0%} CI"
    lines = [
        f"{'':<{width}}  {'strict IOB2 (headline)':<{group}}  {'conlleval':<{group}}",
        f"{'type':<{width}}  {header_cells}  {header_cells}{ci_header}",
    ]

    def cells(score: TypeScore) -> str:
        p, r, f = (f"{v:>{num}.{digits}f}" for v in (score.precision, score.recall, score.f1))
        return f"{p} {r} {f} {score.support:>6}"

    def ci(name: str) -> str:
        interval = None
        if intervals is not None:
            interval = intervals.micro if name == "micro" else intervals.per_type.get(name)
        return "" if interval is None else f"  {interval.low:.{digits}f}\u2013{interval.high:.{digits}f}"

    for label in result.types:
        strict, conll = result.strict.per_type.get(label, ZERO), result.conlleval.per_type.get(label, ZERO)
        lines.append(f"{label:<{width}}  {cells(strict)}  {cells(conll)}{ci(label)}")
    lines.append("")
    for name in ("micro", "macro"):
        strict, conll = getattr(result.strict, name), getattr(result.conlleval, name)
        lines.append(f"{name + ' avg':<{width}}  {cells(strict)}  {cells(conll)}{ci(name) if name == 'micro' else ''}")
    lines.append("")
    lines.append(
        f"token accuracy (incl. O): {result.token_accuracy:.{digits}f} "
        f"({result.n_tokens} tokens, {result.n_sentences} sentences)"
    )
    return "\n".join(line.rstrip() for line in lines)

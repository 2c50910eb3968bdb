"""Every common scoring scheme side by side, and which entities each pair of schemes counts differently.

- ``seqeval strict``: seqeval ``mode="strict", scheme=IOB2`` (the headline); only ``B-`` opens an entity.
- ``conlleval``: seqeval's default mode, conlleval's chunking (a stray ``I-X`` opens an entity).
- ``semeval strict`` / ``exact`` / ``partial`` / ``ent_type``: SemEval-2013 task 9.1, computed by
  nervaluate 1.2.1 (its ``Evaluator`` with the list loader, each sentence one of its "documents"). A
  prediction that overlaps a gold entity without matching it counts once (incorrect, or partial with
  half credit), not as a false positive *and* a false negative as in seqeval.

Why they differ is answered per entity: :func:`entity_outcomes` gives each gold and predicted entity
its outcome under every scheme, and :func:`scheme_differences` lists those whose outcome changes
between two schemes. Outcomes of a predicted entity: ``correct``, ``partial`` (half credit),
``incorrect`` (counted as one error that also uses up a gold entity), ``spurious`` (a false positive)
or ``not an entity`` (this scheme's chunking has no such entity). Of a gold entity: ``found`` (counted
in a pair with a prediction, right or wrong), ``missed`` or ``not an entity``. nervaluate's entity ends
are inclusive; they are made exclusive where they are read (:func:`_nervaluate_outcomes`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Sequence

from nervaluate import Evaluator

from ner_demo.evaluation.analysis import check_aligned
from ner_demo.evaluation.counts import conlleval_entities, entity_types, strict_entities
from ner_demo.evaluation.metrics import EvaluationResult, evaluate
from ner_demo.spans import WordSpan

SEMEVAL = ("strict", "exact", "partial", "ent_type")
SCHEMES = ("seqeval strict", "conlleval", *(f"semeval {name}" for name in SEMEVAL))
NOT_AN_ENTITY = "not an entity"

# (sentence, side, label, start, end): side is "gold" or "pred"; end exclusive
EntityKey = tuple[int, str, str, int, int]


@dataclass(frozen=True)
class SchemeScore:
    """One scheme's micro P/R/F1 and its counts. seqeval schemes fill ``correct`` (TP), ``spurious``
    (FP) and ``missed`` (FN); ``incorrect`` and ``partial`` are SemEval's only."""

    scheme: str
    precision: float
    recall: float
    f1: float
    correct: int
    incorrect: int
    partial: int
    missed: int
    spurious: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SchemeDifference:
    """An entity that schemes ``a`` and ``b`` count differently, and how each counts it."""

    a: str
    b: str
    sentence: int
    side: str
    label: str
    start: int
    end: int
    outcome_a: str
    outcome_b: str
    text: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def scheme_scores(
    gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], result: EvaluationResult | None = None
) -> list[SchemeScore]:
    """Micro scores under every scheme of :data:`SCHEMES`, in that order. ``result`` (the
    :func:`~ner_demo.evaluation.metrics.evaluate` of the same tags) saves scoring seqeval again.

    >>> [(s.scheme, s.f1) for s in scheme_scores([["B-PER", "I-PER", "O"]], [["B-PER", "O", "O"]])]
    [('seqeval strict', 0.0), ('conlleval', 0.0), ('semeval strict', 0.0), ('semeval exact', 0.0), ('semeval partial', 0.5), ('semeval ent_type', 1.0)]
    """
    check_aligned(gold, pred)
    result = result or evaluate(gold, pred)
    rows = []
    for name, scores, entities in (("seqeval strict", result.strict, strict_entities),
                                   ("conlleval", result.conlleval, conlleval_entities)):
        g, p = entities(gold), entities(pred)
        tp = sum(len(a & b) for a, b in zip(g, p))
        n_gold, n_pred = sum(map(len, g)), sum(map(len, p))
        rows.append(SchemeScore(name, scores.micro.precision, scores.micro.recall, scores.micro.f1,
                                tp, 0, 0, n_gold - tp, n_pred - tp))
    overall = _nervaluate(gold, pred)[1]["overall"]
    for name in SEMEVAL:
        r = overall.get(name)
        if r is None:  # nervaluate returns nothing for input without sentences
            rows.append(SchemeScore(f"semeval {name}", 0.0, 0.0, 0.0, 0, 0, 0, 0, 0))
            continue
        rows.append(SchemeScore(f"semeval {name}", float(r.precision), float(r.recall), float(r.f1),
                                r.correct, r.incorrect, r.partial, r.missed, r.spurious))
    return rows


def entity_outcomes(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict[str, dict[EntityKey, str]]:
    """``{scheme: {entity key: outcome}}`` for every scheme; an entity a scheme's chunking does not
    produce is absent from that scheme's dict (its outcome is ``"not an entity"``)."""
    check_aligned(gold, pred)
    out = {"seqeval strict": _seqeval_outcomes(strict_entities(gold), strict_entities(pred)),
           "conlleval": _seqeval_outcomes(conlleval_entities(gold), conlleval_entities(pred))}
    out.update(_nervaluate_outcomes(gold, pred))
    return out


def scheme_differences(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    words: Sequence[Sequence[str]] | None = None,
    pairs: Sequence[tuple[str, str]] | None = None,
) -> list[SchemeDifference]:
    """The entities each pair of schemes (every pair of :data:`SCHEMES` unless ``pairs``) counts
    differently, by pair, then sentence and position.

    >>> diffs = scheme_differences([["B-PER", "I-PER", "O"]], [["B-PER", "O", "O"]],
    ...                            pairs=[("seqeval strict", "semeval partial")])
    >>> [(d.side, d.outcome_a, d.outcome_b) for d in diffs]
    [('gold', 'missed', 'found'), ('pred', 'spurious', 'partial')]
    """
    check_aligned(gold, pred, words)
    outcomes = entity_outcomes(gold, pred)
    for name in (n for pair in pairs or () for n in pair):
        if name not in outcomes:
            raise ValueError(f"unknown scheme {name!r}; use one of {', '.join(SCHEMES)}")
    keys = sorted({key for per_scheme in outcomes.values() for key in per_scheme},
                  key=lambda k: (k[0], k[3], k[1], k[4], k[2]))
    out = []
    for a, b in pairs or combinations(SCHEMES, 2):
        for key in keys:
            outcome_a, outcome_b = outcomes[a].get(key, NOT_AN_ENTITY), outcomes[b].get(key, NOT_AN_ENTITY)
            if outcome_a != outcome_b:
                sentence, side, label, start, end = key
                text = None if words is None else " ".join(words[sentence][start:end])
                out.append(SchemeDifference(a, b, sentence, side, label, start, end, outcome_a, outcome_b, text))
    return out


def _seqeval_outcomes(gold: list[set[WordSpan]], pred: list[set[WordSpan]]) -> dict[EntityKey, str]:
    out: dict[EntityKey, str] = {}
    for i, (g, p) in enumerate(zip(gold, pred)):
        for e in g:
            out[(i, "gold", e.label, e.start, e.end)] = "found" if e in p else "missed"
        for e in p:
            out[(i, "pred", e.label, e.start, e.end)] = "correct" if e in g else "spurious"
    return out


_NERVALUATE: OrderedDict[tuple, tuple[Evaluator, dict]] = OrderedDict()
_NERVALUATE_SIZE = 4
_NERVALUATE_LOCK = threading.Lock()


def _nervaluate(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> tuple[Evaluator, dict]:
    """nervaluate's evaluator of these tags and its ``evaluate()``, remembered for the last few pairs of
    tag corpora (by content): the scores and the outcomes of one evaluation read the same result, and
    evaluating it costs seconds on CoNLL-2003. Neither is changed by its readers."""
    key = (tuple(map(tuple, gold)), tuple(map(tuple, pred)))
    with _NERVALUATE_LOCK:
        found = _NERVALUATE.get(key)
        if found is not None:
            _NERVALUATE.move_to_end(key)
            return found
    types = entity_types(gold, pred)
    # The list loader is named: nervaluate's guess fails on an empty first sentence.
    evaluator = Evaluator([list(t) for t in gold], [list(t) for t in pred], tags=types, loader="list")
    found = (evaluator, evaluator.evaluate())
    with _NERVALUATE_LOCK:
        _NERVALUATE[key] = found
        while len(_NERVALUATE) > _NERVALUATE_SIZE:
            _NERVALUATE.popitem(last=False)
    return found


def clear_memo() -> None:
    """Forget every remembered nervaluate result."""
    with _NERVALUATE_LOCK:
        _NERVALUATE.clear()


def _nervaluate_outcomes(
    gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]
) -> dict[str, dict[EntityKey, str]]:
    """Each entity's category under nervaluate's four schemes, read from its result indices: the
    prediction indices of correct/incorrect/partial/spurious and the gold indices of missed."""
    evaluator, results = _nervaluate(gold, pred)
    indices = results["overall_indices"]

    def key(sentence: int, side: str, entity) -> EntityKey:
        return (sentence, side, entity.label, entity.start, entity.end + 1)  # nervaluate's end is inclusive

    out = {}
    for name in SEMEVAL:
        outcome: dict[EntityKey, str] = {}
        for s, entities in enumerate(evaluator.true):
            for e in entities:
                outcome[key(s, "gold", e)] = "found"
        for s, entities in enumerate(evaluator.pred):
            for e in entities:
                outcome[key(s, "pred", e)] = "spurious"
        found = indices.get(name)
        if found is not None:
            for s, t in found.missed_indices:
                outcome[key(s, "gold", evaluator.true[s][t])] = "missed"
            for category in ("correct", "incorrect", "partial", "spurious"):
                for s, p in getattr(found, f"{category}_indices"):
                    outcome[key(s, "pred", evaluator.pred[s][p])] = category
        out[f"semeval {name}"] = outcome
    return out

"""Strict IOB2 entity counts per sentence and type: what the bootstrap resamples and F1 is built from.

The entities are those of seqeval's strict mode (``seqeval.scheme.Entities`` with ``IOB2``), chunked
once per corpus of tags by :func:`ner_demo.evaluation.chunks.chunk`, and a true positive is a gold and a predicted entity with the same sentence, span and type, as in
seqeval's strict ``classification_report``. F1 from summed counts is computed with seqeval's formula,
in the same float operations, so the sum over all sentences gives exactly the strict micro and per-type
F1 of :func:`ner_demo.evaluation.metrics.evaluate`. seqeval's entity ends are exclusive, like our
:class:`~ner_demo.spans.WordSpan`, so no end is converted here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ner_demo.evaluation.analysis import check_aligned
from ner_demo.evaluation.chunks import chunk
from ner_demo.spans import WordSpan

TP, PRED, GOLD = 0, 1, 2  # the last axis of EntityCounts.counts


@dataclass(frozen=True)
class EntityCounts:
    """``counts[s, t]`` = (true positives, predicted, gold) strict entities of type ``types[t]`` in
    sentence ``s``; shape ``(n_sentences, n_types, 3)``, int64. ``types`` are sorted and are those of
    the conlleval chunking of gold and pred (the rows of :class:`~ner_demo.evaluation.metrics.Scores`),
    so a type that strict IOB2 never sees has a column of zeros."""

    types: tuple[str, ...]
    counts: np.ndarray


def strict_entities(sequences: Sequence[Sequence[str]]) -> list[frozenset[WordSpan]]:
    """Each sentence's strict IOB2 entities (seqeval's strict chunking: only ``B-`` opens an entity),
    remembered per corpus of tags (:func:`~ner_demo.evaluation.chunks.chunk`): immutable sets.

    >>> strict_entities([["B-PER", "I-PER", "O", "I-LOC"]])
    [frozenset({WordSpan(label='PER', start=0, end=2)})]
    """
    return list(chunk(sequences).strict)


def conlleval_entities(sequences: Sequence[Sequence[str]]) -> list[frozenset[WordSpan]]:
    """Each sentence's conlleval entities (a stray ``I-X`` opens one), as immutable sets.

    >>> conlleval_entities([["O", "I-LOC"]])
    [frozenset({WordSpan(label='LOC', start=1, end=2)})]
    """
    return [frozenset(spans) for spans in chunk(sequences).conlleval]


def entity_types(*corpora: Sequence[Sequence[str]]) -> list[str]:
    """The sorted types conlleval chunking finds in any of ``corpora`` (the rows of the score tables).

    >>> entity_types([["B-PER", "O"]], [["I-LOC", "O"]])
    ['LOC', 'PER']
    """
    return sorted({t for tags in corpora for t in chunk(tags).types})


def entity_counts(
    gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], types: Sequence[str] | None = None
) -> EntityCounts:
    """Strict TP/predicted/gold counts per sentence and type; ``types`` fixes the columns (two models
    compared on one split need the same ones), else they are the types found in gold and pred.

    >>> c = entity_counts([["B-PER", "O", "B-LOC"]], [["B-PER", "O", "B-ORG"]])
    >>> c.types, c.counts[0].tolist()
    (('LOC', 'ORG', 'PER'), [[0, 0, 1], [0, 1, 0], [1, 1, 1]])
    """
    check_aligned(gold, pred)
    if types is None:
        types = entity_types(gold, pred)
    index = {label: i for i, label in enumerate(types)}
    counts = np.zeros((len(gold), len(types), 3), dtype=np.int64)
    for s, (g, p) in enumerate(zip(strict_entities(gold), strict_entities(pred))):
        for column, entities in ((TP, g & p), (PRED, p), (GOLD, g)):
            for entity in entities:
                if entity.label not in index:
                    raise ValueError(f"sentence {s}: entity type {entity.label!r} is not one of {list(types)}")
                counts[s, index[entity.label], column] += 1
    return EntityCounts(tuple(types), counts)


def f1_scores(tp: np.ndarray, n_pred: np.ndarray, n_gold: np.ndarray) -> np.ndarray:
    """F1 elementwise from counts, 0 where undefined: seqeval's formula and float operations
    (P = tp/pred, R = tp/gold, F1 = 2PR/(P+R)), so equal counts give bit-equal scores.

    >>> f1_scores(np.array([2, 0]), np.array([3, 0]), np.array([4, 1])).tolist()
    [0.5714285714285715, 0.0]
    """
    tp, n_pred, n_gold = np.asarray(tp, dtype=np.float64), np.asarray(n_pred), np.asarray(n_gold)
    precision = tp / np.where(n_pred == 0, 1, n_pred)
    recall = tp / np.where(n_gold == 0, 1, n_gold)
    denominator = precision + recall
    return 2.0 * precision * recall / np.where(denominator == 0.0, 1.0, denominator)

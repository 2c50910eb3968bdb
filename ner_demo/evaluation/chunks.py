"""Each sentence's entities under both chunkings, computed once per corpus of tags and remembered.

One evaluation asks for the entities of the same gold and predicted tags many times: the strict and
conlleval scores, the bootstrap, every bucket table, calibration, schemes, suspicious gold. Chunking is
a Python loop over every tag, so :func:`chunk` does it once per tag corpus, in one pass for both
chunkings, and keeps the last :data:`MEMO_SIZE` corpora by content (not identity: a caller's lists may
be new objects holding the same tags, or be changed in place later). What it returns is immutable
(tuples and frozensets), so sharing it between callers is safe.

- conlleval chunking (seqeval's default mode, :func:`seqeval.metrics.sequence_labeling.get_entities`,
  and :func:`ner_demo.spans.iob2_word_spans`): a ``B-X`` opens an entity, and so does an ``I-X`` that
  does not continue an entity of type X; ``I-X`` continues one.
- strict IOB2 chunking (seqeval ``mode="strict", scheme=IOB2``, ``seqeval.scheme.Entities``): the same
  entities, less those that open with ``I-``: only ``B-`` opens an entity, and a run that a stray
  ``I-`` would open is no entity at all. tests/test_evaluation_chunks.py checks both against seqeval
  on random sequences.

Ends are exclusive (:class:`~ner_demo.spans.WordSpan`), as seqeval's ``Entities`` are; ``get_entities``'s
inclusive ends never reach this package.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Sequence

from ner_demo.spans import WordSpan

MEMO_SIZE = 16  # tag corpora remembered (an evaluation has two; a comparison three; training one)


@dataclass(frozen=True)
class Chunked:
    """The entities of a corpus of tag sequences: ``conlleval[s]`` (in order of position) and
    ``strict[s]`` of sentence ``s``, and every type conlleval chunking finds (sorted)."""

    conlleval: tuple[tuple[WordSpan, ...], ...]
    strict: tuple[frozenset[WordSpan], ...]
    types: tuple[str, ...]


def sentence_entities(tags: Sequence[str]) -> tuple[tuple[WordSpan, ...], frozenset[WordSpan]]:
    """One sentence's conlleval entities (by position) and strict IOB2 entities.

    >>> conll, strict = sentence_entities(["B-PER", "I-PER", "O", "I-LOC", "B-LOC"])
    >>> [(s.label, s.start, s.end) for s in conll], sorted((s.label, s.start) for s in strict)
    ([('PER', 0, 2), ('LOC', 3, 4), ('LOC', 4, 5)], [('LOC', 4), ('PER', 0)])
    """
    conll: list[WordSpan] = []
    strict: list[WordSpan] = []
    label: str | None = None
    start = 0
    opened_by_b = False
    for i, tag in enumerate(tags):
        if tag == "O":
            if label is not None:
                span = WordSpan(label, start, i)
                conll.append(span)
                if opened_by_b:
                    strict.append(span)
                label = None
            continue
        prefix = tag[:2]
        if prefix == "I-":
            if tag[2:] == label:
                continue  # continues the open entity
        elif prefix != "B-" or len(tag) < 3:
            raise ValueError(f"not a B-/I- tag or O: {tag!r}")
        if label is not None:
            span = WordSpan(label, start, i)
            conll.append(span)
            if opened_by_b:
                strict.append(span)
        label, start, opened_by_b = tag[2:], i, prefix == "B-"
        if not label:
            raise ValueError(f"not a B-/I- tag or O: {tag!r}")
    if label is not None:
        span = WordSpan(label, start, len(tags))
        conll.append(span)
        if opened_by_b:
            strict.append(span)
    return tuple(conll), frozenset(strict)


_MEMO: OrderedDict[tuple[tuple[str, ...], ...], Chunked] = OrderedDict()
_LOCK = threading.Lock()


def chunk(sequences: Sequence[Sequence[str]]) -> Chunked:
    """Both chunkings of every sentence, from the memo when these tags were chunked before.

    >>> c = chunk([["B-PER", "I-PER", "O", "I-LOC"]])
    >>> c.conlleval[0], c.strict[0], c.types
    ((WordSpan(label='PER', start=0, end=2), WordSpan(label='LOC', start=3, end=4)), frozenset({WordSpan(label='PER', start=0, end=2)}), ('LOC', 'PER'))
    """
    key = tuple(tuple(tags) for tags in sequences)
    with _LOCK:
        found = _MEMO.get(key)
        if found is not None:
            _MEMO.move_to_end(key)
            return found
    per_sentence = [sentence_entities(tags) for tags in key]
    found = Chunked(tuple(c for c, _ in per_sentence), tuple(s for _, s in per_sentence),
                    tuple(sorted({e.label for c, _ in per_sentence for e in c})))
    with _LOCK:
        _MEMO[key] = found
        while len(_MEMO) > MEMO_SIZE:
            _MEMO.popitem(last=False)
    return found


def clear_memo() -> None:
    """Forget every remembered corpus (tests; a process that is done evaluating)."""
    with _LOCK:
        _MEMO.clear()

"""Where a tagger goes wrong: entity-level confusion matrix and a categorised error list.

Both work on word-level IOB2 tags and on the half-open word spans of
:func:`ner_demo.spans.iob2_word_spans` (conlleval chunking: a stray ``I-X`` starts an entity; computed once
per corpus of tags by :func:`ner_demo.evaluation.chunks.chunk`), never
on seqeval's inclusive-end ``get_entities``. Exact matches therefore agree with the conlleval-style
score; strict IOB2 scoring drops entities that open with ``I-``, so on invalid IOB2 predictions the
strict true positives can be fewer than the diagonal here.

Matching rule, applied sentence by sentence (documented once here; :func:`analyse` applies it once
and both outputs come from that one pass):

1. A gold and a predicted entity with the same span are matched: same type is correct, a different
   type is ``wrong_type``.
2. Each remaining gold entity, left to right, is paired with the remaining predicted entity *of the
   same type* that overlaps it most (ties: the leftmost): ``wrong_boundary``.
3. Then each still-unpaired gold entity is paired with the remaining overlapping predicted entity of
   a different type that overlaps it most: ``wrong_type_and_boundary``.
4. Gold entities left over are ``false_negative``; predicted ones left over are ``false_positive``.

Pairing is one-to-one. Same-type overlaps are settled for the whole sentence before cross-type
ones, so a prediction is not taken by a neighbouring gold entity of another type when it was a
boundary error on its own type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ner_demo.errors import TagSchemeError
from ner_demo.evaluation.chunks import chunk
from ner_demo.spans import WordSpan

ERROR_KINDS = ("false_positive", "false_negative", "wrong_type", "wrong_boundary", "wrong_type_and_boundary")
MISSED = "missed"  # confusion-matrix column: gold entity with no predicted entity on exactly its span
SPURIOUS = "spurious"  # confusion-matrix row: predicted entity with no gold entity on exactly its span

_VALID_PREFIXES = ("B-", "I-")


def check_aligned(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    words: Sequence[Sequence[str]] | None = None,
) -> None:
    """Raise ``ValueError`` unless gold, pred (and words) line up; ``TagSchemeError`` (a
    ``ValueError``) unless every tag is O, B-X or I-X. Sentence and word numbers are 0-based indices.

    IOB1 input (entities opening with ``I-``) passes: the conlleval-style score accepts it. E-/S-
    tags do not: convert with :func:`ner_demo.data.schemes.to_iob2` first.
    """
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} sentences but pred has {len(pred)}")
    if words is not None and len(words) != len(gold):
        raise ValueError(f"words has {len(words)} sentences but gold has {len(gold)}")
    # Fast path, called many times per evaluation: the lengths, and each distinct tag once. Only when
    # something is wrong is every tag looked at in order, to name the first problem.
    if all(len(g) == len(p) for g, p in zip(gold, pred)) and (
            words is None or all(len(w) == len(g) for w, g in zip(words, gold))):
        tags = set().union(*gold, *pred)
        if all(tag == "O" or (tag.startswith(_VALID_PREFIXES) and len(tag) >= 3) for tag in tags):
            return
    for i, (g, p) in enumerate(zip(gold, pred)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: gold has {len(g)} tags but pred has {len(p)}")
        if words is not None and len(words[i]) != len(g):
            raise ValueError(f"sentence {i}: words has {len(words[i])} words but gold has {len(g)} tags")
        for side, tags in (("gold", g), ("pred", p)):
            for j, tag in enumerate(tags):
                if tag != "O" and (not tag.startswith(_VALID_PREFIXES) or len(tag) < 3):
                    raise TagSchemeError(
                        f"sentence {i}, word {j}: {side} tag {tag!r} is not O, B-X or I-X; "
                        f"convert the tags to IOB2 first (ner_demo.data.schemes.to_iob2)"
                    )


@dataclass(frozen=True)
class EntityError:
    """One mistake: ``gold``/``pred`` are half-open word spans, ``None`` on the side that has none."""

    kind: str
    sentence: int
    gold: WordSpan | None
    pred: WordSpan | None
    words: tuple[str, ...] | None = None

    @property
    def gold_text(self) -> str | None:
        return _span_text(self.words, self.gold)

    @property
    def pred_text(self) -> str | None:
        return _span_text(self.words, self.pred)

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "sentence": self.sentence,
            "gold": _span_dict(self.gold, self.gold_text),
            "pred": _span_dict(self.pred, self.pred_text),
            "words": None if self.words is None else list(self.words),
        }


@dataclass(frozen=True)
class ConfusionMatrix:
    """Entity-level confusion: gold on rows, predicted on columns.

    ``labels`` are the entity types (sorted). ``counts`` has ``len(labels) + 1`` rows and columns:
    rows are ``row_labels`` (types, then ``"spurious"``), columns are ``column_labels`` (types, then
    ``"missed"``). Only exact-span matches land on the type grid, so row ``t`` sums to the number
    of gold ``t`` entities and column ``t`` to the number of predicted ``t`` entities; a boundary
    error counts once as missed and once as spurious. The spurious/missed corner is always 0.
    """

    labels: list[str]
    counts: list[list[int]]

    @property
    def row_labels(self) -> list[str]:
        return [*self.labels, SPURIOUS]

    @property
    def column_labels(self) -> list[str]:
        return [*self.labels, MISSED]

    def to_dict(self) -> dict:
        return {
            "labels": list(self.labels),
            "row_labels": self.row_labels,
            "column_labels": self.column_labels,
            "counts": [list(row) for row in self.counts],
        }


def analyse(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    words: Sequence[Sequence[str]] | None = None,
) -> tuple[ConfusionMatrix, list[EntityError]]:
    """Confusion matrix and error list from one matching pass (each sentence is chunked once)."""
    check_aligned(gold, pred, words)
    sentences = [_match_sentence(g, p) for g, p in zip(chunk(gold).conlleval, chunk(pred).conlleval)]
    labels = sorted({s.label for matches in sentences for _, *pair in matches for s in pair if s is not None})
    index = {label: i for i, label in enumerate(labels)}
    extra = len(labels)  # index of the "spurious" row and of the "missed" column
    counts = [[0] * (extra + 1) for _ in range(extra + 1)]
    errors: list[EntityError] = []
    for i, matches in enumerate(sentences):
        sentence_words = None if words is None else tuple(words[i])
        for kind, g, p in matches:
            if kind in {"correct", "wrong_type"}:  # same span: a cell of the type grid
                counts[index[g.label]][index[p.label]] += 1
            else:  # no exact-span partner: the gold side is missed, the predicted side spurious
                if g is not None:
                    counts[index[g.label]][extra] += 1
                if p is not None:
                    counts[extra][index[p.label]] += 1
            if kind != "correct":
                errors.append(EntityError(kind, i, g, p, sentence_words))
    return ConfusionMatrix(labels, counts), errors


def confusion_matrix(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> ConfusionMatrix:
    """Entity-level confusion matrix; see :class:`ConfusionMatrix` for the layout.

    >>> cm = confusion_matrix([["B-PER", "O", "B-LOC"]], [["B-ORG", "O", "O"]])
    >>> cm.row_labels, cm.column_labels
    (['LOC', 'ORG', 'PER', 'spurious'], ['LOC', 'ORG', 'PER', 'missed'])
    >>> cm.counts
    [[0, 0, 0, 1], [0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]]
    """
    return analyse(gold, pred)[0]


def entity_errors(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    words: Sequence[Sequence[str]] | None = None,
) -> list[EntityError]:
    """Every entity-level mistake, by sentence then position, categorised by the module's rule.

    >>> [(e.kind, e.gold, e.pred) for e in entity_errors([["B-PER", "I-PER", "O"]], [["B-PER", "O", "O"]])]
    [('wrong_boundary', WordSpan(label='PER', start=0, end=2), WordSpan(label='PER', start=0, end=1))]
    """
    return analyse(gold, pred, words)[1]


def _match_sentence(
    gold: Sequence[WordSpan], pred: Sequence[WordSpan]
) -> list[tuple[str, WordSpan | None, WordSpan | None]]:
    """(kind, gold, pred) for every entity of one sentence, ordered by position."""
    out: list[tuple[str, WordSpan | None, WordSpan | None]] = []
    p_by_span = {(p.start, p.end): p for p in pred}
    free_gold: list[WordSpan] = []
    for g in gold:
        p = p_by_span.pop((g.start, g.end), None)
        if p is None:
            free_gold.append(g)
        else:
            out.append(("correct" if p.label == g.label else "wrong_type", g, p))
    free_pred = list(p_by_span.values())  # dicts keep insertion order: still left to right

    for same_type, kind in ((True, "wrong_boundary"), (False, "wrong_type_and_boundary")):
        still_free: list[WordSpan] = []
        for g in free_gold:
            candidates = [p for p in free_pred if (p.label == g.label) == same_type and _overlap(g, p) > 0]
            if not candidates:
                still_free.append(g)
                continue
            best = max(candidates, key=lambda p: _overlap(g, p))  # max keeps the first (leftmost) on ties
            free_pred.remove(best)
            out.append((kind, g, best))
        free_gold = still_free

    out += [("false_negative", g, None) for g in free_gold]
    out += [("false_positive", None, p) for p in free_pred]
    out.sort(key=lambda m: min(s.start for s in m[1:] if s is not None))
    return out


def _overlap(a: WordSpan, b: WordSpan) -> int:
    return max(0, min(a.end, b.end) - max(a.start, b.start))


def _span_text(words: tuple[str, ...] | None, span: WordSpan | None) -> str | None:
    if words is None or span is None:
        return None
    return " ".join(words[span.start : span.end])


def _span_dict(span: WordSpan | None, text: str | None) -> dict | None:
    if span is None:
        return None
    return {"label": span.label, "start": span.start, "end": span.end, "text": text}

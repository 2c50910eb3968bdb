"""Words, tags and character spans: pure functions, one span convention.

Spans are character offsets into the original text, half-open ``[start, end)``, so the entity text
is always ``text[start:end]``. Word spans are word indices, half-open as well. seqeval's
``get_entities`` returns *inclusive* ends; we never use it for spans, so there is no off-by-one to
convert here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import regex

# CoNLL-2003-style word splitting. Order matters: the first alternative that matches wins.
_WORD_RE = regex.compile(
    r"""
    (?:[A-Za-z]\.){2,}                 # initials and abbreviations: U.S., U.N.
  | \d+(?:[.,:/-]\d+)+                 # numbers, dates, times: 1996-08-22, 3,250, 10:30
  | [\w\p{M}]+(?:[-&][\w\p{M}]+)*      # words, hyphenated compounds, S&P; keeps combining marks
  | ['’][\w\p{M}]+                     # clitics split off as in CoNLL: 's, 't
  | ([^\w\s])\1+                       # runs of one punctuation mark: ..., --, !!!
  | \X                                 # anything else, one grapheme at a time (emoji + ZWJ stay whole)
    """,
    regex.VERBOSE,
)


@dataclass(frozen=True)
class Word:
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class WordSpan:
    """An entity over words ``[start, end)``."""

    label: str
    start: int
    end: int


@dataclass(frozen=True)
class Entity:
    """An entity over characters ``[start, end)`` of the text it was found in."""

    label: str
    start: int
    end: int
    text: str
    score: float = 1.0

    def to_dict(self) -> dict:
        return asdict(self)


def split_words(text: str) -> list[Word]:
    """Split text into CoNLL-style words with their character offsets.

    >>> [w.text for w in split_words("EU rejects Germany's call, U.S. says.")]
    ['EU', 'rejects', 'Germany', "'s", 'call', ',', 'U.S.', 'says', '.']
    """
    words = []
    for match in _WORD_RE.finditer(text):
        piece = match.group(0)
        if piece.isspace():
            continue  # \X also matches lone whitespace graphemes such as \r\n
        words.append(Word(piece, match.start(), match.end()))
    return words


def _split_tag(tag: str) -> tuple[str, str | None]:
    if tag == "O":
        return "O", None
    prefix, sep, label = tag.partition("-")
    if not sep or prefix not in {"B", "I", "E", "S"} or not label:
        raise ValueError(f"not a B-/I-/E-/S- tag or O: {tag!r}")
    return prefix, label


def iob2_word_spans(tags: Sequence[str]) -> list[WordSpan]:
    """Entities in an IOB2 tag sequence, half-open word spans.

    A stray ``I-X`` (after O or another type) starts a new entity, as conlleval does.

    >>> iob2_word_spans(["B-PER", "I-PER", "O", "I-LOC", "B-LOC"])
    [WordSpan(label='PER', start=0, end=2), WordSpan(label='LOC', start=3, end=4), WordSpan(label='LOC', start=4, end=5)]
    """
    spans: list[WordSpan] = []
    label: str | None = None
    start = 0
    for i, tag in enumerate(tags):
        prefix, tag_label = _split_tag(tag)
        continues = prefix == "I" and tag_label == label
        if label is not None and not continues:
            spans.append(WordSpan(label, start, i))
            label = None
        if prefix in {"B", "I"} and not continues:
            label, start = tag_label, i
    if label is not None:
        spans.append(WordSpan(label, start, len(tags)))
    return spans


def word_spans_to_iob2(spans: Sequence[WordSpan], n_words: int) -> list[str]:
    """Inverse of :func:`iob2_word_spans` for non-overlapping spans.

    >>> word_spans_to_iob2([WordSpan("ORG", 1, 3)], 4)
    ['O', 'B-ORG', 'I-ORG', 'O']
    """
    tags = ["O"] * n_words
    for span in spans:
        if not 0 <= span.start < span.end <= n_words:
            raise ValueError(f"span {span} outside 0..{n_words}")
        if any(tag != "O" for tag in tags[span.start : span.end]):
            raise ValueError(f"span {span} overlaps another span")
        tags[span.start] = f"B-{span.label}"
        for i in range(span.start + 1, span.end):
            tags[i] = f"I-{span.label}"
    return tags


def word_tags_to_entities(
    text: str,
    words: Sequence[Word],
    tags: Sequence[str],
    scores: Sequence[float] | None = None,
) -> list[Entity]:
    """Character-level entities from word tags; the score of an entity is the mean of its words'."""
    if len(words) != len(tags):
        raise ValueError(f"{len(words)} words but {len(tags)} tags")
    entities = []
    for span in iob2_word_spans(tags):
        start, end = words[span.start].start, words[span.end - 1].end
        score = 1.0 if scores is None else sum(scores[span.start : span.end]) / (span.end - span.start)
        entities.append(Entity(span.label, start, end, text[start:end], float(score)))
    return entities


def entities_to_word_tags(words: Sequence[Word], entities: Sequence[Entity]) -> list[str]:
    """IOB2 tags for words from character entities; a word belongs to an entity it overlaps."""
    spans = []
    for entity in entities:
        inside = [i for i, w in enumerate(words) if w.start < entity.end and entity.start < w.end]
        if not inside:
            raise ValueError(f"entity {entity.text!r} at [{entity.start}, {entity.end}) covers no word")
        spans.append(WordSpan(entity.label, inside[0], inside[-1] + 1))
    return word_spans_to_iob2(spans, len(words))

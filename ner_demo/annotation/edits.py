"""Span editing as pure functions: snap to words, add, relabel, remove, resize, label every occurrence.

A span is character offsets into its text, half-open ``[start, end)`` (the project's one convention,
:mod:`ner_demo.spans`). The spans of one example never overlap and always lie within the text; every
function here returns a new sorted list and raises :class:`SpanError` (a ``NerDemoError``: its message is
for the user) instead of returning a list that breaks either rule. Words are :func:`ner_demo.spans.split_words`'s,
the same words the Tagger reads and the CoNLL export writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import regex

from ner_demo.errors import NerDemoError
from ner_demo.spans import Word, split_words


class SpanError(NerDemoError, ValueError):
    """A span edit that would leave overlapping spans, a span outside the text, or an empty span."""


@dataclass(frozen=True, order=True)
class Span:
    """An entity of an annotation: ``text[start:end]`` is labelled ``label``. Sorts by position."""

    start: int
    end: int
    label: str

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "label": self.label}

    @classmethod
    def from_dict(cls, data: dict) -> "Span":
        try:
            start, end, label = data["start"], data["end"], data["label"]
        except (KeyError, TypeError):
            raise SpanError(f"a span needs start, end and label, got {data!r}") from None
        if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool) or isinstance(end, bool):
            raise SpanError(f"span offsets must be integers, got start={start!r}, end={end!r}")
        if not isinstance(label, str) or not label:
            raise SpanError(f"a span's label must be a non-empty string, got {label!r}")
        return cls(start, end, label)


def spans_from_dicts(items: Iterable[dict]) -> list[Span]:
    return sorted(Span.from_dict(item) for item in items)


def spans_to_dicts(spans: Iterable[Span]) -> list[dict]:
    return [s.to_dict() for s in sorted(spans)]


def check_spans(text: str, spans: Iterable[Span], labels: Sequence[str] | None = None) -> list[Span]:
    """The spans sorted, after checking each lies within ``text``, is not empty, covers more than
    whitespace, has a label of ``labels`` (when given), and overlaps no other span."""
    ordered = sorted(spans)
    for span in ordered:
        if not 0 <= span.start < span.end <= len(text):
            raise SpanError(f"span [{span.start}, {span.end}) {span.label} is outside the text (0..{len(text)}) "
                            "or empty")
        if not text[span.start:span.end].strip():
            raise SpanError(f"span [{span.start}, {span.end}) {span.label} covers only whitespace")
        if labels is not None and span.label not in labels:
            raise SpanError(f"label {span.label!r} is not in this dataset's label set ({', '.join(labels)})")
    for before, after in zip(ordered, ordered[1:]):
        if after.start < before.end:
            raise SpanError(f"spans overlap: {text[before.start:before.end]!r} ({before.label}) and "
                            f"{text[after.start:after.end]!r} ({after.label})")
    return ordered


def snap_to_words(text: str, start: int, end: int, words: Sequence[Word] | None = None) -> tuple[int, int]:
    """``[start, end)`` widened to whole words: from the start of the first word it touches to the end
    of the last. A selection of whitespace only, or outside the text, raises.

    >>> snap_to_words("Angela Merkel visited Paris.", 2, 9)
    (0, 13)
    """
    if not 0 <= start < end <= len(text):
        raise SpanError(f"selection [{start}, {end}) is outside the text (0..{len(text)}) or empty")
    words = split_words(text) if words is None else words
    inside = [w for w in words if w.start < end and start < w.end]
    if not inside:
        raise SpanError(f"selection [{start}, {end}) {text[start:end]!r} covers no word")
    return inside[0].start, inside[-1].end


def cuts_words(text: str, span: Span, words: Sequence[Word] | None = None) -> bool:
    """True when ``span`` starts or ends inside a word."""
    return snap_to_words(text, span.start, span.end, words) != (span.start, span.end)


def add_span(text: str, spans: Sequence[Span], start: int, end: int, label: str, snap: bool = True,
             labels: Sequence[str] | None = None, words: Sequence[Word] | None = None) -> list[Span]:
    """``spans`` plus a new one (snapped to ``words``, default :func:`split_words`'s, unless
    ``snap=False``); refused if it overlaps one."""
    if snap:
        start, end = snap_to_words(text, start, end, words)
    return check_spans(text, [*spans, Span(start, end, label)], labels)


def _find(spans: Sequence[Span], span: Span) -> int:
    try:
        return list(spans).index(span)
    except ValueError:
        raise SpanError(f"no span [{span.start}, {span.end}) {span.label} to change") from None


def relabel_span(text: str, spans: Sequence[Span], span: Span, label: str,
                 labels: Sequence[str] | None = None) -> list[Span]:
    i = _find(spans, span)
    changed = list(spans)
    changed[i] = Span(span.start, span.end, label)
    return check_spans(text, changed, labels)


def remove_span(text: str, spans: Sequence[Span], span: Span) -> list[Span]:
    i = _find(spans, span)
    return check_spans(text, [s for j, s in enumerate(spans) if j != i])


def resize_span(text: str, spans: Sequence[Span], span: Span, start: int, end: int, snap: bool = True,
                labels: Sequence[str] | None = None, words: Sequence[Word] | None = None) -> list[Span]:
    """``span`` moved to ``[start, end)`` (snapped to ``words`` unless ``snap=False``), keeping its
    label; refused if the new extent overlaps another span."""
    i = _find(spans, span)
    if snap:
        start, end = snap_to_words(text, start, end, words)
    changed = list(spans)
    changed[i] = Span(start, end, span.label)
    return check_spans(text, changed, labels)


def occurrences(text: str, form: str) -> list[tuple[int, int]]:
    """Where ``form`` occurs in ``text`` as whole words: not preceded or followed by a letter or digit
    (so "Paris" is not found inside "Parisian"); case-sensitive, as entity names are.

    >>> occurrences("Paris and Parisians love Paris.", "Paris")
    [(0, 5), (25, 30)]
    """
    if not form.strip():
        raise SpanError("the surface form to label is empty")
    pattern = regex.compile(r"(?<![\w\p{M}])" + regex.escape(form) + r"(?![\w\p{M}])")
    return [(m.start(), m.end()) for m in pattern.finditer(text)]


@dataclass(frozen=True)
class OccurrenceResult:
    spans: list[Span]
    added: int  # new spans
    relabelled: int  # spans over exactly the occurrence that had another label
    skipped: int  # occurrences that overlap a different span, left as they are


def label_occurrences(text: str, spans: Sequence[Span], form: str, label: str) -> OccurrenceResult:
    """Every whole-word occurrence of ``form`` in ``text`` labelled ``label``. A span over exactly an
    occurrence is relabelled; an occurrence that overlaps another span is skipped (never cut or merged)."""
    current = sorted(spans)
    added = relabelled = skipped = 0
    for start, end in occurrences(text, form):
        same = [i for i, s in enumerate(current) if (s.start, s.end) == (start, end)]
        if same:
            if current[same[0]].label != label:
                current[same[0]] = Span(start, end, label)
                relabelled += 1
            continue
        if any(s.start < end and start < s.end for s in current):
            skipped += 1
            continue
        current.append(Span(start, end, label))
        current.sort()
        added += 1
    return OccurrenceResult(check_spans(text, current), added, relabelled, skipped)

"""Which gold labels are probably wrong? A ranked review list from three signals.

Signals (each a value in [0, 1]; an item lists those that fired):

- ``model``: confident disagreement of the model. On a gold entity, the model predicts another type on
  the same span, another span (a boundary) or nothing there; or it predicts an entity where gold has
  none. Its value is the model's probability of its own answer: the mean over the span's words of the
  probability of the suggested type (``B-`` + ``I-`` of it, or ``O`` for "no entity"). It fires at
  ``min_confidence`` (0.8) or more.
- ``inconsistent``: the same surface string (the words joined by one space, case kept) is labelled
  differently across the corpus. Each string found as a gold entity is tallied with its labels, and
  with ``O`` where the same words occur outside every entity. An occurrence whose label is not the
  majority's is suspicious, valued at the majority's share (40 times LOC and twice ORG: each ORG at
  40 / 42). At least ``min_count`` (3) occurrences are needed. An entity whose majority is ``O`` fires
  nothing: capitalised words that are sometimes names ("May", "Bank") are ambiguous, not wrong.
- ``confident_learning``: cleanlab's confident learning (Northcutt et al., 2021), per word and on the
  entity types (``O``, ``PER``, ...; ``B-``/``I-`` summed): each type's threshold is the mean
  probability of that type over the words labelled with it; a word is off the confident joint's
  diagonal when the most probable type at or above its threshold is not its label. A span fires when
  at least half its words are, and its value is one minus the mean self-confidence (the probability of
  the given label). It is written with numpy: cleanlab itself would add scikit-learn, pandas and more
  for three lines of arithmetic.

An item's ``score`` combines them: the model's two signals come from the same probabilities, so only
their maximum counts, and that is combined with the independent corpus signal as a noisy OR,
``1 - (1 - max(model, confident_learning)) * (1 - inconsistent)``. Items are ranked by score, then
by sentence and position.

Review list (JSONL; :func:`write_review_list` / :func:`read_review_list`), one item a line, every
line a JSON object with these keys (schema version 1, :data:`REVIEW_VERSION`):

- ``version`` (int, 1), ``kind`` (``"suspicious_gold"``), ``rank`` (1 = most suspicious);
- ``sentence`` (index of the sentence in the corpus, from 0), ``doc_id`` (its document);
- ``text``: the sentence text, its words joined by one space; ``words``: the words;
- ``start``, ``end``: the span, character offsets into ``text``, half-open (``text[start:end]`` is
  ``span_text``); ``word_start``, ``word_end``: the same span over words, half-open; ``span_text``;
- ``gold_label``: the gold type of the span, or null where gold has no entity there;
- ``suggested_label``: the type the evidence suggests, or null to remove the entity;
- ``suggested_start``, ``suggested_end``: the suggested span (characters, half-open) when it differs
  from the span (a boundary), else equal to ``start``, ``end``;
- ``score`` (float in [0, 1]); ``signals``: ``{name: value}`` of the signals that fired;
- ``reasons``: one sentence per fired signal, for a reviewer;
- ``gold``: every gold entity of the sentence, ``{"label", "start", "end"}`` (characters, half-open),
  so that the sentence's current annotation travels with the item.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ner_demo.errors import DataFormatError
from ner_demo.evaluation.analysis import check_aligned
from ner_demo.evaluation.counts import strict_entities
from ner_demo.spans import WordSpan

REVIEW_VERSION = 1
REVIEW_KIND = "suspicious_gold"
SIGNALS = ("model", "inconsistent", "confident_learning")
MIN_CONFIDENCE = 0.8
MIN_COUNT = 3
MAX_SURFACE_WORDS = 8  # longer gold strings are not looked for outside entities (none in CoNLL-2003 repeat)


@dataclass(frozen=True)
class SuspiciousItem:
    """One probably wrong gold annotation (see the module docstring for the fields' meaning)."""

    sentence: int
    doc_id: int
    text: str
    words: tuple[str, ...]
    word_start: int
    word_end: int
    start: int
    end: int
    gold_label: str | None
    suggested_label: str | None
    suggested_start: int
    suggested_end: int
    score: float
    signals: dict[str, float] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
    gold: tuple[dict, ...] = ()

    @property
    def span_text(self) -> str:
        return self.text[self.start:self.end]

    def to_dict(self, rank: int | None = None) -> dict:
        out = {"version": REVIEW_VERSION, "kind": REVIEW_KIND}
        if rank is not None:
            out["rank"] = rank
        out.update({
            "sentence": self.sentence, "doc_id": self.doc_id, "text": self.text, "words": list(self.words),
            "start": self.start, "end": self.end, "word_start": self.word_start, "word_end": self.word_end,
            "span_text": self.span_text, "gold_label": self.gold_label, "suggested_label": self.suggested_label,
            "suggested_start": self.suggested_start, "suggested_end": self.suggested_end,
            "score": self.score, "signals": dict(self.signals), "reasons": list(self.reasons),
            "gold": [dict(g) for g in self.gold],
        })
        return out


def char_offsets(words: Sequence[str]) -> list[tuple[int, int]]:
    """Each word's ``[start, end)`` in ``" ".join(words)``.

    >>> char_offsets(["New", "York", "."])
    [(0, 3), (4, 8), (9, 10)]
    """
    out, position = [], 0
    for word in words:
        out.append((position, position + len(word)))
        position += len(word) + 1
    return out


def _type_of(label: str) -> str:
    return "O" if label == "O" else label.split("-", 1)[-1]


def type_probabilities(probs: np.ndarray, labels: Sequence[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Word probabilities over labels (N, L) -> over types (N, T), ``B-X`` and ``I-X`` summed; the
    types are ``O`` first, then sorted.

    >>> p, types = type_probabilities(np.array([[0.2, 0.5, 0.3]]), ["O", "B-PER", "I-PER"])
    >>> types, p.round(2).tolist()
    (('O', 'PER'), [[0.2, 0.8]])
    """
    names = [_type_of(label) for label in labels]
    types = ("O", *sorted(set(names) - {"O"}))
    index = {t: i for i, t in enumerate(types)}
    collapse = np.zeros((len(labels), len(types)))
    for column, name in enumerate(names):
        collapse[column, index[name]] = 1.0
    return np.asarray(probs, dtype=np.float64) @ collapse, types


def class_thresholds(word_probs: np.ndarray, given: np.ndarray, n_types: int) -> np.ndarray:
    """Confident learning's per-class thresholds: the mean probability of each class over the words
    given that class (1.0, never reached by another word, for a class no word is given).

    >>> class_thresholds(np.array([[0.9, 0.1], [0.7, 0.3], [0.2, 0.8]]), np.array([0, 0, 1]), 2).tolist()
    [0.8, 0.8]
    """
    out = np.ones(n_types)
    for k in range(n_types):
        rows = given == k
        if rows.any():
            out[k] = word_probs[rows, k].mean()
    return out


def off_diagonal(word_probs: np.ndarray, given: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Per word: is the most probable class at or above its threshold another class than the given one?
    (A word with no class at its threshold is off nothing: the confident joint leaves it out.)

    >>> off_diagonal(np.array([[0.1, 0.9], [0.85, 0.15]]), np.array([0, 0]), np.array([0.8, 0.8])).tolist()
    [True, False]
    """
    above = np.where(word_probs >= thresholds[None, :], word_probs, -1.0)
    best = above.argmax(axis=1)
    confident = above.max(axis=1) >= 0
    return confident & (best != given)


@dataclass
class _Candidate:
    sentence: int
    span: WordSpan  # the span judged (label: gold's, or "O")
    gold_label: str | None
    suggestion: WordSpan | None = None  # None: remove
    signals: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    model_suggestion: WordSpan | None = None
    model_removes: bool = False
    corpus_suggestion: str | None = None  # the majority's type ("O": remove)
    learned_suggestion: str | None = None  # the most likely type after the given one ("O": remove)


def suspicious_gold(
    words: Sequence[Sequence[str]],
    gold: Sequence[Sequence[str]],
    doc_ids: Sequence[int] | None = None,
    probs: Sequence[np.ndarray] | None = None,
    labels: Sequence[str] | None = None,
    pred: Sequence[Sequence[str]] | None = None,
    min_confidence: float = MIN_CONFIDENCE,
    min_count: int = MIN_COUNT,
) -> list[SuspiciousItem]:
    """The gold annotations of a corpus ranked by how probably they are wrong, most suspicious first.

    ``probs``: each sentence's (n_words, n_labels) word probabilities from a model, with ``labels``
    naming the columns, and ``pred`` its decoded tags (default: the argmax of ``probs``); without them
    only the corpus signal (``inconsistent``) is used.

    >>> words = [["Chicago", "won"]] * 4
    >>> gold = [["B-LOC", "O"]] * 3 + [["B-ORG", "O"]]
    >>> [(i.sentence, i.gold_label, i.suggested_label, round(i.score, 2)) for i in suspicious_gold(words, gold)]
    [(3, 'ORG', 'LOC', 0.75)]
    """
    check_aligned(gold, gold, words)
    if doc_ids is not None and len(doc_ids) != len(words):
        raise ValueError(f"{len(doc_ids)} document ids for {len(words)} sentences")
    if (probs is None) != (labels is None):
        raise ValueError("probs and labels go together: give both or neither")
    gold_spans = [sorted(s, key=lambda e: (e.start, e.end)) for s in strict_entities(gold)]
    candidates: dict[tuple[int, int, int, str | None], _Candidate] = {}

    def candidate(i: int, span: WordSpan, gold_label: str | None) -> _Candidate:
        key = (i, span.start, span.end, gold_label)
        if key not in candidates:
            candidates[key] = _Candidate(i, span, gold_label)
        return candidates[key]

    _inconsistency(words, gold, gold_spans, min_count, candidate)
    if probs is not None:
        if len(probs) != len(words) or any(len(p) != len(w) for p, w in zip(probs, words)):
            raise ValueError("probs must have one row per word of every sentence")
        if pred is None:
            pred = [[labels[k] for k in np.asarray(p).argmax(axis=1)] for p in probs]
        check_aligned(gold, pred)
        _model_signals(probs, labels, gold, gold_spans, strict_entities(pred), min_confidence, candidate)
    offsets = [char_offsets(w) for w in words]
    items = []
    for c in candidates.values():
        if not c.signals:
            continue
        items.append(_item(c, words, offsets, gold_spans, doc_ids))
    items.sort(key=lambda it: (-it.score, it.sentence, it.word_start, it.word_end))
    return items


def _inconsistency(words, gold, gold_spans, min_count, candidate) -> None:
    tally: dict[str, Counter] = {}
    where: dict[str, list[tuple[int, WordSpan]]] = {}
    for i, spans in enumerate(gold_spans):
        for e in spans:
            text = " ".join(words[i][e.start:e.end])
            tally.setdefault(text, Counter())[e.label] += 1
            where.setdefault(text, []).append((i, e))
    lengths = sorted({len(text.split(" ")) for text in tally if len(text.split(" ")) <= MAX_SURFACE_WORDS})
    for i, (sentence_words, tags) in enumerate(zip(words, gold)):
        for n in lengths:
            for start in range(len(sentence_words) - n + 1):
                if any(t != "O" for t in tags[start:start + n]):
                    continue
                text = " ".join(sentence_words[start:start + n])
                if text in tally:
                    tally[text]["O"] += 1
                    where[text].append((i, WordSpan("O", start, start + n)))
    for text, counts in tally.items():
        total = sum(counts.values())
        if total < min_count or len(counts) < 2:
            continue
        (majority, top), *rest = counts.most_common()
        if rest and rest[0][1] == top:
            continue  # a tie has no majority to be inconsistent with
        share = top / total
        for i, span in where[text]:
            if span.label == majority or majority == "O":
                continue
            gold_label = None if span.label == "O" else span.label
            c = candidate(i, span, gold_label)
            c.signals["inconsistent"] = share
            c.corpus_suggestion = majority
            c.reasons.append(f"{text!r} is {majority} in {top} of its {total} occurrences in this corpus, "
                             f"{span.label} here")


def _mean(rows: np.ndarray, span: WordSpan, column: int) -> float:
    return float(rows[span.start:span.end, column].mean())


def _model_signals(probs, labels, gold, gold_spans, pred_spans, min_confidence, candidate) -> None:
    typed = [type_probabilities(p, labels)[0] for p in probs]
    types = type_probabilities(np.zeros((0, len(labels))), labels)[1]
    index = {t: k for k, t in enumerate(types)}
    given = [np.array([index.get(_type_of(t), -1) for t in tags], dtype=np.int64) for tags in gold]
    flat_probs = np.concatenate(typed) if typed else np.zeros((0, len(types)))
    flat_given = np.concatenate(given) if given else np.zeros(0, dtype=np.int64)
    known = flat_given >= 0
    thresholds = class_thresholds(flat_probs[known], flat_given[known], len(types))
    off = [off_diagonal(t, g, thresholds) & (g >= 0) for t, g in zip(typed, given)]

    def learn(c: _Candidate, i: int, span: WordSpan, label: str) -> None:
        if label not in index:
            return
        share_off = float(off[i][span.start:span.end].mean())
        if share_off >= 0.5:
            means = typed[i][span.start:span.end].mean(axis=0)
            means[index[label]] = -1.0
            c.learned_suggestion = types[int(means.argmax())]
            c.signals["confident_learning"] = 1.0 - _mean(typed[i], span, index[label])
            c.reasons.append(f"confident learning: {share_off:.0%} of its words are more likely another type "
                             f"than {label} (self-confidence {_mean(typed[i], span, index[label]):.2f})")

    for i, (g_spans, p_spans) in enumerate(zip(gold_spans, pred_spans)):
        for e in g_spans:
            c = candidate(i, e, e.label)
            learn(c, i, e, e.label)
            if e.label not in index:
                continue
            same = [p for p in p_spans if (p.start, p.end) == (e.start, e.end)]
            overlapping = [p for p in p_spans if p.start < e.end and e.start < p.end]
            if same and same[0].label == e.label:
                continue
            if same:  # another type on the same span
                p = same[0]
                value = _mean(typed[i], p, index[p.label])
                if value >= min_confidence:
                    c.signals["model"] = value
                    c.model_suggestion = p
                    c.reasons.append(f"the model says {p.label} here (p = {value:.2f})")
            elif overlapping:  # another span
                p = max(overlapping, key=lambda q: _mean(typed[i], q, index[q.label]))
                value = _mean(typed[i], p, index[p.label])
                if value >= min_confidence:
                    c.signals["model"] = value
                    c.model_suggestion = p
                    c.reasons.append(f"the model marks {p.label} over words {p.start}-{p.end} instead "
                                     f"(p = {value:.2f})")
            else:  # nothing there
                value = _mean(typed[i], e, index["O"])
                if value >= min_confidence:
                    c.signals["model"] = value
                    c.model_removes = True
                    c.reasons.append(f"the model sees no entity here (p(O) = {value:.2f})")
        for p in p_spans:
            if any(g.start < p.end and p.start < g.end for g in g_spans):
                continue  # judged from the gold entity it overlaps
            c = candidate(i, WordSpan("O", p.start, p.end), None)
            learn(c, i, p, "O")
            value = _mean(typed[i], p, index[p.label])
            if value >= min_confidence:
                c.signals["model"] = value
                c.model_suggestion = p
                c.reasons.append(f"gold has no entity here; the model says {p.label} (p = {value:.2f})")


def combined_score(signals: dict[str, float]) -> float:
    """``1 - (1 - max(model, confident_learning)) * (1 - inconsistent)``, absent signals 0.

    >>> round(combined_score({"model": 0.9, "confident_learning": 0.6, "inconsistent": 0.5}), 4)
    0.95
    """
    model = max(signals.get("model", 0.0), signals.get("confident_learning", 0.0))
    return 1.0 - (1.0 - model) * (1.0 - signals.get("inconsistent", 0.0))


def _item(c: _Candidate, words, offsets, gold_spans, doc_ids) -> SuspiciousItem:
    i = c.sentence
    # The suggestion of the strongest evidence: the model's answer, the corpus majority's type, or (confident
    # learning alone) the type the model finds most likely on the span after the given one.
    if "model" in c.signals and c.signals["model"] >= c.signals.get("inconsistent", 0.0):
        suggestion = None if c.model_removes else c.model_suggestion
    else:
        other = c.corpus_suggestion if c.corpus_suggestion is not None else c.learned_suggestion
        suggestion = None if other in (None, "O") else WordSpan(other, c.span.start, c.span.end)
    span_offsets = offsets[i]
    start, end = span_offsets[c.span.start][0], span_offsets[c.span.end - 1][1]
    s_start, s_end = ((span_offsets[suggestion.start][0], span_offsets[suggestion.end - 1][1])
                      if suggestion is not None else (start, end))
    gold = tuple({"label": e.label, "start": span_offsets[e.start][0], "end": span_offsets[e.end - 1][1]}
                 for e in gold_spans[i])
    return SuspiciousItem(
        i, 0 if doc_ids is None else int(doc_ids[i]), " ".join(words[i]), tuple(words[i]),
        c.span.start, c.span.end, start, end, c.gold_label,
        None if suggestion is None else suggestion.label, s_start, s_end, combined_score(c.signals),
        {name: float(c.signals[name]) for name in SIGNALS if name in c.signals}, tuple(c.reasons), gold)


# ---- the review list ----------------------------------------------------------------------------------


def write_review_list(items: Iterable[SuspiciousItem], path: str | os.PathLike) -> int:
    """Write ``items`` (ranked, most suspicious first) as JSONL, one a line; returns how many. Written to
    a temporary sibling and renamed, so a reader never sees half a list."""
    path = Path(path)
    staging = path.with_name(f".{path.name}.tmp")
    n = 0
    with open(staging, "w", encoding="utf-8") as out:
        for n, item in enumerate(items, start=1):
            out.write(json.dumps(item.to_dict(rank=n), ensure_ascii=False) + "\n")
    os.replace(staging, path)
    return n


def read_review_list(path: str | os.PathLike) -> list[dict]:
    """The items of a review list, checked: each line a JSON object of :data:`REVIEW_KIND` with a
    ``version`` this code reads, and a span that is ``text[start:end]``. A line that is not raises
    :class:`~ner_demo.errors.DataFormatError` naming the file (not its folder) and the line."""
    name = Path(path).name
    try:
        lines = Path(path).read_bytes().decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DataFormatError(name, None, None, f"not UTF-8 text (byte {exc.start}); a review list is UTF-8 "
                              "JSONL") from None
    out = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataFormatError(name, number, None, f"not JSON ({exc.msg})") from None
        if not isinstance(item, dict) or item.get("kind") != REVIEW_KIND:
            raise DataFormatError(name, number, None, f"not a suspicious-gold item (kind {REVIEW_KIND!r})")
        if item.get("version") != REVIEW_VERSION:
            raise DataFormatError(name, number, None, f"review list version {item.get('version')!r}; this "
                                  f"version of ner_demo reads version {REVIEW_VERSION}")
        text, start, end = item.get("text"), item.get("start"), item.get("end")
        if (not isinstance(text, str) or type(start) is not int or type(end) is not int
                or not 0 <= start < end <= len(text)):
            raise DataFormatError(name, number, None, f"span [{start}, {end}) is not inside the text")
        out.append(item)
    return out


def format_suspicious(items: Sequence[SuspiciousItem], top: int = 10) -> str:
    """The ``top`` items as lines: rank, score, sentence, the span with gold -> suggested type, signals."""
    lines = [f"suspicious gold: {len(items)} items" + (f", top {min(top, len(items))}:" if items else "")]
    for rank, it in enumerate(items[:top], start=1):
        gold = it.gold_label or "none"
        suggested = it.suggested_label or "none"
        fired = ", ".join(f"{k} {v:.2f}" for k, v in it.signals.items())
        lines.append(f"  {rank:>3}. {it.score:.3f}  sentence {it.sentence}  {it.span_text!r}  "
                     f"gold {gold} -> {suggested}  ({fired})")
    return "\n".join(lines)

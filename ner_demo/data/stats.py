"""Corpus statistics: documents, sentences, tokens and entities per type, as numbers and as a table;
and length distributions: words per sentence, and words per entity of each type.

An entity is an IOB2 span (``ner_demo.spans.iob2_word_spans``), so a stray ``I-X`` counts as the start
of an entity, as conlleval counts it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Mapping, NamedTuple

from ner_demo.data.conll import Corpus
from ner_demo.data.schemes import BIOES, to_iob2
from ner_demo.spans import iob2_word_spans

_BIOES_ONLY = ("E-", "S-")


@dataclass(frozen=True)
class SplitStats:
    """Counts for one split; ``entities`` maps each type to its number of spans, types sorted."""

    documents: int
    sentences: int
    tokens: int
    entities: dict[str, int] = field(default_factory=dict)

    @property
    def total_entities(self) -> int:
        return sum(self.entities.values())

    def to_dict(self) -> dict:
        return {
            "documents": self.documents,
            "sentences": self.sentences,
            "tokens": self.tokens,
            "entities": dict(self.entities),
            "total_entities": self.total_entities,
        }


def _iob2(tags: tuple[str, ...]) -> tuple[str, ...] | list[str]:
    # IOB1 and IOB2 spans read the same way (B- or an opening I- starts one); only BIOES needs
    # converting, and a sentence with any E-/S- is BIOES.
    return to_iob2(tags, BIOES) if any(tag[:2] in _BIOES_ONLY for tag in tags) else tags


def corpus_stats(corpus: Corpus) -> SplitStats:
    """Count a corpus in IOB1, IOB2 or BIOES, leniently: no scheme check, so a stray ``I-X`` in an
    IOB2 file (common in model output) counts as an entity instead of failing.

    Documents are the ``-DOCSTART-`` groups; a file without them is one document.

    >>> from ner_demo.data.conll import parse_conll
    >>> corpus_stats(parse_conll("EU B-ORG\\nrejects O\\nGerman B-MISC\\n\\nPeter B-PER\\nBlackburn I-PER\\n"))
    SplitStats(documents=1, sentences=2, tokens=5, entities={'MISC': 1, 'ORG': 1, 'PER': 1})
    """
    counts: Counter[str] = Counter()
    for sentence in corpus.sentences:
        counts.update(span.label for span in iob2_word_spans(_iob2(sentence.tags)))
    return SplitStats(
        documents=len(corpus.documents()),
        sentences=len(corpus.sentences),
        tokens=sum(len(s.words) for s in corpus.sentences),
        entities=dict(sorted(counts.items())),
    )


def format_stats_table(stats: Mapping[str, SplitStats]) -> str:
    """A plain-text table, one column per split, one row per count and entity type.

    >>> stats = {"train": SplitStats(2, 3, 1204, {"PER": 2}), "test": SplitStats(1, 1, 5, {"LOC": 1})}
    >>> print(format_stats_table(stats))
               train  test
    documents      2     1
    sentences      3     1
    tokens     1,204     5
    LOC            0     1
    PER            2     0
    entities       2     1
    """
    types = sorted({t for s in stats.values() for t in s.entities})
    rows: list[tuple[str, list[int]]] = [
        ("documents", [s.documents for s in stats.values()]),
        ("sentences", [s.sentences for s in stats.values()]),
        ("tokens", [s.tokens for s in stats.values()]),
        *[(t, [s.entities.get(t, 0) for s in stats.values()]) for t in types],
        ("entities", [s.total_entities for s in stats.values()]),
    ]
    cells = [[name, *[f"{n:,}" for n in values]] for name, values in rows]
    header = ["", *stats.keys()]
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
        for row in [header, *cells]
    ]
    return "\n".join(line.rstrip() for line in lines)


# ---- length distributions -------------------------------------------------------------------------

Histogram = dict[int, int]  # a length in words -> how many sentences (or entities) have it; lengths ascending


@dataclass(frozen=True)
class LengthStats:
    """Length distributions of one split, in words: ``sentences`` maps a sentence length to the number
    of sentences that long; ``entities`` maps each type (sorted) to such a histogram of its entities."""

    sentences: Histogram = field(default_factory=dict)
    entities: dict[str, Histogram] = field(default_factory=dict)


class LengthSummary(NamedTuple):
    """Count, mean, median (nearest rank) and longest of a length histogram; zeros when it is empty."""

    count: int
    mean: float
    median: int
    longest: int


def length_stats(corpus: Corpus) -> LengthStats:
    """Words per sentence and words per entity of each type (entities read as :func:`corpus_stats` does).

    >>> from ner_demo.data.conll import parse_conll
    >>> length_stats(parse_conll("New B-LOC\\nYork I-LOC\\nis O\\nbig O\\n\\nAda B-PER\\nsang O\\n\\nBo B-PER\\n"))
    LengthStats(sentences={1: 1, 2: 1, 4: 1}, entities={'LOC': {2: 1}, 'PER': {1: 2}})
    """
    sentences: Counter[int] = Counter()
    entities: dict[str, Counter[int]] = {}
    for sentence in corpus.sentences:
        sentences[len(sentence.words)] += 1
        for span in iob2_word_spans(_iob2(sentence.tags)):
            entities.setdefault(span.label, Counter())[span.end - span.start] += 1
    return LengthStats(_sorted(sentences), {label: _sorted(entities[label]) for label in sorted(entities)})


def merge_lengths(parts: Iterable[LengthStats]) -> LengthStats:
    """The distributions of several splits together (their histograms summed).

    >>> merge_lengths([LengthStats({3: 1}, {"PER": {1: 2}}), LengthStats({3: 2, 5: 1}, {"LOC": {2: 1}})])
    LengthStats(sentences={3: 3, 5: 1}, entities={'LOC': {2: 1}, 'PER': {1: 2}})
    """
    sentences: Counter[int] = Counter()
    entities: dict[str, Counter[int]] = {}
    for part in parts:
        sentences.update(part.sentences)
        for label, histogram in part.entities.items():
            entities.setdefault(label, Counter()).update(histogram)
    return LengthStats(_sorted(sentences), {label: _sorted(entities[label]) for label in sorted(entities)})


def summarize_lengths(histogram: Mapping[int, int]) -> LengthSummary:
    """How many, the mean, the median and the longest of a length histogram.

    >>> summarize_lengths({1: 3, 2: 1, 9: 1})
    LengthSummary(count=5, mean=2.8, median=1, longest=9)
    >>> summarize_lengths({})
    LengthSummary(count=0, mean=0.0, median=0, longest=0)
    """
    count = sum(histogram.values())
    if not count:
        return LengthSummary(0, 0.0, 0, 0)
    mean = sum(length * n for length, n in histogram.items()) / count
    seen, median = 0, 0
    for length in sorted(histogram):  # nearest rank: the smallest length with half the items at or below it
        seen += histogram[length]
        if 2 * seen >= count:
            median = length
            break
    return LengthSummary(count, mean, median, max(histogram))


def _sorted(counts: Counter[int]) -> Histogram:
    return dict(sorted(counts.items()))

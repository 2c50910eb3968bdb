"""Does the model generalise or remember? Strict scores per bucket of mentions, ExplainaBoard-style.

A gold mention lands in a bucket by its own attributes; a predicted entity by its own (its surface
and *predicted* type, for seen/unseen). A true positive has the same span and type on both sides, so it
lands in the same bucket from either: recall = TP / gold mentions of the bucket, precision = TP /
predictions of the bucket, each defined only where its denominator is not 0, and F1 only where both are.

Surface forms are the entity's words joined by one space, case kept ("Paris" and "PARIS" differ):
that is what a model that memorises would have seen. Entities are seqeval's strict IOB2 ones
(:func:`ner_demo.evaluation.counts.strict_entities`), as in the headline score.

Buckets:

- seen/unseen: the surface form occurs in the training data with the same type; only with other
  types; or not at all.
- entity length in words; sentence length in words; and, given a tokenizer's word -> pieces count,
  the share of the entity's words that are split into more than one subword.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable, Mapping, Sequence

from ner_demo.evaluation.analysis import check_aligned
from ner_demo.evaluation.counts import strict_entities
from ner_demo.spans import WordSpan

SEEN_SAME = "seen, same type"
SEEN_OTHER = "seen, other type only"
UNSEEN = "unseen"
SEEN_BUCKETS = (SEEN_SAME, SEEN_OTHER, UNSEEN)
ENTITY_LENGTH_BUCKETS = ("1 word", "2 words", "3 words", "4+ words")
SENTENCE_LENGTH_BUCKETS = ("1-9 words", "10-19 words", "20-39 words", "40+ words")
SUBWORD_BUCKETS = ("no word split", "up to half split", "over half split")

# (sentence index, entity) -> bucket name
BucketOf = Callable[[int, WordSpan], str]


@dataclass(frozen=True)
class BucketScore:
    """Strict counts of one bucket; ``None`` where a score is undefined (no gold / no predictions)."""

    tp: int = 0
    n_gold: int = 0
    n_pred: int = 0

    @property
    def recall(self) -> float | None:
        return self.tp / self.n_gold if self.n_gold else None

    @property
    def precision(self) -> float | None:
        return self.tp / self.n_pred if self.n_pred else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "precision": self.precision, "recall": self.recall, "f1": self.f1}


@dataclass(frozen=True)
class BucketTable:
    """Scores of one bucketing: ``overall[bucket]`` and ``per_type[type][bucket]``, every bucket of
    ``buckets`` listed (zero counts where empty); types sorted."""

    name: str
    buckets: tuple[str, ...]
    overall: dict[str, BucketScore] = field(default_factory=dict)
    per_type: dict[str, dict[str, BucketScore]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"name": self.name, "buckets": list(self.buckets),
                "overall": {b: s.to_dict() for b, s in self.overall.items()},
                "per_type": {t: {b: s.to_dict() for b, s in row.items()} for t, row in self.per_type.items()}}


@dataclass(frozen=True)
class Overlap:
    """How many gold mentions of the evaluated split have a surface form seen in training."""

    n_mentions: int
    seen_any_type: int
    seen_same_type: int

    @property
    def share_seen(self) -> float:
        return self.seen_any_type / self.n_mentions if self.n_mentions else 0.0

    @property
    def share_seen_same_type(self) -> float:
        return self.seen_same_type / self.n_mentions if self.n_mentions else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "share_seen": self.share_seen, "share_seen_same_type": self.share_seen_same_type}


def surface(words: Sequence[str], span: WordSpan) -> str:
    return " ".join(words[span.start:span.end])


def training_surfaces(words: Sequence[Sequence[str]], tags: Sequence[Sequence[str]]) -> dict[str, frozenset[str]]:
    """Every gold surface form of the training data and the types it is labelled with.

    >>> training_surfaces([["Paris", "Hilton", "in", "Paris"]], [["B-PER", "I-PER", "O", "B-LOC"]])
    {'Paris Hilton': frozenset({'PER'}), 'Paris': frozenset({'LOC'})}
    """
    check_aligned(tags, tags, words)
    seen: dict[str, set[str]] = {}
    for sentence_words, entities in zip(words, strict_entities(tags)):
        for e in sorted(entities, key=lambda s: s.start):
            seen.setdefault(surface(sentence_words, e), set()).add(e.label)
    return {text: frozenset(types) for text, types in seen.items()}


def seen_bucket(text: str, label: str, seen: Mapping[str, frozenset[str]]) -> str:
    """The seen/unseen bucket of a mention with surface ``text`` and type ``label``.

    >>> seen_bucket("Paris", "PER", {"Paris": frozenset({"LOC"})})
    'seen, other type only'
    """
    types = seen.get(text)
    if not types:
        return UNSEEN
    return SEEN_SAME if label in types else SEEN_OTHER


def bucket_scores(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    bucket_of: BucketOf,
    buckets: Sequence[str],
    name: str,
) -> BucketTable:
    """Strict TP / gold / predicted per bucket (and per type and bucket); ``bucket_of`` names the
    bucket of an entity of a sentence and must return one of ``buckets``."""
    check_aligned(gold, pred)
    overall = {b: [0, 0, 0] for b in buckets}
    per_type: dict[str, dict[str, list[int]]] = {}
    for i, (g, p) in enumerate(zip(strict_entities(gold), strict_entities(pred))):
        for column, entities in ((0, g & p), (1, g), (2, p)):
            for e in entities:
                bucket = bucket_of(i, e)
                if bucket not in overall:
                    raise ValueError(f"sentence {i}: bucket {bucket!r} of {e} is not one of {list(buckets)}")
                overall[bucket][column] += 1
                per_type.setdefault(e.label, {b: [0, 0, 0] for b in buckets})[bucket][column] += 1
    return BucketTable(name, tuple(buckets), {b: BucketScore(*c) for b, c in overall.items()},
                       {t: {b: BucketScore(*c) for b, c in per_type[t].items()} for t in sorted(per_type)})


def seen_unseen(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    words: Sequence[Sequence[str]],
    seen: Mapping[str, frozenset[str]],
) -> BucketTable:
    """Strict scores by whether each mention's surface form was seen in training (``seen``, from
    :func:`training_surfaces`) with its type, with other types only, or not at all.

    >>> seen = {"Paris": frozenset({"LOC"})}
    >>> table = seen_unseen([["B-LOC", "B-LOC"]], [["B-LOC", "O"]], [["Paris", "Lyon"]], seen)
    >>> table.overall["seen, same type"].recall, table.overall["unseen"].recall
    (1.0, 0.0)
    """
    check_aligned(gold, pred, words)
    return bucket_scores(gold, pred, lambda i, e: seen_bucket(surface(words[i], e), e.label, seen),
                         SEEN_BUCKETS, "seen in training")


def overlap(
    gold: Sequence[Sequence[str]], words: Sequence[Sequence[str]], seen: Mapping[str, frozenset[str]]
) -> Overlap:
    """Train-test overlap: gold mentions whose surface form occurs in training (any type, same type).

    >>> overlap([["B-LOC", "O", "B-PER"]], [["Paris", "and", "Ann"]], {"Paris": frozenset({"LOC"})}).share_seen
    0.5
    """
    check_aligned(gold, gold, words)
    n = any_type = same_type = 0
    for i, entities in enumerate(strict_entities(gold)):
        for e in entities:
            bucket = seen_bucket(surface(words[i], e), e.label, seen)
            n += 1
            any_type += bucket != UNSEEN
            same_type += bucket == SEEN_SAME
    return Overlap(n, any_type, same_type)


def entity_length_bucket(span: WordSpan) -> str:
    return ENTITY_LENGTH_BUCKETS[min(span.end - span.start, 4) - 1]


def sentence_length_bucket(n_words: int) -> str:
    """The bucket of a sentence of ``n_words`` words.

    >>> sentence_length_bucket(9), sentence_length_bucket(40)
    ('1-9 words', '40+ words')
    """
    return SENTENCE_LENGTH_BUCKETS[0 if n_words < 10 else 1 if n_words < 20 else 2 if n_words < 40 else 3]


def subword_bucket(words: Sequence[str], pieces: Callable[[str], int]) -> str:
    """The bucket of an entity by the share of its words that ``pieces`` (word -> number of subword
    pieces) splits into more than one.

    >>> subword_bucket(["New", "Yorkshire"], lambda w: 1 if w == "New" else 2)
    'up to half split'
    """
    share = sum(pieces(w) > 1 for w in words) / len(words)
    return SUBWORD_BUCKETS[0 if share == 0 else 1 if share <= 0.5 else 2]


def length_tables(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    words: Sequence[Sequence[str]],
    pieces: Callable[[str], int] | None = None,
) -> list[BucketTable]:
    """Strict scores by entity length, by sentence length and, when ``pieces`` (a tokenizer's word ->
    number of pieces) is given, by the share of the entity's words split into subwords."""
    check_aligned(gold, pred, words)
    tables = [
        bucket_scores(gold, pred, lambda i, e: entity_length_bucket(e), ENTITY_LENGTH_BUCKETS, "entity length"),
        bucket_scores(gold, pred, lambda i, e: sentence_length_bucket(len(words[i])), SENTENCE_LENGTH_BUCKETS,
                      "sentence length"),
    ]
    if pieces is not None:
        cache: dict[str, int] = {}

        def counted(word: str) -> int:
            if word not in cache:
                cache[word] = pieces(word)
            return cache[word]

        tables.append(bucket_scores(gold, pred, lambda i, e: subword_bucket(words[i][e.start:e.end], counted),
                                    SUBWORD_BUCKETS, "subword-split words"))
    return tables


def tokenizer_pieces(tokenizer) -> Callable[[str], int]:
    """word -> number of pieces for a Hugging Face tokenizer (no special tokens)."""
    return lambda word: max(1, len(tokenizer.tokenize(word)))

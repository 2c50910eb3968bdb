"""Label sets and subword label alignment.

One :class:`LabelSet` is the single source of truth for ``id2label`` / ``label2id``; it is written
into ``model.config`` so that a saved model loads with ``transformers.pipeline`` unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from ner_demo.errors import DataFormatError

IGNORE_INDEX = -100  # what torch's cross-entropy skips: special tokens and non-first subwords


@dataclass(frozen=True)
class LabelSet:
    """IOB2 labels: ``O`` first, then ``B-X``, ``I-X`` for each entity type in sorted order.

    >>> LabelSet.from_types(["PER", "LOC"]).names
    ('O', 'B-LOC', 'I-LOC', 'B-PER', 'I-PER')
    """

    names: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.names or self.names[0] != "O":
            raise ValueError(f"a label set starts with 'O', got {self.names[:1]}")
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"duplicate labels in {self.names}")

    @classmethod
    def from_types(cls, types: Iterable[str]) -> "LabelSet":
        names = ["O"]
        for t in sorted(set(types)):
            names += [f"B-{t}", f"I-{t}"]
        return cls(tuple(names))

    @classmethod
    def from_tags(cls, tag_sequences: Iterable[Sequence[str]]) -> "LabelSet":
        types = {tag[2:] for tags in tag_sequences for tag in tags if tag != "O"}
        return cls.from_types(types)

    @classmethod
    def from_id2label(cls, id2label: dict) -> "LabelSet":
        """From a model config's ``id2label`` (keys may be ints or strings of ints)."""
        items = sorted((int(k), v) for k, v in id2label.items())
        return cls(tuple(v for _, v in items))

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(n[2:] for n in self.names if n.startswith("B-"))

    @property
    def id2label(self) -> dict[int, str]:
        return dict(enumerate(self.names))

    @property
    def label2id(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.names)}

    def __len__(self) -> int:
        return len(self.names)

    def encode(self, tags: Sequence[str], source: str = "<memory>", line: int = 0) -> list[int]:
        """Tag strings to ids; an unknown tag names the source line and the known labels."""
        mapping = self.label2id
        ids = []
        for i, tag in enumerate(tags):
            if tag not in mapping:
                raise DataFormatError(
                    source, line + i if line else None, tag,
                    f"tag is not in the model's labels ({', '.join(self.names)})",
                )
            ids.append(mapping[tag])
        return ids

    def inside_ids(self) -> list[int]:
        """For each label id, the id that later subwords of a word get in all-subword mode (B-X -> I-X)."""
        mapping = self.label2id
        return [mapping.get("I-" + n[2:], i) if n.startswith("B-") else i for i, n in enumerate(self.names)]


def align_labels(
    word_ids: Sequence[int | None],
    word_labels: Sequence[int],
    all_subwords: bool = False,
    inside_ids: Sequence[int] | None = None,
) -> list[int]:
    """Per-subword training labels from per-word label ids.

    First-subword mode (the default, as in the seeds): a word's first piece carries its label and
    later pieces get -100, so each word is counted once, exactly as it is scored.
    All-subword mode labels every piece; a ``B-X`` word's later pieces become ``I-X`` so the pieces
    still form one valid IOB2 entity (``inside_ids`` gives that mapping, see LabelSet.inside_ids).

    >>> align_labels([None, 0, 0, 1, None], [3, 0])
    [-100, 3, -100, 0, -100]
    >>> align_labels([None, 0, 0, 1, None], [3, 0], all_subwords=True, inside_ids=[0, 1, 2, 4, 4])
    [-100, 3, 4, 0, -100]
    """
    if all_subwords and inside_ids is None:
        raise ValueError("all_subwords=True needs inside_ids (LabelSet.inside_ids())")
    labels = []
    previous = None
    for word_id in word_ids:
        if word_id is None:
            labels.append(IGNORE_INDEX)  # [CLS], [SEP], padding
        elif word_id != previous:
            labels.append(word_labels[word_id])
        elif all_subwords:
            labels.append(inside_ids[word_labels[word_id]])
        else:
            labels.append(IGNORE_INDEX)
        previous = word_id
    return labels

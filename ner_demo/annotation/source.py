"""An annotation dataset as a data source: its final annotations as train and dev corpora (IOB2).

``TrainConfig.dataset`` (and anything that takes a dataset name) accepts ``annotation:<name>``, read from
the default database (``$NER_DEMO_ANNOTATION_DB``, else runs/annotations.sqlite3 under the working
folder), or ``annotation:<name>@<database URL or path>``.

The dev part is held out by a seeded hash of each example (its source id, else its text), not by a
shuffle: an example stays on the same side as more examples are annotated, so a model trained on
more data is never scored on sentences that an earlier run trained on. ``dev_fraction`` of the examples
go to dev, and at least one when there are two or more.
"""

from __future__ import annotations

import hashlib
import os

from ner_demo.annotation.formats import example_words, final_rows, word_tags
from ner_demo.annotation.store import AnnotationStore, StoreError
from ner_demo.data.conll import Corpus, Sentence

PREFIX = "annotation:"
DB_ENV = "NER_DEMO_ANNOTATION_DB"
DEV_FRACTION = 0.2


def is_annotation_source(dataset: str) -> bool:
    return str(dataset).startswith(PREFIX)


def parse_source(dataset: str) -> tuple[str, str | None]:
    """``annotation:<name>[@<db>]`` -> ``(name, db)``; ``db`` None: the default database.

    >>> parse_source("annotation:news@postgresql://me@host/db")
    ('news', 'postgresql://me@host/db')
    """
    if not is_annotation_source(dataset):
        raise StoreError(f"{dataset!r} is not an annotation source (annotation:<name>[@<database>])")
    name, _, db = dataset[len(PREFIX):].partition("@")
    if not name.strip():
        raise StoreError(f"{dataset!r}: name the annotation dataset, e.g. annotation:news")
    return name.strip(), db or os.environ.get(DB_ENV) or None


def dev_share(key: str, seed: int) -> float:
    """A number in [0, 1) fixed by ``key`` and ``seed``."""
    digest = hashlib.sha256(f"{seed}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_train_dev(store: AnnotationStore, name: str, seed: int = 42, dev_fraction: float = DEV_FRACTION,
                    snap: bool = False) -> tuple[Corpus, Corpus]:
    """The dataset's final annotations as ``(train, dev)`` corpora (see the module's docstring)."""
    if not 0 < dev_fraction < 1:
        raise StoreError(f"dev_fraction must be between 0 and 1, got {dev_fraction}")
    keyed = []
    for ex, spans, _ in final_rows(store, name):
        words = example_words(ex.text, ex.tokens)
        tags = word_tags(ex.text, words, spans, f"{name}, example {ex.position} ({ex.source_id})", snap)
        keyed.append((ex.source_id or ex.text, Sentence(tuple(w.text for w in words), tuple(tags))))
    shares = [dev_share(key, seed) for key, _ in keyed]
    dev_idx = {i for i, share in enumerate(shares) if share < dev_fraction}
    if not dev_idx and len(keyed) >= 2:
        dev_idx = {min(range(len(shares)), key=shares.__getitem__)}
    if len(dev_idx) == len(keyed) and len(keyed) >= 2:
        dev_idx.discard(max(dev_idx, key=shares.__getitem__))
    label = f"annotation:{name}"
    train = [Sentence(s.words, s.tags, 0, (), f"{label} train", 0) for i, (_, s) in enumerate(keyed) if i not in dev_idx]
    dev = [Sentence(s.words, s.tags, 0, (), f"{label} dev", 0) for i, (_, s) in enumerate(keyed) if i in dev_idx]
    return Corpus(train, f"{label} train"), Corpus(dev, f"{label} dev")


def load_annotation_splits(dataset: str, seed: int = 42, dev_fraction: float = DEV_FRACTION) -> tuple[dict, str]:
    """``({"train": Corpus, "dev": Corpus}, description)`` for ``annotation:<name>[@<db>]``."""
    name, db = parse_source(dataset)
    with AnnotationStore.open(db) as store:
        train, dev = split_train_dev(store, name, seed, dev_fraction)
        where = store.describe()
    return {"train": train, "dev": dev}, f"annotation dataset {name!r} in {where} (dev: seeded {dev_fraction:.0%})"


def load_annotation_split(dataset: str, split: str, seed: int = 42, dev_fraction: float = DEV_FRACTION) -> Corpus:
    """One part of ``annotation:<name>[@<db>]`` for scoring a model on it: ``train``, ``dev`` (the
    held-out part, as training splits it) or ``all`` (every final annotation)."""
    if split not in ("train", "dev", "all"):
        raise StoreError(f"split {split!r} of an annotation dataset is not train, dev or all")
    splits, _ = load_annotation_splits(dataset, seed, dev_fraction)
    if split != "all":
        return splits[split]
    name = parse_source(dataset)[0]
    return Corpus(splits["train"].sentences + splits["dev"].sentences, f"annotation:{name}")

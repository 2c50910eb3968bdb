"""An annotation dataset as training data: seeded held-out dev, and TrainConfig's annotation:<name>."""

from __future__ import annotations

import pytest

from ner_demo.annotation.edits import Span
from ner_demo.annotation.source import load_annotation_split, parse_source, split_train_dev
from ner_demo.annotation.store import AnnotationStore, ExampleIn, StoreError
from ner_demo.training.config import TrainConfig
from ner_demo.training.data_prep import load_splits_for

NAMES = ["John", "Mary", "Li", "Pedro", "Angela", "Ana", "Bo", "Cy", "Di", "Ed"]


def _fill(store, names, start=0):
    store.add_examples("d", [ExampleIn(f"{n} lives in Paris .", f"id{start + i}") for i, n in enumerate(names)])
    for i, n in enumerate(names):
        store.record("d", start + i, "ann", "edit", [Span(0, len(n), "PER"), Span(len(n) + 10, len(n) + 15, "LOC")])


@pytest.fixture
def store(tmp_path):
    with AnnotationStore.open(tmp_path / "a.sqlite3") as opened:
        opened.create_dataset("d", ["PER", "LOC"])
        yield opened


def test_the_split_holds_out_a_seeded_dev_part(store):
    _fill(store, NAMES)
    train, dev = split_train_dev(store, "d", seed=1)
    again = split_train_dev(store, "d", seed=1)[1]
    assert (len(train) + len(dev), len(dev) >= 1, [s.words for s in again] == [s.words for s in dev]) == (10, True, True)


def test_an_example_stays_on_its_side_as_the_dataset_grows(store):
    _fill(store, NAMES[:5])
    dev_before = {s.words for s in split_train_dev(store, "d", seed=3, dev_fraction=0.5)[1]}
    _fill(store, NAMES[5:], start=5)
    dev_after = {s.words for s in split_train_dev(store, "d", seed=3, dev_fraction=0.5)[1]}
    assert dev_before <= dev_after


def test_the_split_is_in_iob2(store):
    _fill(store, ["John"])
    _fill(store, ["Mary"], start=1)
    train, dev = split_train_dev(store, "d")
    assert sorted(s.tags for s in [*train, *dev])[0] == ("B-PER", "O", "O", "B-LOC", "O")


def test_a_source_names_its_database():
    assert parse_source("annotation:news@/tmp/x.sqlite3") == ("news", "/tmp/x.sqlite3")


def test_a_source_without_a_name_is_refused():
    with pytest.raises(StoreError, match="name the annotation dataset"):
        parse_source("annotation:")


def test_train_config_reads_an_annotation_dataset(store, tmp_path):
    _fill(store, NAMES)
    data = load_splits_for(TrainConfig(dataset=f"annotation:d@{tmp_path / 'a.sqlite3'}"))
    assert (len(data.train) + len(data.dev), sorted(data.labels.names)) == (10, ["B-LOC", "B-PER", "I-LOC", "I-PER", "O"])


def test_all_of_an_annotation_dataset_is_train_and_dev_together(store, tmp_path):
    _fill(store, NAMES)
    corpus = load_annotation_split(f"annotation:d@{tmp_path / 'a.sqlite3'}", "all")
    assert sorted(s.words[0] for s in corpus) == sorted(NAMES)

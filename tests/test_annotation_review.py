"""Review: agreement per type, the diff, and resolution into the final version."""

from __future__ import annotations

import pytest

from ner_demo.annotation.edits import Span
from ner_demo.annotation.review import agreement, diff, resolve, side_spans, store_resolution
from ner_demo.annotation.store import AnnotationStore, ExampleIn, StoreError

A = {0: [Span(0, 4, "PER"), Span(10, 15, "LOC")], 1: [Span(0, 3, "ORG")], 2: [Span(0, 2, "PER")]}
B = {0: [Span(0, 4, "PER"), Span(10, 15, "ORG")], 1: [Span(0, 3, "ORG")], 3: [Span(0, 1, "LOC")]}


def test_agreement_counts_per_type_over_examples_both_annotated():
    rows = {r.label: (r.both, r.only_a, r.only_b, round(r.f1, 3)) for r in agreement(A, B)}
    assert rows == {"LOC": (0, 1, 0, 0.0), "ORG": (1, 0, 1, 0.667), "PER": (1, 0, 0, 1.0), "all": (2, 1, 1, 0.667)}


def test_the_diff_lists_each_sides_own_spans():
    row = diff(A, B)[0]
    assert (row.both, row.only_a, row.only_b) == ([Span(0, 4, "PER")], [Span(10, 15, "LOC")], [Span(10, 15, "ORG")])


def test_resolve_refuses_a_disagreement_without_a_choice():
    with pytest.raises(StoreError, match="1 examples disagree and have no choice: positions 0"):
        resolve(A, B)


def test_resolve_takes_agreements_one_sided_examples_and_choices():
    assert resolve(A, B, {0: "b"}) == {0: B[0], 1: A[1], 2: A[2], 3: B[3]}


@pytest.fixture
def store(tmp_path):
    with AnnotationStore.open(tmp_path / "a.sqlite3") as opened:
        opened.create_dataset("d", ["PER", "LOC"], [ExampleIn("John in Lima"), ExampleIn("Mary")])
        yield opened


def test_annotator_against_model(store):
    store.record("d", 0, "ann", "edit", [Span(0, 4, "PER"), Span(8, 12, "LOC")])
    store.suggest("d", 0, [Span(0, 4, "PER")], "tiny", "v1")
    rows = agreement(side_spans(store, "d", "ann"), side_spans(store, "d", "model:tiny"))
    assert [(r.label, r.both, r.only_a) for r in rows] == [("LOC", 0, 1), ("PER", 1, 0), ("all", 1, 1)]


def test_a_resolution_becomes_the_final_version(store):
    store.record("d", 0, "ann", "edit", [Span(0, 4, "PER")])
    store.record("d", 0, "bob", "edit", [Span(8, 12, "LOC")])
    resolved = resolve(side_spans(store, "d", "ann"), side_spans(store, "d", "bob"), {0: [Span(0, 4, "PER"), Span(8, 12, "LOC")]})
    store_resolution(store, "d", resolved)
    store.record("d", 0, "bob", "edit", [])
    assert store.final_spans("d") == {0: [Span(0, 4, "PER"), Span(8, 12, "LOC")]}


def test_an_annotator_without_decisions_is_named(store):
    with pytest.raises(StoreError, match="annotator 'zoe' decided nothing in 'd'"):
        side_spans(store, "d", "zoe")

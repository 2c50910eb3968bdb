"""An annotator's session: next item, accept, edit, reject, skip, undo, going back."""

from __future__ import annotations

import pytest

from ner_demo.annotation.edits import Span
from ner_demo.annotation.session import AnnotationSession
from ner_demo.annotation.store import AnnotationStore, ExampleIn

TEXTS = ["John lives in Paris .", "Mary met Li .", "Lima today ."]


@pytest.fixture
def store(tmp_path):
    with AnnotationStore.open(tmp_path / "a.sqlite3") as opened:
        opened.create_dataset("d", ["PER", "LOC"], [ExampleIn(t) for t in TEXTS])
        opened.suggest("d", 0, [Span(0, 4, "PER")], "tiny", "v1")
        yield opened


def test_the_first_item_shows_the_suggestion(store):
    item = AnnotationSession(store, "d", "ann").next_item()
    assert (item.position, item.spans, item.suggested_by, item.index, item.total) == (0, [Span(0, 4, "PER")], "tiny", 0, 3)


def test_accepting_records_the_suggesting_model_and_moves_on(store):
    session = AnnotationSession(store, "d", "ann")
    decision = session.accept(session.next_item())
    assert (decision.action, decision.suggested_by, decision.model_version, session.next_item().position) == (
        "accept", "tiny", "v1", 1)


def test_accepting_changed_spans_is_an_edit(store):
    session = AnnotationSession(store, "d", "ann")
    decision = session.accept(session.next_item(), [Span(0, 4, "PER"), Span(14, 19, "LOC")])
    assert decision.action == "edit"


def test_undo_brings_the_item_back(store):
    session = AnnotationSession(store, "d", "ann")
    session.reject(session.next_item())
    session.undo()
    assert (session.next_item().position, session.progress()) == (0, (0, 3))


def test_an_earlier_item_can_be_answered_again(store):
    session = AnnotationSession(store, "d", "ann")
    session.accept(session.next_item())
    session.skip(session.next_item())
    session.edit(0, [])
    assert (session.item(0).spans, store.final_spans("d")) == ([], {0: []})

"""Queue orders (pure, then from the store) and a Tagger's pre-annotation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ner_demo.annotation.edits import Span
from ner_demo.annotation.preannotate import preannotate, word_uncertainty
from ner_demo.annotation.queue import (
    disagreement_order, diverse_order, queue_order, read_review_items, review_positions, uncertainty_order,
)
from ner_demo.annotation.store import AnnotationStore, ExampleIn, StoreError
from ner_demo.errors import DataFormatError
from ner_demo.evaluation.suspicious import SuspiciousItem, write_review_list
from ner_demo.inference import Tagger

METAS = {0: {"margin": 0.9, "entropy": 0.1}, 1: {"margin": 0.2, "entropy": 0.5}, 2: {"margin": 0.5, "entropy": 0.9}}


def test_margin_order_asks_the_lowest_margin_first():
    assert uncertainty_order(METAS, "margin", [0, 1, 2, 3]) == [1, 2, 0, 3]


def test_entropy_order_asks_the_highest_entropy_first():
    assert uncertainty_order(METAS, "entropy", [0, 1, 2, 3]) == [2, 1, 0, 3]


def test_diversity_moves_a_repeated_form_back():
    items = [(0, 0.9, ["Paris"]), (1, 0.85, ["Paris"]), (2, 0.8, ["Paris"]), (3, 0.5, ["Lima"])]
    assert diverse_order(items) == [0, 3, 1, 2]


def test_diversity_counts_forms_already_answered():
    assert diverse_order([(0, 0.9, ["Paris"]), (1, 0.6, ["Lima"])], seen={"Paris": 3}) == [1, 0]


def test_disagreement_asks_where_two_models_differ_most_first():
    a = {0: [Span(0, 1, "PER")], 1: [Span(0, 1, "PER"), Span(2, 3, "LOC")], 2: []}
    b = {0: [Span(0, 1, "PER")], 1: [], 2: [Span(0, 1, "ORG")]}
    assert disagreement_order(a, b, [0, 1, 2]) == [1, 2, 0]


def test_word_uncertainty_is_margin_and_entropy():
    margin, entropy = word_uncertainty(np.array([[0.5, 0.5], [1.0, 0.0]]))
    assert (margin.tolist(), np.round(entropy, 4).tolist()) == ([0.0, 1.0], [0.6931, 0.0])


def test_a_review_list_is_read_by_index_or_text(tmp_path):
    path = tmp_path / "suspicious.jsonl"
    path.write_text('{"index": 2, "score": 0.9}\n{"sentence": ["Lima", "."]}\n', encoding="utf-8")
    items = read_review_items(path)
    assert review_positions(items, ["John", "Lima .", "Paris"]) == [2, 1]


def test_a_review_list_line_without_index_or_text_is_named(tmp_path):
    path = tmp_path / "suspicious.jsonl"
    path.write_text('{"index": 0}\n{"score": 1}\n', encoding="utf-8")
    with pytest.raises(DataFormatError, match="suspicious.jsonl, line 2: .*needs an 'index'"):
        read_review_items(path)


# Two items of the evaluation's review list (ner_demo.evaluation.suspicious, schema version 1), abridged to
# the keys it always writes.
EVALUATION_ITEMS = [
    {"version": 1, "kind": "suspicious_gold", "rank": 1, "sentence": 2, "doc_id": 0, "text": "Paris",
     "words": ["Paris"], "start": 0, "end": 5, "word_start": 0, "word_end": 1, "span_text": "Paris",
     "gold_label": "PER", "suggested_label": "LOC", "suggested_start": 0, "suggested_end": 5, "score": 0.9,
     "signals": {"model": 0.9}, "reasons": ["..."], "gold": [{"label": "PER", "start": 0, "end": 5}]},
    {"version": 1, "kind": "suspicious_gold", "rank": 2, "sentence": 2, "doc_id": 0, "text": "Paris",
     "words": ["Paris"], "start": 0, "end": 5, "word_start": 0, "word_end": 1, "span_text": "Paris",
     "gold_label": "PER", "suggested_label": None, "suggested_start": 0, "suggested_end": 5, "score": 0.5,
     "signals": {"inconsistent": 0.5}, "reasons": ["..."], "gold": [{"label": "PER", "start": 0, "end": 5}]},
]


def test_the_evaluations_review_list_asks_each_sentence_once(tmp_path):
    path = tmp_path / "suspicious.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in EVALUATION_ITEMS), encoding="utf-8")
    assert review_positions(read_review_items(path), ["John", "Lima .", "Paris"]) == [2]


def test_a_review_list_of_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "suspicious.jsonl"
    path.write_text(json.dumps({**EVALUATION_ITEMS[0], "version": 2}) + "\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="line 1: .*review list version 2"):
        read_review_items(path)


@pytest.fixture
def store(tmp_path):
    texts = ["John lives in Paris .", "Mary met Li at Acme Corp .", "the Berlin today ."]
    with AnnotationStore.open(tmp_path / "a.sqlite3") as opened:
        opened.create_dataset("d", ["PER", "LOC", "ORG"], [ExampleIn(t) for t in texts])
        yield opened


def test_preannotation_stores_marked_suggestions_with_model_and_version(store, tiny_model_dir):
    n = preannotate(store, "d", Tagger.from_pretrained(str(tiny_model_dir)), "tiny")
    s = store.suggestions("d")[0]
    assert (n, s.is_suggestion, s.suggested_by, len(s.model_version), 0 <= s.meta["margin"] <= 1) == (
        3, True, "tiny", 12, True)


def test_the_margin_queue_follows_the_stored_margins(store, tiny_model_dir):
    preannotate(store, "d", Tagger.from_pretrained(str(tiny_model_dir)), "tiny")
    margins = {p: d.meta["margin"] for p, d in store.suggestions("d").items()}
    assert queue_order(store, "d", "margin") == sorted(margins, key=lambda p: (margins[p], p))


def test_an_uncertainty_queue_without_suggestions_says_to_pre_annotate(store):
    with pytest.raises(StoreError, match="pre-annotate it first"):
        queue_order(store, "d", "margin")


def test_the_suspicious_queue_puts_the_listed_examples_first(store, tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps({"text": "the Berlin today ."}) + "\n", encoding="utf-8")
    assert queue_order(store, "d", "suspicious", review_list=path) == [2, 0, 1]


def test_a_list_written_by_the_evaluation_is_read(tmp_path):
    item = SuspiciousItem(sentence=1, doc_id=0, text="Lima .", words=("Lima", "."), word_start=0, word_end=1,
                          start=0, end=4, gold_label="PER", suggested_label="LOC", suggested_start=0,
                          suggested_end=4, score=0.9)
    write_review_list([item], tmp_path / "suspicious.jsonl")
    assert review_positions(read_review_items(tmp_path / "suspicious.jsonl"), ["John", "Lima .", "Paris"]) == [1]


def test_preannotation_reads_each_plain_text_as_a_document_of_its_own(store, tiny_model_dir, monkeypatch):
    import ner_demo.annotation.preannotate as pre

    seen = []
    real = pre.corpus_probabilities
    monkeypatch.setattr(pre, "corpus_probabilities", lambda tagger, corpus, **kw: seen.append(
        [s.doc_id for s in corpus.sentences]) or real(tagger, corpus, **kw))
    preannotate(store, "d", Tagger.from_pretrained(str(tiny_model_dir)), "tiny")
    assert seen == [[0, 1, 2]]

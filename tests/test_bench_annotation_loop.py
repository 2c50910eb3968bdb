"""bench/bench_annotation_loop.py's simulated annotator on a three-sentence pool (no model: the suggestions'
uncertainty is written into the store as pre-annotation would)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parent.parent / "bench" / "bench_annotation_loop.py"
_spec = importlib.util.spec_from_file_location("bench_annotation_loop", _PATH)
loop = importlib.util.module_from_spec(_spec)
sys.modules["bench_annotation_loop"] = loop
_spec.loader.exec_module(loop)

from ner_demo.data.conll import Sentence  # noqa: E402

POOL = [Sentence(("The", "German", "team"), ("O", "B-NORP", "O"), 1),
        Sentence(("Paris", "wins"), ("B-LOC", "O"), 1),
        Sentence(("French", "fans"), ("B-NORP", "O"), 2)]


@pytest.fixture
def pool(tmp_path):
    store, gold = loop.open_pool(tmp_path, POOL)
    store.suggest_many(loop.DATASET, [(0, [], {"margin": 0.1, "entropy": 1.0, "forms": ["German"]}),
                                      (1, [], {"margin": 0.9, "entropy": 0.1, "forms": []}),
                                      (2, [], {"margin": 0.2, "entropy": 0.8, "forms": ["French"]})], loop.MODEL)
    yield store, gold
    store.close()


def test_the_uncertainty_annotator_answers_the_lowest_margins_first(pool):
    store, gold = pool
    assert loop.annotate(store, gold, "uncertainty", 2, seed=0) == [0, 2]


def test_the_annotated_sentences_carry_the_gold_tags_each_in_its_own_document(pool):
    store, gold = pool
    loop.annotate(store, gold, "uncertainty", 2, seed=0)
    sentences = loop.annotated_sentences(store, "simulated-uncertainty", 2)
    assert [(s.words, s.tags, s.doc_id) for s in sentences] == [
        (("The", "German", "team"), ("O", "B-NORP", "O"), 0), (("French", "fans"), ("B-NORP", "O"), 1)]

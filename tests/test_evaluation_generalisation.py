"""ner_demo.evaluation.generalisation: seen/unseen buckets, the train-test overlap and length buckets,
on corpora of a few words with every count worked out in a comment."""

from __future__ import annotations

import pytest

from ner_demo.evaluation.generalisation import (
    SEEN_OTHER,
    SEEN_SAME,
    UNSEEN,
    BucketScore,
    length_tables,
    overlap,
    seen_unseen,
    training_surfaces,
)

# training: Paris is a LOC, Jordan a PER
TRAIN_WORDS = [["Paris", "and", "Jordan"]]
TRAIN_TAGS = [["B-LOC", "O", "B-PER"]]
SEEN = training_surfaces(TRAIN_WORDS, TRAIN_TAGS)

# test gold: Paris LOC (seen, same type), Jordan LOC (seen as PER only), Lyon LOC (unseen)
WORDS = [["Paris", "Jordan", "Lyon"]]
GOLD = [["B-LOC", "B-LOC", "B-LOC"]]
# pred: Paris LOC right; Jordan called PER (a seen-same-type *prediction*: Jordan is a PER in training); Lyon missed
PRED = [["B-LOC", "B-PER", "O"]]


def test_training_surfaces_keep_every_type_of_a_surface():
    seen = training_surfaces([["Jordan", "Jordan"]], [["B-PER", "B-LOC"]])
    assert seen == {"Jordan": frozenset({"LOC", "PER"})}


def test_surfaces_keep_case():
    assert seen_unseen([["B-LOC"]], [["B-LOC"]], [["PARIS"]], SEEN).overall[UNSEEN] == BucketScore(1, 1, 1)


def test_gold_mentions_are_bucketed_by_surface_and_gold_type():
    table = seen_unseen(GOLD, PRED, WORDS, SEEN)
    assert {b: s.n_gold for b, s in table.overall.items()} == {SEEN_SAME: 1, SEEN_OTHER: 1, UNSEEN: 1}


def test_recall_per_bucket():
    table = seen_unseen(GOLD, PRED, WORDS, SEEN)
    assert {b: s.recall for b, s in table.overall.items()} == {SEEN_SAME: 1.0, SEEN_OTHER: 0.0, UNSEEN: 0.0}


def test_predictions_are_bucketed_by_surface_and_predicted_type():
    # seen-same-type predictions: Paris LOC (right) and Jordan PER (wrong) -> precision 1/2
    table = seen_unseen(GOLD, PRED, WORDS, SEEN)
    assert table.overall[SEEN_SAME] == BucketScore(tp=1, n_gold=1, n_pred=2)
    assert (table.overall[SEEN_SAME].precision, table.overall[SEEN_SAME].f1) == (0.5, pytest.approx(2 / 3))


def test_precision_and_f1_are_undefined_without_predictions():
    table = seen_unseen(GOLD, PRED, WORDS, SEEN)
    assert (table.overall[UNSEEN].precision, table.overall[UNSEEN].f1) == (None, None)


def test_per_type_rows_list_every_bucket():
    table = seen_unseen(GOLD, PRED, WORDS, SEEN)
    assert table.per_type["PER"] == {SEEN_SAME: BucketScore(0, 0, 1), SEEN_OTHER: BucketScore(), UNSEEN: BucketScore()}
    assert table.per_type["LOC"][SEEN_OTHER] == BucketScore(0, 1, 0)


def test_the_overlap_share_counts_test_mentions_seen_in_training():
    report = overlap(GOLD, WORDS, SEEN)
    assert (report.n_mentions, report.seen_any_type, report.seen_same_type) == (3, 2, 1)
    assert (report.share_seen, report.share_seen_same_type) == (pytest.approx(2 / 3), pytest.approx(1 / 3))


def test_entity_length_buckets():
    # gold: New York (2 words, found), Ann (1 word, missed)
    gold = [["B-LOC", "I-LOC", "O", "B-PER"]]
    pred = [["B-LOC", "I-LOC", "O", "O"]]
    table = length_tables(gold, pred, [["New", "York", "and", "Ann"]])[0]
    assert table.name == "entity length"
    assert {b: s.recall for b, s in table.overall.items()} == {"1 word": 0.0, "2 words": 1.0, "3 words": None,
                                                               "4+ words": None}


def test_sentence_length_buckets():
    long_sentence = ["w"] * 12
    gold = [["B-PER"], ["B-PER"] + ["O"] * 11]
    pred = [["B-PER"], ["O"] * 12]
    table = length_tables(gold, pred, [["Ann"], long_sentence])[1]
    assert (table.overall["1-9 words"].recall, table.overall["10-19 words"].recall) == (1.0, 0.0)


def test_subword_buckets_need_a_tokenizer():
    assert [t.name for t in length_tables(GOLD, PRED, WORDS)] == ["entity length", "sentence length"]


def test_subword_buckets_use_the_share_of_split_words():
    # "Jordan" is split in two pieces, the others are whole words
    pieces = {"Paris": 1, "Jordan": 2, "Lyon": 1, "New": 1, "Jordanville": 3}.__getitem__
    gold = [["B-LOC", "B-LOC", "B-LOC"], ["B-LOC", "I-LOC"]]
    pred = [["B-LOC", "B-LOC", "O"], ["B-LOC", "I-LOC"]]
    table = length_tables(gold, pred, WORDS + [["New", "Jordanville"]], pieces)[2]
    assert {b: s.n_gold for b, s in table.overall.items()} == {"no word split": 2, "up to half split": 1,
                                                               "over half split": 1}
    assert table.overall["no word split"].recall == 0.5

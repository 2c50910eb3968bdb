"""ner_demo.evaluation.bootstrap: document-resampled intervals on strict IOB2 F1, on cases whose answer is
known: identical documents give a zero-width interval, and documents right or wrong by a fair coin give
the binomial interval."""

from __future__ import annotations

import pytest

from ner_demo.evaluation import evaluate
from ner_demo.evaluation.bootstrap import Interval, bootstrap_f1, resampling_units
from ner_demo.evaluation.counts import entity_counts, f1_scores

# gold: PER[0,2) LOC[3,4) | ORG[0,1) PER[2,3); pred: PER[0,2) ORG[3,4) | ORG[0,1) -> strict micro F1 4/7
MIXED_GOLD = [["B-PER", "I-PER", "O", "B-LOC", "O"], ["B-ORG", "O", "B-PER"]]
MIXED_PRED = [["B-PER", "I-PER", "O", "B-ORG", "O"], ["B-ORG", "O", "O"]]


def _coin_documents(n_right: int, n_wrong: int) -> tuple[list[list[str]], list[list[str]]]:
    """One PER per document; the model gets it right in ``n_right`` documents and calls it LOC in the
    rest, so micro F1 = (documents right) / (documents)."""
    gold = [["B-PER", "O"]] * (n_right + n_wrong)
    pred = [["B-PER", "O"]] * n_right + [["B-LOC", "O"]] * n_wrong
    return gold, pred


def test_the_point_estimate_is_seqevals_strict_micro_f1_exactly():
    gold, pred = MIXED_GOLD * 3, MIXED_PRED * 3
    result = bootstrap_f1(gold, pred, doc_ids=[0, 0, 1, 1, 2, 2], replicates=50)
    assert result.micro.point == evaluate(gold, pred).strict.micro.f1


def test_the_per_type_points_are_seqevals_strict_per_type_f1_exactly():
    gold, pred = MIXED_GOLD * 3, MIXED_PRED * 3
    result = bootstrap_f1(gold, pred, doc_ids=[0, 0, 1, 1, 2, 2], replicates=50)
    strict = evaluate(gold, pred).strict.per_type
    assert {t: i.point for t, i in result.per_type.items()} == {t: s.f1 for t, s in strict.items()}


def test_a_type_strict_iob2_never_sees_gets_a_zero_row():
    # I-ORG opens no entity in strict IOB2: ORG has a row (as in Scores.per_type), all zeros.
    result = bootstrap_f1([["B-PER", "I-ORG"]], [["B-PER", "I-ORG"]], replicates=10)
    assert result.per_type["ORG"] == Interval(0.0, 0.0, 0.0)


def test_identical_documents_give_a_zero_width_interval():
    # Every document: PER right, LOC called ORG -> tp 1, pred 2, gold 2 in each, F1 0.5 in every replicate.
    gold, pred = [MIXED_GOLD[0]] * 20, [MIXED_PRED[0]] * 20
    result = bootstrap_f1(gold, pred, doc_ids=list(range(20)))
    assert result.micro == Interval(0.5, 0.5, 0.5)


def test_documents_right_by_a_fair_coin_give_the_binomial_interval():
    # F1 = k/100 with k ~ Binomial(100, 1/2) under resampling: 0.5 +- 1.96 * 0.05.
    gold, pred = _coin_documents(50, 50)
    result = bootstrap_f1(gold, pred, doc_ids=list(range(100)))
    assert result.micro.point == 0.5
    assert result.micro.low == pytest.approx(0.402, abs=0.02)
    assert result.micro.high == pytest.approx(0.598, abs=0.02)


def test_whole_documents_are_resampled_not_sentences():
    # Each document holds one right and one wrong sentence: every document resample scores 0.5, while
    # resampling the sentences themselves would not.
    gold, pred = _coin_documents(1, 1)
    gold, pred = gold * 30, pred * 30
    by_document = bootstrap_f1(gold, pred, doc_ids=[i // 2 for i in range(60)])
    by_sentence = bootstrap_f1(gold, pred)
    assert (by_document.micro, by_document.unit, by_document.n_units) == (Interval(0.5, 0.5, 0.5), "document", 30)
    assert by_sentence.unit == "sentence" and by_sentence.micro.high - by_sentence.micro.low > 0.1


def test_a_corpus_of_one_document_resamples_sentences():
    units, kind = resampling_units([0, 0, 0, 0], 4)
    assert (units.tolist(), kind) == ([0, 1, 2, 3], "sentence")


def test_documents_are_numbered_in_order_of_appearance():
    units, kind = resampling_units([7, 7, 3, 3, 5], 5)
    assert (units.tolist(), kind) == ([0, 0, 1, 1, 2], "document")


def test_the_same_seed_gives_the_same_interval_and_another_seed_another():
    gold, pred = _coin_documents(30, 20)
    first, again = (bootstrap_f1(gold, pred, doc_ids=list(range(50)), seed=3) for _ in range(2))
    other = bootstrap_f1(gold, pred, doc_ids=list(range(50)), seed=4)
    assert first == again and other.micro != first.micro


def test_describe_says_how_many_resamples_of_what():
    gold, pred = _coin_documents(3, 1)
    assert bootstrap_f1(gold, pred, doc_ids=[0, 1, 2, 3]).describe() == "1,000 document resamples"


def test_zero_replicates_are_refused():
    with pytest.raises(ValueError, match="replicates must be at least 1, got 0"):
        bootstrap_f1(MIXED_GOLD, MIXED_PRED, replicates=0)


def test_doc_ids_of_the_wrong_length_are_refused():
    with pytest.raises(ValueError, match="doc_ids has 1 entries but there are 2 sentences"):
        bootstrap_f1(MIXED_GOLD, MIXED_PRED, doc_ids=[0])


def test_no_sentences_give_zero_scores():
    result = bootstrap_f1([], [])
    assert (result.micro, result.per_type, result.n_units) == (Interval(0.0, 0.0, 0.0), {}, 0)


def test_counts_per_sentence_and_type():
    counts = entity_counts(MIXED_GOLD, MIXED_PRED)
    # columns: (tp, predicted, gold) for LOC, ORG, PER
    assert counts.types == ("LOC", "ORG", "PER")
    assert counts.counts.tolist() == [[[0, 0, 1], [0, 1, 0], [1, 1, 1]], [[0, 0, 0], [1, 1, 1], [0, 0, 1]]]


def test_f1_is_zero_where_undefined():
    assert f1_scores([0, 0, 1], [0, 1, 1], [0, 0, 1]).tolist() == [0.0, 0.0, 1.0]

"""ner_demo.evaluation.significance: the paired bootstrap on models whose difference is known, and the
list of sentences where two models disagree."""

from __future__ import annotations

import pytest

from ner_demo.evaluation.significance import disagreements, paired_bootstrap, two_sided_p
from ner_demo.spans import WordSpan


def _documents(n: int, wrong: set[int]) -> list[list[str]]:
    """One PER per document, called LOC in the documents of ``wrong``."""
    return [["B-LOC", "O"] if i in wrong else ["B-PER", "O"] for i in range(n)]


GOLD = _documents(50, set())


def test_identical_models_have_p_one_and_no_difference():
    pred = _documents(50, {1, 5, 9})
    test = paired_bootstrap(GOLD, pred, pred, doc_ids=list(range(50)))
    assert (test.micro.diff, test.micro.low, test.micro.high, test.micro.p_value) == (0.0, 0.0, 0.0, 1.0)
    assert {t: d.p_value for t, d in test.per_type.items()} == {"LOC": 1.0, "PER": 1.0}


def test_identical_models_have_no_disagreements():
    pred = _documents(50, {1, 5, 9})
    assert disagreements(GOLD, pred, pred) == []


def test_b_better_on_many_documents_has_the_smallest_p_value():
    # A is wrong on 20 of 50 documents, B on none: B - A > 0 in every replicate (unless all 50 draws miss
    # those 20 documents, chance 0.6 ** 50), so p = 2 * (0 + 1) / (1000 + 1).
    a = _documents(50, set(range(20)))
    test = paired_bootstrap(GOLD, a, GOLD, doc_ids=list(range(50)))
    assert (test.micro.a, test.micro.b) == (0.6, 1.0)
    assert test.micro.diff == pytest.approx(0.4)
    assert test.micro.p_value == pytest.approx(2 / 1001)


def test_the_interval_of_a_fixed_share_of_differing_documents_is_binomial():
    # B - A = share of the 20-in-50 documents in a resample: 0.4 +- 1.96 * sqrt(0.4 * 0.6 / 50).
    a = _documents(50, set(range(20)))
    test = paired_bootstrap(GOLD, a, GOLD, doc_ids=list(range(50)))
    assert test.micro.low == pytest.approx(0.264, abs=0.03)
    assert test.micro.high == pytest.approx(0.536, abs=0.03)


def test_a_worse_b_gives_a_negative_difference_and_a_small_p_value():
    b = _documents(50, set(range(20)))
    test = paired_bootstrap(GOLD, GOLD, b, doc_ids=list(range(50)))
    assert test.micro.diff == pytest.approx(-0.4) and test.micro.p_value == pytest.approx(2 / 1001)


def test_a_difference_on_two_of_fifty_documents_is_not_significant():
    a = _documents(50, {0, 1})
    b = _documents(50, {2, 3, 4})
    assert paired_bootstrap(GOLD, a, b, doc_ids=list(range(50))).micro.p_value > 0.5


def test_a_type_only_one_model_predicts_gets_a_row():
    a = _documents(4, set())
    b = [["B-PER", "B-ORG"]] + a[1:]
    test = paired_bootstrap(a, a, b, doc_ids=[0, 1, 2, 3], replicates=20)
    assert sorted(test.per_type) == ["ORG", "PER"] and (test.per_type["ORG"].a, test.per_type["ORG"].b) == (0.0, 0.0)


def test_two_sided_p_counts_the_observed_sample_on_both_sides():
    assert two_sided_p([0.1, -0.1, 0.2, 0.3]) == 0.8  # 2 * min(1 + 1, 3 + 1) / 5


def test_each_disagreement_says_which_model_matches_the_gold():
    gold = [["B-PER"], ["B-PER"], ["B-PER"], ["B-PER"]]
    a = [["B-PER"], ["O"], ["B-LOC"], ["B-PER"]]
    b = [["O"], ["B-PER"], ["B-ORG"], ["B-PER"]]
    assert [(d.sentence, d.closer) for d in disagreements(gold, a, b)] == [(0, "A"), (1, "B"), (2, "neither")]


def test_a_disagreement_holds_both_models_entities_and_the_words():
    found = disagreements([["B-PER", "I-PER"]], [["B-PER", "O"]], [["B-PER", "I-PER"]], [["Ann", "Lee"]])
    assert found[0].to_dict() == {
        "sentence": 0, "closer": "B", "words": ["Ann", "Lee"],
        "gold": [{"label": "PER", "start": 0, "end": 2, "text": "Ann Lee"}],
        "a": [{"label": "PER", "start": 0, "end": 1, "text": "Ann"}],
        "b": [{"label": "PER", "start": 0, "end": 2, "text": "Ann Lee"}],
    }
    assert found[0].a == (WordSpan("PER", 0, 1),)


def test_tags_that_change_no_strict_entity_are_no_disagreement():
    # A stray I-LOC opens no entity in strict IOB2: both models have the same strict entities.
    assert disagreements([["B-PER", "O"]], [["B-PER", "O"]], [["B-PER", "I-LOC"]]) == []


def test_misaligned_predictions_are_refused():
    with pytest.raises(ValueError, match="gold has 1 sentences but pred has 2"):
        paired_bootstrap([["O"]], [["O"]], [["O"], ["O"]])

"""Golden tests for ner_demo.evaluation.metrics: literal numbers, worked out by hand in comments."""

from __future__ import annotations

import json
import math

import pytest

from ner_demo.errors import TagSchemeError
from ner_demo.evaluation import TypeScore, evaluate, format_report

# The seqeval README example: MISC is predicted one word too early, PER is right.
README_GOLD = [["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]]
README_PRED = [["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]]

# gold: PER[0,2) LOC[3,4) | ORG[0,1) PER[2,3)  -> 4 entities
# pred: PER[0,2) ORG[3,4) | ORG[0,1)           -> 3 entities, 2 correct (PER, ORG)
MIXED_GOLD = [["B-PER", "I-PER", "O", "B-LOC", "O"], ["B-ORG", "O", "B-PER"]]
MIXED_PRED = [["B-PER", "I-PER", "O", "B-ORG", "O"], ["B-ORG", "O", "O"]]

# IOB1-style predictions: PER and ORG open with I-. conlleval accepts them as entities; strict IOB2
# does not (only B- starts an entity), so strict finds only LOC.
IOB1_GOLD = [["B-PER", "I-PER", "O", "B-LOC", "O", "B-ORG"]]
IOB1_PRED = [["I-PER", "I-PER", "O", "B-LOC", "O", "I-ORG"]]


def test_readme_example_strict_per_type():
    result = evaluate(README_GOLD, README_PRED)
    assert result.strict.per_type == {
        "MISC": TypeScore(0.0, 0.0, 0.0, 1),
        "PER": TypeScore(1.0, 1.0, 1.0, 1),
    }


def test_readme_example_strict_micro_and_macro():
    # micro: tp 1 of 2 predicted, 2 gold -> 0.5 / 0.5 / 0.5; macro: mean of MISC 0 and PER 1.
    result = evaluate(README_GOLD, README_PRED)
    assert result.strict.micro == TypeScore(0.5, 0.5, 0.5, 2)
    assert result.strict.macro == TypeScore(0.5, 0.5, 0.5, 2)


def test_readme_example_conlleval_matches_strict_on_valid_iob2():
    result = evaluate(README_GOLD, README_PRED)
    assert result.conlleval.micro == TypeScore(0.5, 0.5, 0.5, 2)
    assert result.conlleval.per_type == result.strict.per_type


def test_readme_example_token_accuracy():
    # 10 tokens; words 2 (O vs B-MISC) and 3 (B-MISC vs I-MISC) of sentence 0 differ -> 8/10.
    result = evaluate(README_GOLD, README_PRED)
    assert result.token_accuracy == 0.8
    assert (result.n_sentences, result.n_tokens) == (2, 10)


def test_mixed_micro_scores():
    # tp 2, predicted 3, gold 4: P = 2/3, R = 1/2, F1 = 2PR/(P+R) = (2/3)/(7/6) = 4/7.
    micro = evaluate(MIXED_GOLD, MIXED_PRED).strict.micro
    assert micro.precision == pytest.approx(2 / 3)
    assert micro.recall == 0.5
    assert micro.f1 == pytest.approx(4 / 7)
    assert micro.support == 4


def test_mixed_per_type_scores():
    # LOC: 0 predicted, 1 gold. ORG: 1 of 2 predicted right, 1 gold -> F1 = 2*.5*1/1.5 = 2/3.
    # PER: 1 predicted and right, 2 gold -> F1 = 2*1*.5/1.5 = 2/3.
    per_type = evaluate(MIXED_GOLD, MIXED_PRED).strict.per_type
    assert list(per_type) == ["LOC", "ORG", "PER"]
    assert per_type["LOC"] == TypeScore(0.0, 0.0, 0.0, 1)
    assert per_type["ORG"] == TypeScore(0.5, 1.0, pytest.approx(2 / 3), 1)
    assert per_type["PER"] == TypeScore(1.0, 0.5, pytest.approx(2 / 3), 2)


def test_mixed_macro_and_weighted_scores():
    # macro: P (0 + .5 + 1)/3 = .5, R (0 + 1 + .5)/3 = .5, F1 (0 + 2/3 + 2/3)/3 = 4/9.
    # weighted by gold support 1, 1, 2: P (0 + .5 + 2)/4 = .625.
    strict = evaluate(MIXED_GOLD, MIXED_PRED).strict
    assert strict.macro == TypeScore(0.5, 0.5, pytest.approx(4 / 9), 4)
    assert strict.weighted.precision == 0.625


def test_iob1_predictions_strict_drops_entities_opened_with_i():
    # strict: only LOC is an entity in pred -> P = 1/1, R = 1/3, F1 = 2*(1/3)/(4/3) = 0.5.
    micro = evaluate(IOB1_GOLD, IOB1_PRED).strict.micro
    assert micro.precision == 1.0
    assert micro.recall == pytest.approx(1 / 3)
    assert micro.f1 == pytest.approx(0.5)


def test_iob1_predictions_conlleval_accepts_entities_opened_with_i():
    # conlleval: I-PER I-PER is PER[0,2), I-ORG is ORG[5,6): all 3 right.
    result = evaluate(IOB1_GOLD, IOB1_PRED)
    assert result.conlleval.micro == TypeScore(1.0, 1.0, 1.0, 3)
    assert result.strict.per_type["PER"] == TypeScore(0.0, 0.0, 0.0, 1)


def test_type_only_in_predictions_is_listed_with_zero_support():
    result = evaluate([["B-LOC", "O"]], [["B-LOC", "B-PER"]])
    assert result.strict.per_type["PER"] == TypeScore(0.0, 0.0, 0.0, 0)
    assert result.strict.micro.precision == 0.5


def test_strict_gets_zero_row_for_type_seen_only_as_stray_i():
    # I-PER after B-LOC is an entity for conlleval only; strict still lists PER, all zeros, and its
    # macro (seqeval's) averages over LOC alone.
    result = evaluate([["B-LOC", "O"]], [["B-LOC", "I-PER"]])
    assert list(result.strict.per_type) == ["LOC", "PER"]
    assert result.strict.per_type["PER"] == TypeScore(0.0, 0.0, 0.0, 0)
    assert result.strict.macro == TypeScore(1.0, 1.0, 1.0, 1)


def test_no_sentences_gives_zero_scores():
    result = evaluate([], [])
    assert result.strict.micro == TypeScore(0.0, 0.0, 0.0, 0)
    assert result.conlleval.macro == TypeScore(0.0, 0.0, 0.0, 0)
    assert result.strict.per_type == {}
    assert (result.token_accuracy, result.n_sentences, result.n_tokens) == (0.0, 0, 0)


def test_no_entities_gives_zero_scores_not_nan():
    result = evaluate([["O", "O"], []], [["O", "O"], []])
    assert result.strict.macro == TypeScore(0.0, 0.0, 0.0, 0)
    assert not math.isnan(result.conlleval.micro.f1)
    assert result.token_accuracy == 1.0


def test_tuples_are_accepted():
    result = evaluate((("B-PER", "O"),), (("B-PER", "O"),))
    assert result.strict.micro.f1 == 1.0


def test_tag_count_mismatch_names_sentence_and_lengths():
    with pytest.raises(ValueError, match=r"^sentence 1: gold has 3 tags but pred has 2$"):
        evaluate([["O"], ["O", "O", "O"]], [["O"], ["O", "O"]])


def test_sentence_count_mismatch_is_refused():
    with pytest.raises(ValueError, match=r"^gold has 2 sentences but pred has 1$"):
        evaluate([["O"], ["O"]], [["O"]])


def test_bioes_tag_is_refused_with_its_position():
    with pytest.raises(TagSchemeError, match=r"sentence 0, word 1: pred tag 'S-PER' is not O, B-X or I-X"):
        evaluate([["O", "B-PER"]], [["O", "S-PER"]])


def test_to_dict_is_json_serialisable():
    data = json.loads(json.dumps(evaluate(README_GOLD, README_PRED).to_dict()))
    assert data["strict"]["micro"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert data["error_counts"] == {
        "false_positive": 0,
        "false_negative": 0,
        "wrong_type": 0,
        "wrong_boundary": 1,
        "wrong_type_and_boundary": 0,
    }


def test_format_report_readme_example():
    expected = "\n".join(
        [
            "           strict IOB2 (headline)       conlleval",
            "type            P      R     F1      N       P      R     F1      N",
            "MISC       0.0000 0.0000 0.0000      1  0.0000 0.0000 0.0000      1",
            "PER        1.0000 1.0000 1.0000      1  1.0000 1.0000 1.0000      1",
            "",
            "micro avg  0.5000 0.5000 0.5000      2  0.5000 0.5000 0.5000      2",
            "macro avg  0.5000 0.5000 0.5000      2  0.5000 0.5000 0.5000      2",
            "",
            "token accuracy (incl. O): 0.8000 (10 tokens, 2 sentences)",
        ]
    )
    assert format_report(evaluate(README_GOLD, README_PRED)) == expected

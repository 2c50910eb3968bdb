"""ner_demo.evaluation.schemes: seqeval strict, conlleval and the four SemEval-2013 schemes of nervaluate
on one tiny case where they all differ, and the entities each pair counts differently."""

from __future__ import annotations

import pytest

from ner_demo.evaluation import evaluate
from ner_demo.evaluation.schemes import SCHEMES, scheme_differences, scheme_scores

# sentence 0: "Ann Lee in Rome": PER predicted one word short (a boundary error), LOC called ORG (a type error)
# sentence 1: "Acme Corp": ORG predicted as I-ORG I-ORG (no B-): conlleval's chunking takes it, strict IOB2 does not
WORDS = [["Ann", "Lee", "in", "Rome"], ["Acme", "Corp"]]
GOLD = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "I-ORG"]]
PRED = [["B-PER", "O", "O", "B-ORG"], ["I-ORG", "I-ORG"]]


def _by_name():
    return {s.scheme: s for s in scheme_scores(GOLD, PRED)}


def test_the_schemes_come_in_order():
    assert [s.scheme for s in scheme_scores(GOLD, PRED)] == list(SCHEMES)


def test_f1_under_each_scheme():
    # seqeval strict: 0 of 2 predictions right, 3 gold -> 0. conlleval: the ORG of sentence 1 is right -> 1/3.
    # semeval strict: 1 correct, 2 incorrect -> 1/3; exact (type ignored): Rome's span is right -> 2/3;
    # partial: 2 correct + 1 partial (half credit) of 3 -> 2.5/3; ent_type (overlap, same type): PER counts -> 2/3.
    f1 = {name: s.f1 for name, s in _by_name().items()}
    assert f1 == {"seqeval strict": 0.0, "conlleval": pytest.approx(1 / 3), "semeval strict": pytest.approx(1 / 3),
                  "semeval exact": pytest.approx(2 / 3), "semeval partial": pytest.approx(2.5 / 3),
                  "semeval ent_type": pytest.approx(2 / 3)}


def test_the_seqeval_rows_are_the_evaluation_results_micro_scores():
    result = evaluate(GOLD, PRED)
    rows = _by_name()
    assert (rows["seqeval strict"].f1, rows["conlleval"].precision) == (result.strict.micro.f1,
                                                                        result.conlleval.micro.precision)


def test_counts_of_seqeval_and_semeval_strict():
    rows = _by_name()
    strict, semeval = rows["seqeval strict"], rows["semeval strict"]
    assert (strict.correct, strict.incorrect, strict.partial, strict.missed, strict.spurious) == (0, 0, 0, 3, 2)
    assert (semeval.correct, semeval.incorrect, semeval.partial, semeval.missed, semeval.spurious) == (1, 2, 0, 0, 0)


def test_a_run_opening_with_i_is_an_entity_for_conlleval_only():
    diffs = scheme_differences(GOLD, PRED, WORDS, pairs=[("seqeval strict", "conlleval")])
    assert [(d.sentence, d.side, d.label, d.start, d.end, d.text, d.outcome_a, d.outcome_b) for d in diffs] == [
        (1, "gold", "ORG", 0, 2, "Acme Corp", "missed", "found"),
        (1, "pred", "ORG", 0, 2, "Acme Corp", "not an entity", "correct"),
    ]


def test_a_type_error_on_the_right_span_is_correct_for_exact_only():
    diffs = scheme_differences(GOLD, PRED, WORDS, pairs=[("semeval strict", "semeval exact")])
    assert [(d.side, d.text, d.outcome_a, d.outcome_b) for d in diffs] == [("pred", "Rome", "incorrect", "correct")]


def test_a_boundary_error_is_a_partial_match_for_partial():
    diffs = scheme_differences(GOLD, PRED, WORDS, pairs=[("semeval exact", "semeval partial")])
    assert [(d.side, d.text, d.outcome_a, d.outcome_b) for d in diffs] == [("pred", "Ann", "incorrect", "partial")]


def test_seqeval_counts_a_near_miss_twice_where_semeval_counts_it_once():
    diffs = scheme_differences(GOLD, PRED, WORDS, pairs=[("seqeval strict", "semeval strict")])
    sentence_0 = [(d.side, d.text, d.outcome_a, d.outcome_b) for d in diffs if d.sentence == 0]
    assert sentence_0 == [("gold", "Ann Lee", "missed", "found"), ("pred", "Ann", "spurious", "incorrect"),
                          ("gold", "Rome", "missed", "found"), ("pred", "Rome", "spurious", "incorrect")]


def test_every_pair_is_compared_by_default():
    pairs = {(d.a, d.b) for d in scheme_differences(GOLD, PRED)}
    assert ("seqeval strict", "conlleval") in pairs and ("semeval partial", "semeval ent_type") in pairs


def test_agreeing_schemes_have_no_differences():
    gold = [["B-PER", "O"]]
    assert scheme_differences(gold, gold) == []


def test_an_unknown_scheme_is_named():
    with pytest.raises(ValueError, match="unknown scheme 'semeval lenient'"):
        scheme_differences(GOLD, PRED, pairs=[("conlleval", "semeval lenient")])


def test_sentences_without_entities_score_zero_everywhere():
    assert {s.f1 for s in scheme_scores([["O"], []], [["O"], []])} == {0.0}

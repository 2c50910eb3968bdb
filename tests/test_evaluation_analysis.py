"""ner_demo.evaluation.analysis: error categories and the entity confusion matrix."""

from __future__ import annotations

import pytest

from ner_demo.evaluation import ConfusionMatrix, EntityError, confusion_matrix, entity_errors, evaluate
from ner_demo.spans import WordSpan


def kinds(gold: list[str], pred: list[str]) -> list[tuple[str, WordSpan | None, WordSpan | None]]:
    return [(e.kind, e.gold, e.pred) for e in entity_errors([gold], [pred])]


def test_exact_match_is_not_an_error():
    assert kinds(["B-PER", "I-PER", "O"], ["B-PER", "I-PER", "O"]) == []


def test_same_span_other_type_is_wrong_type():
    assert kinds(["B-LOC", "O"], ["B-ORG", "O"]) == [("wrong_type", WordSpan("LOC", 0, 1), WordSpan("ORG", 0, 1))]


def test_overlap_same_type_is_wrong_boundary():
    assert kinds(["B-PER", "I-PER", "O"], ["O", "B-PER", "O"]) == [
        ("wrong_boundary", WordSpan("PER", 0, 2), WordSpan("PER", 1, 2))
    ]


def test_overlap_other_type_is_wrong_type_and_boundary():
    assert kinds(["B-ORG", "I-ORG", "I-ORG"], ["B-LOC", "I-LOC", "O"]) == [
        ("wrong_type_and_boundary", WordSpan("ORG", 0, 3), WordSpan("LOC", 0, 2))
    ]


def test_unmatched_gold_is_false_negative():
    assert kinds(["O", "B-MISC"], ["O", "O"]) == [("false_negative", WordSpan("MISC", 1, 2), None)]


def test_unmatched_prediction_is_false_positive():
    assert kinds(["O", "O"], ["O", "B-MISC"]) == [("false_positive", None, WordSpan("MISC", 1, 2))]


def test_same_type_overlap_wins_over_neighbour_of_other_type():
    # pred LOC[1,4) overlaps gold PER[0,2) and gold LOC[2,4): it is LOC's boundary error, PER is missed.
    assert kinds(["B-PER", "I-PER", "B-LOC", "I-LOC"], ["O", "B-LOC", "I-LOC", "I-LOC"]) == [
        ("false_negative", WordSpan("PER", 0, 2), None),
        ("wrong_boundary", WordSpan("LOC", 2, 4), WordSpan("LOC", 1, 4)),
    ]


def test_largest_overlap_is_paired_and_the_rest_is_false_positive():
    assert kinds(["B-PER", "I-PER", "I-PER", "I-PER"], ["B-PER", "O", "B-PER", "I-PER"]) == [
        ("wrong_boundary", WordSpan("PER", 0, 4), WordSpan("PER", 2, 4)),
        ("false_positive", None, WordSpan("PER", 0, 1)),
    ]


def test_stray_i_prediction_is_an_entity_as_in_conlleval():
    assert kinds(["B-PER", "I-PER"], ["I-PER", "I-PER"]) == []


def test_errors_carry_sentence_index_and_words():
    errors = entity_errors([["O"], ["B-LOC", "O"]], [["O"], ["B-ORG", "O"]], words=[["Hi"], ["Paris", "wins"]])
    assert errors == [
        EntityError("wrong_type", 1, WordSpan("LOC", 0, 1), WordSpan("ORG", 0, 1), ("Paris", "wins"))
    ]
    assert (errors[0].gold_text, errors[0].pred_text) == ("Paris", "Paris")


def test_error_to_dict():
    error = entity_errors([["B-PER", "I-PER"]], [["O", "O"]], words=[["Ada", "Lovelace"]])[0]
    assert error.to_dict() == {
        "kind": "false_negative",
        "sentence": 0,
        "gold": {"label": "PER", "start": 0, "end": 2, "text": "Ada Lovelace"},
        "pred": None,
        "words": ["Ada", "Lovelace"],
    }


def test_errors_without_words_have_no_text():
    error = entity_errors([["B-PER"]], [["O"]])[0]
    assert (error.words, error.gold_text) == (None, None)


def test_words_length_mismatch_names_sentence():
    with pytest.raises(ValueError, match=r"^sentence 0: words has 1 words but gold has 2 tags$"):
        entity_errors([["O", "O"]], [["O", "O"]], words=[["one"]])


def test_confusion_matrix_readme_example():
    # MISC predicted one word too early: gold MISC -> missed, predicted MISC -> spurious; PER exact.
    cm = confusion_matrix(
        [["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]],
        [["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]],
    )
    assert cm == ConfusionMatrix(["MISC", "PER"], [[0, 0, 1], [0, 1, 0], [1, 0, 0]])


def test_confusion_matrix_axes():
    cm = confusion_matrix([["B-LOC"]], [["B-ORG"]])
    assert (cm.row_labels, cm.column_labels) == (["LOC", "ORG", "spurious"], ["LOC", "ORG", "missed"])


def test_confusion_matrix_same_span_other_type_is_off_diagonal():
    # gold LOC at [0,1) predicted ORG: row LOC, column ORG.
    assert confusion_matrix([["B-LOC", "O"]], [["B-ORG", "O"]]).counts == [[0, 1, 0], [0, 0, 0], [0, 0, 0]]


def test_confusion_matrix_empty_input():
    cm = confusion_matrix([], [])
    assert (cm.labels, cm.counts) == ([], [[0]])


def test_evaluate_attaches_confusion_and_errors():
    result = evaluate([["B-LOC", "O"]], [["B-ORG", "B-PER"]], words=[["Rome", "fell"]])
    assert result.confusion.counts == [[0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0]]
    assert [e.kind for e in result.errors] == ["wrong_type", "false_positive"]

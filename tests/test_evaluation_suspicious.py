"""Suspicious gold: the three signals on tiny synthetic corpora with known answers, and the review list."""

import json

import numpy as np
import pytest

from ner_demo.evaluation.suspicious import (
    REVIEW_VERSION,
    class_thresholds,
    format_suspicious,
    off_diagonal,
    read_review_list,
    suspicious_gold,
    write_review_list,
)

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]


def rows(tags, confidence=0.96):
    """Word probabilities that put ``confidence`` on each tag and spread the rest evenly."""
    out = np.full((len(tags), len(LABELS)), (1 - confidence) / (len(LABELS) - 1))
    for k, tag in enumerate(tags):
        out[k, LABELS.index(tag)] = confidence
    return out


def chicago_corpus():
    words = [["Chicago", "won", "."]] * 20 + [["Chicago", "lost", "."]] + [["Smith", "spoke"]] * 3 + [["Smith", "ran"]]
    gold = ([["B-LOC", "O", "O"]] * 20 + [["B-ORG", "O", "O"]] + [["B-PER", "O"]] * 3 + [["B-LOC", "O"]])
    return words, gold


def test_a_planted_inconsistent_label_ranks_first():
    words, gold = chicago_corpus()
    items = suspicious_gold(words, gold)
    first = items[0]
    assert (first.sentence, first.span_text, first.gold_label, first.suggested_label) == (20, "Chicago", "ORG", "LOC")
    assert first.signals == {"inconsistent": pytest.approx(20 / 21)}


def test_inconsistency_is_valued_at_the_majority_share():
    words, gold = chicago_corpus()
    assert [(i.sentence, round(i.score, 4)) for i in suspicious_gold(words, gold)] == [(20, 0.9524), (24, 0.75)]


def test_a_majority_label_is_not_suspicious():
    words, gold = chicago_corpus()
    assert all(i.gold_label != "LOC" or i.span_text != "Chicago" for i in suspicious_gold(words, gold))


def test_a_tie_has_no_minority():
    words = [["Jordan", "x"]] * 4
    gold = [["B-PER", "O"]] * 2 + [["B-LOC", "O"]] * 2
    assert suspicious_gold(words, gold) == []


def test_too_few_occurrences_fire_nothing():
    assert suspicious_gold([["Ann"], ["Ann"]], [["B-PER"], ["B-LOC"]]) == []


def test_an_unlabelled_occurrence_of_an_entity_string_is_a_missing_annotation():
    words = [["in", "Paris"]] * 5
    gold = [["O", "B-LOC"]] * 4 + [["O", "O"]]
    [item] = suspicious_gold(words, gold)
    assert (item.sentence, item.span_text, item.gold_label, item.suggested_label, item.score) == (4, "Paris", None, "LOC", 0.8)


def test_an_entity_whose_string_is_mostly_not_an_entity_fires_nothing():
    words = [["in", "May"]] * 5
    gold = [["O", "O"]] * 4 + [["O", "B-PER"]]
    assert suspicious_gold(words, gold) == []


def test_the_model_confidently_giving_another_type_fires():
    words = [["Ann", "sings"], ["Bob", "sings"]]
    gold = [["B-LOC", "O"], ["B-PER", "O"]]
    probs = [rows(["B-PER", "O"], 0.9), rows(["B-PER", "O"])]
    [item] = suspicious_gold(words, gold, probs=probs, labels=LABELS)
    assert (item.sentence, item.gold_label, item.suggested_label) == (0, "LOC", "PER")
    assert item.signals["model"] == pytest.approx(0.9 + 0.1 / 6)  # B-PER plus I-PER


def test_a_hesitant_model_fires_nothing():
    words = [["Ann", "sings"]]
    probs = [np.array([[0.05, 0.5, 0.0, 0.45, 0.0, 0.0, 0.0], [1.0, 0, 0, 0, 0, 0, 0]])]
    items = suspicious_gold(words, [["B-LOC", "O"]], probs=probs, labels=LABELS)
    assert [i for i in items if "model" in i.signals] == []


def test_a_confident_miss_suggests_removing_the_gold_entity():
    words = [["the", "Red", "car"], ["Ann", "ran"]]
    gold = [["O", "B-ORG", "O"], ["B-PER", "O"]]
    probs = [rows(["O", "O", "O"], 0.93), rows(["B-PER", "O"])]
    [item] = suspicious_gold(words, gold, probs=probs, labels=LABELS)
    assert (item.span_text, item.gold_label, item.suggested_label) == ("Red", "ORG", None)
    assert item.signals["model"] == pytest.approx(0.93)


def test_a_confident_addition_is_an_entity_gold_lacks():
    words = [["visit", "Rome", "now"], ["Ann", "ran"]]
    gold = [["O", "O", "O"], ["B-PER", "O"]]
    probs = [rows(["O", "B-LOC", "O"], 0.95), rows(["B-PER", "O"])]
    [item] = suspicious_gold(words, gold, probs=probs, labels=LABELS)
    assert (item.start, item.end, item.span_text, item.gold_label, item.suggested_label) == (6, 10, "Rome", None, "LOC")


def test_a_boundary_disagreement_suggests_the_model_span():
    words = [["New", "York", "Times", "said"]]
    gold = [["B-ORG", "I-ORG", "O", "O"]]
    probs = [rows(["B-ORG", "I-ORG", "I-ORG", "O"], 0.9)]
    [item] = suspicious_gold(words, gold, probs=probs, labels=LABELS)
    assert (item.span_text, item.suggested_label, item.text[item.suggested_start:item.suggested_end]) == \
        ("New York", "ORG", "New York Times")


def test_class_thresholds_are_the_mean_probability_of_each_given_class():
    probs = np.array([[0.9, 0.1], [0.5, 0.5], [0.3, 0.7]])
    assert class_thresholds(probs, np.array([0, 0, 1]), 2).tolist() == [0.7, 0.7]


def test_a_class_nobody_is_given_has_an_unreachable_threshold():
    assert class_thresholds(np.array([[0.6, 0.4]]), np.array([0]), 2).tolist() == [0.6, 1.0]


def test_off_diagonal_needs_the_other_class_at_its_threshold():
    probs = np.array([[0.35, 0.65], [0.75, 0.25]])
    assert off_diagonal(probs, np.array([0, 1]), np.array([0.8, 0.6])).tolist() == [True, False]


def test_confident_learning_fires_where_self_confidence_is_below_the_other_class_threshold():
    # Ten PER names the model is sure of; one gold PER it gives 0.3 PER and 0.7 LOC: below the decisive
    # 0.8 of the model signal, but LOC's threshold (the mean LOC probability of LOC words, 0.6) is met.
    words = [["Ann"]] * 10 + [["Lyon"]] * 2 + [["Bree"]]
    gold = [["B-PER"]] * 10 + [["B-LOC"]] * 2 + [["B-PER"]]
    probs = [rows(["B-PER"], 0.97)] * 10 + [rows(["B-LOC"], 0.6)] * 2
    probs.append(np.array([[0.0, 0.3, 0.0, 0.7, 0.0, 0.0, 0.0]]))
    pred = [["B-PER"]] * 10 + [["B-LOC"]] * 3
    [item] = suspicious_gold(words, gold, probs=probs, labels=LABELS, pred=pred, min_confidence=0.8)
    assert (item.sentence, item.suggested_label) == (12, "LOC")
    assert item.signals == {"confident_learning": pytest.approx(0.7)}


def test_signals_combine_as_a_noisy_or_with_the_corpus():
    words, gold = chicago_corpus()
    probs = [rows(["B-LOC", "O", "O"])] * 21 + [rows(["B-PER", "O"])] * 3 + [rows(["B-PER", "O"], 0.82)]
    items = suspicious_gold(words, gold, probs=probs, labels=LABELS)
    smith = next(i for i in items if i.sentence == 24)
    model = 0.82 + 0.18 / 6
    assert smith.score == pytest.approx(1 - (1 - max(model, smith.signals["confident_learning"])) * (1 - 0.75))
    assert items[0].sentence == 20  # every signal fires on the planted ORG


def test_items_carry_the_sentence_and_its_gold_entities_in_characters():
    words, gold = chicago_corpus()
    item = suspicious_gold(words, gold, doc_ids=list(range(25)))[0]
    assert (item.text, item.doc_id, item.start, item.end, item.gold) == (
        "Chicago lost .", 20, 0, 7, ({"label": "ORG", "start": 0, "end": 7},))


def test_probs_without_labels_are_refused():
    with pytest.raises(ValueError, match="probs and labels go together"):
        suspicious_gold([["a"]], [["O"]], probs=[rows(["O"])])


def test_the_review_list_is_jsonl_with_a_version_and_a_rank(tmp_path):
    words, gold = chicago_corpus()
    path = tmp_path / "review.jsonl"
    assert write_review_list(suspicious_gold(words, gold), path) == 2
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert (first["version"], first["kind"], first["rank"], first["span_text"], first["gold_label"],
            first["suggested_label"]) == (REVIEW_VERSION, "suspicious_gold", 1, "Chicago", "ORG", "LOC")


def test_the_review_list_reads_back(tmp_path):
    words, gold = chicago_corpus()
    items = suspicious_gold(words, gold)
    path = tmp_path / "review.jsonl"
    write_review_list(items, path)
    assert read_review_list(path) == [it.to_dict(rank=n) for n, it in enumerate(items, start=1)]


def test_a_review_list_of_another_version_is_refused_by_line(tmp_path):
    path = tmp_path / "review.jsonl"
    path.write_text(json.dumps({"kind": "suspicious_gold", "version": 99, "text": "a", "start": 0, "end": 1}) + "\n")
    with pytest.raises(ValueError, match="review.jsonl, line 1: review list version 99"):
        read_review_list(path)


def test_a_review_item_whose_span_leaves_the_text_is_refused(tmp_path):
    path = tmp_path / "review.jsonl"
    path.write_text(json.dumps({"kind": "suspicious_gold", "version": 1, "text": "ab", "start": 1, "end": 5}) + "\n")
    with pytest.raises(ValueError, match=r"line 1: span \[1, 5\) is not inside the text"):
        read_review_list(path)


def test_the_printed_top_names_span_labels_and_signals():
    words, gold = chicago_corpus()
    assert format_suspicious(suspicious_gold(words, gold), top=1) == (
        "suspicious gold: 2 items, top 1:\n"
        "    1. 0.952  sentence 20  'Chicago'  gold ORG -> LOC  (inconsistent 0.95)")


def test_a_gold_type_the_model_does_not_know_gets_no_model_signal():
    words = [["Euro", "rose"]]
    items = suspicious_gold(words, [["B-MISC", "O"]], probs=[rows(["O", "O"])], labels=LABELS)
    assert items == []


def test_an_empty_corpus_has_nothing_suspicious():
    assert suspicious_gold([], [], probs=[], labels=LABELS) == []


def test_a_sentence_without_words_is_skipped():
    words, gold = chicago_corpus()
    probs = [rows(t) for t in gold] + [np.zeros((0, len(LABELS)))]
    items = suspicious_gold([*words, []], [*gold, []], probs=probs, labels=LABELS)
    assert items[0].sentence == 20


def test_a_review_list_that_is_not_utf8_is_refused_by_name(tmp_path):
    path = tmp_path / "review.jsonl"
    path.write_bytes(b'{"kind": "suspicious_gold"}\xff\xfe\n')
    with pytest.raises(ValueError, match="review.jsonl: not UTF-8 text"):
        read_review_list(path)


def test_a_review_line_that_is_not_an_item_is_refused(tmp_path):
    path = tmp_path / "review.jsonl"
    path.write_text('[1, 2]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="review.jsonl, line 1: not a suspicious-gold item"):
        read_review_list(path)


def test_a_boolean_offset_is_not_an_offset(tmp_path):
    path = tmp_path / "review.jsonl"
    path.write_text(json.dumps({"kind": "suspicious_gold", "version": 1, "text": "ab", "start": False, "end": True}) + "\n")
    with pytest.raises(ValueError, match=r"span \[False, True\) is not inside the text"):
        read_review_list(path)

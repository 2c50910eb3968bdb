"""ner_demo.plots.evaluation: figures carry the result's numbers, and empty input still draws."""

from __future__ import annotations

import pytest

from ner_demo.evaluation import evaluate
from ner_demo.plots.evaluation import compare_runs_bar, confusion_heatmap, per_type_bar

README = evaluate(
    [["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]],
    [["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]],
)
PERFECT = evaluate([["B-MISC", "O", "B-PER"]], [["B-MISC", "O", "B-PER"]])
EMPTY = evaluate([], [])


def test_per_type_bar_groups_precision_recall_f1():
    fig = per_type_bar(README)
    assert [t.name for t in fig.data] == ["Precision", "Recall", "F1"]
    assert fig.layout.barmode == "group"


def test_per_type_bar_values_per_type_then_micro():
    f1 = per_type_bar(README).data[2]
    assert list(f1.x) == ["MISC", "PER", "micro avg"]
    assert list(f1.y) == [0.0, 1.0, 0.5]


def test_per_type_bar_conlleval_mode_uses_conlleval_scores():
    iob1 = evaluate([["B-PER", "I-PER"]], [["I-PER", "I-PER"]])
    assert list(per_type_bar(iob1, mode="conlleval").data[2].y) == [1.0, 1.0]
    assert list(per_type_bar(iob1).data[2].y) == [0.0, 0.0]


def test_per_type_bar_empty_result_says_so():
    fig = per_type_bar(EMPTY)
    assert [a.text for a in fig.layout.annotations] == ["no entities in gold or predictions"]


def test_confusion_heatmap_axes_and_counts():
    heatmap = confusion_heatmap(README).data[0]
    assert list(heatmap.x) == ["MISC", "PER", "missed"]
    assert list(heatmap.y) == ["MISC", "PER", "spurious"]
    assert [list(row) for row in heatmap.z] == [[0, 0, 1], [0, 1, 0], [1, 0, 0]]


def test_confusion_heatmap_first_gold_type_on_top():
    assert confusion_heatmap(README).layout.yaxis.autorange == "reversed"


def test_confusion_heatmap_empty_result_draws():
    fig = confusion_heatmap(EMPTY)
    assert [list(row) for row in fig.data[0].z] == [[0]]


def test_compare_runs_bar_one_group_per_type():
    fig = compare_runs_bar({"base": README, "new": PERFECT})
    assert [t.name for t in fig.data] == ["base", "new"]
    assert list(fig.data[0].x) == ["MISC", "PER", "micro avg"]
    assert list(fig.data[1].y) == [1.0, 1.0, 1.0]


def test_compare_runs_bar_with_baseline_shows_deltas():
    # new - base: MISC 1 - 0, PER 1 - 1, micro 1 - 0.5.
    fig = compare_runs_bar({"base": README, "new": PERFECT}, baseline="base")
    assert [t.name for t in fig.data] == ["new"]
    assert list(fig.data[0].y) == [1.0, 0.0, 0.5]


def test_compare_runs_bar_type_missing_in_a_run_counts_as_zero():
    only_per = evaluate([["B-PER"]], [["B-PER"]])
    fig = compare_runs_bar({"a": only_per, "b": README})
    assert list(fig.data[0].y) == [0.0, 1.0, 1.0]


def test_compare_runs_bar_unknown_baseline_is_refused():
    with pytest.raises(ValueError, match=r"baseline 'gone' is not one of the runs: base"):
        compare_runs_bar({"base": README}, baseline="gone")


def test_compare_runs_bar_no_runs_says_so():
    fig = compare_runs_bar({})
    assert [a.text for a in fig.layout.annotations] == ["no runs to compare"]

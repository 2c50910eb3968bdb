"""The Evaluate tab's figures of calibration and of generalisation per type (ner_demo.plots)."""

from __future__ import annotations

from ner_demo.evaluation.calibration import reliability, scored_entities, threshold_curves
from ner_demo.evaluation.generalisation import seen_unseen
from ner_demo.plots.calibration import reliability_before_after, threshold_curves_figure
from ner_demo.plots.generalisation import bucket_type_bar


def test_the_reliability_diagram_draws_one_line_per_curve_with_its_ece():
    before = reliability([0.95, 0.95, 0.55, 0.55], [True, False, True, True])
    after = reliability([0.75, 0.75, 0.85, 0.85], [True, False, True, True])
    fig = reliability_before_after({"before": before, "after": after}, "dev")
    assert [t.name for t in fig.data] == ["perfectly calibrated", "before (ECE 0.4500)", "after (ECE 0.2000)"]
    assert list(fig.data[1].x) == [0.55, 0.95] and list(fig.data[1].y) == [1.0, 0.5]  # empty bins left out
    assert not fig.layout.annotations


def test_a_reliability_diagram_without_entities_says_so():
    fig = reliability_before_after({"before": reliability([], [])}, "dev")
    assert fig.layout.annotations[0].text == "no predicted entities"


def test_the_threshold_figure_marks_the_chosen_threshold_on_the_f1_curve():
    entities = scored_entities([["B-PER", "O"]], [["B-PER", "B-PER"]], [[0.9, 0.6]])
    curves = threshold_curves(entities, [["B-PER", "O"]], grid=[0.0, 0.7, 1.0])
    fig = threshold_curves_figure(curves, {"PER": 0.7})
    marker = [t for t in fig.data if t.name == "PER threshold 0.7000"][0]
    assert list(marker.x) == [0.7] and list(marker.y) == [1.0]
    assert [t.visible for t in fig.data if t.name in ("PER P", "PER R")] == ["legendonly", "legendonly"]


def test_buckets_per_type_leave_out_undefined_scores():
    table = seen_unseen([["B-LOC", "B-PER"]], [["B-LOC", "O"]], [["Paris", "Ann"]], {"Paris": frozenset({"LOC"})})
    fig = bucket_type_bar(table, "precision")
    unseen = [t for t in fig.data if t.name == "unseen"][0]
    assert list(unseen.x) == []  # nothing predicted unseen: no precision, not a bar at 0
    seen = [t for t in fig.data if t.name == "seen, same type"][0]
    assert list(seen.x) == ["all", "LOC"] and list(seen.y) == [1.0, 1.0]


def test_a_threshold_of_zero_is_not_marked():
    entities = scored_entities([["B-PER", "O"]], [["B-PER", "B-PER"]], [[0.9, 0.6]])
    fig = threshold_curves_figure(threshold_curves(entities, [["B-PER", "O"]], grid=[0.0, 1.0]), {"PER": 0.0})
    assert [t.name for t in fig.data] == ["PER F1", "PER P", "PER R"]

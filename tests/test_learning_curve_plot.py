"""The learning-curve figure: a micro line and one line per type over the finished runs' train sizes."""

from __future__ import annotations

from ner_demo.plots.training import learning_curve_figure, order_curves_figure


def _record(**changes) -> dict:
    points = [
        {"share": 0.5, "train_sentences": 10, "run_id": "a", "state": "finished", "dev_f1": 0.4,
         "per_type": {"LOC": 0.5, "PER": 0.3}},
        {"share": 1.0, "train_sentences": 20, "run_id": "b", "state": "finished", "dev_f1": 0.6,
         "per_type": {"LOC": 0.7, "PER": 0.5}},
    ]
    return {"curve_id": "c1", "shares": [0.5, 1.0], "types": ["LOC", "PER"], "points": points} | changes


def test_one_line_for_micro_and_one_per_type_over_the_train_sizes():
    fig = learning_curve_figure(_record())
    assert [(t.name, list(t.x), list(t.y)) for t in fig.data] == [
        ("micro F1", [10, 20], [0.4, 0.6]), ("LOC", [10, 20], [0.5, 0.7]), ("PER", [10, 20], [0.3, 0.5])]
    assert fig.layout.title.text == "learning curve c1: dev strict F1 by train size"
    assert fig.layout.xaxis.title.text == "train sentences" and tuple(fig.layout.yaxis.range) == (0, 1)


def test_a_run_without_a_score_is_left_out_and_the_title_counts_the_finished():
    record = _record()
    record["points"][1] = {**record["points"][1], "state": "running", "dev_f1": None, "per_type": {}}
    fig = learning_curve_figure(record)
    assert [list(t.x) for t in fig.data] == [[10], [10], [10]]
    assert fig.layout.title.text == "learning curve c1: dev strict F1 by train size (1 of 2 runs finished)"


def test_no_finished_run_says_so():
    fig = learning_curve_figure(_record(points=[], types=[]))
    assert [a.text for a in fig.layout.annotations] == ["no finished run yet"]
    assert learning_curve_figure(None).layout.annotations[0].text == "no finished run yet"


def test_order_curves_draw_one_line_per_order_sorted_by_sentences():
    points = [{"order": "uncertainty", "sentences": 100, "f1": 0.8}, {"order": "random", "sentences": 50, "f1": 0.1},
              {"order": "uncertainty", "sentences": 50, "f1": 0.5}, {"order": "random", "sentences": 100, "f1": None}]
    fig = order_curves_figure(points, title="NORP")
    assert [(t.name, list(t.x), list(t.y)) for t in fig.data] == [
        ("uncertainty", [50, 100], [0.5, 0.8]), ("random", [50], [0.1])]
    assert fig.layout.xaxis.title.text == "annotated sentences" and fig.layout.title.text == "NORP"

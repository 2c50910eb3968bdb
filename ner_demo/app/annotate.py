"""The Annotate tab: make training data. Datasets of texts in a database, a model's suggestions, a
keyboard-first span editor whose every decision is committed when it is made, queue orders, export and
review. The handlers are :mod:`ner_demo.app.annotate_actions` and, for the editor,
:mod:`ner_demo.app.annotate_editor` (its server functions); the editor's page code is
:mod:`ner_demo.app.annotate_js`, its HTML :mod:`ner_demo.app.annotate_format`.
"""

from __future__ import annotations

import gradio as gr

import ner_demo.app.annotate_actions as act
import ner_demo.app.annotate_editor as ed
import ner_demo.app.annotate_format as af
from ner_demo.annotation.formats import UPLOAD_SUFFIXES
from ner_demo.app.annotate_js import EDITOR_JS
from ner_demo.app.common import INFER, LIGHT, model_picker, picker_update, wire

ORDER_CHOICES = [
    ("in order", "order"),
    ("uncertainty: the lowest entity margin first", "margin"),
    ("uncertainty: the highest token entropy first", "entropy"),
    ("disagreement between two models", "disagreement"),
    ("a suspicious-gold review list (JSONL from the evaluation)", "suspicious"),
]


def _datasets_panel():
    with gr.Row():
        dataset = gr.Dropdown(choices=[], value=None, label="Dataset", elem_id="ann-dataset", scale=3)
        annotator = gr.Textbox(label="Annotator", value="", placeholder="your name", elem_id="ann-annotator",
                               info="Your decisions are stored under it (the login's user name when there is a login).",
                               scale=2)
        refresh = gr.Button("Refresh", size="sm", scale=0)
    db_line = gr.Markdown(elem_id="ann-db")
    table = gr.Dataframe(headers=af.DATASET_HEADERS, label="Datasets", interactive=False, max_height=240)
    return dataset, annotator, refresh, db_line, table


def build(demo: gr.Blocks) -> None:
    """The Annotate tab's layout and events, inside ``demo``."""
    with gr.Tab("Annotate", id="annotate") as tab:
        dataset, annotator, refresh, db_line, table = _datasets_panel()
        with gr.Accordion("New dataset", open=False):
            with gr.Row():
                new_name = gr.Textbox(label="Name", elem_id="ann-new-name")
                source_kind = gr.Radio([("an upload", "upload"), ("an existing split", "split")], value="upload",
                                       label="Texts from")
            with gr.Row():
                upload = gr.File(label=f"Texts ({', '.join(UPLOAD_SUFFIXES)})", file_types=list(UPLOAD_SUFFIXES),
                                 height=110, elem_id="ann-upload")
                split_dataset = gr.Textbox(value="conll2003", label="Split: dataset (conll2003 or a folder)")
                split = gr.Radio(["train", "dev", "test"], value="dev", label="Split")
                limit = gr.Number(100, precision=0, label="First N sentences (0: all)")
            with gr.Row():
                label_kind = gr.Radio([("the model's types", "model"), ("my own types", "custom"),
                                       ("the types the file's spans use", "file")], value="model", label="Labels")
                label_model = model_picker("Model (for its types)", "ann-label-model")
                custom = gr.Textbox(label="My own types, one a line: NAME [#colour] [key]", lines=3,
                                    placeholder="DRUG #E69F00 1\nDOSE #56B4E9 2", elem_id="ann-custom-labels")
            as_suggestions = gr.Checkbox(False, label="Spans in the file are suggestions to correct (else: annotations)")
            create_button = gr.Button("Create dataset", variant="primary", elem_id="ann-create")
        with gr.Accordion("Rename or delete", open=False):
            with gr.Row():
                new_title = gr.Textbox(label="New name")
                rename_button = gr.Button("Rename")
                confirm = gr.Checkbox(False, label="Yes, delete it with all its decisions")
                delete_button = gr.Button("Delete dataset", variant="stop")
        status = gr.Markdown(elem_id="ann-status")
        with gr.Row():
            pre_model = model_picker("Pre-annotate with", "ann-pre-model")
            pre_button = gr.Button("Pre-annotate", elem_id="ann-preannotate")
        with gr.Row():
            order = gr.Radio(ORDER_CHOICES, value="order", label="Queue order", elem_id="ann-order", scale=3)
            diversity = gr.Checkbox(False, label="diversity: do not ask about the same surface form again and again")
        with gr.Row():
            queue_model = gr.Dropdown(choices=[], label="Suggestions of (uncertainty, disagreement)")
            other_model = gr.Dropdown(choices=[], label="… against (disagreement)")
            review_list = gr.File(label="Suspicious-gold review list (.jsonl)", file_types=[".jsonl"], height=90)
        start_button = gr.Button("Start annotating", variant="primary", elem_id="ann-start")
        # The editor's edits and decisions are server functions: one HTTP request each, no queue, no
        # re-render by Gradio; the page shows each at once and the answer confirms it (annotate_editor).
        editor = gr.HTML(af.editor_html(None), js_on_load=EDITOR_JS, css_template=af.CSS, elem_id="ann-editor",
                         server_functions=ed.SERVER_FUNCTIONS)
        with gr.Accordion("Export", open=False):
            with gr.Row():
                fmt = gr.Radio([("CoNLL (IOB2)", "conll"), ("JSONL (character spans)", "jsonl")], value="conll",
                               label="Format")
                snap = gr.Checkbox(False, label="CoNLL: widen spans that cut a word to whole words")
                export_button = gr.Button("Export", elem_id="ann-export")
            export_note = gr.Markdown(elem_id="ann-export-note")
            export_file = gr.File(label="Download", interactive=False, elem_id="ann-export-file")
        with gr.Accordion("Review: agreement, diff and resolution", open=False):
            with gr.Row():
                side_a = gr.Dropdown(choices=[], label="A (annotator or model:<name>)", allow_custom_value=True)
                side_b = gr.Dropdown(choices=[], label="B", allow_custom_value=True)
                compare_button = gr.Button("Compare")
            agreement = gr.Dataframe(headers=af.AGREEMENT_HEADERS, label="Agreement per type", interactive=False)
            diff = gr.HTML()
            with gr.Row():
                prefer = gr.Radio([("A", "a"), ("B", "b")], value="a", label="Where they differ, take")
                resolve_button = gr.Button("Resolve into the final version")
            resolve_note = gr.Markdown()

    listing = [dataset, table]
    wire(refresh.click, act.refresh, dataset, [dataset, table, db_line], api_name="annotation_refresh", **LIGHT)
    wire(create_button.click, act.create,
         [new_name, source_kind, upload, split_dataset, split, limit, label_kind, label_model, custom, as_suggestions],
         [status, *listing], api_name="annotation_create", status=status, **INFER)
    wire(rename_button.click, act.rename, [dataset, new_title], [status, *listing], api_name="annotation_rename",
         status=status, **LIGHT)
    wire(delete_button.click, act.delete, [dataset, confirm], [status, *listing, confirm],
         api_name="annotation_delete", status=status, **LIGHT)
    wire(pre_button.click, act.run_preannotate, [dataset, pre_model], status, api_name="annotation_preannotate",
         status=status, **INFER)
    sides = [queue_model, other_model, side_a, side_b]
    dataset.change(act.model_updates, dataset, sides, api_name="annotation_models", **LIGHT)
    pre_button.click(act.model_updates, dataset, sides, api_visibility="private", **LIGHT)
    wire(start_button.click, ed.start, [dataset, order, diversity, queue_model, other_model, review_list, annotator],
         [editor], api_name="annotation_start", status=status, **LIGHT)
    wire(export_button.click, act.export, [dataset, fmt, snap], [export_file, export_note],
         api_name="annotation_export", status=export_note, **LIGHT)
    wire(compare_button.click, act.compare, [dataset, side_a, side_b], [agreement, diff],
         api_name="annotation_compare", **LIGHT)
    wire(resolve_button.click, act.resolve, [dataset, side_a, side_b, prefer], resolve_note,
         api_name="annotation_resolve", status=resolve_note, **LIGHT)
    tab.select(picker_update, None, pre_model, api_name="refresh_annotation_models", **LIGHT)
    demo.load(act.refresh, dataset, [dataset, table, db_line], api_name="annotation_load", **LIGHT)

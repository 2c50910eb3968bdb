"""The Evaluate tab: a model on a dataset, its metric cards, per-type plots, the error browser and the
comparison of two models on the same data."""

from __future__ import annotations

import gradio as gr

import ner_demo.app.data_format as ds
import ner_demo.app.evaluate_format as ev
from ner_demo.app.common import LIGHT, MODELS, friendly, model_name, model_picker, picker_update, wire
from ner_demo.plots.evaluation import compare_runs_bar, confusion_heatmap, per_type_bar

EVALUATION = {"concurrency_id": "evaluation", "concurrency_limit": 2}


@friendly
def evaluate(model: str, data: str, upload: str | None, progress=gr.Progress()):
    # Each phase says what it does: reading a large file, loading a model (the first time, maybe an
    # ONNX export) and scoring take seconds before or after the first tagged sentence.
    progress(None, desc="reading the data")
    corpus, data_name = ds.eval_corpus(data, upload)
    progress(None, desc="loading the model")
    tagger = MODELS.tagger(model)
    progress((0, len(corpus)), desc="tagging", unit="sentences")

    def report(done: int, total: int) -> None:
        if done < total:
            progress((done, total), desc="tagging", unit="sentences")
        else:
            progress(None, desc="scoring")

    run = ev.evaluate_run(tagger, corpus, model_name(model), data_name, report)
    progress(None, desc="drawing")
    types = [ev.ALL, *ev.error_types(run.result)]
    rows = ev.error_rows(run)
    first = rows[0][0] if rows else 0
    return (ev.metric_cards_html(run), per_type_bar(run.result), ev.per_type_rows(run.result),
            confusion_heatmap(run.result), gr.Dropdown(choices=ev.error_kind_choices(), value=ev.ALL),
            gr.Dropdown(choices=types, value=ev.ALL), rows, ev.error_counts_line(run), run,
            first, *error_detail(run, first))


def _need_run(run: ev.EvalRun | None) -> ev.EvalRun:
    if run is None:
        raise gr.Error("Evaluate a model first.")
    return run


@friendly
def filter_errors(run: ev.EvalRun | None, kind: str, entity_type: str):
    run = _need_run(run)
    rows = ev.error_rows(run, kind or ev.ALL, entity_type or ev.ALL)
    first = rows[0][0] if rows else 0
    return rows, first, *error_detail(run, first)


def error_detail(run: ev.EvalRun | None, number: float | None):
    """The error numbered ``number`` (1-based, as the table's ``#``; 0 or empty: none)."""
    if run is None:
        return "", "", ""
    errors = run.result.errors
    if not errors:
        return "", "", "No errors: every entity was found with its exact span and type."
    if not number or not 1 <= number <= len(errors):
        return "", "", f"No error selected: pick a row of the table, or type a number from 1 to {len(errors):,}."
    return ev.error_detail(run, int(number) - 1)


def pick_error(rows, event: gr.SelectData):
    """The ``#`` cell (1-based) of the clicked row of the error table."""
    row = event.index[0]
    return int(rows.iloc[row, 0]) if len(rows) else 0


@friendly
def compare(run: ev.EvalRun | None, model_b: str, data: str, upload: str | None, progress=gr.Progress()):
    run_a = _need_run(run)
    progress(None, desc="reading the data")
    corpus, data_name = ds.eval_corpus(data, upload)
    if data_name != run_a.data:
        raise gr.Error(f"Model A was evaluated on {run_a.data}; evaluate A on {data_name} first, then compare.")
    progress(None, desc="loading model B")
    tagger_b = MODELS.tagger(model_b)
    run_b = ev.evaluate_run(tagger_b, corpus, model_name(model_b), data_name,
                              lambda done, total: progress((done, total), desc="tagging with model B", unit="sentences"))
    name_a, name_b = ev.distinct_names(run_a.model, run_b.model)
    figure = compare_runs_bar({name_a: run_a.result, name_b: run_b.result}, baseline=name_a)
    caption = (f"A = {name_a}, B = {name_b}, on {data_name}. Strict micro F1: A {run_a.result.strict.micro.f1:.4f}, "
               f"B {run_b.result.strict.micro.f1:.4f}; bars show B − A per type.")
    return figure, ev.comparison_rows(run_a.result, run_b.result), caption


def eval_data_update():
    choices = ds.eval_data_choices()
    note = "" if ds.conll2003_present() else ds.missing_conll2003_note()
    return gr.Dropdown(choices=choices, value=choices[0][1]), note


def build(demo: gr.Blocks) -> None:
    """The Evaluate tab's layout and events, inside ``demo``."""
    with gr.Tab("Evaluate", id="evaluate") as tab:
        with gr.Row():
            eval_model = model_picker("Model (A)", "eval-model")
            eval_data = gr.Dropdown(choices=ds.eval_data_choices(), value=ds.eval_data_choices()[0][1], label="Data",
                                    allow_custom_value=True)  # CoNLL-2003 may be fetched after start-up
            eval_upload = gr.File(label="CoNLL file (for 'an uploaded CoNLL file')", file_types=[".conll", ".txt"],
                                  elem_id="eval-upload", height=140)
        eval_note = gr.Markdown("" if ds.conll2003_present() else ds.missing_conll2003_note())
        eval_button = gr.Button("Evaluate", variant="primary", elem_id="eval-button")
        cards = gr.HTML(elem_id="eval-cards")
        with gr.Row():
            per_type_plot = gr.Plot(label="Per-type scores", elem_id="per-type-plot")
            confusion_plot = gr.Plot(label="Confusion matrix", elem_id="confusion-plot")
        per_type_table = gr.Dataframe(headers=ev.PER_TYPE_HEADERS, label="Per-type scores", interactive=False)
        gr.Markdown("### Errors\nPick a row to see its sentence with gold and predicted entities.")
        error_counts = gr.Markdown()
        with gr.Row():
            error_kind = gr.Dropdown(choices=ev.error_kind_choices(), value=ev.ALL, label="Error kind")
            error_type = gr.Dropdown(choices=[ev.ALL], value=ev.ALL, label="Entity type")
            error_index = gr.Number(value=0, label="Error # (0: none)", precision=0, minimum=0, elem_id="error-index")
        error_table = gr.Dataframe(headers=ev.ERROR_HEADERS, interactive=False, max_height=300, elem_id="error-table")
        error_caption = gr.Markdown(elem_id="error-caption")
        with gr.Row():
            with gr.Column():
                gr.Markdown("**Gold**")
                gold_view = gr.HTML(elem_id="error-gold")
            with gr.Column():
                gr.Markdown("**Predicted**")
                pred_view = gr.HTML(elem_id="error-pred")
        eval_state = gr.State(None)
        with gr.Accordion("Compare with another model or run", open=False):
            with gr.Row():
                compare_model = model_picker("Model (B)", "compare-model")
                compare_button = gr.Button("Compare B with A")
            compare_caption = gr.Markdown()
            compare_plot = gr.Plot(label="Per-type F1 change")
            compare_table = gr.Dataframe(headers=ev.COMPARE_HEADERS, interactive=False)

    eval_outputs = [cards, per_type_plot, per_type_table, confusion_plot, error_kind, error_type, error_table,
                    error_counts, eval_state, error_index, gold_view, pred_view, error_caption]
    # One progress display (on the cards), not an overlay over every output.
    wire(eval_button.click, evaluate, [eval_model, eval_data, eval_upload], eval_outputs, api_name="evaluate",
         status=cards, show_progress_on=cards, **EVALUATION)
    detail_outputs = [gold_view, pred_view, error_caption]
    for control in (error_kind, error_type):
        wire(control.input, filter_errors, [eval_state, error_kind, error_type],
             [error_table, error_index, *detail_outputs], status=error_caption,
             api_name=f"filter_errors_by_{'kind' if control is error_kind else 'type'}")
    error_table.select(pick_error, error_table, error_index, api_name="pick_error", **LIGHT)
    wire(error_index.change, error_detail, [eval_state, error_index], detail_outputs, api_name="error_detail",
         status=error_caption)
    wire(compare_button.click, compare, [eval_state, compare_model, eval_data, eval_upload],
         [compare_plot, compare_table, compare_caption], api_name="compare", status=compare_caption,
         show_progress_on=compare_caption, **EVALUATION)
    tab.select(lambda: (picker_update(), picker_update(), *eval_data_update()), None,
               [eval_model, compare_model, eval_data, eval_note], api_name="refresh_eval_choices", **LIGHT)

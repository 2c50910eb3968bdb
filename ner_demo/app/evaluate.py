"""The Evaluate tab: a model on a dataset, its metric cards (the headline with its bootstrap interval),
and views of the evaluation: per-type plots and the error browser, intervals, every scoring scheme and
why they differ, generalisation buckets, calibration and thresholds, and the comparison of two models.
This module lays them out and wires them; the views' handlers are in :mod:`.evaluate_views`."""

from __future__ import annotations

import gradio as gr

import ner_demo.app.data_format as ds
import ner_demo.app.evaluate_calibration as ec
import ner_demo.app.evaluate_compare as cmp
import ner_demo.app.evaluate_format as ev
import ner_demo.app.evaluate_report as rp
import ner_demo.app.evaluate_stats as st
import ner_demo.app.evaluate_views as vw
from ner_demo.app.annotate_actions import annotation_choices
from ner_demo.app.common import LIGHT, MODELS, friendly, model_name, model_picker, picker_update, wire
from ner_demo.evaluation.bootstrap import DEFAULT_REPLICATES, DEFAULT_SEED
from ner_demo.plots.evaluation import confusion_heatmap, per_type_bar

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

    run = ev.evaluate_run(tagger, corpus, model_name(model), data_name, report, choice=model, data_choice=data)
    interval = st.intervals(run)  # the headline's interval at the defaults; the Intervals view sets them
    progress(None, desc="drawing")
    types = [ev.ALL, *ev.error_types(run.result)]
    rows = ev.error_rows(run)
    first = rows[0][0] if rows else 0
    return (ev.metric_cards_html(run, interval), per_type_bar(run.result), ev.per_type_rows(run.result),
            confusion_heatmap(run.result), gr.Dropdown(choices=ev.error_kind_choices(), value=ev.ALL),
            gr.Dropdown(choices=types, value=ev.ALL), rows, ev.error_counts_line(run), run,
            first, *error_detail(run, first))


@friendly
def filter_errors(run: ev.EvalRun | None, kind: str, entity_type: str):
    run = vw.need_run(run)
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


def data_choices() -> list[tuple[str, str]]:
    """The data picker's choices: CoNLL-2003, an upload, then every annotation dataset of the database."""
    return ds.eval_data_choices() + ds.annotation_eval_choices(annotation_choices())


def eval_data_update(current: str | None = None):
    """The data picker, refreshed (a dataset created after the page loaded appears); the choice kept."""
    choices = data_choices()
    values = [value for _, value in choices]
    value = current if current in values else choices[0][1]
    note = "" if ds.conll2003_present() else ds.missing_conll2003_note()
    return gr.Dropdown(choices=choices, value=value), note


def _set_view(name: str):
    return lambda: name


def build(demo: gr.Blocks) -> None:
    """The Evaluate tab's layout and events, inside ``demo``."""
    with gr.Tab("Evaluate", id="evaluate") as tab:
        with gr.Row():
            eval_model = model_picker("Model (A)", "eval-model")
            choices = data_choices()
            eval_data = gr.Dropdown(choices=choices, value=choices[0][1], label="Data", elem_id="eval-data",
                                    allow_custom_value=True)  # CoNLL-2003 may be fetched after start-up
            eval_upload = gr.File(label="CoNLL file (for 'an uploaded CoNLL file')", file_types=[".conll", ".txt"],
                                  elem_id="eval-upload", height=140)
        eval_note = gr.Markdown("" if ds.conll2003_present() else ds.missing_conll2003_note())
        eval_button = gr.Button("Evaluate", variant="primary", elem_id="eval-button")
        cards = gr.HTML(elem_id="eval-cards")
        eval_state, open_view = gr.State(None), gr.State("scores")
        with gr.Tabs(elem_id="eval-views"):
            with gr.Tab("Scores and errors", id="eval-scores") as scores_tab:
                with gr.Row():
                    per_type_plot = gr.Plot(label="Per-type scores", elem_id="per-type-plot")
                    confusion_plot = gr.Plot(label="Confusion matrix", elem_id="confusion-plot")
                per_type_table = gr.Dataframe(headers=ev.PER_TYPE_HEADERS, label="Per-type scores", interactive=False)
                gr.Markdown("### Errors\nPick a row to see its sentence with gold and predicted entities.")
                error_counts = gr.Markdown()
                with gr.Row():
                    error_kind = gr.Dropdown(choices=ev.error_kind_choices(), value=ev.ALL, label="Error kind")
                    error_type = gr.Dropdown(choices=[ev.ALL], value=ev.ALL, label="Entity type")
                    error_index = gr.Number(value=0, label="Error # (0: none)", precision=0, minimum=0,
                                            elem_id="error-index")
                error_table = gr.Dataframe(headers=ev.ERROR_HEADERS, interactive=False, max_height=300,
                                           elem_id="error-table")
                error_caption = gr.Markdown(elem_id="error-caption")
                with gr.Row():
                    with gr.Column():
                        gr.Markdown("**Gold**")
                        gold_view = gr.HTML(elem_id="error-gold")
                    with gr.Column():
                        gr.Markdown("**Predicted**")
                        pred_view = gr.HTML(elem_id="error-pred")
            with gr.Tab("Intervals", id="eval-intervals") as intervals_tab:
                with gr.Row():
                    replicates = gr.Number(value=DEFAULT_REPLICATES, label="Bootstrap resamples", precision=0,
                                           minimum=1, maximum=st.MAX_REPLICATES, elem_id="eval-replicates",
                                           info="of the documents (sentences when there is one); also the comparison's")
                    seed = gr.Number(value=DEFAULT_SEED, label="Seed", precision=0, minimum=0, elem_id="eval-seed")
                interval_note = gr.Markdown(elem_id="interval-note")
                interval_plot = gr.Plot(label="F1 with 95% intervals", elem_id="interval-plot")
                interval_table = gr.Dataframe(headers=st.INTERVAL_HEADERS, interactive=False, elem_id="interval-table")
            with gr.Tab("Schemes", id="eval-schemes") as schemes_tab:
                schemes_plot = gr.Plot(label="Scores under every scheme", elem_id="schemes-plot")
                schemes_table = gr.Dataframe(headers=st.SCHEME_HEADERS, interactive=False, elem_id="schemes-table")
                gr.Markdown("### Why these differ\nThe entities a pair of schemes counts differently.")
                pair = gr.Dropdown(choices=st.PAIRS, value=st.PAIRS[0], label="Schemes A vs B", elem_id="scheme-pair")
                pair_note = gr.Markdown(elem_id="pair-note")
                pair_table = gr.Dataframe(headers=st.DIFFERENCE_HEADERS, interactive=False, max_height=300,
                                          elem_id="pair-table")
            with gr.Tab("Generalisation", id="eval-generalisation") as generalisation_tab:
                overlap_note = gr.Markdown(elem_id="overlap-note")
                with gr.Row():
                    bucket_choice = gr.Dropdown(choices=vw.BUCKET_CHOICES, value=vw.BUCKET_CHOICES[0], label="Buckets")
                    metric = gr.Radio(choices=vw.METRICS, value="recall", label="Score drawn")
                bucket_plot = gr.Plot(label="Scores per bucket", elem_id="bucket-plot")
                bucket_table = gr.Dataframe(headers=st.BUCKET_HEADERS, interactive=False, max_height=300,
                                            elem_id="bucket-table")
            with gr.Tab("Calibration", id="eval-calibration") as calibration_tab:
                with gr.Row():
                    fit_temperature = gr.Checkbox(value=True, label="Fit a temperature (else keep the model's own)")
                    fit_button = gr.Button("Fit on dev", elem_id="fit-button")
                calibration_note = gr.Markdown(vw.NO_CALIBRATION, elem_id="calibration-note")
                with gr.Row():
                    reliability_plot = gr.Plot(label="Reliability diagram", elem_id="reliability-plot")
                    threshold_plot = gr.Plot(label="Thresholds", elem_id="threshold-plot")
                ece_table = gr.Dataframe(headers=ec.ECE_HEADERS, interactive=False, label="Expected calibration error")
                threshold_table = gr.Dataframe(headers=ec.THRESHOLD_HEADERS, interactive=True, elem_id="threshold-table",
                                               label="Per-type thresholds (edit the threshold column; 0: none)")
                with gr.Row():
                    optimal_button = gr.Button("F1-optimal thresholds")
                    apply_button = gr.Button("Apply thresholds", elem_id="apply-thresholds")
                    save_button = gr.Button("Save with the model", elem_id="save-thresholds")
                effect_caption = gr.Markdown(elem_id="effect-caption")
                effect_table = gr.Dataframe(headers=ec.EFFECT_HEADERS, interactive=False, elem_id="effect-table")
                save_note = gr.Markdown(elem_id="save-note")
                calibration_state = gr.State(None)
            with gr.Tab("Compare", id="eval-compare") as compare_tab:
                with gr.Row():
                    compare_model = model_picker("Model (B)", "compare-model")
                    compare_button = gr.Button("Compare B with A", elem_id="compare-button")
                compare_caption = gr.Markdown(vw.NO_COMPARISON, elem_id="compare-caption")
                compare_plot = gr.Plot(label="Per-type F1 change", elem_id="compare-plot")
                compare_table = gr.Dataframe(headers=cmp.SIGNIFICANCE_HEADERS, interactive=False, elem_id="compare-table")
                closer = gr.Radio(choices=["all", "A", "B", "neither"], value="all", label="Matches the gold")
                disagreement_note = gr.Markdown(elem_id="disagreement-note")
                disagreement_table = gr.Dataframe(headers=cmp.DISAGREEMENT_HEADERS, interactive=False, max_height=300,
                                                  elem_id="disagreement-table")
                compare_state = gr.State(None)
            with gr.Tab("Suspicious gold", id="eval-suspicious") as suspicious_tab:
                suspicious_note = gr.Markdown(elem_id="suspicious-note")
                suspicious_table = gr.Dataframe(headers=rp.SUSPICIOUS_HEADERS, interactive=False, max_height=400,
                                                elem_id="suspicious-table")
                suspicious_file = gr.File(label="Review list (JSONL)", elem_id="suspicious-file", interactive=False)
            with gr.Tab("Report", id="eval-report"):
                report_button = gr.Button("Build the report", elem_id="report-button")
                report_note = gr.Markdown(vw.NO_REPORT, elem_id="report-note")
                report_files = gr.File(label="HTML report and JSON", file_count="multiple", interactive=False,
                                       elem_id="report-files")
        gr.Markdown("### Sentence\nA row picked in *why these differ*, the disagreement list or the suspicious "
                    "gold, drawn whole.")
        sentence_caption = gr.Markdown(elem_id="sentence-caption")
        with gr.Row():
            sentence_views = []
            for title, elem_id in (("Gold", "sentence-gold"), ("Predicted (A)", "sentence-a"), ("B", "sentence-b")):
                with gr.Column():
                    gr.Markdown(f"**{title}**")
                    sentence_views.append(gr.HTML(elem_id=elem_id))
            sentence_gold, sentence_a, sentence_b = sentence_views
        sentence_number = gr.Number(visible=False, precision=0)

    eval_outputs = [cards, per_type_plot, per_type_table, confusion_plot, error_kind, error_type, error_table,
                    error_counts, eval_state, error_index, gold_view, pred_view, error_caption]
    # One progress display (on the cards), not an overlay over every output.
    evaluation = wire(eval_button.click, evaluate, [eval_model, eval_data, eval_upload], eval_outputs,
                      api_name="evaluate", status=cards, show_progress_on=cards, **EVALUATION)
    detail_outputs = [gold_view, pred_view, error_caption]
    for control in (error_kind, error_type):
        wire(control.input, filter_errors, [eval_state, error_kind, error_type],
             [error_table, error_index, *detail_outputs], status=error_caption,
             api_name=f"filter_errors_by_{'kind' if control is error_kind else 'type'}")
    error_table.select(pick_error, error_table, error_index, api_name="pick_error", **LIGHT)
    wire(error_index.change, error_detail, [eval_state, error_index], detail_outputs, api_name="error_detail",
         status=error_caption)

    sentence = [sentence_caption, sentence_gold, sentence_a, sentence_b]
    intervals = [interval_note, interval_plot, interval_table]
    schemes = [schemes_plot, schemes_table, pair, pair_note, pair_table]
    generalisation = [overlap_note, bucket_plot, bucket_table]
    calibration = [calibration_note, reliability_plot, threshold_plot, ece_table, threshold_table, effect_caption,
                   effect_table, save_note, calibration_state]
    comparison = [compare_plot, compare_table, compare_caption, compare_state]
    suspicious = [suspicious_note, suspicious_table, suspicious_file]
    report = [report_note, report_files]
    for view, view_tab in (("scores", scores_tab), ("intervals", intervals_tab), ("schemes", schemes_tab),
                           ("generalisation", generalisation_tab), ("calibration", calibration_tab),
                           ("compare", compare_tab), ("suspicious", suspicious_tab)):
        view_tab.select(_set_view(view), None, open_view, api_name=f"open_{view}_view", **LIGHT)
    # A new evaluation clears every view when it starts and redraws the open one when it succeeds (a
    # failed one leaves them cleared). The clearing is not the refresh's job: a refresh that answered
    # after a view the user opened meanwhile (drawn for the same evaluation by its own event) would blank
    # it. The refresh reads the open view when it runs (a state), so a view opened before then is drawn.
    views = [*intervals, *schemes, *generalisation, *calibration, *comparison, *suspicious, *report, *sentence]
    eval_button.click(vw.cleared_views, None, views, queue=False, show_progress="hidden",
                      api_visibility="private")
    wire(evaluation.success, vw.refresh, [eval_state, open_view, replicates, seed, pair, bucket_choice, metric],
         views, api_name="refresh_views", status=interval_note)
    for trigger, name in ((intervals_tab.select, "intervals"), (replicates.submit, "intervals_by_replicates"),
                          (seed.submit, "intervals_by_seed")):
        wire(trigger, vw.show_intervals, [eval_state, replicates, seed], intervals, status=interval_note, api_name=name)
    wire(schemes_tab.select, vw.show_schemes, [eval_state, pair], schemes, api_name="schemes", status=pair_note)
    wire(pair.input, vw.show_pair, [eval_state, pair], [pair_note, pair_table], api_name="scheme_pair",
         status=pair_note)
    pair_table.select(vw.pick_row, pair_table, sentence_number, api_name="pick_difference", **LIGHT).then(
        vw.difference_sentence, [eval_state, pair, sentence_number], sentence, api_name="difference_sentence",
        **LIGHT)
    for trigger, name in ((generalisation_tab.select, "generalisation"), (bucket_choice.input, "generalisation_by_buckets"),
                          (metric.input, "generalisation_by_metric")):
        wire(trigger, vw.show_generalisation, [eval_state, bucket_choice, metric], generalisation,
             status=overlap_note, api_name=name)
    wire(fit_button.click, vw.fit_calibration, [eval_state, fit_temperature], calibration, api_name="calibrate",
         status=calibration_note, show_progress_on=calibration_note, **EVALUATION)
    wire(optimal_button.click, vw.optimal_thresholds, calibration_state, threshold_table,
         api_name="optimal_thresholds")
    wire(apply_button.click, vw.apply_thresholds, [calibration_state, threshold_table],
         [effect_caption, effect_table, threshold_plot], api_name="apply_thresholds", status=effect_caption)
    wire(save_button.click, vw.save_thresholds, [calibration_state, threshold_table], save_note,
         api_name="save_thresholds", status=save_note)
    wire(compare_button.click, vw.compare, [eval_state, compare_model, eval_data, eval_upload, replicates, seed],
         comparison, api_name="compare", status=compare_caption, show_progress_on=compare_caption, **EVALUATION)
    # The caption changes with every comparison, failed (then it says so) or cleared (by a new evaluation).
    for trigger, name in ((compare_caption.change, "disagreements"), (closer.input, "disagreements_by_closer")):
        trigger(vw.show_disagreements, [compare_state, closer], [disagreement_note, disagreement_table, *sentence],
                api_name=name, **LIGHT)
    disagreement_table.select(vw.pick_row, disagreement_table, sentence_number, api_name="pick_disagreement",
                              **LIGHT).then(vw.disagreement_sentence, [compare_state, sentence_number], sentence,
                                            api_name="disagreement_sentence", **LIGHT)
    wire(suspicious_tab.select, vw.show_suspicious, eval_state, suspicious, api_name="suspicious",
         status=suspicious_note, show_progress_on=suspicious_note)
    suspicious_table.select(vw.pick_row, suspicious_table, sentence_number, api_name="pick_suspicious",
                            **LIGHT).then(vw.suspicious_sentence, [eval_state, sentence_number], sentence,
                                          api_name="suspicious_sentence", **LIGHT)
    wire(report_button.click, vw.build_report, [eval_state, replicates, seed], report, api_name="report",
         status=report_note, show_progress_on=report_note)
    tab.select(lambda data: (picker_update(), picker_update(), *eval_data_update(data)), eval_data,
               [eval_model, compare_model, eval_data, eval_note], api_name="refresh_eval_choices", **LIGHT)

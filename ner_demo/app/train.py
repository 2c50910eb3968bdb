"""The Train tab: a form generated from TrainConfig (one input per field, grouped by its metadata),
a run started in the background, and its progress, curves, log and the runs table.

Adding a field to TrainConfig adds its input here with no edit: :func:`train_format.form_fields` reads
name, type, default, help, choices and group from the dataclass. The values reach the core as one dict,
validated whole by ``TrainConfig.from_dict`` before anything is launched (the CLI's own messages).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import Future
from pathlib import Path

import gradio as gr

import ner_demo

import ner_demo.app.data_format as ds
import ner_demo.app.train_curve as train_curve
import ner_demo.app.train_format as tr
import ner_demo.app.train_queue as train_queue
import ner_demo.app.train_recipes as recipes_ui
import ner_demo.app.train_runs as train_runs
from ner_demo.app.annotate_actions import annotation_choices
from ner_demo.app.common import LIGHT, SERIAL, friendly, runs_dir, wire
from ner_demo.errors import NerDemoError
from ner_demo.models import OFFLINE_ENCODER
from ner_demo.plots.training import curves_figure
from ner_demo.training import background
from ner_demo.training.config import TrainConfig
from ner_demo.training.data_prep import load_splits_for
from ner_demo.training.init_from import shipped_names
from ner_demo.training.preflight import prelaunch_warning
from ner_demo.training.runs import ACTIVE_STATES, Run, list_runs

POLL_SECONDS = 2.0
FIELDS_PER_ROW = 4
UPLOAD_TYPES = [".conll", ".txt", ".jsonl"]


# The device and precision a run will get (ner_demo.training.hardware.choose) are asked of a child
# process, once, in the background: the answer needs torch (CUDA, its threads), and the app process keeps
# torch out of memory unless a torch backend serves a model (about 400 MB of RSS); a run trains in a
# process of its own, which sees what this child sees.
_HARDWARE_CODE = "from ner_demo.training.hardware import choose; print(choose('auto', 'auto').description)"
_hardware: Future | None = None
_hardware_lock = threading.Lock()


def _ask_hardware(answer: Future) -> None:
    env = dict(os.environ)
    package_root = str(Path(ner_demo.__file__).resolve().parent.parent)  # the child must import this copy
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    try:
        done = subprocess.run([sys.executable, "-c", _HARDWARE_CODE], capture_output=True, text=True, env=env,
                              stdin=subprocess.DEVNULL, timeout=300)
        why = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        answer.set_result(done.stdout.strip() if done.returncode == 0 and done.stdout.strip()
                          else f"unknown (the check failed: {why})")
    except (OSError, subprocess.TimeoutExpired) as exc:
        answer.set_result(f"unknown (the check could not run: {type(exc).__name__})")


def start_hardware_check() -> Future:
    """The child's answer, asked once per app process, when a page first loads (not at start-up: the child
    imports torch, seconds of CPU that the server's own start must not compete with)."""
    global _hardware
    with _hardware_lock:
        if _hardware is None:
            _hardware = Future()
            threading.Thread(target=_ask_hardware, args=(_hardware,), name="hardware-check", daemon=True).start()
        return _hardware


def detected_hardware() -> str:
    return start_hardware_check().result()


def hardware_line() -> str:
    return f"**Detected hardware:** {detected_hardware()}"


def check_backbone(name: str):
    problem = tr.backbone_problem(name)
    return gr.Markdown(f"⚠️ {problem}" if problem else "", visible=bool(problem)), gr.Button(visible=bool(problem))


def _start(values: dict, config_cls: type) -> tuple:
    config = tr.config_from_form(values, runs_dir(), config_cls)  # the whole config, checked before anything runs
    problem = None if config.init_from.strip() else tr.backbone_problem(config.backbone)  # init_from: not used
    if problem:
        raise gr.Error(problem)
    if config.dataset == tr.DATASET_CONLL and not config.train_file and not ds.conll2003_present():
        raise gr.Error(ds.missing_conll2003_note().replace("**", ""))
    if config.train_file:  # read uploads now: a bad file is reported here (file, line, problem), not by the run
        load_splits_for(config)
    if warning := prelaunch_warning(config):  # not an error: the run starts, and its progress repeats it
        gr.Warning(warning)
    run = background.start(config, runs_dir(), queue=True)  # behind the training run, if any: the progress says so
    return _watch(run.id)


def training_starter(config_cls: type = TrainConfig):
    """The ``start_training`` handler of a form made from ``config_cls``: it takes one value per form
    field, in the order of :func:`train_format.form_names`."""
    names = tr.form_names(config_cls)

    @friendly
    def start_training(*values):
        if len(values) != len(names):
            raise gr.Error(f"start_training takes {len(names)} values, one per form field "
                           f"({', '.join(names)}); got {len(values)}")
        return _start(dict(zip(names, values)), config_cls)

    return start_training


start_training = training_starter()


def _run_ids() -> list[str]:
    return [r.run_id for r in reversed(list_runs(runs_dir()))]


def _watch(run_id: str):
    """Outputs after start/resume: the watched run, the timer on, and a first progress view."""
    progress, figure, rows, _ = poll_run(run_id)
    return gr.Dropdown(choices=_run_ids(), value=run_id), gr.Timer(active=True), progress, figure, rows


def poll_run(run_id: str | None):
    """Progress bar, curves and runs table of the watched run; the timer stops when it has ended."""
    runs = background.checked_runs(runs_dir())  # a run whose process died is listed as failed, not running
    rows = tr.runs_rows(runs)
    if not run_id:
        message = "No run selected: start one, or pick one from the list."
        return message, curves_figure([], []), rows, gr.Timer(active=False)
    try:
        status = background.poll(tr.known_run(run_id, runs), runs_dir())
    except NerDemoError as exc:
        return str(exc), curves_figure([], []), rows, gr.Timer(active=False)
    run = Run(runs_dir() / run_id)
    figure = curves_figure(run.metrics("train"), run.metrics("eval"), f"run {run_id}")
    active = status.get("state") in ACTIVE_STATES
    return tr.progress_html(status), figure, rows, gr.Timer(active=active)


def _known(run_id: str | None) -> str:
    return tr.known_run(run_id, list_runs(runs_dir()))


@friendly
def cancel_run(run_id: str | None):
    background.cancel(_known(run_id), runs_dir())
    return poll_run(run_id)


@friendly
def resume_run(run_id: str | None):
    background.resume_in_background(_known(run_id), runs_dir(), queue=True)  # as Start: behind the training run
    return _watch(run_id)


def refresh_runs(run_id: str | None):
    ids = _run_ids()
    value = run_id if run_id in ids else (ids[0] if ids else None)
    return (gr.Dropdown(choices=ids, value=value), *poll_run(value))


@friendly
def run_log(run_id: str | None) -> str:
    if not run_id:
        return ""
    path = runs_dir() / _known(run_id) / "log.txt"
    try:
        return tr.log_tail(path.read_text(encoding="utf-8", errors="replace"), 40)  # no raw ANSI escape codes
    except OSError:
        return "(no log yet)"


# ---- the form --------------------------------------------------------------------------------------


def elem_id(name: str) -> str:
    """The page id of a field's input: ``learning_rate`` -> ``train-learning-rate``."""
    return "train-" + name.replace("_", "-")


def _input(f: tr.FormField):
    """A component for one TrainConfig field, from its type, default, choices and help."""
    common = {"label": f.label, "info": f.help + (" 0: not set." if f.optional else ""), "elem_id": elem_id(f.name)}
    if f.name == "backbone":  # suggestions, and any Hub id or local folder
        return gr.Dropdown(choices=tr.BACKBONE_SUGGESTIONS, value=f.default, allow_custom_value=True, **common)
    if f.name in ("init_from", "teacher"):  # the shipped models offered; a run's id or a model folder can be typed
        return gr.Dropdown(choices=["", *shipped_names()], value=f.default, allow_custom_value=True, **common)
    if f.name == "dataset":  # the datasets this app can train on; uploads go in train_file / dev_file
        return gr.Radio(tr.dataset_choices(False), value=tr.DATASET_CONLL, label="Dataset", elem_id=common["elem_id"],
                        info="MultiNERD is offered when the Hugging Face Hub answers; for uploads, give both files.")
    if f.name in ("train_file", "dev_file"):
        return gr.File(file_types=UPLOAD_TYPES, height=120, label=f"{f.label} (for uploads)", elem_id=common["elem_id"])
    if f.kind == "bool":
        return gr.Checkbox(value=bool(f.default), **common)
    if f.kind == "choice":
        return gr.Radio(list(f.choices), value=f.default, **common)
    if f.kind in ("int", "float"):
        value = 0 if f.default is None else f.default  # a number box shows 0 for None anyway: 0 means not set
        return gr.Number(value, precision=0 if f.kind == "int" else None, **common)
    return gr.Textbox(value="" if f.default is None else str(f.default), **common)


def build_form(config_cls: type = TrainConfig):
    """One accordion per group of fields, valued as the starting recipe; returns ({field name: component}, the Hub warning, its button)."""
    inputs: dict = {}
    hub_warning = use_offline = None
    for key, title, items in tr.grouped(recipes_ui.starting_fields(config_cls)):  # the shipped recipe's values
        with gr.Accordion(title, open=key not in tr.CLOSED_GROUPS):
            for start in range(0, len(items), FIELDS_PER_ROW):
                with gr.Row():
                    for f in items[start:start + FIELDS_PER_ROW]:
                        inputs[f.name] = _input(f)
            if "backbone" in (f.name for f in items):
                hub_warning = gr.Markdown(visible=False, elem_id="hub-warning")
                use_offline = gr.Button("Use the offline encoder", visible=False, size="sm")
    return inputs, hub_warning, use_offline


def build(demo: gr.Blocks, config_cls: type = TrainConfig) -> None:
    """The Train tab's layout and events, inside ``demo``, with a form made from ``config_cls``."""
    with gr.Tab("Train", id="train") as tab:
        hardware = gr.Markdown("**Detected hardware:** checking…", elem_id="train-device")
        picker, recipe_note = recipes_ui.build_picker(config_cls)
        inputs, hub_warning, use_offline = build_form(config_cls)
        with gr.Row():
            start_button = gr.Button("Start training", variant="primary", elem_id="start-button")
            cancel_button = gr.Button("Cancel", variant="stop")
            resume_button = gr.Button("Resume")
            refresh_button = gr.Button("Refresh")
        # Custom values pass the component (API callers name runs by id); handlers accept known ids only.
        watched = gr.Dropdown(choices=_run_ids(), value=None, label="Run", allow_custom_value=True, elem_id="train-run")
        progress_view = gr.HTML(elem_id="train-progress")
        curves = gr.Plot(label="Loss and dev F1", elem_id="train-curves")
        runs_panel = train_runs.build(watched)  # filters, sort, rename, tag, delete (train_runs.py)
        runs_table = runs_panel.feed
        with gr.Accordion("Log of the selected run", open=False):
            log_button = gr.Button("Show log", size="sm")
            log_view = gr.Code(language=None, lines=12, label="log.txt (last 40 lines)")
        queue_view = train_queue.build()
        train_curve.build(demo, inputs, config_cls)
        timer = gr.Timer(POLL_SECONDS, active=False)

    form = [inputs[name] for name in tr.form_names(config_cls)]
    backbone, dataset = inputs["backbone"], inputs["dataset"]
    watch_outputs = [watched, timer, progress_view, curves, runs_table]
    poll_outputs = [progress_view, curves, runs_table, timer]
    backbone.change(check_backbone, backbone, [hub_warning, use_offline], api_name="check_backbone")
    use_offline.click(lambda: OFFLINE_ENCODER, None, backbone, api_name="use_offline_encoder", **LIGHT)
    starter = start_training if config_cls is TrainConfig else training_starter(config_cls)
    started = wire(start_button.click, starter, form, watch_outputs, api_name="start_training", status=progress_view,
                   **SERIAL)
    resumed = wire(resume_button.click, resume_run, watched, watch_outputs, api_name="resume_training",
                   status=progress_view, **SERIAL)
    cancelled = wire(cancel_button.click, cancel_run, watched, poll_outputs, api_name="cancel_training",
                     status=progress_view, **SERIAL)
    refreshed = refresh_button.click(refresh_runs, watched, [watched, *poll_outputs], api_name="refresh_runs", **LIGHT)
    train_queue.wire_events(demo, queue_view, timer, after=(started, resumed, cancelled, refreshed))
    watched.input(poll_run, watched, poll_outputs, api_name="watch_run", **LIGHT)
    timer.tick(poll_run, watched, poll_outputs, api_name="poll_run", **LIGHT)
    log_button.click(run_log, watched, log_view, api_name="run_log", **LIGHT)
    for selection in runs_panel.selections:  # the progress of the run now selected, never of a deleted one
        selection.then(poll_run, watched, poll_outputs, api_visibility="private", **LIGHT)
    tab.select(lambda: gr.Radio(choices=tr.dataset_choices(tr.hub_available()) + annotation_choices()), None, dataset,
               api_name="refresh_datasets", **LIGHT)
    demo.load(refresh_runs, watched, [watched, *poll_outputs], api_name="load_runs", **LIGHT)
    demo.load(check_backbone, backbone, [hub_warning, use_offline], api_name="load_backbone_check", **LIGHT)
    demo.load(hardware_line, None, hardware, api_name="load_hardware", **LIGHT)
    recipes_ui.wire(demo, picker, recipe_note, inputs, config_cls)

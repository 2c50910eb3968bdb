"""The Train tab's learning curve ("will more data help?"): the form's settings trained on growing shares
of the train sentences, as queued runs, and the plot of dev F1 against train size as they finish.

The core does the work (``training.curve``): nested subsets (the first N sentences), one run each, the
result in ``runs/curves/<id>.json``. This module starts one from the form and draws the chosen one.
"""

from __future__ import annotations

import gradio as gr

import ner_demo.app.train_format as tr
from ner_demo.app.common import LIGHT, SERIAL, friendly, runs_dir, wire
from ner_demo.errors import ConfigError
from ner_demo.plots.training import learning_curve_figure
from ner_demo.training import background
from ner_demo.training.config import TrainConfig
from ner_demo.training.curve import DEFAULT_SHARES, curve_active, list_curves, read_curve, start_curve

POLL_SECONDS = 2.0
POINT_HEADERS = ["share", "train sentences", "run", "state", "dev F1"]


def curve_note(record: dict) -> str:
    points = record.get("points", [])
    finished = sum(p["state"] == "finished" for p in points)
    training = [p["run_id"] for p in points if p["state"] == "running"]
    waiting = sum(p["state"] == "queued" for p in points)
    parts = [f"**{record['curve_id']}** · {record.get('state')} · {finished} of {len(record.get('shares', []))} "
             "runs finished"]
    if training:
        parts.append(f"training: {training[0]}")
    if waiting:
        parts.append(f"{waiting} queued")
    failed = [p for p in points if p["state"] in ("failed", "cancelled", "deleted")]
    if failed:
        parts.append(f"{len(failed)} without a point ({', '.join(p['state'] for p in failed)}; see the runs table)")
    return " · ".join(parts)


def point_rows(record: dict) -> list[list]:
    types = record.get("types", [])
    return [[f"{100 * p['share']:g}%", p["train_sentences"], p["run_id"], p["state"],
             None if p["dev_f1"] is None else round(p["dev_f1"], 4),
             *[round(p["per_type"][t], 4) if t in p["per_type"] else None for t in types]]
            for p in record.get("points", [])]


def _view(record: dict | None):
    if record is None:
        return "No learning curve selected: start one, or pick one from the list.", learning_curve_figure(None), \
            gr.Dataframe(value=[], headers=POINT_HEADERS), gr.Timer(active=False)
    table = gr.Dataframe(value=point_rows(record), headers=POINT_HEADERS + list(record.get("types", [])))
    return curve_note(record), learning_curve_figure(record), table, gr.Timer(active=curve_active(record))


@friendly
def show_curve(curve_id: str | None):
    """Note, plot, points table and the timer (on while runs wait or train) of the chosen curve."""
    if not curve_id:
        return _view(None)
    if curve_id not in list_curves(runs_dir()):  # ids only, never paths
        raise ConfigError(f"no learning curve {curve_id!r} in the runs folder; pick one from the list")
    background.queue(runs_dir())  # notices a dead run (and moves the queue on) before its state is shown
    return _view(read_curve(curve_id, runs_dir()))


def curve_starter(config_cls: type = TrainConfig):
    """The handler of the curve button: one value per form field (``train_format.form_names``), then the shares."""
    names = tr.form_names(config_cls)

    @friendly
    def start_learning_curve(*values):
        if len(values) != len(names) + 1:
            raise gr.Error(f"start_learning_curve takes {len(names) + 1} values, one per form field "
                           f"({', '.join(names)}) and the shares; got {len(values)}")
        config = tr.config_from_form(dict(zip(names, values[:-1])), runs_dir(), config_cls)
        problem = tr.backbone_problem(config.backbone)
        if problem:
            raise gr.Error(problem)
        record = start_curve(config, values[-1], runs_dir())  # reads the data first: a bad upload is named here
        return (gr.Dropdown(choices=list_curves(runs_dir()), value=record["curve_id"]), *_view(record))

    return start_learning_curve


def build(demo: gr.Blocks, inputs: dict, config_cls: type = TrainConfig) -> None:
    """The learning-curve panel and its events, where it is called (inside the Train tab, after the form)."""
    with gr.Accordion("Learning curve: will more data help?", open=False):
        gr.Markdown("Trains the settings above on growing shares of the train sentences (the first N, so each "
                    "subset lies inside the next), one queued run per share, same seed. *Limit train sentences* "
                    "is the 100 % point. Then it plots dev F1 against the train size, overall and per type.")
        with gr.Row():
            shares = gr.Textbox(", ".join(f"{s:g}" for s in DEFAULT_SHARES), label="Shares of the train sentences",
                                elem_id="curve-shares")
            start = gr.Button("Train a learning curve", variant="secondary", elem_id="curve-start")
        pick = gr.Dropdown(choices=list_curves(runs_dir()), value=None, label="Learning curve",
                           allow_custom_value=True, elem_id="curve-pick")
        note = gr.Markdown(elem_id="curve-note")
        plot = gr.Plot(label="Dev F1 by train size", elem_id="curve-plot")
        points = gr.Dataframe(headers=POINT_HEADERS, value=[], label="Points", interactive=False, elem_id="curve-points")
        timer = gr.Timer(POLL_SECONDS, active=False)
    form = [inputs[name] for name in tr.form_names(config_cls)]
    view = [note, plot, points, timer]
    wire(start.click, curve_starter(config_cls), [*form, shares], [pick, *view], api_name="start_learning_curve",
         status=note, **SERIAL)
    pick.input(show_curve, pick, view, api_name="show_learning_curve", **LIGHT)
    timer.tick(show_curve, pick, view, api_name="poll_learning_curve", **LIGHT)
    demo.load(lambda: gr.Dropdown(choices=list_curves(runs_dir())), None, pick, api_name="load_learning_curves", **LIGHT)

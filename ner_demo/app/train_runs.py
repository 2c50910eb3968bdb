"""The Train tab's runs table: filters and sort above it, and the selected run's actions below it
(rename, tag, delete with a confirmation step).

The polling events of train.py keep writing every run to a hidden table (``feed``: their outputs stay
what API clients know); each change of it, and each change of a filter, redraws the table people see
from the runs folder, filtered and sorted by ``training.manage``. Actions name runs by id only.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Sequence

import gradio as gr

import ner_demo.app.train_format as tr
from ner_demo.app.common import LIGHT, friendly, runs_dir
from ner_demo.training import manage
from ner_demo.training.runs import ACTIVE_STATES, STATES, RunInfo, list_runs

VIEW_HEADERS = ["run", "name", "tags", "state", "engine", "backbone", "data", "started", "progress", "best dev F1",
                "error"]
STATE_CHOICES = [("any state", "all")] + [(s, s) for s in STATES]
SORT_CHOICES = [(label, key) for key, label in manage.SORTS.items()]


# ---- formatting (no gradio) ---------------------------------------------------------------------


def started(info: RunInfo) -> str:
    """When the run was created, from status.json ("2026-12-01T19:44:39" -> "2026-12-01 19:44")."""
    return info.created.replace("T", " ")[:16]


def view_rows(runs: Sequence[RunInfo]) -> list[list]:
    """One row per run, in the order given (``manage.select_runs`` sorted them)."""
    rows = []
    for r in runs:
        f1 = round(r.best_f1, 4) if r.best_f1 is not None and r.best_f1 >= 0 else None
        progress = f"{r.step}/{r.total_steps}" if r.total_steps else "-"
        rows.append([r.run_id, r.name, ", ".join(r.tags), r.state, r.engine, r.backbone, r.dataset, started(r),
                     progress, f1, (r.error or "")[:200]])
    return rows


def delete_question(info: RunInfo) -> str:
    """What the confirmation step asks, naming the run and what goes with it."""
    f1 = f", best dev F1 {info.best_f1:.4f}" if info.best_f1 is not None and info.best_f1 >= 0 else ""
    name = f" ({info.name})" if info.name else ""
    return (f"**Delete run `{info.run_id}`{html.escape(name)}?** It is {info.state}{f1}. Its folder goes: config, "
            "metrics, log, checkpoints and the best model. This cannot be undone.")


# ---- handlers -----------------------------------------------------------------------------------


def _info(run_id: str | None) -> RunInfo:
    runs = list_runs(runs_dir())
    known = tr.known_run(run_id, runs)  # ids of listed runs only: no paths, nothing outside the runs folder
    return next(r for r in runs if r.run_id == known)


def show_runs(state: str, text: str, sort: str) -> list[list]:
    """The table people see: the runs folder through the filters."""
    return view_rows(manage.select_runs(list_runs(runs_dir()), state=state, text=text, sort=sort))


@friendly
def fill_meta(run_id: str | None):
    """The selected run's name and tags in their boxes (empty when none is selected)."""
    if not run_id:
        return "", ""
    info = _info(run_id)
    return info.name, ", ".join(info.tags)


@friendly
def rename(run_id: str | None, name: str, state: str, text: str, sort: str):
    meta = manage.rename_run(_info(run_id).run_id, name or "", runs_dir())
    note = f"Run `{run_id}` is now called “{meta['name']}”." if meta["name"] else f"Run `{run_id}`: name cleared."
    return show_runs(state, text, sort), html.escape(note)


@friendly
def retag(run_id: str | None, tags: str, state: str, text: str, sort: str):
    meta = manage.tag_run(_info(run_id).run_id, tags or "", runs_dir())
    note = f"Run `{run_id}` tags: {', '.join(meta['tags']) or '(none)'}."
    return show_runs(state, text, sort), html.escape(note)


@friendly
def ask_delete(run_id: str | None):
    """The confirmation step: a question naming the run, and its Confirm button; refused at once for a
    run that trains or waits (the delete itself checks again, under the runs folder's lock)."""
    if not run_id:
        raise gr.Error("pick a run to delete from the Run list (or click its row in the table)")
    info = _info(run_id)
    if info.state in ACTIVE_STATES:
        raise manage.RunActiveError(f"run {info.run_id} is {'training' if info.state == 'running' else 'queued'}: "
                                    "it cannot be deleted now; cancel it first, then delete it once it has stopped")
    return gr.Group(visible=True), delete_question(info), info.run_id


@friendly
def confirm_delete(pending: str | None, state: str, text: str, sort: str):
    """Delete the run the question named (not whatever the Run list shows by now)."""
    deleted = manage.delete_run(_info(pending).run_id, runs_dir())
    ids = [r.run_id for r in reversed(list_runs(runs_dir()))]
    return (gr.Group(visible=False), "", "", gr.Dropdown(choices=ids, value=None), show_runs(state, text, sort),
            f"Deleted run `{deleted}`.")


def keep_run():
    return gr.Group(visible=False), "", ""


def pick_row(evt: gr.SelectData):
    """A click on a row of the table selects its run in the Run list."""
    row = evt.row_value or []
    return row[0] if row else gr.skip()


# ---- layout and events --------------------------------------------------------------------------


@dataclass
class RunsPanel:
    feed: gr.Dataframe  # the hidden table the polling events of train.py write
    selections: tuple  # events that set the Run list (a row clicked, a run deleted): train.py refreshes after each


def build(watched: gr.Dropdown) -> RunsPanel:
    """The runs table with its filters and actions on the run selected in ``watched``."""
    with gr.Row():
        state = gr.Dropdown(STATE_CHOICES, value="all", label="State", elem_id="runs-state", scale=1)
        text = gr.Textbox(label="Filter", placeholder="words of the id, name, tags, backbone or data",
                          elem_id="runs-filter", scale=3)
        sort = gr.Dropdown(SORT_CHOICES, value="newest", label="Sort", elem_id="runs-sort", scale=1)
    view = gr.Dataframe(headers=VIEW_HEADERS, label="Runs (click a row to select it)", interactive=False,
                        elem_id="runs-table")
    feed = gr.Dataframe(headers=tr.RUNS_HEADERS, label="Runs (all)", interactive=False, visible="hidden")
    with gr.Row():
        name = gr.Textbox(label="Name of the selected run", elem_id="runs-name", scale=2,
                          info="A display name; the run's id stays the same.")
        rename_button = gr.Button("Rename", size="sm", elem_id="runs-rename", scale=0)
        tags = gr.Textbox(label="Tags", placeholder="baseline, conll", elem_id="runs-tags", scale=2,
                          info="A comma list; saving replaces the old tags.")
        tag_button = gr.Button("Save tags", size="sm", elem_id="runs-tag", scale=0)
        delete_button = gr.Button("Delete run…", variant="stop", size="sm", elem_id="runs-delete", scale=0)
    with gr.Group(visible=False, elem_id="runs-confirm") as confirm:
        question = gr.Markdown(elem_id="runs-confirm-text")
        pending = gr.Textbox(visible="hidden", elem_id="runs-pending")
        with gr.Row():
            yes = gr.Button("Yes, delete it", variant="stop", elem_id="runs-confirm-delete")
            keep = gr.Button("Keep it", elem_id="runs-keep")
    message = gr.Markdown(elem_id="runs-message")

    view_inputs = [state, text, sort]
    for control in (state, sort):
        control.change(show_runs, view_inputs, view, api_visibility="private", **LIGHT)
    text.submit(show_runs, view_inputs, view, api_name="filter_runs", **LIGHT)
    text.change(show_runs, view_inputs, view, api_visibility="private", **LIGHT)
    feed.change(show_runs, view_inputs, view, api_visibility="private", **LIGHT)
    picked = view.select(pick_row, None, watched, api_visibility="private", **LIGHT)
    asking = [confirm, question, pending]
    watched.change(fill_meta, watched, [name, tags], api_visibility="private", **LIGHT)
    watched.change(keep_run, None, asking, api_visibility="private", **LIGHT)  # a question is about one run only
    quiet = {"api_visibility": "private", **LIGHT}
    # On a failure the toast names the problem; the line below the table must not still report the last success.
    rename_button.click(rename, [watched, name, *view_inputs], [view, message], api_name="rename_run",
                        **LIGHT).failure(lambda: "", None, message, **quiet)
    tag_button.click(retag, [watched, tags, *view_inputs], [view, message], api_name="tag_run",
                     **LIGHT).failure(lambda: "", None, message, **quiet)
    delete_button.click(ask_delete, watched, asking, api_name="ask_delete_run",
                        **LIGHT).failure(lambda: (gr.Group(visible=False), "", "", ""), None, [*asking, message],
                                         **quiet)
    keep.click(keep_run, None, asking, **quiet)
    deleted = yes.click(confirm_delete, [pending, *view_inputs], [*asking, watched, view, message],
                        api_name="delete_run", **LIGHT)
    deleted.failure(lambda: (gr.Group(visible=False), "", "", ""), None, [*asking, message], **quiet)
    return RunsPanel(feed, (picked, deleted))

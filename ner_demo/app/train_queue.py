"""The Train tab's queue: the runs that wait their turn, in order, and a control that takes one out.

Start queues a run when another trains (``background.start(queue=True)``); the watcher of each run
starts the next one when it ends, whether or not this page polls. This module only shows the queue
and cancels waiting runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from ner_demo.app.common import LIGHT, SERIAL, friendly, runs_dir, wire
from ner_demo.errors import ConfigError
from ner_demo.training import background

QUEUE_HEADERS = ["position", "run", "name", "queued at"]


@dataclass
class QueueView:
    table: gr.Dataframe
    pick: gr.Dropdown
    cancel: gr.Button
    note: gr.Markdown


def queue_rows() -> list[list]:
    """Position, run id, name, queued at: next first. Looking also notices a dead active run and starts the next."""
    _, entries = background.queue(runs_dir())
    return [[e.position, e.run_id, e.name, e.queued_at] for e in entries]


def refresh_queue(picked: str | None = None):
    rows = queue_rows()
    ids = [row[1] for row in rows]
    return rows, gr.Dropdown(choices=ids, value=picked if picked in ids else (ids[0] if ids else None))


@friendly
def cancel_queued(picked: str | None):
    """Take the picked run out of the queue (its state becomes cancelled; nothing was trained)."""
    ids = [row[1] for row in queue_rows()]
    if not picked or picked not in ids:  # ids only, never paths; and a run that has started is not in the queue
        raise ConfigError(f"run {picked!r} is not waiting in the queue; pick one from the queue's list"
                          if picked else "the queue is empty: there is no waiting run to cancel" if not ids
                          else "pick a queued run first")
    background.cancel_queued(picked, runs_dir())
    rows, pick = refresh_queue(None)
    return f"Run {picked} was taken out of the queue (cancelled before it started).", rows, pick


def build() -> QueueView:
    """The queue's layout, where it is called (inside the Train tab); :func:`wire_events` connects it."""
    with gr.Accordion("Queue: runs waiting their turn", open=True):
        table = gr.Dataframe(headers=QUEUE_HEADERS, value=[], label="Queue (the first starts when the training run "
                             "ends)", interactive=False, elem_id="train-queue")
        with gr.Row():
            # Custom values pass the component (API callers name runs by id); the handler accepts queued ids only.
            pick = gr.Dropdown(choices=[], value=None, label="Queued run", allow_custom_value=True,
                               elem_id="train-queue-pick")
            cancel = gr.Button("Cancel queued run", size="sm", elem_id="train-queue-cancel")
        note = gr.Markdown(elem_id="train-queue-note")
    return QueueView(table, pick, cancel, note)


def wire_events(demo: gr.Blocks, view: QueueView, timer: gr.Timer, after=()) -> None:
    """Refresh the queue on page load, on the Train tab's poll timer and after each event of ``after``
    (start, cancel, resume, refresh); the cancel button takes the picked run out."""
    outputs = [view.table, view.pick]
    demo.load(refresh_queue, view.pick, outputs, api_name="load_queue", **LIGHT)
    timer.tick(refresh_queue, view.pick, outputs, api_name="poll_queue", **LIGHT)
    for event in after:
        event.then(refresh_queue, view.pick, outputs, **LIGHT)
    wire(view.cancel.click, cancel_queued, view.pick, [view.note, *outputs], api_name="cancel_queued", status=view.note,
         **SERIAL)

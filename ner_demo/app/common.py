"""What every tab shares: the model cache, the runs folder, error handling (``friendly``) and event
wiring that clears a failed action's outputs (``wire``), and the model picker."""

from __future__ import annotations

import functools
import html
import os
import tempfile
from pathlib import Path

import gradio as gr

import ner_demo.app.messages as msg
from ner_demo.app.model_cache import ModelCache, initial_choice, model_choices
from ner_demo.app.tag_format import fresh_output_dir
from ner_demo.errors import NerDemoError

INFERENCE_CONCURRENCY = 4  # tagging requests served at once (they share the loaded model)
MODELS = ModelCache()
_OUT = Path(tempfile.gettempdir()) / "ner_demo_app"  # downloads; gradio copies them into its cache

# Event settings: inference runs concurrently, training one at a time; light events skip the queue.
INFER = {"concurrency_id": "inference", "concurrency_limit": INFERENCE_CONCURRENCY}
SERIAL = {"concurrency_id": "training", "concurrency_limit": 1}
LIGHT = {"queue": False, "show_progress": "hidden"}


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


def out_dir() -> Path:
    return fresh_output_dir(_OUT)


def picker_update():
    return gr.Dropdown(choices=model_choices(runs_dir()))


def model_name(choice: str) -> str:
    """The picker's label of ``choice`` (a run's or a shipped model's name), else ``choice`` itself."""
    labels = dict((value, label) for label, value in model_choices(runs_dir()))
    return labels.get(choice, choice)


def model_picker(label: str, elem_id: str) -> gr.Dropdown:
    return gr.Dropdown(
        choices=model_choices(runs_dir()), value=initial_choice(runs_dir()), label=label, allow_custom_value=True,
        info="The shipped default, the shipped fast model (3 layers: faster, a little less accurate; each model card has its figures), "
             "a finished run, or type a Hub id (needs internet) or a local model folder.",
        elem_id=elem_id,
    )

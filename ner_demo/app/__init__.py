"""ner_demo in the browser: the Gradio layer, one module per tab (Tag, Evaluate, Train, Data, Annotate).

Each tab module lays out its components and wires its own events (``build(demo)``); the logic lives in
``ner_demo`` and the formatting beside each tab, in ``*_format.py`` (pure functions, no gradio). Every
event has an ``api_name``, so everything the page does can also be called with ``gradio_client``.
This package is the only one that imports gradio, and no module outside it imports it.

    ner-demo-app [--host 127.0.0.1] [--port 7860] [--runs-dir runs] [--auth user:password] [--db URL]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import gradio as gr
from starlette.middleware import Middleware

from ner_demo.annotation.source import DB_ENV
from ner_demo.app import annotate, data, evaluate, tag, train
from ner_demo.app.common import INFERENCE_CONCURRENCY, MODELS, runs_dir
from ner_demo.app.login_page import HideApiFromLoginPage
from ner_demo.app.model_cache import DEFAULT_CHOICE, default_model_problem
from ner_demo.errors import NerDemoError

MAX_FILE_SIZE = "20mb"  # uploads: CoNLL-2003 train is 3.3 MB; batch files beyond this should use the CLI
MAX_SESSIONS = 100  # sessions whose state the server keeps (see launch): bounds its memory (a copy of the page's config each)

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



def build() -> gr.Blocks:
    """The whole app: a header, then each tab, which lays out and wires itself."""
    # Uploads and served copies of downloads live in gradio's cache: cleared hourly of day-old files.
    with gr.Blocks(title="ner_demo", delete_cache=(3600, 86400)) as demo:
        gr.Markdown("# ner_demo\nNamed-entity recognition: tag text, read evaluations, train models, browse data.")
        for tab in (tag, evaluate, train, data, annotate):
            tab.build(demo)
        tag.build_api()  # after the tabs: an endpoint between two tabs would start a second tab bar
    return demo


def launch(demo: gr.Blocks, host: str = "127.0.0.1", port: int | None = 7860, max_sessions: int = MAX_SESSIONS,
           **kwargs):
    """Queue and serving settings shared by ``main`` and the tests.

    ``max_sessions``: gradio keeps each session's state and a copy of the page's config for
    its last ``max_sessions`` sessions (it would keep 10,000), and every REST call without a session
    is a new one; beyond that the least recently used session's state is dropped. The login page and
    FastAPI's own schema route (``/openapi.json``) show nothing of the app (HideApiFromLoginPage).
    """
    demo.queue(default_concurrency_limit=INFERENCE_CONCURRENCY, max_size=64)
    return demo.launch(
        server_name=host, server_port=port, max_file_size=MAX_FILE_SIZE, allowed_paths=[], show_error=True,
        css=CSS, theme=gr.themes.Soft(), ssr_mode=False, footer_links=["api"], state_session_capacity=max_sessions,
        app_kwargs={"openapi_url": None, "middleware": [Middleware(HideApiFromLoginPage)]}, **kwargs,
    )


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
    parser.add_argument("--db", default=os.environ.get(DB_ENV), metavar="URL",
                        help="the Annotate tab's database: a SQLite file or a URL such as postgresql://user@host/db "
                             f"(default: ${DB_ENV}, else annotations.sqlite3 in the runs folder)")
    args = parser.parse_args(argv)
    auth = parse_auth(args.auth)
    if auth is None and args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: serving on {args.host} without --auth: anyone who can reach it can use it", flush=True)
    os.environ["NER_DEMO_RUNS"] = args.runs_dir  # read by runs_dir(), and inherited by training processes
    # The annotation database, for the Annotate tab and for training runs on annotation:<name> alike.
    os.environ[DB_ENV] = args.db or str(Path(args.runs_dir) / "annotations.sqlite3")
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

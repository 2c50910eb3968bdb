"""The Annotate tab's handlers: datasets, pre-annotation, export and review (the editor's are
:mod:`ner_demo.app.annotate_editor`'s). Each is thin: the work is :mod:`ner_demo.annotation`'s, the HTML
:mod:`ner_demo.app.annotate_format`'s.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from pathlib import Path

import gradio as gr

import ner_demo.app.annotate_format as af
from ner_demo.annotation import review
from ner_demo.annotation.formats import export_conll, export_jsonl, labels_of, read_examples, split_examples
from ner_demo.annotation.preannotate import preannotate
from ner_demo.annotation.source import DB_ENV
from ner_demo.annotation.store import AnnotationStore, StoreError, database_url
from ner_demo.app.common import MODELS, friendly, model_name, out_dir, runs_dir
from ner_demo.app.messages import upload_name
from ner_demo.app.tag_format import label_types
from ner_demo.errors import NerDemoError

_STORES: dict[str, AnnotationStore] = {}
_LOCK = threading.Lock()


def database() -> str:
    """The app's annotation database: ``--db`` / ``$NER_DEMO_ANNOTATION_DB``, else a SQLite file in the
    runs folder (where training runs started from the app look for it too)."""
    return os.environ.get(DB_ENV) or str(runs_dir() / "annotations.sqlite3")


def store() -> AnnotationStore:
    """One open store per database URL, shared by every session (its connections are pooled)."""
    url = database_url(database())
    with _LOCK:
        if url not in _STORES:
            _STORES[url] = AnnotationStore.open(url)
        return _STORES[url]


def annotator_name(typed: str | None, request: gr.Request | None) -> str:
    """The logged-in user's name when there is a login, else the name typed in the Annotator box."""
    user = getattr(request, "username", None) if request is not None else None
    name = (user or typed or "").strip()
    if not name:
        raise StoreError("type your name in the Annotator box first: every decision is stored under it")
    return name


# ---- datasets ---------------------------------------------------------------------------------------


def annotation_choices() -> list[tuple[str, str]]:
    """The Train tab's choices for the annotation datasets: ``annotation:<name>``, with the database
    named when the app uses its default file (a training process does not know the runs folder's)."""
    try:
        names = [i.name for i in store().list_datasets()]
    except NerDemoError:
        return []  # the Annotate tab says why the database cannot open; the Train tab keeps its other data
    where = "" if os.environ.get(DB_ENV) else f"@{database()}"
    return [(f"annotation dataset {name} (Annotate tab)", f"annotation:{name}{where}") for name in names]


def dataset_update(value: str | None = None):
    names = [i.name for i in store().list_datasets()]
    return gr.Dropdown(choices=names, value=value if value in names else (names[0] if names else None))


def dataset_table() -> list[list]:
    st = store()
    infos = st.list_datasets()
    return af.dataset_rows(infos, {i.name: len(st.final_spans(i.name)) for i in infos})


@friendly
def refresh(current: str | None):
    return dataset_update(current), dataset_table(), f"Database: {database_line()}"


def database_line() -> str:
    """Which database the tab uses, without the server's folders or a password."""
    st = store()
    if st.engine.url.get_backend_name() == "sqlite":
        return f"SQLite file {Path(st.engine.url.database or ':memory:').name} (schema version {st.version})"
    return st.describe()


def _label_set(kind: str, model_choice: str | None, custom: str, items) -> list:
    if kind == "custom":
        return af.parse_labels(custom)
    if kind == "model":
        return label_types(MODELS.tagger(model_choice).labels)
    found = labels_of(items)
    if not found:
        raise StoreError("the file has no spans to take types from: pick the model's types or name your own")
    return found


@friendly
def create(name: str, source_kind: str, upload: str | None, split_dataset: str, split: str, limit: float | None,
           label_kind: str, model_choice: str | None, custom: str, as_suggestions: bool):
    """A new dataset from an upload or an existing split, with its label set."""
    if source_kind == "upload":
        if not upload:
            raise gr.Error("Upload a .txt, .jsonl or .conll file first.")
        source = upload_name(upload)
        items = read_examples(upload, source)
    else:
        items, source = split_examples((split_dataset or "").strip(), split, int(limit) if limit else None)
    labels = _label_set(label_kind, model_choice, custom, items)
    keep = set(labels if isinstance(labels[0], str) else [s.name for s in labels])
    if label_kind != "file":  # the model's or the user's types: spans of other types are not annotations of them
        items = [dataclasses.replace(i, spans=[s for s in i.spans if s.label in keep]) if i.spans is not None else i
                 for i in items]
    info = store().create_dataset(name, labels, items, source, spans_as_suggestions=source if as_suggestions else None)
    note = f"Created **{info.name}**: {info.n_examples} examples, labels {', '.join(info.label_names)}."
    return note, dataset_update(info.name), dataset_table()


@friendly
def rename(current: str | None, new: str):
    if not current:
        raise gr.Error("Pick a dataset to rename.")
    store().rename_dataset(current, new)
    return f"Renamed **{current}** to **{new.strip()}**.", dataset_update(new.strip()), dataset_table()


@friendly
def delete(current: str | None, confirmed: bool):
    if not current:
        raise gr.Error("Pick a dataset to delete.")
    if not confirmed:
        raise gr.Error(f"Tick 'Yes, delete it' to delete {current!r} with all its decisions: it cannot be undone.")
    store().delete_dataset(current)
    return f"Deleted **{current}** and its decisions.", dataset_update(None), dataset_table(), False


@friendly
def run_preannotate(name: str | None, model_choice: str | None, progress=gr.Progress()):
    if not name:
        raise gr.Error("Pick a dataset to pre-annotate.")
    tagger = MODELS.tagger(model_choice)
    label = model_name(model_choice)
    count = preannotate(store(), name, tagger, label, progress=lambda d, t: progress(d / max(t, 1), desc="tagging"))
    return f"**{label}** suggested spans for {count} examples of **{name}** (marked as suggestions)."


def model_updates(name: str | None):
    """The models that pre-annotated ``name`` (queue choices) and the review sides (annotators, models)."""
    if not name:
        return gr.Dropdown(choices=[], value=None), gr.Dropdown(choices=[], value=None), \
            gr.Dropdown(choices=[], value=None), gr.Dropdown(choices=[], value=None)
    st = store()
    models = st.models(name)
    sides = st.annotators(name) + [review.MODEL_PREFIX + m for m in models]
    return (gr.Dropdown(choices=models, value=models[-1] if models else None),
            gr.Dropdown(choices=models, value=models[0] if len(models) > 1 else None),
            gr.Dropdown(choices=sides, value=sides[0] if sides else None),
            gr.Dropdown(choices=sides, value=sides[1] if len(sides) > 1 else None))


# ---- export and review ----------------------------------------------------------------------------------


@friendly
def export(name: str | None, fmt: str, snap: bool):
    if not name:
        raise gr.Error("Pick a dataset to export.")
    path = out_dir() / f"{name.replace('/', '_')}.{fmt}"
    count = (export_conll(store(), name, path, snap) if fmt == "conll" else export_jsonl(store(), name, path))
    stats = store().stats(name)
    return str(path), f"Exported {count} annotated examples of {stats['examples']} ({fmt})."


@friendly
def compare(name: str | None, a: str | None, b: str | None):
    if not name or not a or not b:
        raise gr.Error("Pick a dataset and two sides (annotators, or model:<name>) to compare.")
    left, right = review.side_spans(store(), name, a), review.side_spans(store(), name, b)
    rows = af.agreement_rows(review.agreement(left, right))
    return rows, af.diff_html(review.diff(left, right), store().texts(name), a, b)


@friendly
def resolve(name: str | None, a: str | None, b: str | None, prefer: str):
    if not name or not a or not b:
        raise gr.Error("Pick a dataset and two sides to resolve.")
    left, right = review.side_spans(store(), name, a), review.side_spans(store(), name, b)
    choices = {r.position: prefer for r in review.diff(left, right) if not r.agrees}
    count = review.store_resolution(store(), name, review.resolve(left, right, choices), note=f"{a} vs {b}: {prefer}")
    side = a if prefer == "a" else b
    return f"Resolved {count} examples into the final version ({len(choices)} disagreements: took {side}'s)."

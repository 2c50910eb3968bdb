"""The Annotate tab's handlers: datasets, pre-annotation, the editor's edits and decisions, export and
review. Each is thin: the work is :mod:`ner_demo.annotation`'s, the HTML :mod:`ner_demo.app.annotate_format`'s.

The editor's actions come as event data (``evt._data``: the item's dataset, position and spans as the
page shows them, and what to do). Every edit is checked with :mod:`ner_demo.annotation.edits`; one that
is refused comes back as the same item with the reason, in words, where the page shows messages. Every
decision is committed to the store before the next item is shown.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from pathlib import Path

import gradio as gr

import ner_demo.app.annotate_format as af
from ner_demo.annotation import review
from ner_demo.annotation.edits import (
    Span, SpanError, add_span, check_spans, label_occurrences, relabel_span, remove_span, resize_span,
)
from ner_demo.annotation.formats import example_words, export_conll, export_jsonl, labels_of, read_examples, split_examples
from ner_demo.annotation.preannotate import preannotate
from ner_demo.annotation.queue import queue_order
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


# ---- the editor ---------------------------------------------------------------------------------------


def item_state(name: str, position: int, annotator: str, message: str = "", error: bool = False, seq: int = 0,
               spans: list[Span] | None = None, base: list[Span] | None = None) -> af.EditorState:
    """Item ``position`` as ``annotator`` sees it: their stored spans, else the suggestion (or the
    page's ``spans``/``base`` while they edit)."""
    st = store()
    info = st.dataset(name)
    ex = st.example(name, position)
    current, source = st.current_spans(name, position, annotator)
    mine = st.latest(name, annotator, position).get(position)
    suggestion = st.suggestions(name, position=position).get(position)
    shown = current if base is None else base
    suggested = suggestion.spans if suggestion is not None and suggestion.spans == shown else []
    return af.EditorState(
        name, position, ex.text, example_words(ex.text, ex.tokens), current if spans is None else spans, shown,
        info.labels, suggested, suggestion.suggested_by if suggested else None, mine.action if mine else None,
        ex.source_id, len(st.decided_positions(name, annotator)), info.n_examples, message, error, seq)


def _next_view(name: str, annotator: str, order: list[int] | None, message: str, seq: int) -> str:
    st = store()
    position = st.next_position(name, annotator, order)
    if position is None:
        total = st.dataset(name).n_examples
        return af.done_html(name, f"{message} All {total} items of {name!r} are answered: export them below, "
                                  "or press b to go back to one.".strip(), seq)
    return af.editor_html(item_state(name, position, annotator, message, seq=seq))


@friendly
def start(name: str | None, order: str, diversity: bool, model: str | None, other: str | None,
          review_list: str | None, typed: str, request: gr.Request):
    """The queue's order for this session, and its first item."""
    if not name:
        raise gr.Error("Pick a dataset first (or create one above).")
    annotator = annotator_name(typed, request)
    positions = None if order == "order" else queue_order(
        store(), name, order, annotator, model or None, other or None, diversity, review_list or None)
    return positions, _next_view(name, annotator, positions, "", 0)


def _payload(evt: gr.EventData) -> dict:
    data = getattr(evt, "_data", None)
    if not isinstance(data, dict) or not isinstance(data.get("dataset"), str):
        raise StoreError("the page sent no item; press Start again")
    return data


def _seq(data: dict) -> int:
    seq = data.get("seq")
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else 0


def apply_edit(name: str, annotator: str, data: dict) -> tuple[list[Span], str]:
    """The item's spans after the edit the page asked for (checked), and what to say about it."""
    position = af.request_int(data, "position")
    st = store()
    ex = st.example(name, position)
    text, words, names = ex.text, example_words(ex.text, ex.tokens), st.dataset(name).label_names
    spans = check_spans(text, af.request_spans(data), names)
    op = data.get("op")
    target = Span.from_dict(data["target"]) if isinstance(data.get("target"), dict) else None
    if op == "add":
        new = add_span(text, spans, af.request_int(data, "start"), af.request_int(data, "end"), str(data.get("label")),
                       labels=names, words=words)
        added = next(s for s in new if s not in spans)
        return new, f"added {text[added.start:added.end]!r} as {added.label}"
    if target is None and op in ("relabel", "remove", "resize", "all"):
        raise SpanError("select a span first (click it, or Tab)")
    if op == "relabel":
        return relabel_span(text, spans, target, str(data.get("label")), names), f"relabelled as {data.get('label')}"
    if op == "remove":
        return remove_span(text, spans, target), f"removed {text[target.start:target.end]!r}"
    if op == "resize":
        new = resize_span(text, spans, target, af.request_int(data, "start"), af.request_int(data, "end"),
                          labels=names, words=words)
        return new, "resized"
    if op == "set":
        return check_spans(text, af.request_spans(data, "spans_new"), names), "undid the last edit"
    if op == "all":
        form = text[target.start:target.end]
        totals = st.label_all_occurrences(name, form, target.label, annotator)
        new = label_occurrences(text, spans, form, target.label).spans
        return new, (f"labelled {form!r} as {target.label} in {totals['examples']} other stored examples "
                     f"({totals['added']} added, {totals['relabelled']} relabelled, {totals['skipped']} left: they "
                     "overlap another span)")
    raise SpanError(f"unknown edit {op!r}; reload the page")


def edit(typed: str, evt: gr.EventData, request: gr.Request) -> str:
    """An edit of the shown item: the editor with the new spans, or with the reason it was refused."""
    try:
        data = _payload(evt)
    except NerDemoError as exc:
        return af.done_html(None, f"⚠️ {exc}", 0)
    seq = _seq(data)
    try:
        name, annotator = data["dataset"], annotator_name(typed, request)
        position = af.request_int(data, "position")
        base = af.request_spans(data, "base")
    except NerDemoError as exc:
        return af.done_html(data["dataset"], f"⚠️ {exc}", seq)
    try:
        spans, message = apply_edit(name, annotator, data)
        return af.editor_html(item_state(name, position, annotator, message, seq=seq, spans=spans, base=base))
    except NerDemoError as exc:
        try:
            kept = af.request_spans(data)
            return af.editor_html(item_state(name, position, annotator, f"⚠️ {exc}", True, seq, kept, base))
        except NerDemoError:
            return af.editor_html(item_state(name, position, annotator, f"⚠️ {exc}", True, seq))


def apply_decision(name: str, annotator: str, data: dict, order: list[int] | None) -> str:
    st = store()
    action, position, seq = data.get("action"), data.get("position"), _seq(data)
    if action == "undo":
        undone = st.undo(name, annotator)
        if undone is None:
            raise StoreError("nothing to undo: you have no decisions in this dataset")
        return af.editor_html(item_state(name, undone.position, annotator, f"undid your {undone.action} of item "
                                                                           f"{undone.position}", seq=seq))
    if action == "back":
        history = list(dict.fromkeys(d.position for d in st.decisions(name, annotator)))
        earlier = af.previous_position(history, position)
        if earlier is None:
            raise StoreError("there is no earlier item: this is the first one you answered")
        return af.editor_html(item_state(name, earlier, annotator, "an earlier item: answer it again to change it",
                                         seq=seq))
    if position is None:
        raise StoreError("every item is answered: press b to go back to one, or u to undo")
    position = af.request_int(data, "position")
    if action not in ("accept", "reject", "skip"):
        raise StoreError(f"unknown action {action!r}; reload the page")
    spans, base = af.request_spans(data), af.request_spans(data, "base")
    if action == "accept" and spans != base:
        action = "edit"
    suggestion = st.suggestions(name, position=position).get(position)
    st.record(name, position, annotator, action, spans if action in ("accept", "edit") else [],
              suggestion.suggested_by if suggestion else None, suggestion.model_version if suggestion else None)
    return _next_view(name, annotator, order, f"saved: {action} of item {position}.", seq)


def decide(typed: str, order: list[int] | None, evt: gr.EventData, request: gr.Request) -> str:
    """A decision (accept, reject, skip, undo, back): stored, then the next (or the asked) item."""
    try:
        data = _payload(evt)
        name, annotator = data["dataset"], annotator_name(typed, request)
    except NerDemoError as exc:
        return af.done_html(None, f"⚠️ {exc}", 0)
    try:
        return apply_decision(name, annotator, data, order)
    except NerDemoError as exc:
        position = data.get("position")
        if isinstance(position, int) and not isinstance(position, bool):
            try:
                kept, base = af.request_spans(data), af.request_spans(data, "base")
            except NerDemoError:
                kept = base = None
            return af.editor_html(item_state(name, position, annotator, f"⚠️ {exc}", True, _seq(data), kept, base))
        return af.done_html(name, f"⚠️ {exc}", _seq(data))


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

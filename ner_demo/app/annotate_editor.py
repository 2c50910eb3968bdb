"""The Annotate tab's span editor on the server: the first item of a session, each edit (checked, then
saved as the item's draft), each decision (committed, then the next item), and the next item ahead of
time, so the page can show it at once.

The page (:mod:`ner_demo.app.annotate_js`) applies an edit or shows the next item as soon as a key is
pressed, then sends it here through the editor's server functions (``gr.HTML(server_functions=...)``:
one HTTP request each, no queue); it sends one at a time, in the order the keys were pressed, and rolls
back to what the answer says when one is refused. The server stays the source of truth: what it answers
is what the store holds.

:func:`start` opens an editor session: the annotator (the login's user name when there is a login, else
the typed name) and the queue's order, behind a random token that the page sends back with each action.
A session also numbers the actions (``seq``): one that arrives out of order is refused, not applied.
Two sessions (two browser tabs) on the same item each send their own spans: the store keeps both
decisions, and the latest counts, as for any two decisions (:mod:`ner_demo.annotation.store`).
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import gradio as gr

import ner_demo.app.annotate_format as af
from ner_demo.annotation.edits import (
    Span, SpanError, add_span, check_spans, label_occurrences, relabel_span, remove_span, resize_span,
)
from ner_demo.annotation.formats import example_words
from ner_demo.annotation.queue import queue_order
from ner_demo.annotation.store import StoreError
from ner_demo.app.annotate_actions import annotator_name, store
from ner_demo.app.common import friendly
from ner_demo.errors import NerDemoError

MAX_SESSIONS = 1000  # the oldest editor sessions are forgotten past this (their pages are told to press Start)


@dataclass
class EditorSession:
    name: str
    annotator: str
    order: list[int] | None
    seq: int = 0  # the last action's number
    lock: threading.Lock = field(default_factory=threading.Lock)


_SESSIONS: OrderedDict[str, EditorSession] = OrderedDict()
_SESSIONS_LOCK = threading.Lock()


def open_session(name: str, annotator: str, order: list[int] | None) -> str:
    token = secrets.token_urlsafe(16)
    with _SESSIONS_LOCK:
        _SESSIONS[token] = EditorSession(name, annotator, order)
        while len(_SESSIONS) > MAX_SESSIONS:
            _SESSIONS.popitem(last=False)
    return token


def session_of(data: dict) -> tuple[str, EditorSession]:
    token = data.get("token") if isinstance(data, dict) else None
    with _SESSIONS_LOCK:
        found = _SESSIONS.get(token) if isinstance(token, str) else None
        if found is not None:
            _SESSIONS.move_to_end(token)
    if found is None:
        raise StoreError("this editor's session is over (the server restarted, or it was opened long ago): "
                         "press Start again; what you saved is kept")
    return token, found


# ---- the item as the editor shows it --------------------------------------------------------------------


def item_state(name: str, position: int, annotator: str, message: str = "", error: bool = False, seq: int = 0,
               spans: list[Span] | None = None, base: list[Span] | None = None, token: str = "",
               also_done: int = 0) -> af.EditorState:
    """Item ``position`` as ``annotator`` sees it: their draft, else their stored spans, else the
    suggestion (or the page's ``spans``/``base``); ``base`` is what accepting it unchanged would store."""
    st = store()
    info = st.dataset(name)
    ex = st.example(name, position)
    current, _ = st.current_spans(name, position, annotator)
    mine = st.latest(name, annotator, position).get(position)
    draft = st.draft(name, position, annotator) if spans is None else None
    if draft is not None and not message:
        message = "your edits since the last answer (saved as a draft): Enter accepts them"
    shown = current if base is None else base
    suggestion = st.suggestions(name, position=position).get(position)
    suggested = suggestion.spans if suggestion is not None and suggestion.spans == shown else []
    spans = spans if spans is not None else (draft.spans if draft is not None else current)
    return af.EditorState(
        name, position, ex.text, example_words(ex.text, ex.tokens), spans, shown,
        info.labels, suggested, suggestion.suggested_by if suggested else None, mine.action if mine else None,
        ex.source_id, len(st.decided_positions(name, annotator)) + also_done, info.n_examples, message, error, seq,
        token)


def _next_view(session: EditorSession, token: str, message: str, seq: int) -> str:
    st = store()
    position = st.next_position(session.name, session.annotator, session.order)
    if position is None:
        total = st.dataset(session.name).n_examples
        return af.done_html(session.name, f"{message} All {total} items of {session.name!r} are answered: export "
                                          "them below, or press b to go back to one.".strip(), seq, token)
    return af.editor_html(item_state(session.name, position, session.annotator, message, seq=seq, token=token))


@friendly
def start(name: str | None, order: str, diversity: bool, model: str | None, other: str | None,
          review_list: str | None, typed: str, request: gr.Request):
    """A new editor session (the queue's order, the annotator) and its first item."""
    if not name:
        raise gr.Error("Pick a dataset first (or create one above).")
    annotator = annotator_name(typed, request)
    positions = None if order == "order" else queue_order(
        store(), name, order, annotator, model or None, other or None, diversity, review_list or None)
    session_token = open_session(name, annotator, positions)
    return _next_view(_SESSIONS[session_token], session_token, "", 0)


# ---- edits ------------------------------------------------------------------------------------------------


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


def _in_order(session: EditorSession, data: dict) -> int:
    """The action's number, after checking it follows the session's last one (else it is refused)."""
    seq = data.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq <= session.seq:
        raise StoreError(f"an action arrived out of order (number {seq!r} after {session.seq}); it was not applied: "
                         "the editor shows what is saved")
    session.seq = seq
    return seq


def _edit(token: str, session: EditorSession, data: dict) -> dict:
    name, annotator = session.name, session.annotator
    position = af.request_int(data, "position")
    try:
        seq = _in_order(session, data)
        base = af.request_spans(data, "base")
        spans, message = apply_edit(name, annotator, data)
        store().save_draft(name, position, annotator, spans)
    except NerDemoError as exc:
        try:
            kept, base = af.request_spans(data), af.request_spans(data, "base")
        except NerDemoError:
            kept = base = None
        state = item_state(name, position, annotator, f"⚠️ not saved: {exc}", True, session.seq, kept, base, token)
        return {"ok": False, "html": af.editor_html(state)}
    return {"ok": True, "html": af.editor_html(item_state(name, position, annotator, message, seq=seq, spans=spans,
                                                          base=base, token=token))}


def _failure(exc: Exception) -> dict:
    return {"ok": False, "html": af.done_html(None, f"⚠️ {exc}", 0)}


def editor_edit(data: dict) -> dict:
    """An edit of the shown item (the page's server function): ``{"ok", "html"}``, the editor with the
    new spans, saved as the item's draft, or with the reason it was refused and the spans as saved."""
    try:
        token, session = session_of(data)
        with session.lock:
            return _edit(token, session, data)
    except NerDemoError as exc:
        return _failure(exc)


# ---- decisions --------------------------------------------------------------------------------------------


def apply_decision(token: str, session: EditorSession, data: dict) -> str:
    st, name, annotator = store(), session.name, session.annotator
    action, position = data.get("action"), data.get("position")
    seq = _in_order(session, data)
    if action == "undo":
        undone = st.undo(name, annotator)
        if undone is None:
            raise StoreError("nothing to undo: you have no decisions in this dataset")
        return af.editor_html(item_state(name, undone.position, annotator, f"undid your {undone.action} of item "
                                                                           f"{undone.position}", seq=seq, token=token))
    if action == "back":
        history = list(dict.fromkeys(d.position for d in st.decisions(name, annotator)))
        earlier = af.previous_position(history, position)
        if earlier is None:
            raise StoreError("there is no earlier item: this is the first one you answered")
        return af.editor_html(item_state(name, earlier, annotator, "an earlier item: answer it again to change it",
                                         seq=seq, token=token))
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
    return _next_view(session, token, f"saved: {action} of item {position}.", seq)


def _decide(token: str, session: EditorSession, data: dict) -> dict:
    try:
        return {"ok": True, "html": apply_decision(token, session, data)}
    except NerDemoError as exc:
        position = data.get("position")
        if isinstance(position, int) and not isinstance(position, bool):
            try:
                kept, base = af.request_spans(data), af.request_spans(data, "base")
            except NerDemoError:
                kept = base = None
            state = item_state(session.name, position, session.annotator, f"⚠️ not saved: {exc}", True, session.seq,
                               kept, base, token)
            return {"ok": False, "html": af.editor_html(state)}
        return {"ok": False, "html": af.done_html(session.name, f"⚠️ {exc}", session.seq, token)}


def editor_decide(data: dict) -> dict:
    """A decision (accept, reject, skip, undo, back; the page's server function): committed, then
    ``{"ok", "html"}`` with the next (or the asked) item, or the reason it was refused."""
    try:
        token, session = session_of(data)
        with session.lock:
            return _decide(token, session, data)
    except NerDemoError as exc:
        return _failure(exc)


def editor_next(data: dict) -> dict:
    """The item that follows the shown one once it is answered (accept, reject or skip), ahead of the
    answer: ``{"ok", "html"}``; the page shows it the moment the key is pressed. Nothing is stored."""
    try:
        token, session = session_of(data)
        position = af.request_int(data, "position")
        st = store()
        decided = st.decided_positions(session.name, session.annotator)
        candidates = session.order if session.order is not None else range(st.dataset(session.name).n_examples)
        following = next((p for p in candidates if p not in decided and p != position), None)
        also = 0 if position in decided else 1
        if following is None:
            total = st.dataset(session.name).n_examples
            html = af.done_html(session.name, f"All {total} items of {session.name!r} are answered: export them "
                                              "below, or press b to go back to one.", 0, token)
        else:
            html = af.editor_html(item_state(session.name, following, session.annotator, token=token,
                                             also_done=also))
        return {"ok": True, "html": html}
    except NerDemoError as exc:
        return _failure(exc)


def editor_item(data: dict) -> dict:
    """Item ``position`` as it is saved (the page asks after a request got no answer): ``{"ok", "html"}``."""
    try:
        token, session = session_of(data)
        position = af.request_int(data, "position")
        return {"ok": True, "html": af.editor_html(item_state(session.name, position, session.annotator,
                                                              seq=session.seq, token=token))}
    except NerDemoError as exc:
        return _failure(exc)


SERVER_FUNCTIONS = [editor_edit, editor_decide, editor_next, editor_item]

"""The Annotate tab's pure parts: the editor's HTML (the item's words, its spans, the label bar and the
keys), the state the page sends back with each action, custom label sets, and the tab's tables.

The editor is a ``gr.HTML`` whose JavaScript (:mod:`ner_demo.app.annotate_js`) reads the state that
:func:`editor_html` embeds (``data-state``: the item's text, position, spans, the spans it was shown with,
the model's suggestion, the label set, the words' offsets, the editor session's token), shows each action
at once and sends it to the server functions of :mod:`ner_demo.app.annotate_editor`; the server checks
each one with :mod:`ner_demo.annotation.edits`, stores it and answers with a fresh editor. Spans are
character offsets, half-open, as everywhere in ner_demo.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from typing import Sequence

from ner_demo.annotation.edits import Span, SpanError, spans_from_dicts, spans_to_dicts
from ner_demo.annotation.store import PALETTE, DatasetInfo, LabelSpec, StoreError, label_specs
from ner_demo.spans import Word

# What the keys do, shown under the editor (the JavaScript implements exactly these).
KEYS = (
    ("1-9", "choose the label; with a selection or a selected span: label it"),
    ("select text", "add a span with the active label (snapped to whole words)"),
    ("← →, shift+← →", "move over words, select words with the keyboard"),
    ("click a span", "select it (Tab: the next span)"),
    ("Delete", "remove the selected span"),
    ("[ ]  { }", "widen the selected span by a word left, right; narrow it from the left, right"),
    ("o", "label every occurrence of the selected span's text in the dataset"),
    ("Enter / a", "accept"),
    ("x", "reject"),
    ("s", "skip"),
    ("u / ctrl+z", "undo"),
    ("b", "back to the previous item"),
)
# What the page shows is saved: the server rendered it from the store. The page's code changes it to
# "saving…" while its edits are on their way, and to "not saved" when one is refused.
SYNC_SAVED = '<span class="ann-sync" id="ann-sync" data-sync="saved" aria-live="polite">✓ saved</span>'
DATASET_HEADERS = ["dataset", "examples", "annotated", "labels", "source", "created"]
AGREEMENT_HEADERS = ["type", "both", "only A", "only B", "F1"]
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class EditorState:
    """One item as the editor shows it."""

    dataset: str
    position: int
    text: str
    words: list[Word]
    spans: list[Span]
    base: list[Span]  # the spans the item was shown with: accept when unchanged, edit when not
    labels: list[LabelSpec]
    suggested: list[Span] = field(default_factory=list)  # the model's suggestion, while not yet decided
    suggested_by: str | None = None
    decided: str | None = None  # this annotator's latest action on it, if any
    source_id: str | None = None
    done: int = 0
    total: int = 0
    message: str = ""
    error: bool = False
    seq: int = 0
    token: str = ""  # the editor session's (ner_demo.app.annotate_editor), sent back with each action


def parse_labels(text: str) -> list[LabelSpec]:
    """Custom types, one a line: ``NAME [#colour] [key]`` (commas work too); colours and keys 1-9 are
    given in order where left out.

    >>> [(s.name, s.colour, s.key) for s in parse_labels("DRUG #ff0000 d\\nDOSE")]
    [('DRUG', '#ff0000', 'd'), ('DOSE', '#56B4E9', '2')]
    """
    specs = []
    lines = [line.strip() for line in re.split(r"[\n,]", text or "") if line.strip()]
    for i, line in enumerate(lines):
        name, *rest = line.split()
        colour = next((r for r in rest if r.startswith("#")), PALETTE[i % len(PALETTE)])
        keys = [r for r in rest if not r.startswith("#")]
        if not _HEX.match(colour):
            raise StoreError(f"label {name!r}: colour {colour!r} is not a #rrggbb colour")
        if len(keys) > 1 or (keys and len(keys[0]) != 1):
            raise StoreError(f"label {name!r}: the key must be one character, got {' '.join(keys)!r}")
        key = keys[0] if keys else (str(i + 1) if i < 9 else None)
        if key in ("a", "b", "o", "s", "u", "x"):
            raise StoreError(f"label {name!r}: key {key!r} is taken by an action ({', '.join(k for k, _ in KEYS[-5:])})")
        specs.append(LabelSpec(name, colour, key))
    if not specs:
        raise StoreError("name at least one entity type, one a line: NAME [#colour] [key]")
    return label_specs(specs)


def request_spans(payload: dict, key: str = "spans") -> list[Span]:
    """The spans the page sent (a list of {start, end, label}); malformed ones raise ``SpanError``."""
    items = payload.get(key)
    if not isinstance(items, list):
        raise SpanError(f"the page sent no span list ({key!r}); reload the page")
    return spans_from_dicts(items)


def request_int(payload: dict, key: str) -> int:
    value = payload.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise SpanError(f"the page sent {key}={value!r}, not a whole number; reload the page")
    return value


def _state_json(state: EditorState) -> str:
    return json.dumps({
        "dataset": state.dataset, "position": state.position, "seq": state.seq, "token": state.token,
        "text": state.text, "spans": spans_to_dicts(state.spans), "base": spans_to_dicts(state.base),
        "suggested": spans_to_dicts(state.suggested), "words": [[w.start, w.end] for w in state.words],
        "labels": [{"name": s.name, "colour": s.colour, "key": s.key} for s in state.labels],
    }, ensure_ascii=False)


def _text_html(state: EditorState) -> str:
    """The text as word and gap elements, each with its offsets; spans wrap their words in a mark."""
    colours = {s.name: s.colour for s in state.labels}
    suggested = set(state.suggested)
    pieces: list[str] = []
    cut = 0

    def plain(start: int, end: int) -> None:
        # Words and the gaps between them each get their offsets, so a selection maps to characters.
        pos = start
        for w in state.words:
            if w.end <= start or w.start >= end:
                continue
            if w.start > pos:
                pieces.append(f'<span class="ann-gap" data-s="{pos}">{html.escape(state.text[pos:w.start])}</span>')
            s, e = max(w.start, start), min(w.end, end)
            pieces.append(f'<span class="ann-w" data-s="{s}" data-e="{e}">{html.escape(state.text[s:e])}</span>')
            pos = e
        if pos < end:
            pieces.append(f'<span class="ann-gap" data-s="{pos}">{html.escape(state.text[pos:end])}</span>')

    for span in sorted(state.spans):
        plain(cut, span.start)
        kind = "ann-suggested" if span in suggested else "ann-final"
        colour = colours.get(span.label, "#ddd")
        tag = f"{span.label} · suggested" if span in suggested else span.label
        pieces.append(f'<mark class="ann-span {kind}" data-s="{span.start}" data-e="{span.end}" '
                      f'data-label="{html.escape(span.label)}" style="background:{html.escape(colour)}">')
        plain(span.start, span.end)
        pieces.append(f'<span class="ann-tag" contenteditable="false">{html.escape(tag)}</span></mark>')
        cut = span.end
    plain(cut, len(state.text))
    return "".join(pieces)


def done_html(dataset: str | None, notice: str, seq: int = 0, token: str = "") -> str:
    """No item to show: ``notice`` says why. With ``dataset`` (the queue is done) the keys still go back
    (b) and undo (u)."""
    state = "null" if dataset is None else json.dumps({
        "dataset": dataset, "position": None, "seq": seq, "token": token, "spans": [], "base": [], "words": [],
        "labels": []})
    return (f'<div class="ann-editor ann-empty" data-state="{html.escape(state, quote=True)}">'
            f'<p id="ann-notice">{html.escape(notice)}</p>{SYNC_SAVED if dataset is not None else ""}</div>')


def editor_html(state: EditorState | None, notice: str = "") -> str:
    """The editor for one item, or ``notice`` when there is none (no dataset picked yet)."""
    if state is None:
        return done_html(None, notice or "Pick a dataset and press Start.")
    labels = "".join(
        f'<span class="ann-label" data-label="{html.escape(s.name)}" style="border-color:{html.escape(s.colour)}">'
        f'<kbd>{html.escape(s.key or "·")}</kbd> {html.escape(s.name)}</span>' for s in state.labels)
    origin = (f"suggested by {html.escape(state.suggested_by)} (dashed outline: a suggestion; accept, edit or reject it)"
              if state.suggested else "no suggestion" if not state.decided else "")
    decided = f" · your last answer: <b>{html.escape(state.decided)}</b>" if state.decided else ""
    where = html.escape(state.source_id or f"item {state.position}")
    message_class = "ann-message ann-error" if state.error else "ann-message"
    role = ' role="alert"' if state.error else ""
    keys = "".join(f"<li><kbd>{html.escape(k)}</kbd> {html.escape(v)}</li>" for k, v in KEYS)
    return (
        f'<div class="ann-editor" tabindex="0" data-state="{html.escape(_state_json(state), quote=True)}">'
        f'<div class="ann-head"><span id="ann-progress">{progress_line(state.done, state.total)}</span> · '
        f'<span id="ann-item">item {state.position} ({where})</span>{decided}'
        f'<span class="ann-origin"> · {origin}</span> · {SYNC_SAVED}</div>'
        f'<div class="ann-labels">{labels}</div>'
        f'<div class="ann-text" id="ann-text">{_text_html(state)}</div>'
        f'<div class="{message_class}" id="ann-message"{role}>{html.escape(state.message)}</div>'
        f'<details class="ann-keys" open><summary>Keys</summary><ul>{keys}</ul></details></div>'
    )


def progress_line(done: int, total: int) -> str:
    """The progress line: how many items this annotator answered, of all.

    >>> progress_line(3, 10)
    '3 of 10 done'
    """
    return f"{done} of {total} done"


def dataset_rows(infos: Sequence[DatasetInfo], annotated: dict[str, int]) -> list[list]:
    return [[i.name, i.n_examples, annotated.get(i.name, 0), ", ".join(i.label_names), i.source,
             i.created.strftime("%Y-%m-%d %H:%M")] for i in infos]


def agreement_rows(rows) -> list[list]:
    return [[r.label, r.both, r.only_a, r.only_b, round(r.f1, 4)] for r in rows]


def _spans_text(text: str, spans: Sequence[Span]) -> str:
    return ", ".join(f"{text[s.start:s.end]} ({s.label})" for s in spans) or "—"


def diff_html(rows, texts: dict[int, str], a: str, b: str, limit: int = 200) -> str:
    """Side by side, the examples where the two sides differ (first ``limit``)."""
    differing = [r for r in rows if not r.agrees]
    if not differing:
        return f"<p>{html.escape(a)} and {html.escape(b)} agree on every example both annotated.</p>"
    head = (f"<tr><th>item</th><th>text</th><th>both</th><th>only {html.escape(a)}</th>"
            f"<th>only {html.escape(b)}</th></tr>")
    body = "".join(
        f"<tr><td>{r.position}</td><td>{html.escape(texts.get(r.position, ''))}</td>"
        f"<td>{html.escape(_spans_text(texts.get(r.position, ''), r.both))}</td>"
        f"<td>{html.escape(_spans_text(texts.get(r.position, ''), r.only_a))}</td>"
        f"<td>{html.escape(_spans_text(texts.get(r.position, ''), r.only_b))}</td></tr>" for r in differing[:limit])
    more = f"<p>… and {len(differing) - limit} more.</p>" if len(differing) > limit else ""
    return f'<p>{len(differing)} examples differ.</p><table class="ann-diff">{head}{body}</table>{more}'


def previous_position(history: Sequence[int], current: int | None) -> int | None:
    """The item before ``current`` in the order the annotator first answered them (``history``); from
    an item not answered yet, the last one answered; None at the start.

    >>> previous_position([4, 1, 7], 1), previous_position([4, 1, 7], 9), previous_position([4], 4)
    (4, 7, None)
    """
    if current in history:
        i = list(history).index(current)
        return history[i - 1] if i > 0 else None
    return history[-1] if history else None


CSS = """
.ann-editor {outline: none; padding: 8px 2px}
.ann-head {font-size: 0.9em; opacity: 0.9; margin-bottom: 6px}
.ann-labels {display: flex; gap: 8px; flex-wrap: wrap; margin-bottom: 8px}
.ann-label {border: 2px solid; border-radius: 6px; padding: 2px 8px; cursor: pointer; user-select: none}
.ann-label.ann-active {background: var(--color-accent-soft); font-weight: 700}
.ann-text {font-size: 1.25em; line-height: 2.4; white-space: pre-wrap; padding: 10px; user-select: text;
           border: 1px solid var(--border-color-primary); border-radius: 8px; min-height: 3em}
.ann-span {padding: 0.15em 0.3em; border-radius: 0.35em; color: #111; cursor: pointer}
.ann-span.ann-suggested {outline: 2px dashed #333; outline-offset: 1px; opacity: 0.85}
.ann-span.ann-selected {outline: 3px solid #d55e00; outline-offset: 2px}
.ann-tag {font-size: 0.65em; font-weight: 700; margin-left: 0.4em; user-select: none}
.ann-w.ann-cursor {border-bottom: 3px solid var(--color-accent)}
.ann-w.ann-kbsel {background: #cde4ff}
.ann-sync {font-size: 0.9em; padding: 0 6px; border-radius: 4px}
.ann-sync[data-sync="saving"] {background: #fff3cd}
.ann-sync[data-sync="error"] {background: #d55e00; color: #fff; font-weight: 600}
.ann-message {min-height: 1.4em; margin-top: 6px}
.ann-message.ann-error {color: #d55e00; font-weight: 600}
.ann-keys ul {columns: 2; font-size: 0.85em; margin: 4px 0}
.ann-diff td, .ann-diff th {border: 1px solid var(--border-color-primary); padding: 2px 6px; vertical-align: top}
"""

"""Review: span-level agreement per type between two annotators (or an annotator and a model), a diff,
and the resolution into the final version.

Agreement is over the examples both sides annotated: a span agrees when the other side has the same
label over the same characters (exact match, as CoNLL scoring counts). Per type, and over all types,
it is the F1 of one side against the other, which is symmetric (swapping the sides swaps precision and
recall), together with the counts. Resolution writes decisions of the reviewer :data:`FINAL`: the
store's final version prefers them over anyone else's (:mod:`ner_demo.annotation.store`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from ner_demo.annotation.edits import Span
from ner_demo.annotation.store import FINAL, AnnotationStore, StoreError

MODEL_PREFIX = "model:"


@dataclass(frozen=True)
class Agreement:
    label: str
    both: int  # spans the two sides share
    only_a: int
    only_b: int

    @property
    def f1(self) -> float:
        total = 2 * self.both + self.only_a + self.only_b
        return 2 * self.both / total if total else 1.0

    def to_dict(self) -> dict:
        return {"label": self.label, "both": self.both, "only_a": self.only_a, "only_b": self.only_b,
                "f1": round(self.f1, 4)}


def agreement(a: Mapping[int, Sequence[Span]], b: Mapping[int, Sequence[Span]]) -> list[Agreement]:
    """Per type (sorted), then ``"all"``: shared and one-sided spans over the positions both annotated.

    >>> [x.to_dict()["f1"] for x in agreement({0: [Span(0, 4, "PER")]}, {0: [Span(0, 4, "PER"), Span(5, 9, "LOC")]})]
    [0.0, 1.0, 0.6667]
    """
    counts: dict[str, list[int]] = {}
    for position in sorted(set(a) & set(b)):
        left, right = set(a[position]), set(b[position])
        for span in left | right:
            row = counts.setdefault(span.label, [0, 0, 0])
            row[0 if span in left and span in right else 1 if span in left else 2] += 1
    rows = [Agreement(label, *counts[label]) for label in sorted(counts)]
    total = Agreement("all", sum(r.both for r in rows), sum(r.only_a for r in rows), sum(r.only_b for r in rows))
    return rows + [total]


@dataclass(frozen=True)
class DiffRow:
    position: int
    both: list[Span]
    only_a: list[Span]
    only_b: list[Span]

    @property
    def agrees(self) -> bool:
        return not self.only_a and not self.only_b


def diff(a: Mapping[int, Sequence[Span]], b: Mapping[int, Sequence[Span]]) -> list[DiffRow]:
    """Side by side, for each position either side annotated: shared spans and each side's own."""
    rows = []
    for position in sorted(set(a) | set(b)):
        left, right = set(a.get(position, ())), set(b.get(position, ()))
        rows.append(DiffRow(position, sorted(left & right), sorted(left - right), sorted(right - left)))
    return rows


def resolve(a: Mapping[int, Sequence[Span]], b: Mapping[int, Sequence[Span]],
            choices: Mapping[int, str | Sequence[Span]] | None = None) -> dict[int, list[Span]]:
    """The final spans per position: where the sides agree, their spans; where they differ, ``choices``
    says ``"a"``, ``"b"`` or gives the spans. A disagreement without a choice raises (naming positions):
    nothing is decided silently. A position only one side annotated takes that side's spans."""
    choices = dict(choices or {})
    out, open_positions = {}, []
    for row in diff(a, b):
        choice = choices.get(row.position)
        if choice == "a":
            out[row.position] = sorted(a.get(row.position, ()))
        elif choice == "b":
            out[row.position] = sorted(b.get(row.position, ()))
        elif choice is not None:
            out[row.position] = sorted(choice)
        elif row.agrees or row.position not in a or row.position not in b:
            out[row.position] = sorted(a.get(row.position, b.get(row.position, ())))
        else:
            open_positions.append(row.position)
    if open_positions:
        shown = ", ".join(map(str, open_positions[:10])) + (" ..." if len(open_positions) > 10 else "")
        raise StoreError(f"{len(open_positions)} examples disagree and have no choice: positions {shown}")
    return out


def side_spans(store: AnnotationStore, name: str, who: str) -> dict[int, list[Span]]:
    """An annotator's latest accepts and edits, or ``model:<name>``'s suggestions."""
    if who.startswith(MODEL_PREFIX):
        model = who[len(MODEL_PREFIX):]
        found = store.suggestions(name, model)
        if not found:
            raise StoreError(f"model {model!r} suggested nothing in {name!r} (models: {', '.join(store.models(name)) or 'none'})")
        return {p: d.spans for p, d in found.items()}
    latest = store.latest(name, who)
    if not latest:
        raise StoreError(f"annotator {who!r} decided nothing in {name!r} (annotators: "
                         f"{', '.join(store.annotators(name)) or 'none'})")
    return {p: d.spans for p, d in latest.items() if d.action in ("accept", "edit")}


def store_resolution(store: AnnotationStore, name: str, resolved: Mapping[int, Sequence[Span]],
                     reviewer: str = FINAL, note: str = "") -> int:
    """Write each resolved example as an ``edit`` by ``reviewer`` (:data:`FINAL`: the final version)."""
    for position, spans in sorted(resolved.items()):
        store.record(name, position, reviewer, "edit", spans, meta={"resolution": note} if note else None)
    return len(resolved)

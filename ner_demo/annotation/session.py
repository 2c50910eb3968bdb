"""One annotator working through one dataset: what the Annotate tab (or any front end) drives.

Example (a sketch, not run as a doctest: it needs a store with a dataset)::

    session = AnnotationSession(store, "news", "ann", order="margin", diversity=True)
    item = session.next_item()   # the first unanswered example of the queue, or None
    session.accept(item.spans)   # committed; then session.next_item() again
    session.undo()               # the last decision is gone; its example is asked again

The queue's order is computed once, when the session starts (or on :meth:`reorder`); each action is a
few indexed queries and one committed insert (bench/bench_annotation.py measures them). Any earlier
item can be opened again with :meth:`item` and answered anew: the latest decision counts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

from ner_demo.annotation.edits import Span
from ner_demo.annotation.queue import queue_order
from ner_demo.annotation.store import AnnotationStore, Decision, Example


@dataclass(frozen=True)
class Item:
    """An example as the annotator sees it: the spans to start from and where they came from."""

    example: Example
    spans: list[Span]
    source: Decision | None  # their own decision, a model's suggestion, the import, or None
    index: int  # place in the queue (0-based)
    total: int  # queue length

    @property
    def position(self) -> int:
        return self.example.position

    @property
    def suggested_by(self) -> str | None:
        return self.source.suggested_by if self.source is not None else None

    @property
    def model_version(self) -> str | None:
        return self.source.model_version if self.source is not None else None


class AnnotationSession:
    def __init__(self, store: AnnotationStore, name: str, annotator: str, order: str = "order",
                 model: str | None = None, other_model: str | None = None, diversity: bool = False,
                 review_list: str | os.PathLike | None = None):
        self.store, self.name, self.annotator = store, name, annotator
        self.labels = store.dataset(name).labels
        self._queue_args = dict(order=order, model=model, other_model=other_model, diversity=diversity,
                                review_list=review_list)
        self.reorder()

    def reorder(self) -> None:
        """Compute the queue again (after a new pre-annotation, say)."""
        self.order: list[int] = queue_order(self.store, self.name, annotator=self.annotator, **self._queue_args)
        self._index = {p: i for i, p in enumerate(self.order)}

    def item(self, position: int) -> Item:
        example = self.store.example(self.name, position)
        spans, source = self.store.current_spans(self.name, position, self.annotator)
        return Item(example, spans, source, self._index.get(position, -1), len(self.order))

    def next_item(self) -> Item | None:
        """The first example of the queue this annotator has not decided; None when all are."""
        position = self.store.next_position(self.name, self.annotator, self.order)
        return None if position is None else self.item(position)

    def _record(self, item: Item | int, action: str, spans: Sequence[Span] = ()) -> Decision:
        item = self.item(item) if isinstance(item, int) else item
        return self.store.record(self.name, item.position, self.annotator, action, spans,
                                 suggested_by=item.suggested_by, model_version=item.model_version)

    def accept(self, item: Item | int, spans: Sequence[Span] | None = None) -> Decision:
        """Accept the item's spans as shown (or ``spans``: the shown ones after edits count as an edit)."""
        item = self.item(item) if isinstance(item, int) else item
        if spans is None or sorted(spans) == sorted(item.spans):
            return self._record(item, "accept", item.spans)
        return self._record(item, "edit", spans)

    def edit(self, item: Item | int, spans: Sequence[Span]) -> Decision:
        return self._record(item, "edit", spans)

    def reject(self, item: Item | int) -> Decision:
        return self._record(item, "reject")

    def skip(self, item: Item | int) -> Decision:
        return self._record(item, "skip")

    def undo(self) -> Decision | None:
        """Remove this annotator's latest decision; its example comes back in the queue."""
        return self.store.undo(self.name, self.annotator)

    def progress(self) -> tuple[int, int]:
        """(decided, total) for this annotator."""
        return len(self.store.decided_positions(self.name, self.annotator)), len(self.order)

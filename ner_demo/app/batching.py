"""Requests that arrive together run as one batch, yet each gets its own answer or its own error.

The app's ``/entities`` endpoint is a gradio batch function: the requests that queue up together
come in as one list, and one Tagger call for all of them amortises both the model and gradio's
per-event cost (BENCHMARKS.md: the load test of ``/entities`` against the no-op). But gradio answers a batch that raises
with that one error for every request in it, so one client's bad request (a number, an over-cap
text) failed the others and showed them its message. :func:`isolated_batch` is the one place that
keeps them apart: each item is checked on its own; the good ones run as one call; if that call
raises anyway, each is run again alone, so an error reaches only the item that caused it. An item's
error is returned in its place as :class:`ItemError` (``{"error": message}`` in the API).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Sequence, TypeVar

from ner_demo.errors import NerDemoError

T = TypeVar("T")
R = TypeVar("R")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ItemError:
    """The error of one item of a batch, in the item's place."""

    message: str

    def to_dict(self) -> dict:
        return {"error": self.message}


def isolated_batch(fn: Callable[[list[T]], Sequence[R]], items: Sequence[T],
                   problem: Callable[[T], str | None]) -> list[R | ItemError]:
    """``fn`` on the items ``problem`` finds nothing wrong with, as one call; every other item, and
    every item that fails ``fn`` when run alone, gets its own :class:`ItemError`. Results keep the
    items' order.

    >>> def double(xs):
    ...     if "boom" in xs:
    ...         raise ValueError("boom")
    ...     return [x * 2 for x in xs]
    >>> isolated_batch(double, ["a", 3, "boom", "c"], lambda x: None if isinstance(x, str) else "not a string")
    ['aa', ItemError(message='not a string'), ItemError(message='this request failed (ValueError); the server log has the details'), 'cc']
    """
    results: list = [None] * len(items)
    good: list[tuple[int, T]] = []
    for i, item in enumerate(items):
        found = problem(item)
        if found is None:
            good.append((i, item))
        else:
            results[i] = ItemError(found)

    def run(group: list[tuple[int, T]]) -> None:
        try:
            answers = list(fn([item for _, item in group]))
            if len(answers) != len(group):
                raise RuntimeError(f"{len(answers)} results for {len(group)} items")
        except Exception as exc:  # noqa: BLE001 - isolated: each item alone, its own error
            if len(group) > 1:
                for one in group:
                    run([one])
                return
            results[group[0][0]] = ItemError(_message(exc))
            return
        for (i, _), answer in zip(group, answers):
            results[i] = answer

    if good:
        run(good)
    return results


def _message(exc: Exception) -> str:
    """ner_demo's own errors are written for the user; anything else is logged, not shown."""
    if isinstance(exc, NerDemoError):
        return str(exc)
    log.error("a batch item failed", exc_info=exc)
    return f"this request failed ({type(exc).__name__}); the server log has the details"

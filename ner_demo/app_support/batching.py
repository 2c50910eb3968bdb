"""Requests that arrive together run as one batch, yet each gets its own answer or its own error.

The app's ``/entities`` endpoint tags each request's text with one shared model. Running the texts
that queue up together as one Tagger call amortises the model; but a batch must never make one
client's bad request fail the others, nor show them its error. :class:`MicroBatcher` gives each
request a future: one worker thread takes whatever is waiting (up to ``max_batch``) and runs it as
one call; if that call raises, every request of the batch is run again alone, so the exception
reaches only the request that caused it.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Callable, Generic, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class MicroBatcher(Generic[T, R]):
    """Run ``fn`` (a list of items -> a list of results, in order) on batches of concurrent requests.

    >>> batcher = MicroBatcher(lambda xs: [x * 2 for x in xs], max_batch=8)
    >>> batcher.submit(21)
    42
    """

    def __init__(self, fn: Callable[[list[T]], Sequence[R]], max_batch: int, name: str = "micro-batcher"):
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self.fn = fn
        self.max_batch = max_batch
        self.name = name
        self._waiting: queue.SimpleQueue[tuple[T, Future]] = queue.SimpleQueue()
        self._start_lock = threading.Lock()
        self._worker: threading.Thread | None = None

    def submit(self, item: T) -> R:
        """``fn([item])[0]``, run in a batch with whatever else is waiting; raises what ``fn`` raised
        for this item alone."""
        future: Future = Future()
        self._waiting.put((item, future))
        self._ensure_worker()
        return future.result()

    def _ensure_worker(self) -> None:
        with self._start_lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name=self.name, daemon=True)
                self._worker.start()

    def _work(self) -> None:
        while True:
            batch = [self._waiting.get()]  # blocks until a request comes
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
            self._run(batch)

    def _run(self, batch: list[tuple[T, Future]]) -> None:
        try:
            results = list(self.fn([item for item, _ in batch]))
            if len(results) != len(batch):
                raise RuntimeError(f"{self.name}: {len(results)} results for {len(batch)} items")
        except Exception as exc:  # noqa: BLE001 - isolated below: each item alone, its own error
            if len(batch) == 1:
                batch[0][1].set_exception(exc)
                return
            for one in batch:
                self._run([one])
            return
        for (_, future), result in zip(batch, results):
            future.set_result(result)

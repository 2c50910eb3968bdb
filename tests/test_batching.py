"""MicroBatcher: concurrent requests run as one batch, yet each gets its own result or its own error."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ner_demo.app_support.batching import MicroBatcher


class Gate:
    """A batch function that holds its first call until released, so the next requests queue up."""

    def __init__(self):
        self.first_started, self.release = threading.Event(), threading.Event()
        self.calls: list[list] = []

    def __call__(self, items: list) -> list:
        self.calls.append(list(items))
        if len(self.calls) == 1:
            self.first_started.set()
            assert self.release.wait(60), "the test never released the first batch"
        if any(item == "bad" for item in items):
            raise ValueError("cannot double 'bad'")
        return [item * 2 for item in items]


def _queued(batcher: MicroBatcher, items: list, pool: ThreadPoolExecutor, gate: Gate) -> list:
    """Submit ``items`` while the first batch is held, so that they meet in the next batch."""
    first = pool.submit(batcher.submit, "x")
    assert gate.first_started.wait(60)
    futures = [pool.submit(batcher.submit, item) for item in items]
    deadline = time.monotonic() + 60  # a safety net only: the loop waits for a state, every request queued
    while batcher._waiting.qsize() < len(items):
        assert time.monotonic() < deadline, "the requests never queued up"
        time.sleep(0.01)
    gate.release.set()
    assert first.result(60) == "xx"
    return futures


def test_requests_that_wait_together_run_as_one_batch():
    gate = Gate()
    batcher = MicroBatcher(gate, max_batch=8)
    with ThreadPoolExecutor(8) as pool:
        futures = _queued(batcher, ["a", "b", "c"], pool, gate)
        assert [f.result(60) for f in futures] == ["aa", "bb", "cc"]
    assert sorted(gate.calls[1]) == ["a", "b", "c"]


def test_a_failing_request_fails_alone_and_the_others_get_their_results():
    gate = Gate()
    batcher = MicroBatcher(gate, max_batch=8)
    with ThreadPoolExecutor(8) as pool:
        futures = _queued(batcher, ["a", "bad", "c", "d"], pool, gate)
        results = {}
        for item, future in zip(["a", "bad", "c", "d"], futures):
            try:
                results[item] = future.result(60)
            except ValueError as exc:
                results[item] = f"error: {exc}"
    assert results == {"a": "aa", "bad": "error: cannot double 'bad'", "c": "cc", "d": "dd"}


def test_batches_are_capped_at_max_batch():
    gate = Gate()
    batcher = MicroBatcher(gate, max_batch=2)
    with ThreadPoolExecutor(8) as pool:
        futures = _queued(batcher, ["a", "b", "c", "d", "e"], pool, gate)
        assert sorted(f.result(60) for f in futures) == ["aa", "bb", "cc", "dd", "ee"]
    assert max(len(call) for call in gate.calls) == 2


def test_a_wrong_number_of_results_is_an_error_for_each_request():
    batcher = MicroBatcher(lambda items: [], max_batch=4)
    with pytest.raises(RuntimeError, match="0 results for 1 items"):
        batcher.submit("a")


def test_max_batch_below_one_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        MicroBatcher(lambda items: items, max_batch=0)

"""isolated_batch: items of one batch run as one call, yet each gets its own result or its own error."""

from __future__ import annotations

from ner_demo.app.batching import ItemError, isolated_batch
from ner_demo.errors import InputTooLargeError


def _string(item) -> str | None:
    return None if isinstance(item, str) else f"not a string: {item!r}"


class Doubler:
    """Doubles strings; fails on "boom" (a model that breaks on one text); records its calls."""

    def __init__(self):
        self.calls: list[list] = []

    def __call__(self, items: list) -> list:
        self.calls.append(list(items))
        if "boom" in items:
            raise InputTooLargeError("'boom' is too loud")
        return [item * 2 for item in items]


def test_good_items_run_as_one_call():
    fn = Doubler()
    assert isolated_batch(fn, ["a", "b", "c"], _string) == ["aa", "bb", "cc"]
    assert fn.calls == [["a", "b", "c"]]


def test_an_item_that_fails_its_check_gets_its_own_error_and_never_reaches_fn():
    fn = Doubler()
    assert isolated_batch(fn, ["a", 7, "c"], _string) == ["aa", ItemError("not a string: 7"), "cc"]
    assert fn.calls == [["a", "c"]]


def test_an_item_that_breaks_the_call_fails_alone():
    fn = Doubler()
    assert isolated_batch(fn, ["a", "boom", "c"], _string) == ["aa", ItemError("'boom' is too loud"), "cc"]
    assert fn.calls == [["a", "boom", "c"], ["a"], ["boom"], ["c"]]  # the batch, then each alone


def test_an_unexpected_error_is_not_shown_to_the_client():
    def broken(items):
        raise KeyError("/srv/secret/path")

    (answer,) = isolated_batch(broken, ["a"], _string)
    assert answer == ItemError("this request failed (KeyError); the server log has the details")


def test_a_wrong_number_of_results_is_an_error_for_each_item():
    answers = isolated_batch(lambda items: [], ["a", "b"], _string)
    assert answers == [ItemError("this request failed (RuntimeError); the server log has the details")] * 2


def test_an_item_error_is_an_error_object_in_the_api():
    assert ItemError("too long").to_dict() == {"error": "too long"}


def test_an_empty_batch_calls_nothing():
    fn = Doubler()
    assert isolated_batch(fn, [], _string) == [] and fn.calls == []

"""Span edits, pure functions: snapping, adding, relabelling, removing, resizing, every occurrence."""

from __future__ import annotations

import pytest

from ner_demo.annotation.edits import (
    Span, SpanError, add_span, check_spans, label_occurrences, occurrences, relabel_span, remove_span, resize_span,
    snap_to_words,
)

TEXT = "Angela Merkel visited Paris and Parisians."
PER = Span(0, 13, "PER")


def test_snap_widens_a_selection_to_whole_words():
    assert snap_to_words(TEXT, 2, 9) == (0, 13)


def test_snap_refuses_a_selection_of_whitespace():
    with pytest.raises(SpanError, match="covers no word"):
        snap_to_words(TEXT, 6, 7)


def test_add_snaps_the_new_span():
    assert add_span(TEXT, [PER], 23, 25, "LOC") == [PER, Span(22, 27, "LOC")]


def test_add_refuses_an_overlap():
    with pytest.raises(SpanError, match="spans overlap: 'Angela Merkel' \\(PER\\) and 'Merkel' \\(LOC\\)"):
        add_span(TEXT, [PER], 7, 13, "LOC")


def test_add_refuses_a_span_outside_the_text():
    with pytest.raises(SpanError, match="outside the text"):
        add_span(TEXT, [], 40, 99, "LOC", snap=False)


def test_add_refuses_a_label_outside_the_set():
    with pytest.raises(SpanError, match="not in this dataset's label set"):
        add_span(TEXT, [], 22, 27, "GPE", labels=["PER", "LOC"])


def test_relabel_keeps_the_offsets():
    assert relabel_span(TEXT, [PER], PER, "ORG") == [Span(0, 13, "ORG")]


def test_remove_drops_only_that_span():
    assert remove_span(TEXT, [PER, Span(22, 27, "LOC")], PER) == [Span(22, 27, "LOC")]


def test_removing_a_span_that_is_not_there_is_refused():
    with pytest.raises(SpanError, match="no span \\[22, 27\\) LOC to change"):
        remove_span(TEXT, [PER], Span(22, 27, "LOC"))


def test_resize_snaps_to_word_boundaries():
    assert resize_span(TEXT, [PER], PER, 8, 12) == [Span(7, 13, "PER")]


def test_resize_into_another_span_is_refused():
    with pytest.raises(SpanError, match="overlap"):
        resize_span(TEXT, [PER, Span(22, 27, "LOC")], PER, 0, 24)


def test_occurrences_match_whole_words_only():
    assert occurrences(TEXT, "Paris") == [(22, 27)]


def test_label_occurrences_adds_relabels_and_skips_overlaps():
    text = "Paris Hilton left Paris for Paris."
    result = label_occurrences(text, [Span(0, 12, "PER"), Span(18, 23, "ORG")], "Paris", "LOC")
    assert (result.spans, result.added, result.relabelled, result.skipped) == (
        [Span(0, 12, "PER"), Span(18, 23, "LOC"), Span(28, 33, "LOC")], 1, 1, 1)


def test_check_spans_refuses_whitespace_only_spans():
    with pytest.raises(SpanError, match="covers only whitespace"):
        check_spans("a  b", [Span(1, 3, "X")])

"""ner_demo.evaluation.tables: the lines the CLI prints, literal."""

from __future__ import annotations

from ner_demo.evaluation import evaluate, format_report
from ner_demo.evaluation.bootstrap import BootstrapResult, Interval
from ner_demo.evaluation.generalisation import BucketScore, BucketTable
from ner_demo.evaluation.significance import Difference, PairedTest
from ner_demo.evaluation.tables import format_buckets, format_paired, headline

INTERVALS = BootstrapResult(Interval(0.8995, 0.8921, 0.9068), {"PER": Interval(1.0, 1.0, 1.0)}, 1000, "document", 231)


def test_the_headline_carries_the_interval_and_how_it_was_made():
    assert headline(0.8995, INTERVALS) == (
        "strict IOB2 micro F1: 0.8995 (95% CI 0.8921\u20130.9068, 1,000 document resamples)")


def test_the_report_gains_a_strict_f1_interval_column():
    lines = format_report(evaluate([["B-PER"]], [["B-PER"]]), intervals=INTERVALS).splitlines()
    assert lines[1].endswith("strict F1 95% CI")
    assert lines[2].endswith("  1.0000\u20131.0000") and lines[4].endswith("  0.8921\u20130.9068")


def test_the_report_without_intervals_is_unchanged():
    result = evaluate([["B-PER"]], [["B-PER"]])
    assert "CI" not in format_report(result) and format_report(result, intervals=None) == format_report(result)


def test_the_paired_table_has_a_row_per_type_and_micro():
    test = PairedTest(Difference(0.9, 0.85, -0.05, -0.07, -0.03, 0.002),
                      {"PER": Difference(0.95, 0.95, 0.0, -0.01, 0.01, 1.0)}, 1000, "document", 216, 0)
    assert format_paired(test).splitlines() == [
        "type     F1 A    F1 B    B - A              95% CI      p",
        "PER    0.9500  0.9500  +0.0000  [-0.0100, +0.0100]  1.000",
        "micro  0.9000  0.8500  -0.0500  [-0.0700, -0.0300]  0.002",
        "paired bootstrap, 1,000 document resamples of 216, seed 0; two-sided p-values",
    ]


def test_undefined_bucket_scores_print_as_a_dash():
    table = BucketTable("entity length", ("1 word",), {"1 word": BucketScore(0, 1, 0)},
                        {"PER": {"1 word": BucketScore(0, 1, 0)}})
    assert format_buckets(table).splitlines() == [
        "by entity length:",
        "bucket  gold  pred  P       R  F1   PER R  PER F1",
        "1 word     1     0  -  0.0000   -  0.0000       -",
    ]

"""Plain-text tables of the statistics: intervals, paired tests, buckets, schemes and their differences.

What the CLI prints; the app builds its own views from the same result objects.
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence

from ner_demo.evaluation.bootstrap import BootstrapResult, Interval
from ner_demo.evaluation.generalisation import BucketTable, Overlap
from ner_demo.evaluation.schemes import SchemeDifference, SchemeScore
from ner_demo.evaluation.significance import Disagreement, PairedTest

DASH = "\u2013"  # an en dash between the ends of an interval


def format_interval(interval: Interval, digits: int = 4) -> str:
    """A point and its interval, e.g. for a report line.

    >>> format_interval(Interval(0.9, 0.88, 0.92))
    '0.9000 (95% CI 0.8800–0.9200)'
    """
    return (f"{interval.point:.{digits}f} ({interval.confidence:.0%} CI "
            f"{interval.low:.{digits}f}{DASH}{interval.high:.{digits}f})")


def headline(f1: float, bootstrap: BootstrapResult | None, digits: int = 4) -> str:
    """The one line that sums an evaluation up: strict micro F1, with its interval when there is one.

    >>> headline(0.5, None)
    'strict IOB2 micro F1: 0.5000'
    """
    if bootstrap is None:
        return f"strict IOB2 micro F1: {f1:.{digits}f}"
    return f"strict IOB2 micro F1: {format_interval(bootstrap.micro, digits)[:-1]}, {bootstrap.describe()})"


def _score(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned first column, the rest right-aligned, two spaces between columns."""
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    lines = []
    for row in (header, *rows):
        cells = [f"{row[0]:<{widths[0]}}", *(f"{c:>{w}}" for c, w in zip(row[1:], widths[1:]))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def format_buckets(table: BucketTable, digits: int = 4) -> str:
    """One row per bucket: gold and predicted mentions, P/R/F1 ("-" where undefined), then each
    type's recall and F1."""
    types = list(table.per_type)
    header = ["bucket", "gold", "pred", "P", "R", "F1", *(f"{t} {m}" for t in types for m in ("R", "F1"))]
    rows = []
    for bucket in table.buckets:
        s = table.overall[bucket]
        cells = [bucket, str(s.n_gold), str(s.n_pred), _score(s.precision, digits), _score(s.recall, digits),
                 _score(s.f1, digits)]
        for t in types:
            ts = table.per_type[t][bucket]
            cells += [_score(ts.recall, digits), _score(ts.f1, digits)]
        rows.append(cells)
    return f"by {table.name}:\n" + _table(header, rows)


def format_overlap(report: Overlap) -> str:
    """The train-test overlap in one sentence.

    >>> format_overlap(Overlap(4, 3, 2))
    'train-test overlap: 3 of 4 gold mentions (75.0%) have a surface form seen in training; 2 (50.0%) with the same type'
    """
    return (f"train-test overlap: {report.seen_any_type} of {report.n_mentions} gold mentions "
            f"({report.share_seen:.1%}) have a surface form seen in training; "
            f"{report.seen_same_type} ({report.share_seen_same_type:.1%}) with the same type")


def format_schemes(rows: Sequence[SchemeScore], digits: int = 4) -> str:
    header = ["scheme", "P", "R", "F1", "correct", "incorrect", "partial", "missed", "spurious"]
    body = [[r.scheme, _score(r.precision, digits), _score(r.recall, digits), _score(r.f1, digits), str(r.correct),
             str(r.incorrect), str(r.partial), str(r.missed), str(r.spurious)] for r in rows]
    return _table(header, body)


def format_differences(diffs: Sequence[SchemeDifference], pairs: Sequence[tuple[str, str]] | None = None) -> str:
    """Per pair of schemes, how many entities change outcome and how (most frequent first).

    >>> d = SchemeDifference("conlleval", "semeval strict", 0, "pred", "PER", 0, 1, "spurious", "incorrect")
    >>> print(format_differences([d]))
    conlleval vs semeval strict: 1 entity counted differently
      1 predicted: spurious -> incorrect
    """
    by_pair: dict[tuple[str, str], Counter] = {}
    for d in diffs:
        side = "predicted" if d.side == "pred" else "gold"
        by_pair.setdefault((d.a, d.b), Counter())[f"{side}: {d.outcome_a} -> {d.outcome_b}"] += 1
    lines = []
    for pair in pairs or by_pair:
        counts = by_pair.get(pair, Counter())
        total = sum(counts.values())
        lines.append(f"{pair[0]} vs {pair[1]}: {total} entit{'y' if total == 1 else 'ies'} counted differently")
        lines += [f"  {n} {what}" for what, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    return "\n".join(lines)


def format_paired(test: PairedTest, label_a: str = "A", label_b: str = "B", digits: int = 4) -> str:
    """Per type and micro: A's and B's strict F1, B - A, its interval and the two-sided p-value."""
    header = ["type", f"F1 {label_a}", f"F1 {label_b}", "B - A", f"{test.confidence:.0%} CI", "p"]
    rows = []
    for name, d in [*test.per_type.items(), ("micro", test.micro)]:
        rows.append([name, f"{d.a:.{digits}f}", f"{d.b:.{digits}f}", f"{d.diff:+.{digits}f}",
                     f"[{d.low:+.{digits}f}, {d.high:+.{digits}f}]", f"{d.p_value:.3f}"])
    note = (f"paired bootstrap, {test.replicates:,} {test.unit} resamples of {test.n_units:,}, seed {test.seed}; "
            "two-sided p-values")
    return _table(header, rows) + "\n" + note


def format_disagreements(found: Sequence[Disagreement], limit: int = 10) -> str:
    """How many sentences A and B disagree on, by which one matches gold, and the first ``limit``, each
    with only the entities not shared by A and B (gold's, A's and B's), then the sentence.

    >>> from ner_demo.spans import WordSpan
    >>> d = Disagreement(4, "A", (WordSpan("PER", 0, 2),), (WordSpan("PER", 0, 2),), (WordSpan("PER", 0, 1),),
    ...                  ("Ann", "Lee", "left"))
    >>> print(format_disagreements([d]))
    sentences where A and B differ: 1 (A matches gold: 1, B: 0, neither: 0)
      [4] A matches gold | gold: PER Ann Lee | A: PER Ann Lee | B: PER Ann | Ann Lee left
    """
    closer = Counter(d.closer for d in found)
    lines = [f"sentences where A and B differ: {len(found)} (A matches gold: {closer['A']}, B: {closer['B']}, "
             f"neither: {closer['neither']})"]
    for d in found[:limit]:
        shared = set(d.a) & set(d.b)

        def show(entities) -> str:
            return ", ".join(f"{e.label} {' '.join(d.words[e.start:e.end]) if d.words else f'[{e.start}, {e.end})'}"
                             for e in entities if e not in shared) or "-"

        verdict = "neither matches gold" if d.closer == "neither" else f"{d.closer} matches gold"
        text = f" | {' '.join(d.words)}" if d.words else ""
        lines.append(f"  [{d.sentence}] {verdict} | gold: {show(d.gold)} | A: {show(d.a)} | B: {show(d.b)}{text}")
    return "\n".join(lines)

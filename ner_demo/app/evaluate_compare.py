"""The comparison of two models (or runs) on the same data, computed without Gradio: the per-type F1
change with paired-bootstrap p-values, and the sentences where A and B disagree, marked with which one
matches the gold, and any one sentence drawn with gold, A's and B's entities."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from ner_demo.app.evaluate_format import COMPARE_HEADERS, EvalRun, comparison_rows, distinct_names, words_highlight
from ner_demo.app.tag_format import color_map, highlight_html
from ner_demo.evaluation.significance import Disagreement, PairedTest, disagreements, paired_bootstrap
from ner_demo.spans import WordSpan

SIGNIFICANCE_HEADERS = [*COMPARE_HEADERS, "95% low of ΔF1", "95% high of ΔF1", "p-value"]
DISAGREEMENT_HEADERS = ["#", "sentence", "matches gold", "gold", "A", "B", "text"]


@dataclass(eq=False)
class Comparison:
    """Model A's and B's evaluations of the same data, their paired test and disagreements."""

    a: EvalRun
    b: EvalRun
    test: PairedTest | None
    found: list[Disagreement] = field(default_factory=list)

    @property
    def names(self) -> tuple[str, str]:
        return distinct_names(self.a.model, self.b.model)


def compare_runs(a: EvalRun, b: EvalRun, replicates: int, seed: int) -> Comparison:
    """A paired bootstrap of B − A on the same document draws, and every sentence they disagree on."""
    if len(a.gold) != len(b.gold) or a.gold != b.gold:
        raise ValueError("A and B were scored on different data")
    test = paired_bootstrap(a.gold, a.pred, b.pred, a.doc_ids, replicates, seed)
    return Comparison(a, b, test, disagreements(a.gold, a.pred, b.pred, a.words))


def significance_rows(c: Comparison) -> list[list]:
    """The comparison table (per type, then micro) with each ΔF1's 95% interval and p-value."""
    rows = comparison_rows(c.a.result, c.b.result)
    for row in rows:
        d = c.test.micro if row[0] == "micro avg" else c.test.per_type.get(row[0])
        row += [None, None, None] if d is None else [round(d.low, 4), round(d.high, 4), round(d.p_value, 4)]
    return rows


def significance_caption(c: Comparison, data: str) -> str:
    name_a, name_b = c.names
    m = c.test.micro
    verdict = ("a difference this large is rare if the two were equally good" if m.p_value < 0.05 else
               "no evidence of a real difference at the 5% level")
    return (f"A = {name_a}, B = {name_b}, on {data}. Strict micro F1: A {m.a:.4f}, B {m.b:.4f}; "
            f"B − A {m.diff:+.4f}, 95% interval [{m.low:+.4f}, {m.high:+.4f}], p = {m.p_value:.4f} "
            f"(paired bootstrap, {c.test.replicates:,} {c.test.unit} resamples, seed {c.test.seed}): {verdict}. "
            f"Bars show B − A per type. {len(c.found):,} sentences where A and B differ are listed below.")


def _spans(entities: Sequence[WordSpan], words: Sequence[str]) -> str:
    return "; ".join(f"{e.label}: {' '.join(words[e.start:e.end])}" for e in entities) or "—"


def disagreement_rows(c: Comparison, closer: str = "all", limit: int = 500) -> list[list]:
    """Rows of the disagreement list (``closer``: all, A, B or neither); ``#`` counts from 1."""
    rows = []
    for k, d in enumerate(c.found):
        if closer != "all" and d.closer != closer:
            continue
        words = c.a.words[d.sentence]
        text = " ".join(words)
        rows.append([k + 1, d.sentence + 1, d.closer, _spans(d.gold, words), _spans(d.a, words), _spans(d.b, words),
                     text if len(text) <= 120 else text[:119] + "…"])
        if len(rows) >= limit:
            break
    return rows


def disagreement_counts(c: Comparison) -> str:
    counts = {"A": 0, "B": 0, "neither": 0}
    for d in c.found:
        counts[d.closer] += 1
    return (f"{len(c.found):,} sentences differ: A matches the gold in {counts['A']:,}, B in {counts['B']:,}, "
            f"neither in {counts['neither']:,}. Pick a row to see the sentence.")


def sentence_view(c: Comparison, number: int) -> tuple[str, str, str, str]:
    """Gold, A's and B's entities of the disagreement numbered ``number`` (1-based), and a caption."""
    if not 1 <= number <= len(c.found):
        raise IndexError(f"disagreement #{number} does not exist; there are {len(c.found)}")
    d = c.found[number - 1]
    name_a, name_b = c.names
    words = c.a.words[d.sentence]
    colours = color_map(sorted(set(c.a.result.types) | set(c.b.result.types)))
    caption = (f"Disagreement #{number} of {len(c.found):,}, sentence {d.sentence + 1}: "
               + (f"**{d.closer}** matches the gold" if d.closer != "neither" else "**neither** matches the gold")
               + f" (A = {name_a}, B = {name_b})")
    return (*(highlight_html(words_highlight(words, tags[d.sentence]), colours)
              for tags in (c.a.gold, c.a.pred, c.b.pred)), caption)

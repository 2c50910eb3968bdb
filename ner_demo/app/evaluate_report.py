"""The Evaluate tab's suspicious gold list and its downloads, computed without Gradio: the ranked gold
annotations that are probably wrong (:func:`ner_demo.evaluation.suspicious.suspicious_gold`, from the
evaluation's cached word probabilities), the JSONL review list, and the HTML report with the JSON of
every figure (:func:`ner_demo.report.write_report`), built from what the views already computed."""

from __future__ import annotations

from pathlib import Path

import ner_demo.app.evaluate_stats as st
from ner_demo.app.evaluate_format import EvalRun
from ner_demo.evaluation.calibration import calibration_report, scored_entities
from ner_demo.evaluation.full import FullEvaluation
from ner_demo.evaluation.model_eval import corpus_probabilities
from ner_demo.evaluation.suspicious import SuspiciousItem, suspicious_gold, write_review_list
from ner_demo.report import write_report

SUSPICIOUS_HEADERS = ["#", "score", "sentence", "span", "gold", "suggested", "signals", "why"]
REVIEW_FILE = "suspicious-gold.jsonl"
REPORT_FILES = ("evaluation-report.html", "evaluation-report.json")


def suspicious(run: EvalRun, tagger) -> list[SuspiciousItem]:
    """The evaluated data's gold annotations ranked by how probably they are wrong, from the model's word
    probabilities (the evaluation's own, from the prediction cache) and the corpus itself."""

    def compute():
        if run.corpus is None:
            return suspicious_gold(run.words, run.gold)
        probs = corpus_probabilities(tagger, run.corpus)
        return suspicious_gold(run.words, run.gold, run.doc_ids, probs, tagger.labels, run.pred)

    return st.memo(run, ("suspicious",), compute)


def suspicious_rows(items: list[SuspiciousItem], limit: int = 500) -> list[list]:
    """Rows of the ranked list; ``#`` is the rank (1: the most suspicious)."""
    return [[n, round(it.score, 4), it.sentence + 1, it.span_text, it.gold_label or "—", it.suggested_label or "—",
             ", ".join(it.signals), "; ".join(it.reasons)] for n, it in enumerate(items[:limit], start=1)]


def suspicious_note(items: list[SuspiciousItem], limit: int = 500) -> str:
    if not items:
        return "No gold annotation looks suspicious: the model agrees with it, and every string is labelled alike."
    more = f"; the first {limit:,} shown" if len(items) > limit else ""
    plural = "" if len(items) == 1 else "s"
    return (f"**{len(items):,} gold annotation{plural}** ranked by how probably they are wrong{more} (the model's "
            "confident disagreement, the same string labelled inconsistently, a confident-learning score). Pick a "
            f"row to see its sentence; download the list as JSONL ({REVIEW_FILE}) for review.")


def suspicious_caption(item: SuspiciousItem, rank: int) -> str:
    gold = item.gold_label or "no entity"
    suggested = item.suggested_label or "no entity"
    return (f"Suspicious #{rank}, sentence {item.sentence + 1}: **{item.span_text}** is gold *{gold}*; "
            f"suggested *{suggested}* (score {item.score:.3f}: {'; '.join(item.reasons)})")


def review_file(items: list[SuspiciousItem], folder: Path) -> Path:
    path = Path(folder) / REVIEW_FILE
    write_review_list(items, path)
    return path


def full_evaluation(run: EvalRun, tagger, replicates: int, seed: int, pieces) -> FullEvaluation:
    """Everything the views show (computed now where a view was not opened yet), for the report."""
    tables, found, note = st.generalisation(run, pieces)
    notes = {} if found is not None else {"seen_unseen": note.removeprefix("Seen/unseen: ")}
    calibration = (None if run.scores is None else
                   calibration_report(scored_entities(run.gold, run.pred, run.scores)))
    return FullEvaluation(
        run.result, st.intervals(run, replicates, seed), st.schemes(run), st.differences(run), found,
        list(tables.values()), calibration, suspicious(run, tagger),
        {"model": run.model, "data": run.data, "tagger": tagger.describe()}, notes)


def report_files(full: FullEvaluation, folder: Path, title: str) -> list[Path]:
    paths = [Path(folder) / name for name in REPORT_FILES]
    write_report(full, *paths, title=title)
    return paths

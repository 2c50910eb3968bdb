"""The Evaluate tab's analysis views, computed without Gradio from an :class:`EvalRun`'s tags: bootstrap
intervals, every scoring scheme and the entities they count differently, and the generalisation
buckets (seen/unseen, lengths, subword splits) with the train-test overlap.

Each is computed once per run and setting and kept in ``run.memo``: switching views, or evaluating the
same model on the same data again (which gives back the same memo), re-scores nothing.
"""

from __future__ import annotations

from itertools import combinations
from typing import Callable

import ner_demo.app.data_format as ds
from ner_demo.app.evaluate_format import EvalRun
from ner_demo.data.sources import dataset_dir
from ner_demo.errors import ConfigError
from ner_demo.evaluation.bootstrap import DEFAULT_REPLICATES, DEFAULT_SEED, BootstrapResult, bootstrap_f1
from ner_demo.evaluation.generalisation import (
    BucketScore,
    BucketTable,
    Overlap,
    length_tables,
    overlap,
    seen_unseen,
    training_surfaces,
)
from ner_demo.evaluation.schemes import SCHEMES, SchemeDifference, SchemeScore, scheme_differences, scheme_scores

MAX_REPLICATES = 100_000
INTERVAL_HEADERS = ["type", "support", "strict F1", "95% low", "95% high"]
SCHEME_HEADERS = ["scheme", "P", "R", "F1", "correct", "incorrect", "partial", "missed", "spurious"]
DIFFERENCE_HEADERS = ["#", "sentence", "side", "entity", "outcome A", "outcome B"]
BUCKET_HEADERS = ["type", "bucket", "gold", "predicted", "correct", "recall", "precision", "F1"]
PAIRS = [f"{a} vs {b}" for a, b in combinations(SCHEMES, 2)]
SEEN = "seen in training"
LENGTH_TABLES = ("entity length", "sentence length", "subword-split words")


def memo(run: EvalRun, key: tuple, compute: Callable):
    if key not in run.memo:
        run.memo[key] = compute()
    return run.memo[key]


# ---- intervals ------------------------------------------------------------------------------------


def check_bootstrap(replicates, seed) -> tuple[int, int]:
    """``(replicates, seed)`` as whole numbers, or a ConfigError naming the value."""
    if replicates is None or int(replicates) != replicates or not 1 <= replicates <= MAX_REPLICATES:
        raise ConfigError(f"bootstrap resamples must be a whole number from 1 to {MAX_REPLICATES:,}, got {replicates!r}")
    if seed is None or int(seed) != seed or seed < 0:
        raise ConfigError(f"the bootstrap seed must be a whole number of 0 or more, got {seed!r}")
    return int(replicates), int(seed)


def intervals(run: EvalRun, replicates: int = DEFAULT_REPLICATES, seed: int = DEFAULT_SEED) -> BootstrapResult:
    """Strict micro and per-type F1 with percentile 95% intervals, documents resampled."""
    replicates, seed = check_bootstrap(replicates, seed)
    return memo(run, ("bootstrap", replicates, seed),
                 lambda: bootstrap_f1(run.gold, run.pred, run.doc_ids, replicates, seed))


def interval_rows(run: EvalRun, boot: BootstrapResult) -> list[list]:
    rows = []
    for t, i in boot.per_type.items():
        score = run.result.strict.per_type.get(t)
        rows.append([t, score.support if score else 0, round(i.point, 4), round(i.low, 4), round(i.high, 4)])
    micro = boot.micro
    rows.append(["micro avg", run.result.strict.micro.support, round(micro.point, 4), round(micro.low, 4),
                 round(micro.high, 4)])
    return rows


def interval_summary(boot: BootstrapResult) -> str:
    m = boot.micro
    unit = ("documents" if boot.unit == "document" else
            "sentences (the data is one document: no -DOCSTART- lines, so sentences are resampled)")
    return (f"**Strict micro F1 {m.point:.4f}**, 95% interval [{m.low:.4f}, {m.high:.4f}]: {boot.replicates:,} "
            f"resamples of the {boot.n_units:,} {unit}, seed {boot.seed}. A type's interval that overlaps "
            "another model's is no evidence that they do not differ: the Compare view runs a paired test.")


# ---- schemes --------------------------------------------------------------------------------------


def schemes(run: EvalRun) -> list[SchemeScore]:
    return memo(run, ("schemes",), lambda: scheme_scores(run.gold, run.pred, run.result))


def scheme_rows(rows: list[SchemeScore]) -> list[list]:
    return [[s.scheme, round(s.precision, 4), round(s.recall, 4), round(s.f1, 4), s.correct, s.incorrect,
             s.partial, s.missed, s.spurious] for s in rows]


def differences(run: EvalRun) -> list[SchemeDifference]:
    """The entities every pair of schemes counts differently (all pairs at once: one nervaluate pass)."""
    return memo(run, ("differences",), lambda: scheme_differences(run.gold, run.pred, run.words))


def pair_counts(found: list[SchemeDifference]) -> dict[str, int]:
    """``"a vs b"`` -> how many entities the two count differently, for every pair of schemes."""
    counts = dict.fromkeys(PAIRS, 0)
    for d in found:
        counts[f"{d.a} vs {d.b}"] += 1
    return counts


def pair_choices(found: list[SchemeDifference]) -> list[tuple[str, str]]:
    return [(f"{pair} ({n:,} entities)", pair) for pair, n in pair_counts(found).items()]


def split_pair(pair: str) -> tuple[str, str]:
    a, sep, b = (pair or "").partition(" vs ")
    if not sep or a not in SCHEMES or b not in SCHEMES:
        raise ConfigError(f"unknown pair of schemes {pair!r}; pick one of the list")
    return a, b


def pair_differences(found: list[SchemeDifference], pair: str) -> list[SchemeDifference]:
    a, b = split_pair(pair)
    return [d for d in found if (d.a, d.b) == (a, b)]


def difference_rows(found: list[SchemeDifference], limit: int = 500) -> list[list]:
    """Rows for the "why these differ" table; ``#`` counts from 1 (the sentence view's number)."""
    return [[k + 1, d.sentence + 1, "gold" if d.side == "gold" else "predicted", f"{d.label}: {d.text}",
             d.outcome_a, d.outcome_b] for k, d in enumerate(found[:limit])]


def differences_note(found: list[SchemeDifference], pair: str, limit: int = 500) -> str:
    a, b = split_pair(pair)
    if not found:
        return f"**{a}** and **{b}** count every entity alike on this data."
    more = f" (the first {limit:,} shown)" if len(found) > limit else ""
    return (f"**{len(found):,} entities** that **{a}** (outcome A) and **{b}** (outcome B) count differently{more}. "
            "Pick a row to see its sentence.")


# ---- generalisation -------------------------------------------------------------------------------

_SURFACES: dict[str, dict] = {}  # the training data's key -> its surface forms (a handful of datasets)


def training_corpus(run: EvalRun):
    """``(training corpus, None)`` for CoNLL-2003 dev or test, else ``(None, why there is none)``."""
    choice = run.data_choice or ""
    if not choice.startswith(f"{ds.CONLL2003}:"):
        what = "an annotation dataset's part" if ds.is_annotation_source(choice) else "an uploaded file"
        return None, (f"{what} comes without its training data, so seen/unseen and the train-test "
                      "overlap are skipped (the CLI's `evaluate --train-data FILE` computes them)")
    loaded = ds.EVAL_CORPORA.load_files(f"{ds.CONLL2003}:train", "CoNLL-2003 train",
                                        {"train": dataset_dir(ds.CONLL2003) / "train.txt"})
    return loaded, None


def seen_surfaces(loaded) -> dict:
    if loaded.key not in _SURFACES:
        train = loaded.splits["train"]
        if len(_SURFACES) >= 4:
            _SURFACES.pop(next(iter(_SURFACES)))
        _SURFACES[loaded.key] = training_surfaces([s.words for s in train], [s.tags for s in train])
    return _SURFACES[loaded.key]


def generalisation(run: EvalRun, pieces: Callable[[str], int] | None) -> tuple[dict[str, BucketTable], Overlap | None, str]:
    """``({table name: BucketTable}, overlap or None, note)``: seen/unseen (when the training data is
    known), entity and sentence length, and the share of subword-split words (given ``pieces``)."""

    def compute():
        loaded, why = training_corpus(run)
        tables: dict[str, BucketTable] = {}
        found = None
        if loaded is not None:
            seen = seen_surfaces(loaded)
            tables[SEEN] = seen_unseen(run.gold, run.pred, run.words, seen)
            found = overlap(run.gold, run.words, seen)
        for table in length_tables(run.gold, run.pred, run.words, pieces):
            tables[table.name] = table
        return tables, found, overlap_note(found, why)

    return memo(run, ("generalisation",), compute)


def overlap_note(found: Overlap | None, why: str | None) -> str:
    if found is None:
        return f"Seen/unseen: {why}."
    return (f"**Train-test overlap**: {found.share_seen:.1%} of the {found.n_mentions:,} gold mentions have a surface "
            f"form seen in CoNLL-2003 train ({found.share_seen_same_type:.1%} with the same type). Scores per "
            "bucket are strict; recall counts gold mentions, precision predictions of the bucket.")


def _cell(value: float | None):
    return None if value is None else round(value, 4)


def bucket_rows(table: BucketTable) -> list[list]:
    """Overall rows first (type ``all``), then each type's; undefined scores are empty cells."""
    rows = []
    for label, scores in [("all", table.overall), *table.per_type.items()]:
        for bucket in table.buckets:
            s: BucketScore = scores[bucket]
            rows.append([label, bucket, s.n_gold, s.n_pred, s.tp, _cell(s.recall), _cell(s.precision), _cell(s.f1)])
    return rows

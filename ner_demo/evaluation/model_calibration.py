"""Calibrate a Tagger on a corpus: temperature and per-type thresholds fitted on one split (dev), ECE
before and after on it and on a held-out split. The word probabilities are tagged once per split at
temperature 1 (through the prediction cache) and tempered here, which is exact for first-subword
predictions (``apply_temperature`` on a word's first-piece distribution is the Tagger's own)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ner_demo.data.conll import Corpus
from ner_demo.evaluation.cache import PREDICTIONS, PredictionCache
from ner_demo.evaluation.calibration import (
    N_BINS,
    CalibrationReport,
    ThresholdChoice,
    ThresholdCurve,
    best_thresholds,
    calibration_report,
    fit_temperature as _fit_temperature,
    fit_type_temperatures,
    nll,
    scored_entities,
    tempered,
    threshold_curves,
    word_labels,
)
from ner_demo.evaluation.counts import entity_counts, f1_scores
from ner_demo.evaluation.model_eval import corpus_probabilities
from ner_demo.errors import ConfigError
from ner_demo.inference import label_temperatures


@dataclass(frozen=True)
class SplitCalibration:
    """One split at temperature 1 (``before``) and at the chosen temperature (``after``)."""

    before: CalibrationReport
    after: CalibrationReport
    nll_before: float  # mean NLL of the words' gold labels
    nll_after: float
    argmax_unchanged: bool  # the decoded tags are the same at both temperatures
    f1: float  # strict micro F1 at the chosen temperature, no thresholds
    f1_thresholds: float  # ... with the chosen thresholds (= f1 without any)

    def to_dict(self) -> dict:
        return {"before": self.before.to_dict(), "after": self.after.to_dict(), "nll_before": self.nll_before,
                "nll_after": self.nll_after, "argmax_unchanged": self.argmax_unchanged, "strict_f1": self.f1,
                "strict_f1_thresholds": self.f1_thresholds}


@dataclass(frozen=True)
class CalibrationResult:
    temperature: float  # fitted, or the model's own when none was fitted
    fitted: bool
    splits: dict[str, SplitCalibration]  # "fit" and, when given, "held_out"
    type_temperatures: dict[str, float] = field(default_factory=dict)  # fitted per type when asked
    thresholds: dict[str, float] = field(default_factory=dict)  # chosen on the fit split; {} when not asked
    choices: dict[str, ThresholdChoice] = field(default_factory=dict)
    curves: dict[str, ThresholdCurve] = field(default_factory=dict)  # P/R/F1 against the threshold (fit split)

    def to_dict(self) -> dict:
        return {"temperature": self.temperature, "fitted": self.fitted, "type_temperatures": self.type_temperatures,
                "splits": {k: v.to_dict() for k, v in self.splits.items()}, "thresholds": self.thresholds,
                "threshold_choices": {k: v.to_dict() for k, v in self.choices.items()},
                "threshold_curves": {k: v.to_dict() for k, v in self.curves.items()}}

    def format(self, fit_name: str = "dev", held_out_name: str | None = "test") -> str:
        what = "fitted" if self.fitted else "the model's own"
        lines = [f"temperature: {self.temperature:.4f} ({what}; 1 = uncalibrated)"]
        if self.type_temperatures:
            lines.append("per-type temperatures (by predicted type): " + ", ".join(
                f"{t} {v:.4f}" for t, v in sorted(self.type_temperatures.items())))
        for key, name in (("fit", fit_name), ("held_out", held_out_name)):
            split = self.splits.get(key)
            if split is None:
                continue
            lines.append(f"{name}: expected calibration error (entities, strict), before -> after")
            types = sorted(set(split.before.types) | set(split.after.types))
            for label, b, a in [("overall", split.before.overall, split.after.overall),
                                *((t, split.before.types.get(t), split.after.types.get(t)) for t in types)]:
                b_ece = f"{b.ece:.4f}" if b else "-"
                a_ece = f"{a.ece:.4f}" if a else "-"
                n = (a or b).n
                lines.append(f"  {label:<8} {b_ece} -> {a_ece}  ({n} predicted entities)")
            lines.append(f"  word NLL {split.nll_before:.4f} -> {split.nll_after:.4f}; argmax entities "
                         f"{'unchanged' if split.argmax_unchanged else 'CHANGED'}")
            if self.thresholds:
                lines.append(f"  strict micro F1 {split.f1:.4f} -> {split.f1_thresholds:.4f} with the thresholds")
        if self.choices:
            lines.append(f"F1-optimal thresholds on {fit_name}:")
            for c in self.choices.values():
                lines.append(f"  {c.label:<8} {c.threshold:.4f}  F1 {c.f1_without:.4f} -> {c.f1:.4f} "
                             f"(P {c.precision:.4f}, R {c.recall:.4f})")
        return "\n".join(lines)


def _micro_f1(gold, pred) -> float:
    counts = entity_counts(gold, pred).counts.sum(axis=(0, 1))
    return float(f1_scores(counts[0], counts[1], counts[2]))


def _split(tagger, probs, gold, temperature, by_label, thresholds, n_bins) -> tuple[SplitCalibration, list]:
    rows, ids = word_labels(probs, gold, tagger.labels)
    raw = [tagger.decode_words(p, {}) for p in probs]
    hot_probs = tempered(probs, temperature, by_label)
    hot = [tagger.decode_words(p, {}) for p in hot_probs]
    pred_after = [p.tags for p in hot]
    after = scored_entities(gold, pred_after, [p.scores for p in hot])
    kept = [tagger.decode_words(p, thresholds) for p in hot_probs] if thresholds else hot
    f1 = _micro_f1(gold, pred_after)
    return SplitCalibration(
        calibration_report(scored_entities(gold, [p.tags for p in raw], [p.scores for p in raw]), n_bins),
        calibration_report(after, n_bins),
        nll(rows, ids, 1.0) if len(ids) else 0.0, _nll_at(rows, ids, temperature, by_label),
        [p.tags for p in raw] == pred_after, f1, _micro_f1(gold, [p.tags for p in kept]) if thresholds else f1,
    ), after


def _nll_at(rows, ids, temperature, by_label) -> float:
    if not len(ids):
        return 0.0
    if by_label is None:
        return nll(rows, ids, temperature)
    hot = tempered([rows], temperature, by_label)[0]
    return nll(hot, ids, 1.0)


def calibrate_on(tagger, fit: Corpus, held_out: Corpus | None = None, fit_temperature: bool = True,
                 thresholds: bool = False, model_temperature: float = 1.0, n_bins: int = N_BINS,
                 per_type: bool = False, model_type_temperatures: dict[str, float] | None = None,
                 cache: PredictionCache | None = PREDICTIONS,
                 progress: Callable[[str], Callable[[int, int], None]] | None = None) -> CalibrationResult:
    """Fit on ``fit`` and report on it and ``held_out``. ``tagger`` must run at temperature 1 with no
    thresholds (``Tagger(..., temperature=1.0, thresholds={})``): it gives the uncalibrated scores.
    ``fit_temperature=False`` keeps ``model_temperature`` (and ``model_type_temperatures``); ``thresholds``:
    choose each type's F1-optimal threshold on ``fit`` at the chosen temperature; ``per_type``: also fit a temperature per predicted type
    (:func:`~ner_demo.evaluation.calibration.fit_type_temperatures`). ``progress(name)`` gives a callback
    for that split."""
    if tagger.temperature != 1.0 or tagger.thresholds or tagger.features.type_temperatures:
        raise ConfigError("calibrate_on needs the Tagger at temperature 1 with no thresholds")

    def probabilities(corpus, name):
        return corpus_probabilities(tagger, corpus, progress=None if progress is None else progress(name),
                                    cache=cache)

    probs = probabilities(fit, "tagging (fit)")
    gold = [list(s.tags) for s in fit]
    temperature = model_temperature
    if fit_temperature:
        rows, ids = word_labels(probs, gold, tagger.labels)
        if not len(ids):
            raise ConfigError("no word of the data has a gold tag the model knows: nothing to fit a temperature on")
        temperature = _fit_temperature(rows, ids)
    if fit_temperature:
        types = fit_type_temperatures(rows, ids, tagger.labels) if per_type else {}
    else:
        types = dict(model_type_temperatures or {})
    by_label = label_temperatures(tagger.labels, temperature, types)
    chosen: dict[str, ThresholdChoice] = {}
    curves: dict[str, ThresholdCurve] = {}
    if thresholds:
        hot = [tagger.decode_words(p, {}) for p in tempered(probs, temperature, by_label)]
        entities = scored_entities(gold, [p.tags for p in hot], [p.scores for p in hot])
        chosen = best_thresholds(entities, gold)
        curves = threshold_curves(entities, gold)
    values = {label: c.threshold for label, c in chosen.items()}
    splits = {"fit": _split(tagger, probs, gold, temperature, by_label, values, n_bins)[0]}
    if held_out is not None:
        held_probs = probabilities(held_out, "tagging (held out)")
        splits["held_out"] = _split(tagger, held_probs, [list(s.tags) for s in held_out], temperature, by_label,
                                    values, n_bins)[0]
    return CalibrationResult(temperature, fit_temperature, splits, types, values, chosen, curves)

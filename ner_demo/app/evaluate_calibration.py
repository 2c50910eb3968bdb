"""The Evaluate tab's calibration view, computed without Gradio: a temperature and per-type thresholds
fitted on dev (:func:`ner_demo.evaluation.calibrate_on`), the reliability diagram and ECE before and
after, the effect of chosen thresholds on the evaluated data, and saving them with a run's model.

Nothing here tags anything the prediction cache already holds: the fit tags dev once (on demand: the
evaluation itself never computes it), and changing thresholds re-decodes the cached probabilities.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import ner_demo.app.data_format as ds
from ner_demo.app.evaluate_format import EvalRun
from ner_demo.data.sources import dataset_dir
from ner_demo.encoding import FEATURES_FILE, check_thresholds, save_calibration
from ner_demo.errors import ConfigError
from ner_demo.evaluation.calibration import TEMPERATURE_RANGE, tempered
from ner_demo.evaluation.counts import GOLD, PRED, TP, entity_counts, f1_scores
from ner_demo.evaluation.model_calibration import CalibrationResult, calibrate_on
from ner_demo.evaluation.model_eval import corpus_probabilities
from ner_demo.inference import Tagger, label_temperatures
from ner_demo.models import shipped_model_homes

ECE_HEADERS = ["type", "entities (fit)", "ECE before (fit)", "ECE after (fit)", "ECE before (held out)",
               "ECE after (held out)"]
THRESHOLD_HEADERS = ["type", "threshold", "F1-optimal on fit", "F1 without (fit)", "F1 at optimal (fit)"]
EFFECT_HEADERS = ["type", "gold", "P without", "R without", "F1 without", "P with", "R with", "F1 with", "ΔF1"]

_UNCALIBRATED: "weakref.WeakKeyDictionary[Tagger, Tagger]" = weakref.WeakKeyDictionary()


def uncalibrated(tagger: Tagger) -> Tagger:
    """``tagger`` at temperature 1 with no thresholds (what a fit starts from): the tagger itself when it
    already is, else one sharing its loaded model, kept while the tagger lives. With only thresholds to
    drop, both have the same prediction-cache key, so the evaluation's probabilities are reused."""
    if tagger.temperature == 1.0 and not tagger.thresholds and not tagger.features.type_temperatures:
        return tagger
    if tagger not in _UNCALIBRATED:
        _UNCALIBRATED[tagger] = Tagger(tagger.source_model, tagger.tokenizer, tagger.features,
                                       aggregation=tagger.aggregation, batch_size=tagger.batch_size,
                                       backend=tagger.backend_name, device=tagger.device,
                                       temperature=1.0, thresholds={}, type_temperatures={})
    return _UNCALIBRATED[tagger]


@dataclass(eq=False)
class Calibration:
    """A fit for one evaluation: where it was fitted and held out, and what it found."""

    run: EvalRun
    result: CalibrationResult
    fit_name: str
    held_name: str | None
    fit_corpus: object
    held_corpus: object | None
    model_temperature: float

    def names(self) -> dict[str, str]:
        return {"fit": self.fit_name, **({"held_out": self.held_name} if self.held_name else {})}


def fit_data(run: EvalRun):
    """``(fit corpus, its name, held-out corpus or None, its name)``: CoNLL-2003 dev, with the evaluated
    test split held out; an uploaded file is its own fit data (the note says to give a dev file)."""
    if run.corpus is None:
        raise ConfigError("this evaluation keeps no data to calibrate on: evaluate again")
    choice = run.data_choice or ""
    if choice.startswith(f"{ds.CONLL2003}:"):
        dev = ds.EVAL_CORPORA.load_files(f"{ds.CONLL2003}:dev", ds.CONLL2003_LABELS["dev"],
                                         {"dev": dataset_dir(ds.CONLL2003) / "dev.txt"}).splits["dev"]
        held = None if choice.endswith(":dev") else run.corpus
        return dev, ds.CONLL2003_LABELS["dev"], held, None if held is None else run.data
    return run.corpus, run.data, None, None


def calibrate(run: EvalRun, tagger: Tagger, fit_temperature: bool = True, progress=None) -> Calibration:
    """Fit a temperature (unless ``fit_temperature`` is False: the model's own is kept) and each type's
    F1-optimal threshold on the fit data; ECE before and after there and on the held-out data."""
    fit, fit_name, held, held_name = fit_data(run)
    result = calibrate_on(uncalibrated(tagger), fit, held, fit_temperature=fit_temperature, thresholds=True,
                          model_temperature=tagger.temperature,
                          model_type_temperatures=dict(tagger.features.type_temperatures), progress=progress)
    return Calibration(run, result, fit_name, held_name, fit, held, tagger.temperature)


def summary(cal: Calibration) -> str:
    r = cal.result
    fit = r.splits["fit"]
    what = f"fitted on {cal.fit_name}" if r.fitted else "the model's own (none fitted)"
    lines = [f"**Temperature {r.temperature:.4f}** ({what}; 1 = uncalibrated). Entity-level ECE on {cal.fit_name}: "
             f"{fit.before.overall.ece:.4f} → {fit.after.overall.ece:.4f}; argmax entities "
             f"{'unchanged' if fit.argmax_unchanged else 'CHANGED'}."]
    if r.fitted and any(abs(r.temperature - bound) < 1e-3 * bound for bound in TEMPERATURE_RANGE):
        lines.append("⚠️ The fit stopped at the end of its range: the fit data hardly constrain it (almost every "
                     "word right, or very few words); fit on more, or harder, development data.")
    held = r.splits.get("held_out")
    if held is not None:
        lines.append(f"Held out ({cal.held_name}, not used to fit): ECE {held.before.overall.ece:.4f} → "
                     f"{held.after.overall.ece:.4f}.")
    if cal.held_name is None and cal.fit_name == cal.run.data and not (cal.run.data_choice or "").startswith("conll"):
        lines.append(f"⚠️ Fitted on the evaluated file itself ({cal.fit_name}): give it your development data, "
                     "never the test data you report on.")
    return " ".join(lines)


def ece_rows(cal: Calibration) -> list[list]:
    splits = cal.result.splits
    fit, held = splits["fit"], splits.get("held_out")
    types = sorted(set(fit.before.types) | set(fit.after.types) | (set(held.before.types) if held else set()))
    rows = []
    for label in ["overall", *types]:
        def ece(report):
            r = report.overall if label == "overall" else report.types.get(label)
            return None if r is None else round(r.ece, 4)
        n = fit.before.overall.n if label == "overall" else getattr(fit.before.types.get(label), "n", 0)
        rows.append([label, n, ece(fit.before), ece(fit.after), ece(held.before) if held else None,
                     ece(held.after) if held else None])
    return rows


def threshold_rows(cal: Calibration, chosen: dict[str, float] | None = None) -> list[list]:
    """One row per type: the threshold in use (``chosen``, default the F1-optimal one) and the fit's figures."""
    chosen = cal.result.thresholds if chosen is None else chosen
    return [[label, chosen.get(label, 0.0), c.threshold, round(c.f1_without, 4), round(c.f1, 4)]
            for label, c in cal.result.choices.items()]


def read_thresholds(rows) -> dict[str, float]:
    """``{type: threshold}`` from the thresholds table as the user edited it (0: none)."""
    out = {}
    for k, row in enumerate(rows or []):
        if len(row) < 2 or row[0] in (None, ""):
            continue
        label, value = str(row[0]), row[1]
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"row {k + 1} ({label}): the threshold {value!r} is not a number between 0 and 1") from None
        out[label] = value
    return {label: v for label, v in check_thresholds(out).items() if v > 0}


def _scores(gold, pred, types):
    counts = entity_counts(gold, pred, types).counts.sum(axis=0)  # (types, 3)
    tp, n_pred, n_gold = counts[:, TP], counts[:, PRED], counts[:, GOLD]
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n_pred > 0, tp / np.maximum(n_pred, 1), 0.0)
        r = np.where(n_gold > 0, tp / np.maximum(n_gold, 1), 0.0)
    return p, r, f1_scores(tp, n_pred, n_gold), n_gold


def threshold_effect(cal: Calibration, tagger: Tagger, thresholds: dict[str, float]) -> tuple[list[list], str]:
    """Per type, strict P/R/F1 on the held-out data (else the fit data) at the calibrated temperature
    without and with ``thresholds``, re-decoded from the cached probabilities; and a caption."""
    corpus, name = (cal.held_corpus, cal.held_name) if cal.held_corpus is not None else (cal.fit_corpus, cal.fit_name)
    base = uncalibrated(tagger)
    probs = corpus_probabilities(base, corpus)
    r = cal.result
    hot = tempered(probs, r.temperature, label_temperatures(base.labels, r.temperature, r.type_temperatures))
    gold = [list(s.tags) for s in corpus]
    without = [base.decode_words(p, {}).tags for p in hot]
    kept = [base.decode_words(p, thresholds).tags for p in hot]
    types = sorted({lab.split("-", 1)[1] for lab in base.labels if lab != "O"})
    rows = []
    (p0, r0, f0, n), (p1, r1, f1, _) = _scores(gold, without, types), _scores(gold, kept, types)
    for i, t in enumerate(types):
        rows.append([t, int(n[i]), *(round(float(v[i]), 4) for v in (p0, r0, f0, p1, r1, f1)),
                     round(float(f1[i] - f0[i]), 4)])
    micro = [_micro(gold, without), _micro(gold, kept)]
    rows.append(["micro avg", int(n.sum()), *(round(v, 4) for v in (*micro[0], *micro[1])),
                 round(micro[1][2] - micro[0][2], 4)])
    used = ", ".join(f"{t} {v:g}" for t, v in sorted(thresholds.items()) if v > 0) or "none"
    caption = (f"On {name}, at temperature {r.temperature:.4f}: strict micro F1 {micro[0][2]:.4f} without thresholds, "
               f"{micro[1][2]:.4f} with them ({used}); re-scored from the cached predictions.")
    return rows, caption


def _micro(gold, pred) -> tuple[float, float, float]:
    c = entity_counts(gold, pred).counts.sum(axis=(0, 1))
    p = c[TP] / c[PRED] if c[PRED] else 0.0
    r = c[TP] / c[GOLD] if c[GOLD] else 0.0
    return float(p), float(r), float(f1_scores(c[TP], c[PRED], c[GOLD]))


def save_target(location: str, runs_dir: Path) -> Path:
    """The folder whose ``ner_demo.json`` may get a calibration: a training run's ``best/`` under
    ``runs_dir``; anything else (a shipped model above all) is refused with a ConfigError."""
    folder = Path(location).expanduser()
    name = folder.name or str(location)
    if not folder.is_dir():
        raise ConfigError(f"{name} is not a model folder on this machine (a Hub id?): nothing to save into. "
                          "Saving is offered for a training run's best model.")
    folder = folder.resolve()
    for home in shipped_model_homes():
        if home.expanduser().resolve() in (folder, *folder.parents):
            what = name if folder.name == name else f"{name} (a link to {folder.name})"
            raise ConfigError(f"{what} is a shipped model: its folder is never changed from the app. Saving is "
                              "offered for a training run's best model; for a copy of your own, use "
                              f"`python -m ner_demo calibrate --write --model FOLDER`.")
    if folder.name != "best" or folder.parent.parent != Path(runs_dir).expanduser().resolve():
        raise ConfigError(f"{name} is not a training run's best model: saving is offered for runs' best/ folders "
                          "only; for another folder, use `python -m ner_demo calibrate --write --model FOLDER`.")
    return folder


def save(cal: Calibration, location: str, runs_dir: Path, thresholds: dict[str, float]) -> str:
    """Write the fitted temperature (when one was fitted) and ``thresholds`` into the run's
    ``best/ner_demo.json``; the Tag tab, ``/entities``, the CLI and the Tagger use them from then on."""
    folder = save_target(location, runs_dir)
    r = cal.result
    save_calibration(folder, r.temperature if r.fitted else None, thresholds,
                     r.type_temperatures if r.fitted else None)
    what = f"temperature {r.temperature:.4f} and " if r.fitted else ""
    used = ", ".join(f"{t} {v:g}" for t, v in sorted(thresholds.items())) or "no thresholds (none kept)"
    return (f"Saved {what}{used} into run {folder.parent.name}'s best/{FEATURES_FILE}: the Tag tab, /entities, "
            "the CLI and the Python Tagger apply them from now on. Evaluate again to score with them.")

"""The figures a shipped model's card gives beyond its scores: intervals, seen/unseen, calibration.

:func:`card_figures` tags dev and test once each (through a prediction cache, at temperature 1) and
computes, from those probabilities:

- bootstrap 95 % intervals (documents resampled, seeded) of strict micro F1 and each type's F1, dev and
  test (:func:`ner_demo.evaluation.bootstrap.bootstrap_f1`);
- on test, strict recall / precision / F1 of mentions seen in training with the same type, seen with
  another type only, and unseen, and the train-test overlap (:mod:`ner_demo.evaluation.generalisation`);
- the entity-level ECE at temperature 1 and at a temperature fitted on dev, on dev and on test
  (:func:`ner_demo.evaluation.model_calibration.calibrate_on`); the fitted temperature is reported, not
  saved (``calibrate --write`` saves it).

The model runs as its card's table scores it: fp32, its own decoding, context and chunk share. The
intervals and buckets use the model's own calibration (temperature, thresholds) when it has one.
Every figure is rounded to 4 decimals: the dict is written into ``scores.json`` as it is.
"""

from __future__ import annotations

from typing import Callable

from ner_demo.data.conll import Corpus
from ner_demo.evaluation.bootstrap import DEFAULT_REPLICATES, DEFAULT_SEED, bootstrap_f1
from ner_demo.evaluation.cache import PREDICTIONS, PredictionCache
from ner_demo.evaluation.generalisation import SEEN_BUCKETS, overlap, seen_unseen, training_surfaces
from ner_demo.evaluation.model_calibration import calibrate_on
from ner_demo.evaluation.model_eval import predict_corpus

FIGURES_VERSION = 1


def _r(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def _interval(interval) -> dict:
    return {"point": _r(interval.point), "low": _r(interval.low), "high": _r(interval.high)}


def _bucket(score) -> dict:
    return {"n_gold": score.n_gold, "n_pred": score.n_pred, "tp": score.tp, "recall": _r(score.recall),
            "precision": _r(score.precision), "f1": _r(score.f1)}


def card_figures(
    tagger,
    calibration_tagger,
    dev: Corpus,
    test: Corpus,
    train: Corpus | None,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
    cache: PredictionCache | None = PREDICTIONS,
    progress: Callable[[str], Callable[[int, int], None]] | None = None,
    no_train: str = "no training data given",
) -> dict:
    """The card's figures (see the module docstring) as a JSON-ready dict.

    ``tagger``: the model as it ships (its own temperature and thresholds); ``calibration_tagger``: the
    same model at temperature 1 without thresholds (may be ``tagger`` itself when the model has no
    calibration: then each split is tagged once). ``train``: where seen mentions come from (None: no
    seen/unseen figures; ``no_train`` says why, into the dict's ``seen_unseen_skipped``). ``progress(name)``
    gives a callback for the tagging of that split."""

    def tag(t, corpus: Corpus, name: str):
        return predict_corpus(t, corpus, progress=None if progress is None else progress(name), cache=cache)

    splits = {}
    predictions = {}
    for name, corpus in (("dev", dev), ("test", test)):
        pred = tag(tagger, corpus, f"tagging {name}")
        predictions[name] = pred
        gold = [s.tags for s in corpus]
        boot = bootstrap_f1(gold, pred, [s.doc_id for s in corpus], replicates, seed)
        splits[name] = {"strict_f1": _interval(boot.micro),
                        "per_type": {t: _interval(i) for t, i in boot.per_type.items()},
                        "unit": boot.unit, "n_units": boot.n_units}
    out: dict = {"version": FIGURES_VERSION, "replicates": replicates, "seed": seed, "confidence": 0.95,
                 "bootstrap": splits}
    if train is None:
        out["seen_unseen_skipped"] = no_train
    else:
        seen = training_surfaces([s.words for s in train], [s.tags for s in train])
        gold, words = [s.tags for s in test], [s.words for s in test]
        table = seen_unseen(gold, predictions["test"], words, seen)
        out["seen_unseen"] = {
            "split": "test", "overlap": {k: _r(v) if isinstance(v, float) else v
                                         for k, v in overlap(gold, words, seen).to_dict().items()},
            "overall": {b: _bucket(table.overall[b]) for b in SEEN_BUCKETS},
            "per_type": {t: {b: _bucket(row[b]) for b in SEEN_BUCKETS} for t, row in table.per_type.items()},
        }
    fitted = calibrate_on(calibration_tagger, dev, test, cache=cache,
                          progress=None if progress is None else (lambda name: progress(f"calibration, {name}")))
    out["calibration"] = {
        "temperature": _r(fitted.temperature), "fitted_on": "dev", "saved": False,
        **{name: {"ece_before": _r(split.before.overall.ece), "ece_after": _r(split.after.overall.ece),
                  "n_entities": split.before.overall.n, "argmax_unchanged": split.argmax_unchanged}
           for name, split in (("dev", fitted.splits["fit"]), ("test", fitted.splits["held_out"]))},
    }
    return out


def load_card_figures(model_dir, data: str = "conll2003", replicates: int = DEFAULT_REPLICATES,
                      seed: int = DEFAULT_SEED, cache: PredictionCache | None = PREDICTIONS,
                      progress: Callable[[str], Callable[[int, int], None]] | None = None) -> dict:
    """:func:`card_figures` of the model folder ``model_dir`` on ``data``'s dev and test (seen mentions
    from its train split, when it has one), run in fp32 as the card's table is."""
    from ner_demo.data.sources import load_split
    from ner_demo.errors import DatasetUnavailableError
    from ner_demo.inference import Tagger

    try:
        train, no_train = load_split(data, "train"), ""
    except DatasetUnavailableError as exc:  # a dataset of dev and test only: said in the card, not hidden
        train, no_train = None, f"no train split to tell seen mentions from ({exc})"

    tagger = Tagger.from_pretrained(str(model_dir), precision="fp32")
    own = tagger.features
    calibrated = own.temperature != 1.0 or bool(own.thresholds) or bool(own.type_temperatures)
    plain = (Tagger.from_pretrained(str(model_dir), precision="fp32", temperature=1.0, thresholds={})
             if calibrated else tagger)
    return card_figures(tagger, plain, load_split(data, "dev"), load_split(data, "test"), train,
                        replicates, seed, cache, progress, no_train)

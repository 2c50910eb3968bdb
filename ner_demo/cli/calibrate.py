"""``calibrate``: fit a temperature and per-type thresholds on dev, print ECE before/after, save them."""

from __future__ import annotations

import sys
from pathlib import Path

from tqdm import tqdm

from ner_demo.cli.common import UsageError, add_cache_flag, add_json_flag, add_model_options, print_json
from ner_demo.data.sources import load_split
from ner_demo.encoding import FEATURES_FILE
from ner_demo.inference import Tagger
from ner_demo.models import default_model

THRESHOLD_CHOICES = ("none", "f1")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "calibrate", help="fit a temperature (and per-type F1-optimal thresholds) on dev; ECE before/after",
        description="Fit the temperature that minimises the negative log-likelihood of the gold labels of the "
        "words of --split (first-subword predictions), and print the entity-level expected calibration error "
        "(strict match, per type and overall) before and after it; the argmax entities do not change. With "
        "--thresholds f1, also choose each type's F1-optimal confidence threshold there. --write saves both into "
        f"the model folder's {FEATURES_FILE}, and the Tagger (CLI, app, API) then applies them by default.",
    )
    p.add_argument("--data", default="conll2003", help="conll2003, a folder with split files, or a CoNLL file")
    p.add_argument("--split", default="dev", help="where they are fitted (default: dev)")
    p.add_argument("--test", nargs="?", const="test", default=None, metavar="SPLIT",
                   help="also report ECE (and F1 with the thresholds) on this split, not used to fit (default: test)")
    p.add_argument("--thresholds", choices=THRESHOLD_CHOICES, default="none",
                   help="f1: choose each type's F1-optimal confidence threshold on --split (default: none)")
    p.add_argument("--no-temperature", action="store_true",
                   help="fit no temperature: keep the model's own (thresholds are chosen at it)")
    p.add_argument("--per-type", action="store_true",
                   help="also fit a temperature per entity type (and O), used for each word by its most likely "
                        "label's type (the argmax entities still do not change)")
    p.add_argument("--bins", type=int, default=10, help="reliability-diagram bins for the ECE (default: 10)")
    p.add_argument("--write", action="store_true",
                   help=f"save the temperature (and thresholds) into --model's {FEATURES_FILE}")
    add_cache_flag(p)
    add_model_options(p)
    add_json_flag(p)
    p.set_defaults(func=_calibrate)


def _calibrate(args) -> int:
    from ner_demo.evaluation.model_calibration import calibrate_on  # deferred: scoring imports seqeval

    if args.bins < 1:
        raise UsageError(f"--bins {args.bins}: give 1 or more")
    if args.per_type and args.no_temperature:
        raise UsageError("--per-type fits temperatures; it cannot go with --no-temperature")
    if args.write and not args.model:
        raise UsageError("--write needs --model: the folder whose ner_demo.json gets the calibration")
    if args.write and not Path(args.model).expanduser().is_dir():
        raise UsageError(f"--write: {args.model} is not a model folder on this machine")
    from ner_demo.cli.infer import prediction_cache

    fit = load_split(args.data, args.split)
    held_out = load_split(args.data, args.test) if args.test else None
    tagger = Tagger.from_pretrained(
        args.model or default_model(), aggregation=args.aggregation, precision=args.precision, device=args.device,
        batch_size=args.batch_size, backend=args.backend, context_words=args.context_words,
        chunk_share=args.chunk_share, temperature=1.0, thresholds={},
    )
    model_features = _own_features(args.model or default_model())

    def progress(desc):
        bar = tqdm(unit="sent", desc=desc, disable=args.json or None, file=sys.stderr)

        def update(done, total):
            bar.total = total
            bar.update(done - bar.n)
            if done >= total:
                bar.close()
        return update

    result = calibrate_on(
        tagger, fit, held_out, fit_temperature=not args.no_temperature, thresholds=args.thresholds == "f1",
        model_temperature=model_features.temperature, n_bins=args.bins, cache=prediction_cache(args.cache),
        progress=progress, per_type=args.per_type, model_type_temperatures=model_features.type_temperatures,
    )
    written = None
    if args.write:
        from ner_demo.encoding import save_calibration

        # A new global temperature replaces per-type ones fitted before it (they would no longer fit).
        written = save_calibration(args.model, None if args.no_temperature else result.temperature,
                                   result.thresholds if args.thresholds == "f1" else None,
                                   None if args.no_temperature else result.type_temperatures)
    if args.json:
        print_json({"model": args.model, "data": args.data, "split": args.split, "test": args.test,
                    **result.to_dict(), "written": None if written is None else written.name})
        return 0
    print(f"model: {args.model or 'shipped default'} ({tagger.describe()})")
    print(result.format(args.split, args.test))
    if written is not None:
        print(f"wrote the calibration into {Path(args.model).name}/{FEATURES_FILE}")
    return 0


def _own_features(location: str):
    """The model's saved features (its current temperature); the defaults for a Hub id."""
    from ner_demo.encoding import InputFeatures

    return InputFeatures.load(location) if Path(location).expanduser().is_dir() else InputFeatures()

"""``ship``: a finished run's best model -> a small shipped folder with a model card; ``card-stats``:
recompute a shipped card's intervals, seen/unseen figures and calibration without retraining."""

from __future__ import annotations

import sys
from pathlib import Path

from tqdm import tqdm

from ner_demo.cli.common import UsageError, add_cache_flag, add_json_flag, print_json
from ner_demo.training.ship import ship_model


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "ship", help="store a run's best model as fp16 with a full model card (dev and test scores)",
        description="Convert RUN_DIR/best to fp16 weights in --to, score what ships on dev and test "
        "(strict IOB2 and conlleval per type) against the fp32 weights, and write README.md.",
    )
    p.add_argument("run_dir", help="a run folder, e.g. runs/default-model")
    p.add_argument("--to", default="models/minilm-conll2003", help="destination folder (replaced atomically)")
    p.add_argument("--data", default="conll2003", help="dataset to score on (dev and test splits)")
    p.add_argument("--command", default="", help="the training command to record in the model card")
    p.add_argument("--recipe", default="", help="the training config file to name in the model card")
    p.add_argument("--chunk-share", type=float, default=None,
                   help="record this chunk share as the model's default (a speed knob; default: the run's, 0.5)")
    add_json_flag(p)
    p.set_defaults(func=_ship)

    p = subparsers.add_parser(
        "card-stats", help="recompute a shipped model's card figures: intervals, seen/unseen, ECE before/after temperature",
        description="Tag dev and test of --data with MODEL_DIR (fp32, as the card's table) and write into its README.md "
        "the bootstrap 95% intervals of strict micro and per-type F1, the seen/unseen scores on test (train mentions "
        "from the train split) and the entity ECE at temperature 1 and at one fitted on dev (reported, not saved); the "
        "same figures go into scores.json under 'evaluation'. Weights and ner_demo.json are not touched.",
    )
    p.add_argument("model_dir", help="a shipped model folder, e.g. models/minilm-conll2003")
    p.add_argument("--data", default="conll2003", help="dataset with train, dev and test splits (default: conll2003)")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples (default: 1000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap's draws (default: 0)")
    add_cache_flag(p)
    add_json_flag(p)
    p.set_defaults(func=_card_stats)


def _ship(args) -> int:

    summary = ship_model(args.run_dir, args.to, args.data, args.command, args.recipe, args.chunk_share)
    if args.json:
        print_json(summary)
    else:
        for split in ("dev", "test"):
            s = summary[split]
            print(f"{split}: strict F1 {s['strict_f1']:.4f} (fp32 weights {s['fp32_strict_f1']:.4f}), conlleval {s['conlleval_f1']:.4f}")
        print(f"wrote {args.to}")
    return 0


def _card_stats(args) -> int:
    from ner_demo.cli.infer import prediction_cache
    from ner_demo.evaluation.card_figures import load_card_figures  # deferred: scoring imports seqeval
    from ner_demo.training.cards import write_figures

    folder = Path(args.model_dir).expanduser()
    if not (folder / "config.json").is_file() or not (folder / "README.md").is_file():
        raise UsageError(f"{args.model_dir}: not a shipped model folder (it needs config.json and README.md)")
    if args.bootstrap < 1:
        raise UsageError(f"--bootstrap {args.bootstrap}: the card's intervals need 1 or more resamples")

    def progress(desc):
        bar = tqdm(unit="sent", desc=desc, disable=args.json or None, file=sys.stderr)

        def update(done, total):
            bar.total = total
            bar.update(done - bar.n)
            if done >= total:
                bar.close()
        return update

    figures = load_card_figures(folder, args.data, args.bootstrap, args.seed, prediction_cache(args.cache), progress)
    write_figures(folder, figures, args.model_dir)
    if args.json:
        print_json(figures)
        return 0
    boot, cal = figures["bootstrap"], figures["calibration"]
    for split in ("dev", "test"):
        i = boot[split]["strict_f1"]
        print(f"{split}: strict micro F1 {i['point']:.4f} [95% interval {i['low']:.4f}, {i['high']:.4f}]; "
              f"ECE {cal[split]['ece_before']:.4f} -> {cal[split]['ece_after']:.4f} at temperature {cal['temperature']:.4f}")
    for bucket, s in figures.get("seen_unseen", {}).get("overall", {}).items():
        print(f"test, {bucket}: {s['n_gold']} gold mentions, F1 {'-' if s['f1'] is None else format(s['f1'], '.4f')}")
    print(f"wrote {folder.name}/README.md and {folder.name}/scores.json")
    return 0

"""``ship``: a finished run's best model -> a small shipped folder with a model card."""

from __future__ import annotations

from ner_demo.cli.common import add_json_flag, print_json
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

"""``export``: a trained model -> a folder of ONNX graphs that the Tagger (and ``predict --model``) loads."""

from __future__ import annotations

import json

from ner_demo.cli.common import add_json_flag, print_json
from ner_demo.export import export_onnx
from ner_demo.models import EXPORT_FILE


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "export", help="export a trained model to ONNX (optionally dynamic int8) for fast CPU inference",
        description="Write model.onnx (and with --quantize int8 also model.int8.onnx, weights int8, activations "
        "quantised on the fly) with the tokenizer, labels and input features, after checking the graphs against "
        "PyTorch. Use the folder anywhere a model folder goes: `python -m ner_demo predict --model OUT ...`.",
    )
    p.add_argument("--model", required=True, help="a trained model folder (PyTorch, safetensors)")
    p.add_argument("--format", choices=["onnx"], default="onnx", help="export format (only onnx)")
    p.add_argument("--quantize", choices=["int8"], default=None,
                   help="also write a dynamic-int8 graph and make it the folder's default backend")
    p.add_argument("--output", default=None, help="the export folder (default: <model>-onnx beside the model)")
    p.add_argument("--check-data", default=None, metavar="DATA",
                   help="with --quantize: score both graphs on this data's --check-split and keep int8 as the "
                   "default only within 0.3 strict-F1 points of fp32 (e.g. conll2003)")
    p.add_argument("--check-split", default="dev", help="split for --check-data (default: dev; never tune on test)")
    add_json_flag(p)
    p.set_defaults(func=_export)

    p = subparsers.add_parser(
        "choose-backend", help="time and score each CPU backend on a model; record the fastest within 0.3 F1 of fp32",
        description="Run the model on DATA's SPLIT with torch-fp32, torch-int8, onnx-fp32 and onnx-int8 (ONNX "
        "exported once into the cache), then write the fastest backend whose strict F1 is within 0.3 points of "
        "torch-fp32 into the folder's ner_demo.json: the Tagger, the CLI and the app use it when nothing else is "
        "asked for. `ship` does this for the models it writes.",
    )
    p.add_argument("--model", required=True, help="a trained model folder (PyTorch, safetensors)")
    p.add_argument("--data", default="conll2003", help="labelled data (a dataset name or a CoNLL file)")
    p.add_argument("--split", default="dev", help="split to measure on (default: dev; never tune on test)")
    p.add_argument("--dry-run", action="store_true", help="print the measurements, change nothing")
    add_json_flag(p)
    p.set_defaults(func=_choose_backend)


def _choose_backend(args) -> int:
    from ner_demo.serving import choose_backend, record_backend  # deferred: scoring imports seqeval (seconds)

    choice = choose_backend(args.model, args.data, args.split)
    if not args.dry_run:
        record_backend(args.model, choice)
    if args.json:
        print_json(choice)
        return 0
    for name, m in choice["measured"].items():
        print(f"  {name:<11} strict F1 {m['strict_f1']:.4f}  {m['words_per_s']:>7,} words/s")
    where = "(dry run: not recorded)" if args.dry_run else f"recorded in {args.model}/ner_demo.json"
    print(f"backend: {choice['backend']} {where}")
    return 0


def _export(args) -> int:
    out = export_onnx(args.model, args.output, args.quantize)
    if args.check_data:
        from ner_demo.serving import choose_default  # deferred: scoring imports seqeval (seconds)

        choose_default(out, args.check_data, args.check_split)
    info = json.loads((out / EXPORT_FILE).read_text(encoding="utf-8"))
    if args.json:
        print_json({"output": str(out), **info})
        return 0
    print(f"wrote {out}")
    for backend, name in info["files"].items():
        check = info["check_vs_torch"][backend]
        size = (out / name).stat().st_size / 2**20
        print(f"  {name:<16} {backend:<10} {size:6.1f} MB  max |logit diff| vs PyTorch "
              f"{check['max_abs_logit_diff']:.1e}, same label on {check['label_agreement']:.1%} of probe tokens")
    if "f1_check" in info:
        check = info["f1_check"]
        scores = ", ".join(f"{b} {f1:.4f}" for b, f1 in check["strict_f1"].items())
        print(f"strict F1 on {check['data']} {check['split']}: {scores}")
    print(f"default backend: {info['default_backend']}; "
          f"try: python -m ner_demo predict --model {out} \"John lives in Paris\"")
    return 0

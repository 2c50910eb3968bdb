"""``compare``: two models (or runs) on the same split, per-type F1 differences with p-values from a paired
bootstrap, and the sentences where they disagree."""

from __future__ import annotations

from ner_demo.cli.common import add_data_options, add_json_flag, add_model_options, load_tagger, print_json
from ner_demo.cli.infer import check_bootstrap, tag_corpus
from ner_demo.data.sources import load_split


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "compare", help="two models on one split: per-type F1 differences with paired-bootstrap p-values",
        description="Tag one split with model A and model B and test the strict IOB2 F1 differences (B - A, micro "
        "and per type) with a paired bootstrap: the same documents are resampled for both. Then list the "
        "sentences where their entities differ, marked with which one matches the gold (A, B or neither).",
    )
    p.add_argument("--model-a", default=None, help="model A: a trained model folder or Hub id (default: shipped)")
    p.add_argument("--model-b", required=True, help="model B: a trained model folder or Hub id")
    add_data_options(p)
    p.add_argument("--disagreements", type=int, default=10, help="print the first N sentences A and B differ on")
    add_model_options(p, model=False)
    add_json_flag(p)
    p.set_defaults(func=_compare, model=None)


def _compare(args) -> int:
    # deferred: scoring imports seqeval and numpy
    from ner_demo.evaluation import evaluate
    from ner_demo.evaluation.significance import disagreements, paired_bootstrap
    from ner_demo.evaluation.tables import format_disagreements, format_paired

    check_bootstrap(args)
    corpus = load_split(args.data, args.split)
    gold, words = [s.tags for s in corpus], [s.words for s in corpus]
    tagger_a = load_tagger(args, args.model_a)
    pred_a = tag_corpus(tagger_a, corpus, args.json, "tagging with A", disk=args.cache)
    tagger_b = load_tagger(args, args.model_b)
    pred_b = tag_corpus(tagger_b, corpus, args.json, "tagging with B", disk=args.cache)
    strict_a, strict_b = evaluate(gold, pred_a).strict, evaluate(gold, pred_b).strict
    test = (paired_bootstrap(gold, pred_a, pred_b, [s.doc_id for s in corpus], args.bootstrap, args.seed)
            if args.bootstrap else None)
    found = disagreements(gold, pred_a, pred_b, words)
    name_a, name_b = args.model_a or "shipped default", args.model_b
    if args.json:
        print_json({"model_a": name_a, "model_b": name_b, "data": args.data, "split": args.split,
                    "tagger_a": tagger_a.describe(), "tagger_b": tagger_b.describe(),
                    "strict_a": strict_a.to_dict(), "strict_b": strict_b.to_dict(),
                    "paired_bootstrap": None if test is None else test.to_dict(),
                    "disagreements": [d.to_dict() for d in found]})
        return 0
    print(f"A: {name_a} ({tagger_a.describe()})")
    print(f"B: {name_b} ({tagger_b.describe()})")
    print(f"data: {args.data} {args.split}: {len(corpus)} sentences")
    if test is None:
        a, b = strict_a.micro.f1, strict_b.micro.f1
        print(f"strict IOB2 micro F1: A {a:.4f}, B {b:.4f}, B - A {b - a:+.4f} (--bootstrap 0: no interval or p-value)")
    else:
        print(format_paired(test))
    print(format_disagreements(found, args.disagreements))
    return 0


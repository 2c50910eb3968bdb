"""``predict`` and ``evaluate``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ner_demo.cli.common import add_json_flag, add_model_options, load_tagger, print_json
from ner_demo.data.texts import read_texts
from ner_demo.errors import DataFormatError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "predict", help="tag text, a text file, a JSONL file or a CoNLL file",
        description="Tag texts given as arguments, or --file: .txt (one text per line with --lines, else the "
        "whole file), .jsonl (a 'text' field a line) or .conll (words in column 1; writes predicted tags).",
    )
    p.add_argument("text", nargs="*", help="texts to tag")
    p.add_argument("--file", help="a .txt, .jsonl or .conll file")
    p.add_argument("--lines", action="store_true", help="with a .txt file: each line is its own text")
    p.add_argument("--output", help="with a .conll file: write the tagged CoNLL here (default: stdout)")
    add_model_options(p)
    add_json_flag(p)
    p.set_defaults(func=_predict)

    p = subparsers.add_parser(
        "evaluate", help="strict IOB2 and conlleval-style P/R/F1 per type on a dataset split",
        description="Score a model on a split. Headline: seqeval strict IOB2 micro F1; conlleval-style "
        "beside it; token accuracy as a secondary figure. Word-level, first-subword predictions.",
    )
    p.add_argument("--data", default="conll2003", help="conll2003, a folder with split files, or a CoNLL file")
    p.add_argument("--split", default="test", help="train, dev or test (a single file is scored whole)")
    p.add_argument("--errors", type=int, default=0, help="also print the first N errors")
    add_model_options(p)
    add_json_flag(p)
    p.set_defaults(func=_evaluate)


def _predict(args) -> int:
    from ner_demo.data.conll import format_conll, read_conll

    if not args.text and not args.file:
        raise DataFormatError("predict", None, None, "give texts as arguments or a --file")
    tagger = load_tagger(args)
    print(f"# model: {args.model or 'shipped default'} ({tagger.describe()})", file=sys.stderr)  # stdout stays data
    if args.file and Path(args.file).suffix.lower() in {".conll", ".iob", ".bio"}:
        corpus = read_conll(args.file)
        tags = tagger.predict_words([s.words for s in corpus], [s.doc_id for s in corpus])
        text = format_conll([s.with_tags(t) for s, t in zip(corpus, tags)])
        if args.output:
            Path(args.output).write_text(text, encoding="utf-8")
            print(f"wrote {args.output} ({len(corpus)} sentences)", file=sys.stderr)
        else:
            sys.stdout.write(text)
        return 0
    texts = list(args.text) + (read_texts(args.file, args.lines) if args.file else [])
    results = tagger.predict_many(texts)
    if args.json:
        print_json([{"text": t, "entities": [e.to_dict() for e in ents]} for t, ents in zip(texts, results)])
        return 0
    for i, ents in enumerate(results):
        if len(texts) > 1:
            print(f"# text {i + 1}")
        for e in ents:
            print(f"{e.label}\t{e.start}\t{e.end}\t{e.score:.3f}\t{e.text}")
    return 0


def _evaluate(args) -> int:
    from tqdm import tqdm

    from ner_demo.data.sources import load_split
    from ner_demo.evaluation import format_report
    from ner_demo.evaluation.model_eval import evaluate_tagger

    corpus = load_split(args.data, args.split)
    tagger = load_tagger(args)
    with tqdm(total=len(corpus), unit="sent", desc="tagging", disable=args.json or None, file=sys.stderr) as bar:
        result = evaluate_tagger(tagger, corpus, progress=lambda done, total: bar.update(done - bar.n))
    if args.json:
        print_json({"model": args.model, "data": args.data, "split": args.split, "tagger": tagger.describe(),
                    **result.to_dict()})
        return 0
    print(f"model: {args.model or 'shipped default'} ({tagger.describe()})")
    print(f"data: {args.data} {args.split}: {result.n_sentences} sentences, {result.n_tokens} tokens")
    print(format_report(result))
    print(f"strict IOB2 micro F1: {result.strict.micro.f1:.4f}")
    for error in result.errors[: args.errors]:
        print(json.dumps(error.to_dict(), ensure_ascii=False))
    return 0

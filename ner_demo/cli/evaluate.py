"""``evaluate``: score a model on a split every way ner_demo knows; optionally the suspicious-gold review
list (``--suspicious``) and the HTML report with its JSON (``--report``)."""

from __future__ import annotations

import json
from pathlib import Path

from ner_demo.cli.common import UsageError, add_data_options, add_json_flag, add_model_options, load_tagger, print_json
from ner_demo.cli.infer import check_bootstrap, prediction_cache, tag_corpus_scored
from ner_demo.data.sources import load_split
from ner_demo.errors import DatasetUnavailableError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate", help="strict IOB2 and conlleval-style P/R/F1 per type on a dataset split, with intervals",
        description="Score a model on a split. Headline: seqeval strict IOB2 micro F1 with its bootstrap 95% "
        "interval (documents resampled); conlleval-style beside it; token accuracy as a secondary figure. Then "
        "every scoring scheme side by side (SemEval-2013 via nervaluate) and the entities they count differently, "
        "and scores by whether each mention was seen in training, by entity and sentence length and by the share "
        "of subword-split words; the entity-level calibration; the gold annotations most probably wrong. "
        "Word-level, first-subword predictions.",
    )
    add_data_options(p)
    p.add_argument("--errors", type=int, default=0, help="also print the first N errors")
    p.add_argument("--train-data", default=None,
                   help="where the training mentions for seen/unseen come from: a dataset, folder or CoNLL file "
                        "(default: the train split of --data; none for a single file)")
    p.add_argument("--suspicious", metavar="REVIEW.jsonl", default=None,
                   help="write the gold annotations ranked by how probably they are wrong (the model's confident "
                        "disagreement, the same string labelled inconsistently, confident learning) as a JSONL "
                        "review list the annotation tab reads")
    p.add_argument("--top", type=int, default=10,
                   help="suspicious gold items to print (default: 10; --report shows at least 50)")
    p.add_argument("--report", metavar="REPORT.html", default=None,
                   help="write one self-contained HTML report (every chart and table, plotly inline, no network) "
                        "and beside it a JSON file with every figure (--report-json)")
    p.add_argument("--report-json", metavar="REPORT.json", default=None,
                   help="where --report's JSON goes (default: the report's name with .json)")
    add_model_options(p)
    add_json_flag(p)
    p.set_defaults(func=_evaluate)


def _check_outputs(args) -> tuple[Path | None, Path | None, Path | None]:
    """The output files, checked before anything is tagged: a folder that does not exist is reported now."""
    if args.top < 0:
        raise UsageError(f"--top {args.top}: give 0 or more")
    if args.report_json and not args.report:
        raise UsageError("--report-json goes with --report (the HTML report it stands beside)")
    out = []
    for flag, value in (("--suspicious", args.suspicious), ("--report", args.report),
                        ("--report-json", args.report_json or (args.report and str(Path(args.report).with_suffix(".json"))))):
        if not value:
            out.append(None)
            continue
        path = Path(value).expanduser()
        if path.is_dir():
            raise UsageError(f"{flag} {value}: is a folder; give a file name")
        if not path.parent.is_dir():
            raise UsageError(f"{flag} {value}: the folder {path.parent.name or path.parent} does not exist")
        out.append(path)
    if out[1] is not None and out[2] is not None and out[1].resolve() == out[2].resolve():
        raise UsageError(f"--report-json {args.report_json}: the same file as --report; give another name")
    return out[0], out[1], out[2]


def _evaluate(args) -> int:
    # deferred: scoring imports seqeval, nervaluate and numpy, seconds that `predict` must not pay
    from ner_demo.evaluation import format_report
    from ner_demo.evaluation.calibration import format_calibration
    from ner_demo.evaluation.full import full_evaluation
    from ner_demo.evaluation.generalisation import tokenizer_pieces, training_surfaces
    from ner_demo.evaluation.model_eval import corpus_probabilities
    from ner_demo.evaluation.suspicious import format_suspicious, write_review_list
    from ner_demo.evaluation.tables import format_buckets, format_differences, format_overlap, format_schemes, headline

    check_bootstrap(args)
    review_path, report_path, report_json = _check_outputs(args)
    corpus = _load(args.data, args.split)
    train, no_train = _training_split(args)
    tagger = load_tagger(args)
    cache = prediction_cache(args.cache)
    scored = tag_corpus_scored(tagger, corpus, args.json, disk=args.cache)
    pred = [p.tags for p in scored]
    gold, words, doc_ids = [s.tags for s in corpus], [s.words for s in corpus], [s.doc_id for s in corpus]
    # The word probabilities come from the cache the tagging above filled: no second pass.
    probs = corpus_probabilities(tagger, corpus, cache=cache) if cache is not None else None
    seen = None if train is None else training_surfaces([s.words for s in train], [s.tags for s in train])
    ev = full_evaluation(
        gold, pred, words, doc_ids, [p.scores for p in scored], probs, tagger.labels, seen,
        tokenizer_pieces(tagger.tokenizer), args.bootstrap, args.seed,
        meta={"model": args.model or "shipped default", "data": str(args.data), "split": args.split,
              "tagger": tagger.describe()},
        notes={} if no_train is None else {"seen_unseen": no_train},
    )
    result, intervals = ev.result, ev.intervals
    if review_path is not None:
        write_review_list(ev.suspicious, review_path)
    if report_path is not None:
        from ner_demo.report import DEFAULT_TOP, write_report  # deferred: plotly loads only for a report

        write_report(ev, report_path, report_json, title=f"Evaluation of {args.model or 'the shipped model'} on "
                     f"{args.data} {args.split}", top=max(args.top, DEFAULT_TOP))
    if args.json:
        data = ev.to_dict(top=args.top)
        meta = data.pop("meta")
        print_json({"model": args.model, "data": args.data, "split": args.split, "tagger": meta["tagger"], **data,
                    "review_list": None if review_path is None else str(review_path),
                    "report": None if report_path is None else str(report_path),
                    "report_json": None if report_json is None else str(report_json)})
        return 0
    print(f"model: {args.model or 'shipped default'} ({tagger.describe()})")
    print(f"data: {args.data} {args.split}: {result.n_sentences} sentences, {result.n_tokens} tokens")
    print(format_report(result, intervals=intervals))
    print()
    print("scoring schemes (micro):")
    print(format_schemes(ev.schemes))
    print("why they differ (entities each pair of schemes counts differently):")
    print(format_differences(ev.differences) or "  none: every scheme counts every entity alike")
    print()
    if seen is None:
        print(f"seen/unseen: {no_train}")
    else:
        print(format_overlap(ev.overlap))
    for table in ev.buckets:
        print(format_buckets(table))
    print()
    print(format_calibration(ev.calibration, tagger.temperature))
    print()
    if args.top or review_path is not None:
        print(format_suspicious(ev.suspicious, args.top))
        if review_path is not None:
            print(f"wrote the review list ({len(ev.suspicious)} items) to {review_path.name}")
        print()
    if report_path is not None:
        print(f"wrote the report to {report_path.name} and its figures to {report_json.name}")
    print(headline(result.strict.micro.f1, intervals))
    for error in result.errors[: args.errors]:
        print(json.dumps(error.to_dict(), ensure_ascii=False))
    return 0


def _load(data: str, split: str):
    """A split of a dataset, folder or file; of ``annotation:<name>[@<db>]``: its ``train``, its held-out
    ``dev`` part (as training splits it) or ``all`` of it (``test``, the default, means ``dev`` there)."""
    # Deferred: ner_demo.annotation brings sqlalchemy (about 0.4 s), and every command builds this parser.
    from ner_demo.annotation.source import is_annotation_source, load_annotation_split

    if is_annotation_source(str(data)):
        corpus = load_annotation_split(str(data), "dev" if split == "test" else split)
        if not len(corpus):
            raise DatasetUnavailableError(f"{data} {split}: no annotated examples there yet")
        return corpus
    return load_split(data, split)


def _training_split(args):
    """(the corpus whose mentions count as seen, None) or (None, why there is none)."""
    source = args.train_data or args.data
    if args.train_data is None and str(args.data) != "conll2003" and Path(args.data).expanduser().is_file():
        return None, "skipped: --data is a single file; give --train-data to say what the model was trained on"
    try:
        return _load(source, "train"), None
    except DatasetUnavailableError as exc:
        if args.train_data is not None:
            raise
        return None, f"skipped: {exc}"

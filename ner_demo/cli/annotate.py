"""``annotate``: annotation datasets in a database (SQLite by default, or ``--db URL``).

Sub-commands: create, list, rename, delete, import, export, pre-annotate, stats, agreement, resolve.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ner_demo.cli.common import UsageError, add_json_flag, add_model_options, load_tagger, print_json, tsv_field
from ner_demo.models import default_model

# ner_demo.annotation (and with it sqlalchemy, about 0.4 s) is imported inside the commands that open a
# database: every other command, `predict` above all, builds this parser too. The two values the parser
# shows are copied here; tests/test_cli.py checks they are the annotation package's.
FORMATS = ("conll", "jsonl", "hf")  # ner_demo.annotation.formats.FORMATS
DEFAULT_DB = Path("runs") / "annotations.sqlite3"  # ner_demo.annotation.store.DEFAULT_DB


def register(subparsers) -> None:
    top = subparsers.add_parser(
        "annotate", help="annotation datasets: create, import, pre-annotate, export, review",
        description="Annotation datasets and their decisions, kept in a database: SQLite at "
        f"{DEFAULT_DB} by default, or --db URL (postgresql://user@host/db, or a SQLite file path).",
    )
    sub = top.add_subparsers(dest="annotate_command", metavar="SUBCOMMAND")
    top.set_defaults(func=lambda args: _usage(top))

    def command(name: str, help_text: str, func):
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--db", default=None, help=f"database URL or SQLite file (default: {DEFAULT_DB})")
        p.set_defaults(func=func)
        return p

    p = command("create", "create a dataset from a file (.txt, .jsonl, .conll) or an existing split", _create)
    p.add_argument("name")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", help="a .txt (a text a line), .jsonl (a 'text' field; optional 'spans') or .conll")
    source.add_argument("--split", help="an existing split, DATASET:SPLIT (e.g. conll2003:dev)")
    p.add_argument("--labels", help="entity types, comma-separated (keys 1-9 in this order); default: the "
                                    "model's types with --model, else the types the file's spans use")
    p.add_argument("--model", help="take the label set from this model's types")
    p.add_argument("--limit", type=int, default=None, help="only the first N sentences of --split")
    p.add_argument("--as-suggestions", action="store_true",
                   help="store the file's spans as suggestions (to correct), not as annotations")

    p = command("list", "list the datasets", _list)
    add_json_flag(p)
    p = command("rename", "rename a dataset", _rename)
    p.add_argument("old")
    p.add_argument("new")
    p = command("delete", "delete a dataset with its examples and decisions", _delete)
    p.add_argument("name")

    p = command("import", "add examples to a dataset from a file (.txt, .jsonl, .conll, or a saved DatasetDict)",
                _import)
    p.add_argument("name")
    p.add_argument("file")
    p.add_argument("--as-suggestions", action="store_true", help="store the file's spans as suggestions")

    p = command("export", "write a dataset's final annotations", _export)
    p.add_argument("name")
    p.add_argument("--format", choices=FORMATS, default="conll",
                   help="conll (IOB2), jsonl (character spans) or hf (a datasets.DatasetDict folder)")
    p.add_argument("--out", required=True, help="the file (conll, jsonl) or folder (hf) to write")
    p.add_argument("--snap", action="store_true",
                   help="widen spans that cut a word to whole words (default: refuse them, naming each)")

    p = command("pre-annotate", "store a model's suggestions (and its uncertainty) for a dataset", _preannotate)
    p.add_argument("name")
    p.add_argument("--model-version", default=None, help="version to record (default: a hash of the weights)")
    add_model_options(p)

    p = command("stats", "examples, decisions, entities per type", _stats)
    p.add_argument("name")
    add_json_flag(p)

    p = command("agreement", "span agreement per type between two annotators (or model:NAME)", _agreement)
    p.add_argument("name")
    p.add_argument("a", help="an annotator, or model:NAME for a model's suggestions")
    p.add_argument("b", help="an annotator, or model:NAME")
    p.add_argument("--diff", action="store_true", help="also list the examples where they differ")
    add_json_flag(p)

    p = command("resolve", "write the final version from two sides (agreements; --prefer for the rest)", _resolve)
    p.add_argument("name")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--prefer", choices=["a", "b"], default=None,
                   help="the side taken where they disagree (default: refuse while any disagree)")


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _open(args):
    from ner_demo.annotation.store import AnnotationStore

    return AnnotationStore.open(args.db)


def _create(args) -> int:
    from ner_demo.annotation.formats import labels_of, read_examples, split_examples

    if args.file and not Path(args.file).exists():
        raise UsageError(f"{args.file}: no such file")
    if args.labels and args.model:
        raise UsageError("give --labels or --model, not both")
    if args.file:
        items, source = read_examples(args.file), Path(args.file).name
    else:
        dataset, sep, split = args.split.rpartition(":")
        if not sep or not dataset or not split:
            raise UsageError(f"--split {args.split!r}: write DATASET:SPLIT, e.g. conll2003:dev")
        items, source = split_examples(dataset, split, args.limit)
    if args.labels:
        names = [n.strip() for n in args.labels.split(",") if n.strip()]
    elif args.model:
        tagger = load_tagger(argparse.Namespace(model=args.model, aggregation="first", precision="auto",
                                                device="auto", batch_size=None, backend="auto",
                                                context_words=None, chunk_share=None))
        names = sorted({tag[2:] for tag in tagger.labels if tag != "O"})
    else:
        names = labels_of(items)
        if not names:
            raise UsageError("the file has no spans to take types from: give --labels PER,LOC,... or --model")
    with _open(args) as store:
        info = store.create_dataset(args.name, names, items, source,
                                    spans_as_suggestions=source if args.as_suggestions else None)
        print(f"created {info.name!r}: {info.n_examples} examples from {source}; labels "
              + ", ".join(f"{s.name} ({s.key})" if s.key else s.name for s in info.labels) + f"; in {store.describe()}")
    return 0


def _list(args) -> int:
    with _open(args) as store:
        infos = store.list_datasets()
        rows = [{"name": i.name, "examples": i.n_examples, "annotated": len(store.final_spans(i.name)),
                 "labels": i.label_names, "source": i.source, "created": i.created.isoformat()} for i in infos]
        if args.json:
            print_json(rows)
            return 0
        if not rows:
            print(f"no datasets in {store.describe()}")
        for row in rows:
            print("\t".join([tsv_field(row["name"]), f"{row['examples']} examples", f"{row['annotated']} annotated",
                             ",".join(row["labels"]), tsv_field(row["source"])]))
    return 0


def _rename(args) -> int:
    with _open(args) as store:
        store.rename_dataset(args.old, args.new)
    print(f"renamed {args.old!r} to {args.new!r}")
    return 0


def _delete(args) -> int:
    with _open(args) as store:
        store.delete_dataset(args.name)
    print(f"deleted {args.name!r}")
    return 0


def _import(args) -> int:
    from ner_demo.annotation.formats import read_examples, read_hf

    path = Path(args.file)
    if not path.exists():
        raise UsageError(f"{args.file}: no such file or folder")
    items = read_hf(path) if path.is_dir() else read_examples(path)
    with _open(args) as store:
        start = store.add_examples(args.name, items, spans_as_suggestions=path.name if args.as_suggestions else None)
    print(f"added {len(items)} examples to {args.name!r} (positions {start}..{start + len(items) - 1})")
    return 0


def _export(args) -> int:
    from ner_demo.annotation.formats import export_conll, export_hf, export_jsonl

    with _open(args) as store:
        if args.format == "conll":
            n = export_conll(store, args.name, args.out, args.snap)
        elif args.format == "jsonl":
            n = export_jsonl(store, args.name, args.out)
        else:
            n = export_hf(store, args.name, args.out, args.snap)
    print(f"wrote {n} annotated examples of {args.name!r} to {args.out} ({args.format})")
    return 0


def _preannotate(args) -> int:
    # Deferred: pre-annotation scores through ner_demo.evaluation, which loads seqeval and pandas; the
    # parser of every command must start without them (tests/test_layers.py).
    from ner_demo.annotation.preannotate import preannotate

    with _open(args) as store:
        store.dataset(args.name)  # an unknown dataset is named before a model loads
        model = args.model or default_model()
        tagger = load_tagger(args, model)
        n = preannotate(store, args.name, tagger, Path(model).name if Path(model).exists() else model,
                        args.model_version)
    print(f"stored {n} suggestions of {model} in {args.name!r}")
    return 0


def _stats(args) -> int:
    with _open(args) as store:
        stats = store.stats(args.name)
    if args.json:
        print_json(stats)
        return 0
    print(f"{stats['dataset']}: {stats['examples']} examples, {stats['annotated']} annotated, "
          f"{stats['suggested']} with suggestions")
    print("decisions: " + (", ".join(f"{k} {v}" for k, v in sorted(stats["decisions"].items())) or "none"))
    print("annotators: " + (", ".join(f"{k} {v}" for k, v in sorted(stats["annotators"].items())) or "none"))
    print("entities: " + ", ".join(f"{k} {v}" for k, v in stats["entities"].items()))
    return 0


def _agreement(args) -> int:
    from ner_demo.annotation import review

    with _open(args) as store:
        a, b = review.side_spans(store, args.name, args.a), review.side_spans(store, args.name, args.b)
        rows = review.agreement(a, b)
        diff = [r for r in review.diff(a, b) if not r.agrees and r.position in a and r.position in b]
        texts = {ex.position: ex.text for ex in store.examples(args.name)} if args.diff else {}
    shared = len(set(a) & set(b))
    if args.json:
        out = {"a": args.a, "b": args.b, "examples": shared, "types": [r.to_dict() for r in rows]}
        if args.diff:
            out["diff"] = [{"position": r.position, "only_a": [s.to_dict() for s in r.only_a],
                            "only_b": [s.to_dict() for s in r.only_b]} for r in diff]
        print_json(out)
        return 0
    print(f"{args.a} vs {args.b} on {shared} examples both annotated")
    print("type\tboth\tonly_a\tonly_b\tF1")
    for r in rows:
        print(f"{r.label}\t{r.both}\t{r.only_a}\t{r.only_b}\t{r.f1:.3f}")
    for r in diff if args.diff else ():
        text = texts[r.position]
        show = lambda spans: ", ".join(f"{tsv_field(text[s.start:s.end])}/{s.label}" for s in spans) or "-"  # noqa: E731
        print(f"#{r.position}\tonly {args.a}: {show(r.only_a)}\tonly {args.b}: {show(r.only_b)}")
    return 0


def _resolve(args) -> int:
    from ner_demo.annotation import review

    with _open(args) as store:
        a, b = review.side_spans(store, args.name, args.a), review.side_spans(store, args.name, args.b)
        choices = {r.position: args.prefer for r in review.diff(a, b)
                   if args.prefer and not r.agrees and r.position in a and r.position in b}
        resolved = review.resolve(a, b, choices)
        n = review.store_resolution(store, args.name, resolved, note=f"{args.a} vs {args.b}")
    print(f"resolved {n} examples of {args.name!r} into the final version")
    return 0

"""``predict``, and tagging a corpus for the commands that score (``evaluate``, ``compare``, ``calibrate``)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ner_demo.cli.common import (
    UsageError,
    add_json_flag,
    add_model_options,
    load_tagger,
    print_json,
    tsv_field,
)
from ner_demo.data.conll import _decode, format_conll, read_conll
from ner_demo.data.texts import _lines, read_numbered_texts
from ner_demo.scripts import script_warning

CONLL_SUFFIXES = {".conll", ".iob", ".bio"}  # read as words in column 1; tagged words written back
STDIN = "-"  # as a text: read standard input, as a .txt --file is read (whole, or a text a line with --lines)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "predict", help="tag text, a text file, a JSONL file or a CoNLL file",
        description="Tag texts given as arguments (- reads standard input as one text, or one text per line "
        "with --lines, as a .txt file is read), or --file: .txt (one text per line with --lines, else the "
        "whole file), .jsonl (a 'text' field a line) or .conll (words in column 1; writes predicted tags). "
        "Warnings (a text mostly in a non-Latin script) go to stderr. Exit status 1: a data or model problem; "
        "2: a usage problem (no text, an empty text, a missing file), found before the model loads.",
    )
    p.add_argument("text", nargs="*", help="texts to tag; - reads them from standard input")
    p.add_argument("--file", help="a .txt, .jsonl or .conll file")
    p.add_argument("--lines", action="store_true", help="with a .txt file or -: each line is its own text (blank "
                   "lines are skipped; each result is headed by its line number)")
    p.add_argument("--output", help="with a .conll file: write the tagged CoNLL here (default: stdout)")
    add_model_options(p)
    add_json_flag(p)
    p.set_defaults(func=_predict)


@dataclass(frozen=True)
class _Text:
    label: str  # how the output names it: "text 2" (an argument or a whole file), "line 7" (a line of --file)
    text: str
    line: int | None = None


def _predict(args) -> int:
    # Everything the user gave is read and checked first: a typo in a path or an empty text must be
    # reported at once, not after the seconds it takes to load the model.
    corpus = _read_conll_input(args) if _is_conll(args.file) else None
    inputs = [] if corpus is not None else _text_inputs(args)
    tagger = load_tagger(args)
    print(f"# model: {args.model or 'shipped default'} ({tagger.describe()})", file=sys.stderr)  # stdout stays data
    if corpus is not None:
        warning = script_warning(" ".join(w for s in corpus for w in s.words))
        if warning:
            print(f"# warning: {warning}", file=sys.stderr)
        tags = tagger.predict_words([s.words for s in corpus], [s.doc_id for s in corpus])
        text = format_conll([s.with_tags(t) for s, t in zip(corpus, tags)])
        if args.output:
            Path(args.output).write_text(text, encoding="utf-8")
            print(f"wrote {args.output} ({len(corpus)} sentences)", file=sys.stderr)
        else:
            sys.stdout.write(text)
        return 0
    results = tagger.tag_texts([t.text for t in inputs])
    for item, result in zip(inputs, results):
        for warning in result.warnings:
            print(f"# warning ({item.label}): {warning}", file=sys.stderr)
    if args.json:
        print_json([{"text": item.text, **({"line": item.line} if item.line else {}),
                     "entities": [e.to_dict() for e in result.entities], "warnings": result.warnings}
                    for item, result in zip(inputs, results)])
        return 0
    headed = len(inputs) > 1 or any(item.line for item in inputs)
    for item, result in zip(inputs, results):
        if headed:
            print(f"# {item.label}")
        for e in result.entities:
            print(f"{e.label}\t{e.start}\t{e.end}\t{e.score:.3f}\t{tsv_field(e.text)}")
    return 0


def _is_conll(file: str | None) -> bool:
    return bool(file) and Path(file).suffix.lower() in CONLL_SUFFIXES


def _text_inputs(args) -> list[_Text]:
    """The texts to tag, in order: the arguments, then --file's. An empty argument is an error; blank
    lines of a file are skipped, and each text keeps the number of the line it is on (said on stderr)."""
    if not args.text and not args.file:
        raise UsageError('give texts as arguments or a --file, e.g. python -m ner_demo predict "John lives in Paris"')
    inputs = []
    if args.text.count(STDIN) > 1:
        raise UsageError(f"{STDIN} is given {args.text.count(STDIN)} times: standard input can be read once")
    for i, text in enumerate(args.text, start=1):
        if text == STDIN:
            inputs += _stdin_texts(args.lines, i)
            continue
        if not text.strip():
            name = "the text" if len(args.text) == 1 else f"text {i}"
            what = "empty" if not text else "only whitespace"
            raise UsageError(f"{name} is {what}: there is nothing to tag; give a text with words in it, "
                             'e.g. python -m ner_demo predict "John lives in Paris"')
        inputs.append(_Text(f"text {i}", text))
    if args.file:
        _check_file(args.file)
        by_line = args.lines or Path(args.file).suffix.lower() == ".jsonl"
        try:
            numbered = read_numbered_texts(args.file, args.lines)
        except OSError as exc:
            raise UsageError(f"{args.file}: cannot be read ({exc.strerror or exc})") from None
        if not by_line:
            return inputs + [_Text(f"text {len(inputs) + 1}", numbered[0][1])]
        inputs += [_Text(f"line {n}", text, n) for n, text in numbered]
        skipped = sorted(set(range(1, numbered[-1][0] + 1)) - {n for n, _ in numbered})
        if skipped:
            shown = ", ".join(map(str, skipped[:10])) + (", ..." if len(skipped) > 10 else "")
            print(f"# {args.file}: skipped {len(skipped)} blank line(s) ({shown}); "
                  "each result is headed by the number of its line", file=sys.stderr)
    return inputs


def _stdin_texts(by_line: bool, number: int) -> list[_Text]:
    """Standard input as a .txt --file is read: one text (``text <number>``), or with ``--lines`` a text
    per non-blank line (``stdin line N``). Read to its end before the model loads."""
    content = _decode(sys.stdin.buffer.read(), "standard input", "a UTF-8 text")
    if not content.strip():
        raise UsageError("standard input is empty: there is nothing to tag; pipe a text in, e.g. "
                         "echo \"John lives in Paris\" | python -m ner_demo predict -")
    if not by_line:
        return [_Text(f"text {number}", content)]
    return [_Text(f"stdin line {n}", text, n) for n, text in enumerate(_lines(content), start=1) if text.strip()]


def _read_conll_input(args):
    if args.text:
        raise UsageError(f"texts given as arguments beside the CoNLL file {args.file}: tag one or the other")
    _check_file(args.file)
    try:
        return read_conll(args.file)
    except OSError as exc:
        raise UsageError(f"{args.file}: cannot be read ({exc.strerror or exc})") from None


def _check_file(file: str) -> None:
    path = Path(file)
    if path.is_dir():
        raise UsageError(f"{file}: is a folder; give a .txt, .jsonl or .conll file")
    if not path.is_file():
        raise UsageError(f"{file}: no such file")


def tag_corpus(tagger, corpus, quiet: bool, desc: str = "tagging", disk: bool = False) -> list[list[str]]:
    """Predicted tags for every sentence of ``corpus`` (the model's thresholds applied), with a progress
    bar on stderr unless ``quiet``; ``disk``: through the on-disk prediction cache."""
    return [p.tags for p in tag_corpus_scored(tagger, corpus, quiet, desc, disk)]


def tag_corpus_scored(tagger, corpus, quiet: bool, desc: str = "tagging", disk: bool = False):
    """:func:`tag_corpus` with each word's score: ``WordPrediction`` per sentence."""
    from ner_demo.evaluation.model_eval import predict_corpus_scored  # deferred with the rest of scoring

    with tqdm(total=len(corpus), unit="sent", desc=desc, disable=quiet or None, file=sys.stderr) as bar:
        return predict_corpus_scored(tagger, corpus, progress=lambda done, total: bar.update(done - bar.n),
                                     cache=prediction_cache(disk))


def prediction_cache(disk: bool):
    """The process's in-memory prediction cache, or (``disk``) one that also keeps entries on disk."""
    from ner_demo.evaluation.cache import PREDICTIONS, disk_cache

    return disk_cache() if disk else PREDICTIONS


def check_bootstrap(args) -> None:
    if args.bootstrap < 0:
        raise UsageError(f"--bootstrap {args.bootstrap}: give a number of resamples, or 0 for none")

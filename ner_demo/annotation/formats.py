"""Examples in and final annotations out: uploads, existing splits, CoNLL (IOB2), JSONL, a DatasetDict.

Reading (:func:`read_examples`): ``.txt`` is a text a line; ``.jsonl`` a JSON object a line with a string
``text`` (or ``sentence``), optional ``spans`` (``[{"start", "end", "label"}, ...]``, half-open character
offsets), optional ``id`` and ``meta``, and optional ``tokens`` (word offsets, as the JSONL export writes
them); ``.conll`` a CoNLL file in any tag scheme (converted to IOB2). Errors name the file and the line.

A CoNLL sentence becomes the text of its words joined by single spaces, and the example keeps those
words' offsets: CoNLL keeps no whitespace, so that text is the only one it can give back, and with the
words kept the CoNLL export writes exactly the words it read. Other texts are cut into words by
:func:`ner_demo.spans.split_words`, as the Tagger reads them.

Writing: :func:`export_conll` refuses a span that starts or ends inside a word (naming the example and the
span) unless ``snap=True``, which widens it to whole words (:func:`ner_demo.annotation.edits.snap_to_words`);
IOB2 tags cannot say "half a word", and silently moving a boundary would change the data. Exporting and
importing again gives the same spans: tests/test_annotation_formats.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

from ner_demo.annotation.edits import Span, SpanError, check_spans, snap_to_words, spans_to_dicts
from ner_demo.annotation.store import AnnotationStore, ExampleIn
from ner_demo.data.conll import Corpus, Sentence, format_conll, parse_conll, _decode
from ner_demo.data.schemes import corpus_to_iob2
from ner_demo.data.sources import load_split
from ner_demo.data.texts import _lines, parse_jsonl_lines
from ner_demo.errors import DataFormatError, NerDemoError
from ner_demo.spans import Word, iob2_word_spans, split_words, word_spans_to_iob2, WordSpan

FORMATS = ("conll", "jsonl", "hf")
UPLOAD_SUFFIXES = (".txt", ".jsonl", ".conll")


class AnnotationExportError(NerDemoError):
    """A span that the export format cannot write (a span that cuts a word, for CoNLL)."""


# ---- reading ----------------------------------------------------------------------------------------


def read_examples(path: str | os.PathLike, source: str | None = None) -> list[ExampleIn]:
    """The examples of an upload (see the module's docstring); ``source`` names it in errors (default:
    the file's name, never the folder the server keeps it in)."""
    path = Path(path)
    source = source or path.name
    suffix = path.suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise DataFormatError(source, None, None, f"is not one of {', '.join(UPLOAD_SUFFIXES)}")
    if not path.is_file():
        raise DataFormatError(source, None, None, "no such file")
    content = _decode(path.read_bytes(), source, "a UTF-8 text file")
    if suffix == ".conll":
        return corpus_examples(parse_conll(content, source), source)
    if not content.strip():
        raise DataFormatError(source, None, None, "is empty: there is no text to annotate")
    if suffix == ".txt":
        return [ExampleIn(line, f"{source}:{n}") for n, line in enumerate(_lines(content), start=1) if line.strip()]
    return _read_jsonl(content, source)


def _read_jsonl(content: str, source: str) -> list[ExampleIn]:
    items = []
    for n, line, record in parse_jsonl_lines(content, source):
        if not isinstance(record, dict):
            raise DataFormatError(source, n, line, "is not a JSON object")
        text = record.get("text", record.get("sentence"))
        if not isinstance(text, str) or not text.strip():
            raise DataFormatError(source, n, line, "needs a non-empty string field 'text'")
        spans = None
        if "spans" in record and record["spans"] is not None:
            try:
                spans = check_spans(text, [_span(item) for item in record["spans"]])
            except (SpanError, TypeError, ValueError) as exc:
                raise DataFormatError(source, n, line, f"spans: {exc}") from None
        tokens = record.get("tokens")
        if tokens is not None:
            if not (isinstance(tokens, list) and all(
                    isinstance(t, list) and len(t) == 2 and all(isinstance(x, int) for x in t)
                    and 0 <= t[0] < t[1] <= len(text) for t in tokens)):
                raise DataFormatError(source, n, line, "tokens must be [[start, end], ...] offsets into the text")
            tokens = [tuple(t) for t in tokens]
        meta = record.get("meta") if isinstance(record.get("meta"), dict) else {}
        record_id = record.get("id", record.get("index"))
        items.append(ExampleIn(text, str(record_id) if record_id is not None else f"{source}:{n}", meta, tokens, spans))
    if not items:
        raise DataFormatError(source, None, None, "has no lines with a text to annotate")
    return items


def _span(item) -> Span:
    """``{"start", "end", "label"}`` or ``[start, end, label]``."""
    if isinstance(item, (list, tuple)) and len(item) == 3:
        item = {"start": item[0], "end": item[1], "label": item[2]}
    return Span.from_dict(item)


def corpus_examples(corpus: Corpus, source: str) -> list[ExampleIn]:
    """Examples from CoNLL sentences (any scheme; IOB2 spans): words joined by single spaces."""
    corpus, _ = corpus_to_iob2(corpus)
    items = []
    for i, sentence in enumerate(corpus.sentences):
        offsets, position = [], 0
        for word in sentence.words:
            offsets.append((position, position + len(word)))
            position += len(word) + 1
        text = " ".join(sentence.words)
        spans = [Span(offsets[s.start][0], offsets[s.end - 1][1], s.label) for s in iob2_word_spans(sentence.tags)]
        line = sentence.line or i + 1
        items.append(ExampleIn(text, f"{source}:{line}", {"doc_id": sentence.doc_id}, offsets, spans))
    if not items:
        raise DataFormatError(source, None, None, "contains no sentences")
    return items


def split_examples(dataset: str, split: str, limit: int | None = None) -> tuple[list[ExampleIn], str]:
    """Examples of an existing split (``conll2003`` dev, a folder's train, ...), with its gold spans, and
    a description of the source."""
    corpus = load_split(dataset, split)
    if limit:
        corpus = Corpus(corpus.sentences[:limit], corpus.name)
    name = f"{Path(dataset).name if dataset != 'conll2003' else 'conll2003'} {split}"
    return corpus_examples(corpus, name), name


def labels_of(items: Sequence[ExampleIn]) -> list[str]:
    """The entity types the items' spans use, sorted."""
    return sorted({s.label for item in items for s in item.spans or ()})


# ---- writing ----------------------------------------------------------------------------------------


def example_words(text: str, tokens: Sequence[tuple[int, int]] | None) -> list[Word]:
    """The example's words: those its file gave, else :func:`split_words`'s."""
    if tokens is None:
        return split_words(text)
    return [Word(text[s:e], s, e) for s, e in tokens]


def word_tags(text: str, words: Sequence[Word], spans: Sequence[Span], where: str, snap: bool = False) -> list[str]:
    """IOB2 tags of ``words`` for ``spans``; a span that cuts a word raises (or, with ``snap``, is widened
    to whole words). ``where`` names the example in the message."""
    word_spans = []
    for span in spans:
        inside = [i for i, w in enumerate(words) if w.start < span.end and span.start < w.end]
        if not inside:
            raise AnnotationExportError(f"{where}: span {text[span.start:span.end]!r} ({span.label}) covers no word")
        first, last = words[inside[0]], words[inside[-1]]
        if (first.start, last.end) != (span.start, span.end) and not snap:
            raise AnnotationExportError(
                f"{where}: span {text[span.start:span.end]!r} ({span.label}) at [{span.start}, {span.end}) cuts "
                f"a word ({text[first.start:last.end]!r}); fix it or export with snapping to whole words")
        word_spans.append(WordSpan(span.label, inside[0], inside[-1] + 1))
    try:
        return word_spans_to_iob2(word_spans, len(words))
    except ValueError:
        raise AnnotationExportError(f"{where}: two spans fall in the same word once snapped; fix them") from None


def final_rows(store: AnnotationStore, name: str) -> list[tuple]:
    """``(example, spans, decision)`` for each example with a final annotation, in dataset order."""
    final = store.final_decisions(name)
    return [(ex, final[ex.position].spans, final[ex.position]) for ex in store.examples(name)
            if ex.position in final and final[ex.position].action in ("accept", "edit")]


def conll_sentences(store: AnnotationStore, name: str, snap: bool = False) -> list[Sentence]:
    sentences = []
    for ex, spans, _ in final_rows(store, name):
        words = example_words(ex.text, ex.tokens)
        if not words:
            continue
        tags = word_tags(ex.text, words, spans, f"{name}, example {ex.position} ({ex.source_id})", snap)
        sentences.append(Sentence(tuple(w.text for w in words), tuple(tags), 0))
    return sentences


def export_conll(store: AnnotationStore, name: str, path: str | os.PathLike, snap: bool = False) -> int:
    """Write the final annotations as CoNLL (word and IOB2 tag a line); returns the sentences written."""
    sentences = conll_sentences(store, name, snap)
    _write_atomic(Path(path), format_conll(sentences))
    return len(sentences)


def jsonl_records(store: AnnotationStore, name: str) -> list[dict]:
    records = []
    for ex, spans, decision in final_rows(store, name):
        record = {"id": ex.source_id if ex.source_id is not None else str(ex.position), "text": ex.text,
                  "spans": spans_to_dicts(spans), "annotator": decision.annotator, "action": decision.action}
        if ex.tokens is not None:
            record["tokens"] = [list(t) for t in ex.tokens]
        if ex.meta:
            record["meta"] = ex.meta
        records.append(record)
    return records


def export_jsonl(store: AnnotationStore, name: str, path: str | os.PathLike) -> int:
    """Write the final annotations as JSONL (text, character spans, id, tokens when the file gave them)."""
    records = jsonl_records(store, name)
    _write_atomic(Path(path), "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    return len(records)


def export_hf(store: AnnotationStore, name: str, folder: str | os.PathLike, snap: bool = False) -> int:
    """Save the final annotations as a ``datasets.DatasetDict`` (one ``train`` split: ``id``, ``text``,
    ``tokens``, ``ner_tags`` (IOB2 class labels), ``spans``) with ``save_to_disk``."""
    # datasets (and pyarrow) load in about a second: only this export needs them.
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Sequence as HfSequence, Value

    info = store.dataset(name)
    tag_names = ["O"] + [f"{p}-{label}" for label in info.label_names for p in ("B", "I")]
    columns: dict[str, list] = {"id": [], "text": [], "tokens": [], "token_offsets": [], "ner_tags": [], "spans": []}
    for ex, spans, _ in final_rows(store, name):
        words = example_words(ex.text, ex.tokens)
        tags = word_tags(ex.text, words, spans, f"{name}, example {ex.position}", snap)
        columns["id"].append(ex.source_id or str(ex.position))
        columns["text"].append(ex.text)
        columns["tokens"].append([w.text for w in words])
        columns["token_offsets"].append([[w.start, w.end] for w in words])
        columns["ner_tags"].append([tag_names.index(t) for t in tags])
        columns["spans"].append(json.dumps(spans_to_dicts(spans)))
    features = Features({"id": Value("string"), "text": Value("string"), "tokens": HfSequence(Value("string")),
                         "token_offsets": HfSequence(HfSequence(Value("int32"))),
                         "ner_tags": HfSequence(ClassLabel(names=tag_names)), "spans": Value("string")})
    DatasetDict({"train": Dataset.from_dict(columns, features=features)}).save_to_disk(str(folder))
    return len(columns["id"])


def read_hf(folder: str | os.PathLike, source: str | None = None) -> list[ExampleIn]:
    """Examples from a DatasetDict saved by :func:`export_hf` (every split, in order)."""
    from datasets import load_from_disk  # deferred: see export_hf

    source = source or Path(folder).name
    try:
        loaded = load_from_disk(str(folder))
    except (FileNotFoundError, ValueError) as exc:
        raise DataFormatError(source, None, None, f"is not a saved DatasetDict ({exc})") from None
    splits = loaded.values() if hasattr(loaded, "values") else [loaded]
    items = []
    for split in splits:
        for n, row in enumerate(split):
            if "text" not in row or "spans" not in row:
                raise DataFormatError(source, n + 1, None, "needs the columns text and spans (as export_hf writes)")
            spans = check_spans(row["text"], [_span(s) for s in json.loads(row["spans"])])
            tokens = [tuple(t) for t in row["token_offsets"]] if row.get("token_offsets") else None
            items.append(ExampleIn(row["text"], row.get("id"), {}, tokens, spans))
    return items


def _write_atomic(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(content, encoding="utf-8")
    os.replace(tmp, path)


def snap_spans(text: str, spans: Sequence[Span], tokens: Sequence[tuple[int, int]] | None = None) -> list[Span]:
    """Spans widened to whole words (the example's own words when it has them)."""
    words = example_words(text, tokens)
    return check_spans(text, [Span(*snap_to_words(text, s.start, s.end, words), s.label) for s in spans])

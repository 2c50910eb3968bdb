"""Read and write CoNLL column files: one word a line, the NER tag in the last column.

Blank lines end sentences; ``-DOCSTART-`` lines end documents and are kept as document ids, so
document context (neighbouring sentences) stays available to training and evaluation.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Sequence

from ner_demo.errors import DataFormatError

DOCSTART = "-DOCSTART-"
_TAG_PREFIXES = ("B-", "I-", "E-", "S-")
# Only newlines end lines and only spaces/tabs separate columns: str.splitlines() and str.split() also
# break on U+2028, U+0085, NBSP, ..., which would shift line numbers and split words such as "10\u00a0000".
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_COLUMN_SEP = re.compile(r"[ \t]+")


@dataclass(frozen=True)
class Sentence:
    """One sentence: words, their tags, and any middle columns (POS, chunk, ...).

    ``line`` is the 1-based line of the first word in ``source``, so that an error about word ``i``
    can name line ``line + i``.
    """

    words: tuple[str, ...]
    tags: tuple[str, ...]
    doc_id: int = 0
    columns: tuple[tuple[str, ...], ...] = ()
    source: str = "<memory>"
    line: int = 0

    def __post_init__(self) -> None:
        if len(self.words) != len(self.tags):
            raise ValueError(f"{len(self.words)} words but {len(self.tags)} tags")

    def with_tags(self, tags: Sequence[str]) -> "Sentence":
        return replace(self, tags=tuple(tags))


@dataclass
class Corpus:
    """The sentences of one split, in file order."""

    sentences: list[Sentence] = field(default_factory=list)
    name: str = ""

    def __len__(self) -> int:
        return len(self.sentences)

    def __iter__(self):
        return iter(self.sentences)

    def documents(self) -> list[list[Sentence]]:
        """Sentences grouped by document, in order."""
        docs: list[list[Sentence]] = []
        last = None
        for sentence in self.sentences:
            if sentence.doc_id != last:
                docs.append([])
                last = sentence.doc_id
            docs[-1].append(sentence)
        return docs


_UTF16_32_BOMS = {b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32", b"\xff\xfe": "UTF-16",
                  b"\xfe\xff": "UTF-16"}


def _wide_encoding(data: bytes) -> str | None:
    """UTF-16 or UTF-32 when the bytes plainly are (a byte-order mark, or ASCII text whose every other
    byte is NUL), else None: such a file is text saved in the wrong encoding, not a binary file."""
    for bom, name in _UTF16_32_BOMS.items():
        if data.startswith(bom):
            return name
    even, odd = data[:200:2], data[1:200:2]
    if len(odd) >= 4 and (even.count(0), odd.count(0)) in ((0, len(odd)), (len(even), 0)):
        return "UTF-16"
    return None


def _decode(data: bytes, source: str, what: str = "CoNLL text") -> str:
    wide = _wide_encoding(data)
    if wide:
        raise DataFormatError(source, 1, None, f"is encoded as {wide}, not UTF-8; re-save the file as UTF-8")
    # Check the whole file, not a prefix: a NUL past the first block would otherwise end up inside a word.
    if b"\x00" in data:
        line_no = data[: data.index(b"\x00")].count(b"\n") + 1
        raise DataFormatError(source, line_no, None, f"contains NUL bytes: this looks like a binary file, not {what}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_no = data[: exc.start].count(b"\n") + 1
        bad = data[exc.start : exc.start + 4]
        raise DataFormatError(
            source, line_no, None, f"is not valid UTF-8 (bytes {bad!r}); re-save the file as UTF-8"
        ) from None
    return text.lstrip("\ufeff")  # a BOM is harmless; drop it rather than make it part of word 1


def parse_conll(text: str, source: str = "<memory>") -> Corpus:
    """Parse CoNLL text. Any number of columns (at least 2) as long as every line has the same.

    >>> corpus = parse_conll("EU NNP B-ORG\\nrejects VBZ O\\n")
    >>> corpus.sentences[0].words, corpus.sentences[0].tags
    (('EU', 'rejects'), ('B-ORG', 'O'))
    """
    sentences: list[Sentence] = []
    n_columns: int | None = None
    rows: list[list[str]] = []
    first_line = 0
    doc_id = 0
    seen_docstart = False

    # One object per distinct word, tag and column tuple: CoNLL-2003 train repeats 23k distinct words
    # and ~10 tags 200k times; sharing them keeps one copy of each in memory instead of one per occurrence.
    distinct: dict = {}
    same = distinct.setdefault

    def flush() -> None:
        if rows:
            words = tuple(same(r[0], r[0]) for r in rows)
            tags = tuple(same(r[-1], r[-1]) for r in rows)
            middle = ()
            if len(rows[0]) > 2:
                middle = tuple(same(m, m) for m in (tuple(same(c, c) for c in r[1:-1]) for r in rows))
            sentences.append(Sentence(words, tags, doc_id, middle, source, first_line))
            rows.clear()

    for line_no, raw in enumerate(_LINE_BREAK.split(text), start=1):
        line = raw.strip(" \t")
        if not line:
            flush()
            continue
        parts = _COLUMN_SEP.split(line)
        if parts[0] == DOCSTART:
            flush()
            if seen_docstart or sentences:
                doc_id += 1
            seen_docstart = True
            continue
        if len(parts) < 2:
            raise DataFormatError(source, line_no, raw, "expected at least 2 columns (word ... tag)")
        if n_columns is None:
            n_columns = len(parts)
        elif len(parts) != n_columns:
            raise DataFormatError(
                source, line_no, raw, f"has {len(parts)} columns but earlier lines have {n_columns}"
            )
        tag = parts[-1]
        if tag != "O" and not (tag.startswith(_TAG_PREFIXES) and len(tag) > 2):
            raise DataFormatError(
                source, line_no, raw, f"last column {tag!r} is not a tag (O, B-X, I-X, E-X or S-X)"
            )
        if not rows:
            first_line = line_no
        rows.append(parts)
    flush()
    return Corpus(sentences, name=source)


def read_conll(path: str | os.PathLike, source: str | None = None) -> Corpus:
    """Read a CoNLL file from disk; errors name the file (``source``, default: the path) and the line.

    ``source`` is also each sentence's ``source``: an app passes an upload's own file name, so that
    neither its errors nor its captions show where the server keeps the file.
    """
    path = Path(path)
    source = source or str(path)
    if not path.is_file():
        raise DataFormatError(source, None, None, "no such file")
    corpus = parse_conll(_decode(path.read_bytes(), source), source=source)
    if not corpus.sentences:
        raise DataFormatError(source, None, None, "contains no sentences")
    return corpus


def format_conll(sentences: Iterable[Sentence], docstart: bool = True) -> str:
    """CoNLL text for sentences; ``-DOCSTART-`` lines mark each new document when ``docstart``."""
    out: list[str] = []
    last_doc = None
    for sentence in sentences:
        if docstart and sentence.doc_id != last_doc:
            n_middle = len(sentence.columns[0]) if sentence.columns else 0
            out.append(" ".join([DOCSTART, *["-X-"] * n_middle, "O"]))
            out.append("")
            last_doc = sentence.doc_id
        for i, (word, tag) in enumerate(zip(sentence.words, sentence.tags)):
            middle = list(sentence.columns[i]) if sentence.columns else []
            out.append(" ".join([word, *middle, tag]))
        out.append("")
    return "\n".join(out) + ("\n" if out else "")


def write_conll(sentences: Iterable[Sentence], path: str | os.PathLike, docstart: bool = True) -> None:
    """Write sentences atomically: a temporary sibling renamed into place."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(format_conll(sentences, docstart), encoding="utf-8")
    os.replace(tmp, path)

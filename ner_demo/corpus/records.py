"""The records of a corpus to tag, streamed: ``.txt`` (a text a line), ``.jsonl`` (a field the user names),
Parquet (a column), or a folder of these.

Every reader yields :class:`Record` or :class:`Reject` in input order and never holds more than one line
(or one Parquet batch) in memory, so a corpus of any size streams through. A bad record (a line that is
not JSON, a missing or non-string field, bytes that are not UTF-8, a text over the Tagger's limit) is a
:class:`Reject` naming its file and line: counted and written out by the caller, never silently dropped,
and it does not stop the rest of the file. Blank lines are no records (there is nothing to tag in them).

A record's position (its index in the stream of records and rejects) is what shards and resuming count;
it only depends on the files' contents, so reading the same input again gives the same positions.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "a.txt").write_bytes(b"John lives in Paris\\n\\nbad \\xff byte\\n")
>>> [type(r).__name__ for r in iter_records(folder / "a.txt")]
['Record', 'Reject']
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ner_demo.errors import DataFormatError, NerDemoError
from ner_demo.inference import MAX_TEXT_CHARS

SUFFIXES = (".txt", ".jsonl", ".parquet")
# A line is read at most this many bytes at a time: a "line" of gigabytes (a file without line breaks)
# must not be read whole. UTF-8 takes at most 4 bytes a character, so no text within the Tagger's limit
# is cut.
MAX_LINE_BYTES = 4 * MAX_TEXT_CHARS + 2
_SURROGATE = re.compile("[\ud800-\udfff]")
PARQUET_BATCH_ROWS = 1024  # rows read from a Parquet file at a time (a row group is read in such batches)
COUNT_MAX_BYTES = 2 << 30  # text input up to 2 GiB is counted for the progress bar's total (seconds); beyond, no total


class CorpusError(NerDemoError):
    """The corpus cannot be read at all (no such file, an unknown suffix, a Parquet file without the column)."""


@dataclass(frozen=True)
class Record:
    """A text to tag: ``id`` (the input's own, or ``<file>:<line>``), ``source`` (the file, relative to the
    input folder) and ``line`` (its line, or row counted from 1 in a Parquet file)."""

    id: str
    text: str
    source: str
    line: int


@dataclass(frozen=True)
class Reject:
    """A record that could not be read: where it is and why."""

    source: str
    line: int
    reason: str

    def to_dict(self) -> dict:
        return {"source": self.source, "line": self.line, "reason": self.reason}


Item = Record | Reject


def input_files(path: str | os.PathLike) -> list[tuple[Path, str]]:
    """(file, name shown) of each file of the input: the file itself (shown by its name), or every
    ``.txt``/``.jsonl``/``.parquet`` file under a folder, recursively, sorted by their path inside it
    (shown by that path). Hidden files (``.name``) are left out."""
    root = Path(path)
    if root.is_file():
        _check_suffix(root, root.name)
        return [(root, root.name)]
    if not root.is_dir():
        raise CorpusError(f"{Path(path).name}: no such file or folder")
    found = []
    for file in root.rglob("*"):
        rel = file.relative_to(root)
        if file.is_file() and file.suffix.lower() in SUFFIXES and not any(p.startswith(".") for p in rel.parts):
            found.append((file, rel.as_posix()))
    if not found:
        raise CorpusError(f"{root.name}: a folder without .txt, .jsonl or .parquet files")
    return sorted(found, key=lambda pair: pair[1])


def _check_suffix(path: Path, shown: str) -> None:
    if path.suffix.lower() not in SUFFIXES:
        raise CorpusError(f"{shown}: not a corpus file; give a .txt, .jsonl or .parquet file, or a folder of them")


def iter_records(path: str | os.PathLike, text_field: str = "text", id_field: str | None = None) -> Iterator[Item]:
    """Every record of the input in order (files sorted, then lines). ``text_field``: the JSONL field or
    Parquet column with the text; ``id_field``: the one with the record's id (default ``<file>:<line>``).
    A ``.txt`` file has no fields: its ids are always ``<file>:<line>``."""
    for file, shown in input_files(path):
        suffix = file.suffix.lower()
        if suffix == ".parquet":
            yield from _parquet_records(file, shown, text_field, id_field)
        else:
            yield from _line_records(file, shown, suffix == ".jsonl", text_field, id_field)


def _line_records(file: Path, shown: str, jsonl: bool, text_field: str, id_field: str | None) -> Iterator[Item]:
    for n, raw in _raw_lines(file):
        if raw is None:
            yield Reject(shown, n, f"a line over {MAX_LINE_BYTES:,} bytes: over the limit of {MAX_TEXT_CHARS:,} "
                                   "characters a text; split it into lines")
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield Reject(shown, n, f"not UTF-8: byte 0x{raw[exc.start]:02x} at byte {exc.start + 1} of the line")
            continue
        if n == 1:
            line = line.removeprefix("\ufeff")  # a byte-order mark some editors write first
        if not line.strip():
            continue
        if not jsonl:
            yield _checked(Record(f"{shown}:{n}", line, shown, n))
            continue
        yield _json_record(line, shown, n, text_field, id_field)


def _json_record(line: str, shown: str, n: int, text_field: str, id_field: str | None) -> Item:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        return Reject(shown, n, f"not JSON ({exc.msg} at column {exc.colno})")
    if not isinstance(value, dict):
        return Reject(shown, n, f"a JSON {type(value).__name__}, not an object with a field {text_field!r}")
    if text_field not in value:
        return Reject(shown, n, f"no field {text_field!r} (fields: {', '.join(map(repr, list(value)[:10])) or 'none'})")
    text = value[text_field]
    if not isinstance(text, str):
        return Reject(shown, n, f"field {text_field!r} is {_json_kind(text)}, not a string")
    record_id = f"{shown}:{n}"
    if id_field is not None:
        if id_field not in value:
            return Reject(shown, n, f"no id field {id_field!r}")
        raw_id = value[id_field]
        if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)):
            return Reject(shown, n, f"id field {id_field!r} is {_json_kind(raw_id)}, not a string or an integer")
        record_id = str(raw_id)
    return _checked(Record(record_id, text, shown, n))


def _json_kind(value) -> str:
    if value is None:
        return "null"
    name = type(value).__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _checked(record: Record) -> Item:
    """``record``, or a Reject when its text is over the Tagger's limit (which would stop the run) or its
    text or id holds a lone surrogate (a JSON ``\\ud800`` escape: half a character, which no UTF-8 output
    can hold)."""
    if len(record.text) > MAX_TEXT_CHARS:
        return Reject(record.source, record.line,
                      f"a text of {len(record.text):,} characters; the limit is {MAX_TEXT_CHARS:,}: split it")
    for what, value in (("text", record.text), ("id", record.id)):
        found = _SURROGATE.search(value)
        if found:
            return Reject(record.source, record.line, f"the {what} holds a lone surrogate "
                          f"{ascii(found.group())[1:-1]} at character {found.start() + 1} (half of a character)")
    return record


def _raw_lines(file: Path) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes without the line end) of each line; None for a line over MAX_LINE_BYTES,
    whose rest is skipped without being held. Lines end at \\n, \\r\\n or \\r, as ``open()``, editors
    and :mod:`ner_demo.data.texts` count them; the bytes are decoded by the caller, line by line, so one
    bad line does not lose the file."""
    n = 0
    with open(file, "rb") as f:
        while True:
            raw = f.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):  # the rest of the long line, a block at a time
                    raw = f.readline(1 << 20)
                n += 1
                yield n, None
                continue
            body = raw[:-1] if raw.endswith(b"\n") else raw
            body = body[:-1] if body.endswith(b"\r") else body
            for part in body.split(b"\r"):  # a lone \r ends a line too (old Mac line ends)
                n += 1
                yield n, part


def _parquet_records(file: Path, shown: str, text_field: str, id_field: str | None) -> Iterator[Item]:
    import pyarrow.parquet as pq  # deferred: only a Parquet input or output needs pyarrow

    try:
        parquet = pq.ParquetFile(file)
    except Exception as exc:  # pyarrow raises ArrowInvalid and OSError subclasses of its own
        raise CorpusError(f"{shown}: not a Parquet file that can be read ({exc})") from None
    names = parquet.schema_arrow.names
    columns = [text_field] + ([id_field] if id_field and id_field != text_field else [])
    for column in columns:
        if column not in names:
            raise CorpusError(f"{shown}: no column {column!r} (columns: {', '.join(map(repr, names[:20]))}); "
                              "name the text's with --text-field and the id's with --id-field")
    row = 0
    for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=columns):
        texts = batch.column(text_field).to_pylist()
        ids = batch.column(id_field).to_pylist() if id_field else [None] * len(texts)
        for text, raw_id in zip(texts, ids):
            row += 1
            if not isinstance(text, str):
                yield Reject(shown, row, f"column {text_field!r} is {_json_kind(text)}, not a string")
            elif id_field and (raw_id is None or isinstance(raw_id, bool) or not isinstance(raw_id, (str, int))):
                yield Reject(shown, row, f"id column {id_field!r} is {_json_kind(raw_id)}, not a string or an integer")
            else:
                yield _checked(Record(str(raw_id) if id_field else f"{shown}:{row}", text, shown, row))


def count_items(path: str | os.PathLike, max_bytes: int = COUNT_MAX_BYTES) -> int | None:
    """How many records and rejects :func:`iter_records` will yield, when that is cheap to know: the
    non-blank lines of text files (one fast pass over their bytes) and the rows in Parquet footers;
    None when the text files hold over ``max_bytes`` (counting would be a pass as long as reading).
    Lone \\r line ends are not counted (the count is for a progress bar's total)."""
    files = input_files(path)
    if sum(f.stat().st_size for f, _ in files if f.suffix.lower() != ".parquet") > max_bytes:
        return None
    total = 0
    for file, _ in files:
        if file.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq  # deferred, as above

            try:
                total += pq.ParquetFile(file).metadata.num_rows
            except Exception:  # reported with its reason when the records are read
                return None
            continue
        with open(file, "rb") as f:
            total += sum(1 for line in f if line.strip())
    return total


def input_fingerprint(path: str | os.PathLike) -> dict:
    """What identifies the input for resuming: per file, its name, size and a sha256 of its first and
    last MiB (reading all of a large corpus again to resume would cost as much as a shard of tagging).
    A file added, removed, grown, shrunk or edited near either end changes it."""
    files = {}
    for file, shown in input_files(path):
        size = file.stat().st_size
        digest = hashlib.sha256()
        with open(file, "rb") as f:
            digest.update(f.read(1 << 20))
            if size > 2 << 20:
                f.seek(size - (1 << 20))
            digest.update(f.read(1 << 20))
        files[shown] = {"bytes": size, "sha256_ends": digest.hexdigest()[:32]}
    return files


def reject_line(reject: Reject) -> str:
    return json.dumps(reject.to_dict(), ensure_ascii=False)


def describe_reject(reject: Reject) -> str:
    """``file, line N: reason`` for a message."""
    return str(DataFormatError(reject.source, reject.line, None, reject.reason))

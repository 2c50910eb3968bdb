"""Plain texts to tag from a file: ``.txt`` (each non-empty line, or the whole file) or ``.jsonl``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterator

from ner_demo.data.conll import _decode
from ner_demo.errors import DataFormatError

# Lines end at \n, \r\n or \r, as editors, `wc -l` and `open()` count them; str.splitlines() also splits
# at \x0b, \x0c, \x1c-\x1e, \x85, U+2028 and U+2029, which cut a text (or a JSON record) in two.
_LINE_END = re.compile(r"\r\n|\r|\n")


def read_texts(path: str | Path, lines: bool = True, source: str | None = None) -> list[str]:
    """Texts of a ``.txt`` (each non-empty line, or the whole file) or ``.jsonl`` (a ``text`` field a
    line). Errors name ``source`` (default: the path), the line and the problem."""
    return [text for _, text in read_numbered_texts(path, lines, source)]


def read_numbered_texts(path: str | Path, lines: bool = True, source: str | None = None) -> list[tuple[int, str]]:
    """:func:`read_texts` with the file line each text is on (1 for a whole file): blank lines are
    skipped, so the line numbers say where each text came from."""
    path = Path(path)
    source = source or str(path)
    content = _decode(path.read_bytes(), source, "a UTF-8 text file")
    if not content.strip():
        raise DataFormatError(source, None, None, "is empty: there is no text to tag")
    if path.suffix.lower() != ".jsonl":
        if not lines:
            return [(1, content)]
        return [(n, t) for n, t in enumerate(_lines(content), start=1) if t.strip()]
    texts = []
    for n, line, record in parse_jsonl_lines(content, source):
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise DataFormatError(source, n, line, "needs a string field 'text'")
        texts.append((n, record["text"]))
    if not texts:
        raise DataFormatError(source, None, None, "has no lines with a text to tag")
    return texts


def parse_jsonl_lines(content: str, source: str) -> Iterator[tuple[int, str, object]]:
    """(line number, line, parsed JSON) of each non-blank line of a JSONL text; a line that is not JSON
    is a DataFormatError naming ``source``, the line and the parser's reason.

    >>> list(parse_jsonl_lines('{"text": "a"}\\n\\n[1]\\n', "x.jsonl"))
    [(1, '{"text": "a"}', {'text': 'a'}), (3, '[1]', [1])]
    """
    for n, line in enumerate(_lines(content), start=1):
        if not line.strip():
            continue
        try:
            yield n, line, json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataFormatError(source, n, line, f"is not JSON ({exc.msg})") from None


def _lines(content: str) -> list[str]:
    """The lines of ``content``, numbered as an editor numbers them (see _LINE_END).

    >>> _lines("a\\u2028b\\r\\nc\\n") == ["a\\u2028b", "c"]
    True
    """
    lines = _LINE_END.split(content)
    return lines[:-1] if lines and lines[-1] == "" else lines

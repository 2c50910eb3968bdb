"""Plain texts to tag from a file: ``.txt`` (each non-empty line, or the whole file) or ``.jsonl``."""

from __future__ import annotations

import json
from pathlib import Path

from ner_demo.data.conll import _decode
from ner_demo.errors import DataFormatError


def read_texts(path: str | Path, lines: bool = True, source: str | None = None) -> list[str]:
    """Texts of a ``.txt`` (each non-empty line, or the whole file) or ``.jsonl`` (a ``text`` field a
    line). Errors name ``source`` (default: the path), the line and the problem."""
    path = Path(path)
    source = source or str(path)
    content = _decode(path.read_bytes(), source, "a UTF-8 text file")
    if not content.strip():
        raise DataFormatError(source, None, None, "is empty: there is no text to tag")
    if path.suffix.lower() != ".jsonl":
        return [t for t in content.splitlines() if t.strip()] if lines else [content]
    texts = []
    for n, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataFormatError(source, n, line, f"is not JSON ({exc.msg})") from None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise DataFormatError(source, n, line, "needs a string field 'text'")
        texts.append(record["text"])
    if not texts:
        raise DataFormatError(source, None, None, "has no lines with a text to tag")
    return texts

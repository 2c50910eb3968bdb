"""MultiNERD (Babelscape/multinerd): its label ids, its JSONL format, and entity-type subsets.

Each JSONL line is ``{"tokens": [...], "ner_tags": [ids], "lang": "en"}``; ids follow the dataset
card's mapping below (IOB2). Picking a subset maps every other type to ``O``, which keeps the tags valid
IOB2 because whole spans disappear together.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Iterable, NoReturn, Sequence

from ner_demo.data.conll import Corpus, Sentence, _decode
from ner_demo.data.hub import load_hub_dataset
from ner_demo.errors import ConfigError, DataFormatError

# Index = tag id, as on the Babelscape/multinerd dataset card. (tner/multinerd numbers them differently.)
MULTINERD_LABELS: tuple[str, ...] = (
    "O",
    "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-ANIM", "I-ANIM",
    "B-BIO", "I-BIO", "B-CEL", "I-CEL", "B-DIS", "I-DIS", "B-EVE", "I-EVE",
    "B-FOOD", "I-FOOD", "B-INST", "I-INST", "B-MEDIA", "I-MEDIA", "B-MYTH", "I-MYTH",
    "B-PLANT", "I-PLANT", "B-TIME", "I-TIME", "B-VEHI", "I-VEHI",
)
MULTINERD_TYPES: tuple[str, ...] = tuple(label[2:] for label in MULTINERD_LABELS[1::2])
FIVE_TYPES: tuple[str, ...] = ("PER", "ORG", "LOC", "DIS", "ANIM")
MULTINERD_HUB_ID = "Babelscape/multinerd"
# Hub split -> our split name; the Hub repo stores one JSONL per language and split.
_HUB_SPLITS = {"train": ("train", "train/train_{lang}.jsonl"), "dev": ("validation", "val/val_{lang}.jsonl"),
               "test": ("test", "test/test_{lang}.jsonl")}


def select_types(subset: str | Sequence[str] = "all") -> tuple[str, ...]:
    """The entity types a subset keeps, in MultiNERD order.

    >>> select_types("five")
    ('PER', 'ORG', 'LOC', 'ANIM', 'DIS')
    >>> select_types(["loc", "PER"])
    ('PER', 'LOC')
    """
    if isinstance(subset, str):
        if subset == "all":
            return MULTINERD_TYPES
        if subset == "five":
            wanted = set(FIVE_TYPES)
        else:
            raise ConfigError(
                f"subset {subset!r} is not 'all', 'five' or a list of types ({', '.join(MULTINERD_TYPES)})"
            )
    else:
        wanted = {t.upper() for t in subset}
        unknown = sorted(wanted - set(MULTINERD_TYPES))
        if unknown or not wanted:
            raise ConfigError(
                f"subset: unknown entity type(s) {unknown or '(none given)'}; "
                f"MultiNERD has {', '.join(MULTINERD_TYPES)}"
            )
    return tuple(t for t in MULTINERD_TYPES if t in wanted)


def multinerd_label_names(subset: str | Sequence[str] = "all") -> list[str]:
    """``O`` then ``B-``/``I-`` of each kept type, in MultiNERD order (ids are renumbered from 0).

    >>> multinerd_label_names(["PER", "LOC"])
    ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC']
    """
    return ["O", *[f"{p}-{t}" for t in select_types(subset) for p in ("B", "I")]]


def _id_to_tag_table(subset: str | Sequence[str]) -> list[str]:
    keep = set(select_types(subset))
    return [tag if tag == "O" or tag[2:] in keep else "O" for tag in MULTINERD_LABELS]


def _record_sentence(
    record: object, table: list[str], source: str, line_no: int, raw: str | Callable[[], str]
) -> Sentence | None:
    def bad(problem: str) -> NoReturn:
        raise DataFormatError(source, line_no, raw() if callable(raw) else raw, problem)

    if not isinstance(record, dict):
        bad(f"expected a JSON object, got {type(record).__name__}")
    tokens, ids = record.get("tokens"), record.get("ner_tags")
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        bad(f"'tokens' must be a list of strings, got {tokens!r}")
    if not isinstance(ids, list):
        bad(f"'ner_tags' must be a list of tag ids, got {ids!r}")
    if len(tokens) != len(ids):
        bad(f"{len(tokens)} tokens but {len(ids)} ner_tags")
    for value in ids:
        # bool is an int subclass; true/false in the file is a mistake, not tag 1/0.
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < len(table):
            bad(f"ner_tags value {value!r} is not a tag id 0..{len(table) - 1}")
    if not tokens:
        return None  # an empty sentence carries nothing; failing a 130k-sentence load over it helps no one
    return Sentence(tuple(tokens), tuple(table[i] for i in ids), 0, (), source, line_no)


def parse_multinerd_jsonl(
    lines: Iterable[str], source: str = "<memory>", subset: str | Sequence[str] = "all", lang: str | None = "en"
) -> Corpus:
    """Parse MultiNERD JSONL lines; keep records whose ``lang`` is ``lang`` (all when None, or when a
    record has no ``lang``, as in per-language files).

    >>> line = '{"tokens": ["Rex", "bit", "Ann"], "ner_tags": [7, 0, 1], "lang": "en"}'
    >>> parse_multinerd_jsonl([line], subset=["PER"]).sentences[0].tags
    ('O', 'O', 'B-PER')
    """
    table = _id_to_tag_table(subset)
    sentences = []
    for line_no, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            problem = f"is not valid JSON ({exc.msg} at column {exc.colno})"
            raise DataFormatError(source, line_no, raw, problem) from None
        if lang is not None and isinstance(record, dict) and record.get("lang", lang) != lang:
            continue
        sentence = _record_sentence(record, table, source, line_no, raw)
        if sentence is not None:
            sentences.append(sentence)
    return Corpus(sentences, name=source)


def read_multinerd_jsonl(
    path: str | os.PathLike, subset: str | Sequence[str] = "all", lang: str | None = "en"
) -> Corpus:
    """Read a MultiNERD JSONL file; errors name the file, the line and the value."""
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(str(path), None, None, "no such file")
    text = _decode(path.read_bytes(), str(path), "JSONL text")
    return parse_multinerd_jsonl(text.split("\n"), str(path), subset, lang)


def hf_multinerd_to_corpus(
    dataset_split, subset: str | Sequence[str] = "all", lang: str | None = "en", name: str = ""
) -> Corpus:
    """Convert a Hub split (``tokens``, ``ner_tags`` int ids, ``lang``) to a Corpus."""
    table = _id_to_tag_table(subset)
    source = name or MULTINERD_HUB_ID
    sentences = []
    for i, row in enumerate(dataset_split):
        if lang is not None and row.get("lang", lang) != lang:
            continue
        # The row is serialised only for an error message, not for each of 130k good rows.
        sentence = _record_sentence(row, table, source, i + 1, lambda: json.dumps(row, ensure_ascii=False))
        if sentence is not None:
            sentences.append(sentence)
    return Corpus(sentences, name=source)


def load_multinerd(subset: str | Sequence[str] = "all", lang: str = "en") -> dict[str, Corpus]:
    """MultiNERD ``{train, dev, test}`` for one language from the Hub (only that language's files).

    Offline this raises DatasetUnavailableError; use :func:`read_multinerd_jsonl` on files you have.
    """
    select_types(subset)  # a bad subset should fail before a download, not after
    data_files = {hub: pattern.format(lang=lang) for hub, pattern in _HUB_SPLITS.values()}
    ds = load_hub_dataset(
        f"{MULTINERD_HUB_ID} ({lang})",
        "download its JSONL files (e.g. train/train_en.jsonl) where the Hub answers and read them with "
        "ner_demo.data.multinerd.read_multinerd_jsonl",
        MULTINERD_HUB_ID,
        data_files=data_files,
    )
    return {
        split: hf_multinerd_to_corpus(ds[hub], subset, lang, f"{MULTINERD_HUB_ID}/{data_files[hub]}")
        for split, (hub, _) in _HUB_SPLITS.items()
    }

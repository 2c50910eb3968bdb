"""Predictions cached by (model fingerprint, data fingerprint, inference settings).

What is kept is each sentence's word probabilities (``Tagger.word_probabilities``), before decoding and
thresholds: scoring views, schemes, thresholds and calibration all start from them, so switching any of
those re-scores without re-tagging. The key holds everything that changes the probabilities: the
weights (or the ONNX graph) run, the words and their grouping into documents, and
:meth:`ner_demo.inference.Tagger.settings` (backend, device, aggregation, context words, chunk share,
window length, temperature). The batch size is not in it: it only changes padding.

In memory, a bounded LRU (:data:`PREDICTIONS`, shared by the process); optionally also on disk, one
``.npz`` per key under ``$NER_DEMO_HOME/cache/predictions`` (:func:`disk_cache`), written to a temporary
file and renamed, so a crash never leaves half an entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Sequence

import numpy as np

from ner_demo.data.sources import data_home
from ner_demo.export import fingerprint
from ner_demo.models import OnnxModel

CACHE_DIR = "cache"
PREDICTIONS_DIR = "predictions"


def model_fingerprint(tagger) -> str:
    """sha256 of what the Tagger runs: a PyTorch model's weights and config (``export.fingerprint``), or
    an ONNX export's config and graph files. Computed on every lookup (about 0.1 s for the shipped
    model), not remembered: weights changed in place (a model being trained) must not hit old entries."""
    model = getattr(tagger, "source_model", tagger.model)
    if isinstance(model, OnnxModel):
        digest = hashlib.sha256(model.config.to_json_string(use_diff=False).encode())
        for backend, name in sorted(model.files.items()):
            digest.update(f"{backend}:{name}:".encode())
            with open(model.folder / name, "rb") as graph:
                for block in iter(lambda: graph.read(1 << 20), b""):
                    digest.update(block)
        return digest.hexdigest()
    return fingerprint(model)


def data_fingerprint(sentences: Sequence[Sequence[str]], doc_ids: Sequence[int] | None = None) -> str:
    """sha256 of the words of every sentence and the document each belongs to (what the Tagger reads)."""
    digest = hashlib.sha256()
    for i, words in enumerate(sentences):
        doc = None if doc_ids is None else doc_ids[i]
        digest.update(json.dumps([doc, list(words)], ensure_ascii=False).encode("utf-8", "surrogatepass"))
        digest.update(b"\n")
    return digest.hexdigest()


def prediction_key(tagger, sentences: Sequence[Sequence[str]], doc_ids: Sequence[int] | None = None) -> str:
    """The cache key of ``tagger``'s probabilities on these sentences."""
    record = {"model": model_fingerprint(tagger), "data": data_fingerprint(sentences, doc_ids),
              "settings": tagger.settings(), "labels": list(tagger.labels)}
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:32]


class PredictionCache:
    """Per-sentence word probabilities by key: the last ``max_entries`` in memory, and under ``folder``
    on disk when one is given. ``hits`` and ``misses`` count lookups."""

    def __init__(self, max_entries: int = 8, folder: str | os.PathLike | None = None):
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self.max_entries = max_entries
        self.folder = Path(folder) if folder is not None else None
        self._entries: OrderedDict[str, list[np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def get(self, key: str) -> list[np.ndarray] | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
        if found is None and self.folder is not None:
            found = self._read(key)
            if found is not None:
                self._remember(key, found)
        with self._lock:
            if found is None:
                self.misses += 1
            else:
                self.hits += 1
        return found

    def put(self, key: str, probs: list[np.ndarray]) -> None:
        self._remember(key, probs)
        if self.folder is not None:
            self._write(key, probs)

    def _remember(self, key: str, probs: list[np.ndarray]) -> None:
        with self._lock:
            self._entries[key] = probs
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.npz"

    def _read(self, key: str) -> list[np.ndarray] | None:
        path = self._path(key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                flat, lengths = data["probs"], data["lengths"]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            return None  # an entry another version wrote, or damaged by hand: tagged again and rewritten
        if int(lengths.sum()) != len(flat):
            return None
        return np.split(flat, np.cumsum(lengths)[:-1]) if len(lengths) else []

    def _write(self, key: str, probs: list[np.ndarray]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        width = probs[0].shape[1] if probs else 0
        flat = np.concatenate(probs) if probs else np.zeros((0, width), dtype=np.float32)
        lengths = np.array([len(p) for p in probs], dtype=np.int64)
        fd, staging = tempfile.mkstemp(prefix=f".{key}.", suffix=".npz", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as out:
                np.savez(out, probs=flat, lengths=lengths)
            os.replace(staging, self._path(key))
        except BaseException:
            Path(staging).unlink(missing_ok=True)
            raise


PREDICTIONS = PredictionCache()  # the process's own: a second evaluation in the app re-tags nothing


def predictions_dir() -> Path:
    """``$NER_DEMO_HOME/cache/predictions``."""
    return data_home() / CACHE_DIR / PREDICTIONS_DIR


def disk_cache(max_entries: int = 8) -> PredictionCache:
    """A cache that also keeps its entries on disk (:func:`predictions_dir`): used by the CLI's ``--cache``."""
    return PredictionCache(max_entries, predictions_dir())

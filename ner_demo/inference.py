"""The Tagger: text(s) or pre-split words -> entities / tags, fast on a CPU.

Speed comes from three things measured on the 2-core box this was built on (BENCHMARKS.md): all
windows of a call are sorted by length before batching (little padding), bf16 autocast where the CPU
has bf16 units, and one fast-tokenizer call per batch of texts. Long texts are cut into windows with context on both
sides (see :mod:`ner_demo.encoding`); every word is predicted exactly once, so nothing is dropped.
The network itself runs on a backend (:mod:`ner_demo.backends`): PyTorch fp32/bf16/int8, or ONNX
Runtime fp32/int8 on a folder written by :mod:`ner_demo.export` (or its cache, for a PyTorch model
whose ``ner_demo.json`` names an ``onnx-*`` backend: see :mod:`ner_demo.serving`).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping, Sequence

import numpy as np

from ner_demo.backends import BACKENDS, Backend, OnnxBackend, TorchBackend, apply_temperature
from ner_demo.decoding import DECODINGS, viterbi_bio
from ner_demo.encoding import (
    InputFeatures, Window, casing_flags, check_chunk_share, check_temperature, check_thresholds,
    check_type_temperatures, plan_sequence, sequences_for, word_pieces,
)
from ner_demo.errors import ConfigError, InputTooLargeError
from ner_demo.export import cached_export, export_folder_in_child, find_folder_export, load_folder_export
from ner_demo.models import OnnxModel, is_onnx_folder, load_onnx_model, load_trained
from ner_demo.scripts import script_warning
from ner_demo.spans import Entity, Word, iob2_word_spans, split_words, word_tags_to_entities

# torch is deferred into the functions that need it (pick_device, pick_precision): importing the Tagger
# must not import torch, so that serving an ONNX export can start without it (load_for_serving).

log = logging.getLogger(__name__)

AGGREGATIONS = ("first", "average", "max")
# What the Tagger can run a model in (training runs in fewer: TrainConfig.precision has no int8).
INFERENCE_PRECISIONS = ("auto", "fp32", "bf16", "fp16", "int8")
_POOL_LOCK = threading.Lock()
MAX_TEXT_CHARS = 1_000_000  # ~170k words: a few seconds of work; beyond that, split the file


@dataclass
class WordPrediction:
    """Tags and their probabilities for the words of one sentence or text."""

    tags: list[str]
    scores: list[float]


@dataclass
class TaggedText:
    text: str
    words: list[Word]
    entities: list[Entity]
    tags: list[str] = field(default_factory=list)
    windows: int = 1
    # Sentences for the user about how far to trust this result (see ner_demo.scripts.script_warning):
    # e.g. a text mostly in a script the English models cannot read. Empty when there is nothing to say.
    warnings: list[str] = field(default_factory=list)


def cpu_bf16_pays(cpuinfo: str | None = None) -> bool:
    """True where bf16 autocast measured faster than fp32 for inference (BENCHMARKS.md, "bf16 autocast
    on this CPU"): CPUs with AMX tiles, and AMD CPUs with AVX512-BF16 (Zen 4). An Intel Xeon with
    AVX512-BF16 but no AMX ran bf16 *slower* than fp32, so the bf16 flag alone does not decide. ``cpuinfo``: the text of
    ``/proc/cpuinfo`` (read when not given).

    >>> cpu_bf16_pays("vendor_id : AuthenticAMD  flags : avx512f avx512_bf16")
    True
    >>> cpu_bf16_pays("vendor_id : GenuineIntel  flags : avx512f avx512_bf16")
    False
    """
    if cpuinfo is None:
        try:
            cpuinfo = open("/proc/cpuinfo", encoding="utf-8").read()
        except OSError:
            return False  # not Linux: we cannot tell, so stay on fp32
    flags = set(cpuinfo.split())
    return "amx_bf16" in flags or ("AuthenticAMD" in flags and "avx512_bf16" in flags)


def pick_device(device: str = "auto") -> str:
    import torch

    if device != "auto":
        return device
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def pick_precision(precision: str, device: str) -> str:
    """Resolve ``auto``: bf16 (fp16 on older cards) on CUDA, bf16 on CPUs where it pays (AMX, or AMD
    with AVX512-BF16), fp32 elsewhere.

    ``int8`` (dynamic quantisation of the Linear layers, CPU only) is never chosen automatically: it is
    the fastest on CPUs with VNNI, but its F1 must be checked per model (bench/bench_tagger.py).
    """
    import torch

    if precision not in INFERENCE_PRECISIONS:
        raise ConfigError(f"precision {precision!r} is not one of {', '.join(INFERENCE_PRECISIONS)}")
    if precision != "auto":
        return precision
    if device.startswith("cuda"):
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if device == "cpu" and cpu_bf16_pays():
        return "bf16"
    return "fp32"


def pick_backend(model, backend: str, precision: str, device: str, preferred: str = "auto") -> tuple[str, str]:
    """(backend, device) for a model: ``backend`` wins, else ``precision`` picks among the model's own.

    ``preferred`` is the model's own choice (``ner_demo.json``, measured when it was shipped): it is
    taken when nothing else was asked for (backend and precision ``auto``) and the model runs on the
    CPU, where it was measured; on a GPU, ``auto`` precision is faster than any CPU backend.
    An export folder (:class:`OnnxModel`) runs on ONNX Runtime: ``auto`` is the graph its export.json
    names (int8 when it was quantised), ``fp32``/``int8`` pick a graph. A PyTorch model runs
    ``torch-<precision>``; naming an ``onnx-*`` backend for it exports it in memory first (seconds).
    """
    if backend != "auto" and backend not in BACKENDS:
        raise ConfigError(f"backend {backend!r} is not one of auto, {', '.join(BACKENDS)}")
    if precision not in INFERENCE_PRECISIONS:
        raise ConfigError(f"precision {precision!r} is not one of {', '.join(INFERENCE_PRECISIONS)}")
    if preferred != "auto" and preferred not in BACKENDS:
        raise ConfigError(f"the model's ner_demo.json names backend {preferred!r}, not one of {', '.join(BACKENDS)}")
    if (backend == "auto" and precision == "auto" and preferred != "auto" and not isinstance(model, OnnxModel)
            and pick_device(device) == "cpu"):
        backend = preferred
    if backend.startswith("onnx-") or isinstance(model, OnnxModel):
        if device not in ("auto", "cpu"):
            raise ConfigError(f"ONNX backends run on the CPU here, not on {device}")
        if backend == "auto":
            backend = {"auto": model.default_backend, "fp32": "onnx-fp32", "int8": "onnx-int8"}.get(precision, "")
            if not backend:
                raise ConfigError(f"precision {precision!r}: an ONNX export runs fp32 or int8; load the PyTorch "
                                  "model folder for bf16/fp16")
        elif isinstance(model, OnnxModel) and not backend.startswith("onnx-"):
            raise ConfigError(f"{model.folder}: is an ONNX export and cannot run {backend}; "
                              "load the PyTorch model folder for that")
        elif precision not in ("auto", backend.removeprefix("onnx-")):
            raise ConfigError(f"backend {backend} and precision {precision} disagree; give one of them")
        return backend, "cpu"
    device = pick_device(device)
    if backend == "auto":
        return f"torch-{pick_precision(precision, device)}", device
    if precision not in ("auto", backend.removeprefix("torch-")):
        raise ConfigError(f"backend {backend} and precision {precision} disagree; give one of them")
    return backend, device


def load_for_serving(path_or_name: str, backend: str = "auto", precision: str = "auto", device: str = "auto") -> tuple:
    """(model, tokenizer, features) of a trained model, for a Tagger run as ``backend``/``precision``/
    ``device`` say: :func:`ner_demo.models.load_trained`, except that a model folder which would be served
    by an ONNX graph anyway (its ner_demo.json names an ``onnx-*`` backend and nothing else was asked for on
    a CPU, or an ``onnx-*`` backend was asked for) is served from its cached export, without importing torch
    or transformers (start-up in well under a second instead of several). The first time (no export of the
    folder's current files indexed yet), the model is loaded with PyTorch to find or make the export, and
    the log says why (in a child process: this one stays free of torch); the result is the same either
    way: the graph, the folder's labels, tokenizer and input features.
    """
    if not _served_by_graph(path_or_name, backend, precision, device):
        return load_trained(path_or_name)
    export, reason = find_folder_export(path_or_name)
    if export is None:
        log.warning("%s: finding or making its ONNX export in a child process (PyTorch, once), since %s; later "
                    "loads read the index", Path(path_or_name).name, reason)
        # In a child: torch and transformers, once imported, would stay in this process for good (about
        # 400 MB of a server's memory), and the child's export is the same as this process's would be.
        export = export_folder_in_child(path_or_name, log=_to_stderr)
    return load_folder_export(path_or_name, export)


def _served_by_graph(path_or_name: str, backend: str, precision: str, device: str) -> bool:
    """Whether :func:`pick_backend` will run this PyTorch model folder on an ONNX graph (decided without
    torch, from the folder's ner_demo.json and the request); False when in doubt."""
    folder = Path(path_or_name)
    if not (folder / "config.json").is_file() or is_onnx_folder(folder):
        return False
    if backend.startswith("onnx-"):
        return device in ("auto", "cpu") and precision in ("auto", backend.removeprefix("onnx-"))
    if backend != "auto" or precision != "auto":
        return False
    try:
        preferred = InputFeatures.load(folder).backend
    except (ConfigError, ValueError, OSError):
        return False  # the PyTorch path reports what is wrong with the file
    # device auto runs on a GPU when torch sees one: only where none can be there is the CPU certain.
    return preferred.startswith("onnx-") and (device == "cpu" or (device == "auto" and not _gpu_possible()))


def _gpu_possible() -> bool:
    """Whether torch might see a GPU here (then ``auto`` is its call, and it needs torch imported): not on
    a CPU-only torch build, nor on Linux without NVIDIA or ROCm device files."""
    import importlib.metadata

    try:
        if "+cpu" in importlib.metadata.version("torch"):
            return False
    except importlib.metadata.PackageNotFoundError:
        return False
    if sys.platform == "darwin":  # Apple's MPS
        return True
    return any(os.path.exists(p) for p in ("/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd", "/dev/dxg"))


def _to_stderr(message: str) -> None:
    print(f"# {message}", file=sys.stderr)  # stdout may be data (the CLI's predict)


class Tagger:
    """Tag words or raw text with a token-classification model.

    >>> tagger = Tagger.from_pretrained("path/to/model")            # doctest: +SKIP
    >>> [(e.label, e.text) for e in tagger.predict("Angela Merkel visited Paris.")]  # doctest: +SKIP
    [('PER', 'Angela Merkel'), ('LOC', 'Paris')]
    """

    def __init__(
        self,
        model,
        tokenizer,
        features: InputFeatures = InputFeatures(),
        device: str = "auto",
        precision: str = "auto",
        aggregation: str = "first",
        batch_size: int | None = None,
        max_length: int | None = None,
        backend: str = "auto",
        decoding: str | None = None,
        context_words: int | None = None,
        chunk_share: float | None = None,
        temperature: float | None = None,
        thresholds: Mapping[str, float] | None = None,
        type_temperatures: Mapping[str, float] | None = None,
    ):
        # The model's own unless overridden; of a window predicted per chunk of a long document (see plan).
        self.chunk_share = check_chunk_share(features.chunk_share if chunk_share is None else chunk_share)
        if context_words is not None:  # override the model's document context (0: none, fewer tokens to read)
            if context_words < 0:
                raise ConfigError(f"context_words must be 0 or more, got {context_words}")
            features = replace(features, context_words=context_words)
        # The model's calibration (ner_demo.json, written by `calibrate --write`) unless overridden: a
        # temperature divides the logits before the softmax; per-type thresholds drop entities below them.
        if temperature is not None:  # one temperature given: it replaces the model's per-type ones too
            features = replace(features, temperature=check_temperature(temperature),
                               type_temperatures={} if type_temperatures is None else features.type_temperatures)
        if type_temperatures is not None:
            features = replace(features, type_temperatures=check_type_temperatures(dict(type_temperatures)))
        if thresholds is not None:
            features = replace(features, thresholds=check_thresholds(dict(thresholds)))
        if aggregation not in AGGREGATIONS:
            raise ConfigError(f"aggregation {aggregation!r} is not one of {', '.join(AGGREGATIONS)}")
        if batch_size is not None and batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
        name, self.device = pick_backend(model, backend, precision, device, features.backend)
        self.precision = name.split("-", 1)[1]  # fp32 / bf16 / fp16 / int8, whatever runs it
        self.backend: Backend = _make_backend(model, name, self.device, tokenizer)
        self.model = getattr(self.backend, "model", model)  # the quantised copy for torch-int8
        self.source_model = model  # what was loaded (its weights fingerprint a prediction cache's entries)
        self.tokenizer = tokenizer
        self.features = features
        self.aggregation = aggregation
        self.decoding = decoding or features.decoding  # the model folder's choice unless overridden
        if self.decoding not in DECODINGS:
            raise ConfigError(f"decoding {self.decoding!r} is not one of {', '.join(DECODINGS)}")
        self.batch_size = batch_size or self.backend.batch_size  # None: what runs fastest on this backend
        limit = min(getattr(model.config, "max_position_embeddings", 512), 512)
        self.max_length = min(max_length or features.max_length or limit, limit)  # the model's own windows
        if self.max_length < 2 * features.max_pieces_per_word + 2:
            raise ConfigError(f"max_length {self.max_length} is too small for words of {features.max_pieces_per_word} pieces")
        self.labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
        # Per label, the temperature of its type (per-type temperatures), or None: one for all.
        self._label_temperatures = label_temperatures(self.labels, features.temperature, features.type_temperatures)
        self._pool: ThreadPoolExecutor | None = None  # for backends that take concurrent calls

    @classmethod
    def from_pretrained(cls, path_or_name: str, **kwargs) -> "Tagger":
        """A trained model folder or Hub id (PyTorch), or an ONNX export folder (ONNX Runtime); a model
        folder served by a graph anyway comes from its cached export, without torch (:func:`load_for_serving`)."""
        model, tokenizer, features = load_for_serving(
            path_or_name, kwargs.get("backend", "auto"), kwargs.get("precision", "auto"), kwargs.get("device", "auto"))
        return cls(model, tokenizer, features, **kwargs)

    @property
    def backend_name(self) -> str:
        return self.backend.name

    @property
    def temperature(self) -> float:
        return self.features.temperature

    @property
    def thresholds(self) -> dict[str, float]:
        """Per-type confidence thresholds applied by default (empty: none)."""
        return dict(self.features.thresholds)

    def describe(self) -> str:
        calibration = f", temperature={self.temperature:g}" if self.temperature != 1.0 else ""
        if self.features.type_temperatures:
            calibration += ", type_temperatures=" + ",".join(
                f"{k}:{v:g}" for k, v in sorted(self.features.type_temperatures.items()))
        if self.thresholds:
            calibration += ", thresholds=" + ",".join(f"{k}:{v:g}" for k, v in sorted(self.thresholds.items()))
        return (f"{self.backend.describe()}, aggregation={self.aggregation}, decoding={self.decoding}, "
                f"context_words={self.features.context_words}, chunk_share={self.chunk_share:g}{calibration}")

    def settings(self) -> dict:
        """What decides the word probabilities besides the weights and the words: a prediction cache's key
        (ner_demo.evaluation.cache). Thresholds and decoding are applied after the probabilities, so they
        are not in it."""
        return {"backend": self.backend_name, "device": self.device, "aggregation": self.aggregation,
                "context_words": self.features.context_words, "chunk_share": self.chunk_share,
                "max_length": self.max_length, "max_pieces_per_word": self.features.max_pieces_per_word,
                "casing": self.features.casing, "temperature": self.temperature,
                "type_temperatures": dict(sorted(self.features.type_temperatures.items()))}

    # ---- words in, tags out ---------------------------------------------------------------------

    def predict_words(self, sentences: Sequence[Sequence[str]], doc_ids: Sequence[int] | None = None) -> list[list[str]]:
        """IOB2 tags for pre-split words. With ``doc_ids`` and a model trained with document
        context, neighbouring sentences of the same document are read as context."""
        return [p.tags for p in self.predict_words_scored(sentences, doc_ids)]

    def predict_words_scored(
        self, sentences: Sequence[Sequence[str]], doc_ids: Sequence[int] | None = None,
        thresholds: Mapping[str, float] | None = None,
    ) -> list[WordPrediction]:
        """Tags and scores; entities below their type's threshold (``thresholds``, default the model's
        own; ``{}`` none) become O."""
        return [self.decode_words(p, thresholds) for p in self.word_probabilities(sentences, doc_ids)]

    def word_probabilities(
        self, sentences: Sequence[Sequence[str]], doc_ids: Sequence[int] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[np.ndarray]:
        """Per sentence, its words' (n_words, n_labels) label probabilities (temperature applied),
        before decoding and thresholds: what a prediction cache keeps. ``progress(done, total)`` is told
        after each batch of windows, so a watcher moves without the call being cut into smaller ones
        (which would change the batches, and with them a dynamically quantised backend's numbers)."""
        sequences, targets = sequences_for(sentences, doc_ids, self.features.context_words)
        # A document (context models) is read whole, in overlapping windows that each predict a middle
        # chunk with context on both sides: each word is read about twice, not once per sentence that
        # fills its window with it. On the shipped model that costs almost no dev F1 for several times the
        # words/s (BENCHMARKS.md, "The shipped model: levers tried"). Without context a sequence is one
        # sentence anyway.
        probs, _ = self._word_probabilities(sequences, progress)
        return [seq_probs[start:end] for seq_probs, seq_targets in zip(probs, targets) for start, end in seq_targets]

    def decode_words(self, probs: np.ndarray, thresholds: Mapping[str, float] | None = None,
                     default: float = 0.0) -> WordPrediction:
        """One sentence's tags from its word probabilities: the Tagger's decoding, then entities below
        their type's threshold (``thresholds``, default the model's own; ``default`` for types without
        one) turned into O."""
        return drop_below(self._decode(probs), self.thresholds if thresholds is None else thresholds, default)

    # ---- text in, entities out -------------------------------------------------------------------

    def predict(self, text: str, threshold: float | None = None) -> list[Entity]:
        return self.tag_texts([text], threshold)[0].entities

    def predict_many(self, texts: Sequence[str], threshold: float | None = None) -> list[list[Entity]]:
        return [t.entities for t in self.tag_texts(texts, threshold)]

    def tag_texts(self, texts: Sequence[str], threshold: float | None = None) -> list[TaggedText]:
        """Entities with character offsets into each text; empty text gives no entities. Each result's
        ``warnings`` say when it should not be trusted (a text mostly in a non-Latin script).

        Entities below their type's threshold (the model's ``thresholds``) are dropped, and their words
        tagged O; ``threshold`` given: that one threshold for every type instead (0: keep all).
        """
        if threshold is not None and not 0 <= threshold <= 1:
            raise ConfigError(f"threshold must be between 0 and 1, got {threshold}")
        per_type, default = (self.thresholds, 0.0) if threshold is None else ({}, threshold)
        for i, text in enumerate(texts):
            if len(text) > MAX_TEXT_CHARS:
                raise InputTooLargeError(
                    f"text {i + 1} has {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}: split it into parts"
                )
        words = [split_words(text) for text in texts]
        sequences = [[w.text for w in ws] for ws in words]
        probs, n_windows = self._word_probabilities(sequences)
        results = []
        for text, ws, p, n in zip(texts, words, probs, n_windows):
            pred = self.decode_words(p, per_type, default)
            entities = word_tags_to_entities(text, ws, pred.tags, pred.scores)
            warning = script_warning(text)
            results.append(TaggedText(text, ws, entities, pred.tags, n, [warning] if warning else []))
        return results

    # ---- the engine ------------------------------------------------------------------------------

    def _decode(self, probs: np.ndarray) -> WordPrediction:
        if len(probs) == 0:
            return WordPrediction([], [])
        if self.decoding == "bio":
            best = viterbi_bio(probs, self.labels)
        else:
            best = probs.argmax(axis=1)
        return WordPrediction([self.labels[i] for i in best], probs[np.arange(len(best)), best].tolist())

    def plan(
        self, sequences: Sequence[Sequence[str]], targets: Sequence[Sequence[tuple[int, int]]] | None = None
    ) -> list[Window]:
        """The windows a call will run, in input order (used by the app's decoding view too).

        ``targets``: the word ranges of each sequence to predict; by default each sequence whole, which
        is how the Tagger reads (a document in overlapping windows that each predict their middle).
        """
        pieces = word_pieces(self.tokenizer, sequences, self.features.max_pieces_per_word)
        windows: list[Window] = []
        for i, (words, seq_pieces) in enumerate(zip(sequences, pieces)):
            casing = casing_flags(words) if self.features.casing else None
            windows += plan_sequence(
                i, seq_pieces, casing, self.max_length, self.features.context_words,
                self.tokenizer.cls_token_id, self.tokenizer.sep_token_id, None if targets is None else targets[i],
                self.chunk_share,
            )
        return windows

    def _word_probabilities(self, sequences, progress: Callable[[int, int], None] | None = None
                            ) -> tuple[list[np.ndarray], list[int]]:
        """Per sequence, a (n_words, n_labels) array of label probabilities; and windows per sequence.
        ``progress(windows done, windows in all)`` after each batch."""
        n_labels = len(self.labels)
        out = [np.zeros((len(s), n_labels), dtype=np.float32) for s in sequences]
        windows = self.plan(sequences)
        n_windows = [0] * len(sequences)
        order = sorted(range(len(windows)), key=lambda k: len(windows[k].input_ids))
        batches = [[windows[k] for k in order[b : b + self.batch_size]] for b in range(0, len(order), self.batch_size)]
        done = 0
        for batch, probs in zip(batches, self._run_batches(batches)):
            for window, window_probs in zip(batch, probs):
                n_windows[window.seq] += 1
                self._aggregate(window, window_probs, out[window.seq])
            done += len(batch)
            if progress is not None:
                progress(done, len(windows))
        return out, n_windows

    def _run_batches(self, batches: list[list[Window]]):
        """Forward passes in order; on a backend that takes concurrent calls, several at once."""
        workers = min(getattr(self.backend, "parallel_calls", 1), len(batches))
        if workers <= 1:
            return map(self.forward_windows, batches)
        with _POOL_LOCK:  # the app calls one Tagger from several request threads
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.backend.parallel_calls, thread_name_prefix="tagger")
        return self._pool.map(self.forward_windows, batches)

    def forward_windows(self, batch: list[Window]) -> np.ndarray:
        """(B, T, n_labels) probabilities of a batch of windows, at the model's temperature: the same on
        every backend, since it is applied here to what any backend returns (see apply_temperature)."""
        return apply_temperature(self.backend(*self.batch_arrays(batch)), self.temperature, self._label_temperatures)

    def batch_arrays(self, batch: Sequence[Window]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(input_ids, attention_mask, token_type_ids)``, (B, T) int64, padded to the longest window."""
        width = max(len(w.input_ids) for w in batch)
        ids = np.full((len(batch), width), self.tokenizer.pad_token_id or 0, dtype=np.int64)
        types = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, w in enumerate(batch):
            n = len(w.input_ids)
            ids[row, :n], types[row, :n], mask[row, :n] = w.input_ids, w.token_type_ids, 1
        return ids, mask, types

    def _aggregate(self, window: Window, probs: np.ndarray, dest: np.ndarray) -> None:
        """Write the distributions of ``window``'s target words into ``dest`` (n_words, n_labels).

        ``probs`` is the window's row of a padded batch, (T, n_labels) with T the batch's longest
        window: only the window's own positions are read, never the padding after them.
        """
        start, end = window.target
        if self.aggregation == "first":
            dest[start:end] = probs[window.word_index]
            return
        # A target word's pieces sit side by side (build_window), from its first piece up to the next
        # word's first piece; the last target word's run ends at the last target position.
        first = np.asarray(window.word_index)  # (n_target_words,) positions in the window
        last = max(p for p, w in enumerate(window.piece_word) if w >= 0) + 1
        bounds = np.append(first, last)
        if self.aggregation == "average":
            sums = np.add.reduceat(probs[first[0] : last], first - first[0], axis=0)  # (n_target_words, n_labels)
            dest[start:end] = sums / np.diff(bounds)[:, None]
            return
        for k in range(end - start):  # "max": the distribution of the piece that is most sure of itself
            rows = probs[bounds[k] : bounds[k + 1]]  # (pieces, n_labels)
            dest[start + k] = rows[rows.max(axis=1).argmax()]

def label_temperatures(labels: Sequence[str], temperature: float,
                       type_temperatures: Mapping[str, float]) -> np.ndarray | None:
    """Each label's temperature (``B-X`` and ``I-X``: type X's; ``O``: "O"'s), ``temperature`` where its
    type has none; None without per-type temperatures.

    >>> label_temperatures(["O", "B-PER", "I-PER", "B-LOC"], 1.5, {"PER": 2.0}).tolist()
    [1.5, 2.0, 2.0, 1.5]
    """
    if not type_temperatures:
        return None
    types = [label if label == "O" else label.split("-", 1)[-1] for label in labels]
    return np.array([type_temperatures.get(t, temperature) for t in types], dtype=np.float32)


def drop_below(pred: WordPrediction, thresholds: Mapping[str, float], default: float = 0.0) -> WordPrediction:
    """``pred`` with every entity whose score (the mean of its words', as :class:`Entity` scores are) is
    below its type's threshold tagged O; types without one in ``thresholds`` get ``default``.

    >>> drop_below(WordPrediction(["B-PER", "O", "B-LOC"], [0.4, 0.9, 0.8]), {"PER": 0.5}).tags
    ['O', 'O', 'B-LOC']
    """
    if not thresholds and default <= 0:
        return pred
    tags = list(pred.tags)
    for span in iob2_word_spans(tags):
        score = sum(pred.scores[span.start : span.end]) / (span.end - span.start)
        if score < thresholds.get(span.label, default):
            tags[span.start : span.end] = ["O"] * (span.end - span.start)
    return WordPrediction(tags, pred.scores)


def _make_backend(model, name: str, device: str, tokenizer) -> Backend:
    if name.startswith("torch-"):
        return TorchBackend(model, device, name.removeprefix("torch-"))
    if isinstance(model, OnnxModel):
        return OnnxBackend(model, name)
    # A PyTorch model asked to run on ONNX Runtime: its export from the cache, made now if missing.
    folder = cached_export(model, tokenizer)
    return OnnxBackend(load_onnx_model(folder, model.config, cache_entry=True), name)


def timed(fn, *args, **kwargs):
    """(result, seconds) of one call; used by the CLI and the app to show latency."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start

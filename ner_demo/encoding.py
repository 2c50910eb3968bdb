"""Words -> model inputs, shared by training and inference so both see exactly the same encoding.

A *sequence* is a list of words (a sentence, a document, or a long text). It is cut into
*windows*: each window predicts a contiguous *target* range of words and may carry *context* words
on either side, which the model reads but whose predictions are not used. Every word is a target of
exactly one window, so merging needs no voting and nothing is dropped.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Sequence

from ner_demo.errors import ConfigError
from ner_demo.labels import IGNORE_INDEX

FEATURES_FILE = "ner_demo.json"


@dataclass(frozen=True)
class InputFeatures:
    """How a model wants its input built; saved next to the weights as ``ner_demo.json``."""

    casing: bool = False  # token_type_ids = 1 on the pieces of words that start upper-case
    context_words: int = 0  # up to this many words of neighbouring text on each side of a sentence
    max_pieces_per_word: int = 16  # a 10,000-character "word" must not fill a window by itself
    decoding: str = "argmax"  # or "bio": the best valid IOB2 sequence (see ner_demo.decoding)
    # What serves the model when the caller asks for nothing in particular, on a CPU: chosen when it is
    # shipped as the fastest backend within a strict-F1 tolerance of fp32 (ner_demo.serving.choose_backend);
    # "auto": precision decides.
    backend: str = "auto"
    # The window length (subword positions) the model was trained with, the Tagger's default: a model
    # trained on 128-position windows with context read worse on 512 (more context than it ever saw) and
    # slower (BENCHMARKS.md, "The shipped model: levers tried"). None (older folders, Hub models): the
    # model's limit.
    max_length: int | None = None
    # How much of each window a long document's chunk predicts (see plan_sequence), the Tagger's default:
    # a speed knob chosen when the model is shipped (a fast model trades a little dev F1 for fewer windows).
    chunk_share: float = 0.5
    # Calibration, fitted on dev by `python -m ner_demo calibrate --write` (ner_demo.evaluation.calibration):
    # the Tagger divides the logits by ``temperature`` before the softmax (1.0: unchanged; the argmax is
    # never changed by it), and drops entities whose score is below their type's ``thresholds`` entry.
    # ``type_temperatures``: a temperature per entity type (and "O") instead, chosen for each distribution
    # by its most likely label's type (argmax kept too); types without one get ``temperature``.
    temperature: float = 1.0
    thresholds: dict[str, float] = field(default_factory=dict)
    type_temperatures: dict[str, float] = field(default_factory=dict)

    def __post_init__(self):
        check_temperature(self.temperature)
        check_thresholds(self.thresholds)
        check_type_temperatures(self.type_temperatures)

    def save(self, folder: str | Path, extra: dict | None = None) -> None:
        data = {"input_features": asdict(self), **(extra or {})}
        Path(folder, FEATURES_FILE).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: str | Path) -> "InputFeatures":
        """The folder's features; plain token-classification folders (no file) get the defaults."""
        path = Path(folder, FEATURES_FILE)
        if not path.is_file():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8")).get("input_features", {})
        known = {f.name for f in fields(cls)}
        try:
            return cls(**{k: v for k, v in data.items() if k in known})
        except ConfigError as exc:
            raise ConfigError(f"{path.name}: {exc}") from None


def save_calibration(folder: str | Path, temperature: float | None = None,
                     thresholds: dict[str, float] | None = None,
                     type_temperatures: dict[str, float] | None = None) -> Path:
    """Write a temperature, per-type temperatures and/or per-type thresholds into ``folder``'s
    ``ner_demo.json`` (None: left as they are), keeping everything else in it (written whole to a
    temporary file, then renamed: never half a file)."""
    path = Path(folder, FEATURES_FILE)
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    features = dict(data.get("input_features", {}))
    if temperature is not None:
        features["temperature"] = check_temperature(temperature)
    if thresholds is not None:
        features["thresholds"] = check_thresholds(dict(thresholds))
    if type_temperatures is not None:
        features["type_temperatures"] = check_type_temperatures(dict(type_temperatures))
    data["input_features"] = features
    # the merged record must load: checked before the file is replaced
    InputFeatures(**{k: v for k, v in features.items() if k in {f.name for f in fields(InputFeatures)}})
    fd, staging = tempfile.mkstemp(prefix=f".{FEATURES_FILE}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(json.dumps(data, indent=2) + "\n")
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    return path


def check_temperature(temperature) -> float:
    """``temperature`` if it is a finite number above 0, else a ConfigError."""
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not (
            math.isfinite(temperature) and temperature > 0):
        raise ConfigError(f"temperature must be a number above 0, got {temperature!r}")
    return float(temperature)


def check_type_temperatures(temperatures) -> dict[str, float]:
    """``temperatures`` if it maps entity types (or "O") to temperatures above 0, else a ConfigError."""
    if not isinstance(temperatures, dict) or not all(isinstance(k, str) for k in temperatures):
        raise ConfigError(f"type_temperatures must map entity types to numbers above 0, got {temperatures!r}")
    try:
        return {label: check_temperature(value) for label, value in temperatures.items()}
    except ConfigError as exc:
        raise ConfigError(f"type_temperatures: {exc}") from None


def check_thresholds(thresholds) -> dict[str, float]:
    """``thresholds`` if it maps entity types to numbers in [0, 1], else a ConfigError."""
    if not isinstance(thresholds, dict):
        raise ConfigError(f"thresholds must map entity types to numbers between 0 and 1, got {thresholds!r}")
    for label, value in thresholds.items():
        if (not isinstance(label, str) or isinstance(value, bool) or not isinstance(value, (int, float))
                or not 0 <= value <= 1):
            raise ConfigError(f"threshold of {label!r} must be a number between 0 and 1, got {value!r}")
    return {label: float(value) for label, value in thresholds.items()}


def check_chunk_share(share: float) -> float:
    """``share`` if it is a valid share of a window for a document's chunk (``plan_sequence``), else a ConfigError."""
    if not 0 < share <= 1:
        raise ConfigError(f"chunk_share must be above 0 and at most 1 (a share of the window), got {share}")
    return share


@dataclass(frozen=True)
class Window:
    seq: int  # index of the sequence this window belongs to
    target: tuple[int, int]  # word range [start, end) predicted by this window
    input_ids: list[int]
    token_type_ids: list[int]
    word_index: list[int]  # for each target word in order: the position of its first piece
    piece_word: list[int]  # for each position: the target word it belongs to; -1 for specials and context


def word_pieces(tokenizer, sequences: Sequence[Sequence[str]], max_pieces_per_word: int = 16) -> list[list[list[int]]]:
    """Subword ids of every word of every sequence, in one fast-tokenizer call.

    A word the tokenizer turns into nothing (a zero-width or control character) gets ``[UNK]``:
    every word must keep a piece, or it would silently receive no prediction.
    """
    words_in = [[_encodable(w) for w in words] for words in sequences]
    unk = tokenizer.unk_token_id if tokenizer.unk_token_id is not None else 0
    out = []
    for words, (ids, word_ids) in zip(sequences, _encode_words(tokenizer, words_in)):
        per_word: list[list[int]] = [[] for _ in words]
        for piece, word_id in zip(ids, word_ids):
            if word_id is not None and len(per_word[word_id]) < max_pieces_per_word:
                per_word[word_id].append(piece)
        out.append([p if p else [unk] for p in per_word])
    return out


def _encode_words(tokenizer, sequences: list[list[str]]):
    """(piece ids, word index per piece) of each sequence of words, without special tokens.

    A fast tokenizer's Rust backend is called directly: the transformers wrapper would convert every
    encoding to Python dicts first, which took much of the Tagger's time outside the model.
    """
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:  # a Python ("slow") tokenizer: the wrapper is the only way in
        encoded = tokenizer(sequences, is_split_into_words=True, add_special_tokens=False, verbose=False)
        return [(encoded["input_ids"][i], encoded.word_ids(i)) for i in range(len(sequences))]
    # The wrapper leaves truncation/padding set on the shared backend after a call that asked for
    # them; whole documents must come back whole (windows are cut later), so clear both.
    if backend.truncation is not None:
        backend.no_truncation()
    if backend.padding is not None:
        backend.no_padding()
    encodings = backend.encode_batch(sequences, is_pretokenized=True, add_special_tokens=False)
    return [(e.ids, e.word_ids) for e in encodings]


_SURROGATES = re.compile("[\ud800-\udfff]")


def _encodable(word: str) -> str:
    """Lone surrogates cannot be encoded as UTF-8 for the Rust tokenizer; U+FFFD stands in for them
    (offsets are unaffected: they come from the original text, not from the tokenizer)."""
    return word if word.isascii() else _SURROGATES.sub("\ufffd", word)


def casing_flags(words: Sequence[str]) -> list[int]:
    """1 for words whose first character is upper-case: the casing an uncased encoder cannot see."""
    return [1 if w[:1].isupper() else 0 for w in words]


def chunk_targets(n_pieces: Sequence[int], start: int, end: int, budget: int) -> list[tuple[int, int]]:
    """Cut words ``[start, end)`` into consecutive ranges of at most ``budget`` pieces (>= 1 word each).

    >>> chunk_targets([2, 2, 2, 2, 2], 0, 5, 4)
    [(0, 2), (2, 4), (4, 5)]
    """
    chunks = []
    s, used = start, 0
    for i in range(start, end):
        if i > s and used + n_pieces[i] > budget:
            chunks.append((s, i))
            s, used = i, 0
        used += n_pieces[i]
    if end > s:
        chunks.append((s, end))
    return chunks


def add_context(
    n_pieces: Sequence[int], target: tuple[int, int], budget: int, max_words: int, bounds: tuple[int, int]
) -> tuple[int, int]:
    """Grow ``target`` by whole words within ``bounds``, alternately left and right, while the window
    stays within ``budget`` pieces and each side within ``max_words`` words.

    >>> add_context([1] * 10, (4, 6), budget=6, max_words=3, bounds=(0, 10))
    (2, 8)
    """
    left, right = target
    used = sum(n_pieces[left:right])
    grew = True
    while grew:
        grew = False
        if target[0] - left < max_words and left > bounds[0] and used + n_pieces[left - 1] <= budget:
            left -= 1
            used += n_pieces[left]
            grew = True
        if right - target[1] < max_words and right < bounds[1] and used + n_pieces[right] <= budget:
            used += n_pieces[right]
            right += 1
            grew = True
    return left, right


def build_window(
    seq: int,
    pieces: Sequence[Sequence[int]],
    casing: Sequence[int] | None,
    target: tuple[int, int],
    context: tuple[int, int],
    cls_id: int,
    sep_id: int,
) -> Window:
    """``[CLS] context-left target context-right [SEP]`` with per-piece word indices."""
    input_ids, types, piece_word, word_index = [cls_id], [0], [-1], []
    for w in range(context[0], context[1]):
        is_target = target[0] <= w < target[1]
        if is_target:
            word_index.append(len(input_ids))
        flag = casing[w] if casing is not None else 0
        for piece in pieces[w]:
            input_ids.append(piece)
            types.append(flag)
            piece_word.append(w if is_target else -1)
    input_ids.append(sep_id)
    types.append(0)
    piece_word.append(-1)
    return Window(seq, target, input_ids, types, word_index, piece_word)


def plan_sequence(
    seq: int,
    pieces: Sequence[Sequence[int]],
    casing: Sequence[int] | None,
    max_length: int,
    context_words: int,
    cls_id: int,
    sep_id: int,
    targets: Sequence[tuple[int, int]] | None = None,
    chunk_share: float = 0.5,
) -> list[Window]:
    """Windows that together predict every word of one sequence.

    ``targets`` are the ranges to predict (e.g. the sentences of a document); by default the whole
    sequence. A target over the budget is cut into chunks of ``chunk_share`` of the budget (half by
    default), each read with the rest of the window as context on both sides, so that no word is
    predicted at a window's very edge. Bigger chunks read fewer windows (faster) with less context.
    """
    budget = max_length - 2  # room for [CLS] and [SEP]
    n_pieces = [len(p) for p in pieces]
    bounds = (0, len(pieces))
    windows = []
    for start, end in targets if targets is not None else [bounds]:
        if start == end:
            continue
        if sum(n_pieces[start:end]) <= budget:
            chunks, ctx_words = [(start, end)], context_words
        else:
            size = max(1, int(budget * chunk_share))
            chunks, ctx_words = chunk_targets(n_pieces, start, end, size), max(context_words, budget)
        for chunk in chunks:
            context = add_context(n_pieces, chunk, budget, ctx_words, bounds)
            windows.append(build_window(seq, pieces, casing, chunk, context, cls_id, sep_id))
    return windows


def sequences_for(sentences: Sequence[Sequence[str]], doc_ids: Sequence[int] | None, context_words: int):
    """Group sentences into sequences: whole documents when context is wanted, else one each.

    Returns ``(sequences, targets)``: the words of each sequence, and for each sequence the word
    ranges of its sentences, in input order (so results can be mapped back sentence by sentence).
    """
    if context_words <= 0 or doc_ids is None:
        return [list(s) for s in sentences], [[(0, len(s))] for s in sentences]
    sequences: list[list[str]] = []
    targets: list[list[tuple[int, int]]] = []
    last = object()
    for words, doc in zip(sentences, doc_ids):
        if doc != last:
            sequences.append([])
            targets.append([])
            last = doc
        start = len(sequences[-1])
        sequences[-1].extend(words)
        targets[-1].append((start, start + len(words)))
    return sequences, targets


def training_examples(
    tokenizer,
    sentences: Sequence[Sequence[str]],
    label_ids: Sequence[Sequence[int]],
    features: InputFeatures,
    max_length: int,
    doc_ids: Sequence[int] | None = None,
    all_subwords: bool = False,
    inside_ids: Sequence[int] | None = None,
) -> list[dict]:
    """Model-ready examples (``input_ids``, ``token_type_ids``, ``labels``) with the exact windowing
    the Tagger uses at inference. Labels sit on target words only: context words get -100, and so do
    later pieces of a word unless ``all_subwords`` (then B-X pieces continue as I-X).
    """
    sequences, targets = sequences_for(sentences, doc_ids, features.context_words)
    flat_labels = []
    for seq_targets, first in zip(targets, _cumulative(len(t) for t in targets)):
        flat_labels.append([lab for k in range(len(seq_targets)) for lab in label_ids[first + k]])
    pieces = word_pieces(tokenizer, sequences, features.max_pieces_per_word)
    examples = []
    for i, (words, seq_pieces) in enumerate(zip(sequences, pieces)):
        casing = casing_flags(words) if features.casing else None
        for window in plan_sequence(
            i, seq_pieces, casing, max_length, features.context_words,
            tokenizer.cls_token_id, tokenizer.sep_token_id, targets[i],
        ):
            labels = [IGNORE_INDEX] * len(window.input_ids)
            previous = -1
            for pos, word in enumerate(window.piece_word):
                if word >= 0 and word != previous:
                    labels[pos] = flat_labels[i][word]
                elif word >= 0 and all_subwords and flat_labels[i][word] != IGNORE_INDEX:
                    labels[pos] = inside_ids[flat_labels[i][word]]
                previous = word
            examples.append({"input_ids": window.input_ids, "token_type_ids": window.token_type_ids, "labels": labels})
    return examples


def _cumulative(counts) -> list[int]:
    out, total = [], 0
    for c in counts:
        out.append(total)
        total += c
    return out

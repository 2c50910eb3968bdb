"""Which backend serves a model by default: measured on labelled data, so this sits above evaluation.

A shipped model records its serving backend in ``ner_demo.json`` (``input_features.backend``):
:func:`choose_backend` times every candidate on labelled data and keeps the fastest whose strict F1
stays within ``F1_TOLERANCE`` of fp32, and :func:`record_backend` writes the choice. The Tagger only
reads that record (:class:`ner_demo.encoding.InputFeatures`); when it names an ``onnx-*`` backend, the
graph comes from the export cache (:func:`ner_demo.export.cached_export`), below the Tagger.

:func:`choose_default` does the same for the graphs of an export folder: int8 stays its default only
within the tolerance of fp32.

Tune on dev: the test split is for reporting.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Sequence

from ner_demo.data.sources import load_split
from ner_demo.encoding import FEATURES_FILE
from ner_demo.errors import ConfigError, ModelLoadError
from ner_demo.evaluation.metrics import evaluate
from ner_demo.evaluation.model_eval import evaluate_tagger, predict_corpus
from ner_demo.export import write_export_info
from ner_demo.inference import Tagger
from ner_demo.models import ONNX_FILES, OnnxModel, load_trained

# The order in which candidates are tried when no measurement says otherwise is irrelevant: each is
# timed. torch-bf16/fp16 are left out: they pay only on AMX CPUs and GPUs, where "auto" picks them.
CANDIDATES = ("onnx-int8", "torch-int8", "onnx-fp32", "torch-fp32")
F1_TOLERANCE = 0.003  # a faster backend serves only within 0.3 strict-F1 points of fp32


def choose_backend(model_dir: str | os.PathLike, data: str = "conll2003", split: str = "dev",
                   candidates: Sequence[str] = CANDIDATES, tolerance: float | None = None) -> dict:
    """Score and time each candidate backend on ``split``; the fastest within ``tolerance`` strict F1
    of ``torch-fp32`` wins. Returns ``{"backend": ..., "measured": {name: {strict_f1, words_per_s}}}``.
    """
    tolerance = F1_TOLERANCE if tolerance is None else tolerance
    unknown = [c for c in candidates if c not in CANDIDATES]
    if unknown:
        raise ConfigError(f"candidate backends {unknown} are not among {', '.join(CANDIDATES)}")
    corpus = load_split(data, split)
    model, tokenizer, features = load_trained(str(model_dir))
    n_words = sum(len(s.words) for s in corpus.sentences)
    measured = {}
    for name in dict.fromkeys(["torch-fp32", *candidates]):  # fp32 first: it is the reference
        tagger = Tagger(model, tokenizer, features, device="cpu", backend=name)
        tagger.predict_words([list(s.words) for s in corpus.sentences[:32]])  # warm-up
        started = time.perf_counter()
        predicted = predict_corpus(tagger, corpus, cache=None)  # timed: always tagged
        seconds = time.perf_counter() - started
        f1 = evaluate([s.tags for s in corpus.sentences], predicted).strict.micro.f1
        measured[name] = {"strict_f1": round(f1, 4), "words_per_s": round(n_words / seconds)}
    best = pick_fastest(measured, tolerance)
    return {"backend": best, "data": str(data), "split": split, "tolerance": tolerance, "measured": measured}


def pick_fastest(measured: dict[str, dict], tolerance: float, reference: str = "torch-fp32") -> str:
    """The fastest backend whose strict F1 is at most ``tolerance`` below the reference's.

    >>> pick_fastest({"torch-fp32": {"strict_f1": 0.90, "words_per_s": 5000},
    ...               "torch-int8": {"strict_f1": 0.89, "words_per_s": 10000},
    ...               "onnx-int8": {"strict_f1": 0.899, "words_per_s": 9000}}, tolerance=0.003)
    'onnx-int8'
    """
    floor = measured[reference]["strict_f1"] - tolerance - 1e-9  # 1e-9: rounding must not exclude a tie
    eligible = [name for name, m in measured.items() if m["strict_f1"] >= floor]
    return max(eligible, key=lambda name: measured[name]["words_per_s"])


def record_backend(model_dir: str | os.PathLike, choice: dict) -> None:
    """Write the chosen backend (and what it was chosen on) into the folder's ``ner_demo.json``."""
    path = Path(model_dir, FEATURES_FILE)
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    data.setdefault("input_features", {})["backend"] = choice["backend"]
    data["backend_choice"] = choice
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def choose_default(folder: str | os.PathLike, data: str, split: str = "dev", tolerance: float = F1_TOLERANCE) -> dict:
    """Score every graph of an export folder on labelled data and make int8 its default only if its
    strict F1 is within ``tolerance`` of fp32's. Updates and returns export.json's ``f1_check``."""
    folder = Path(folder)
    corpus = load_split(data, split)
    model, tokenizer, features = load_trained(str(folder))
    if not isinstance(model, OnnxModel):
        raise ModelLoadError(f"{folder}: no ONNX graph ({', '.join(ONNX_FILES.values())}); re-run the export")
    scores = {b: evaluate_tagger(Tagger(model, tokenizer, features, backend=b), corpus).strict.micro.f1
              for b in model.files}
    info = dict(model.info)
    best = "onnx-fp32"
    if "onnx-int8" in scores and scores["onnx-fp32"] - scores["onnx-int8"] <= tolerance:
        best = "onnx-int8"  # faster, and as accurate as fp32 within the tolerance
    info["default_backend"] = best
    info["f1_check"] = {"data": data, "split": split, "tolerance": tolerance, "strict_f1": scores, "default": best}
    write_export_info(folder, info)
    return info["f1_check"]

"""Which backend serves a model by default, and the cached ONNX export that lets it be ONNX Runtime.

A shipped model records its serving backend in ``ner_demo.json`` (``input_features.backend``):
:func:`choose_backend` times every candidate on labelled data and keeps the fastest whose strict F1
stays within 0.3 points of fp32 (``ner_demo.export.F1_TOLERANCE``). When that is an ONNX backend, the
Tagger exports the PyTorch model once (seconds) into :func:`exports_root` and reuses the
graph from then on: the repository ships only the PyTorch weights, which every other path
(``transformers.pipeline``, training on top of it, CUDA) needs anyway.

The cache key is a fingerprint of the weights in memory plus the versions that shape the graph, so a
retrained or upgraded model never picks up a stale graph.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Sequence

from ner_demo.errors import ConfigError

# The order in which candidates are tried when no measurement says otherwise is irrelevant: each is
# timed. torch-bf16/fp16 are left out: they pay only on AMX CPUs and GPUs, where "auto" picks them.
CANDIDATES = ("onnx-int8", "torch-int8", "onnx-fp32", "torch-fp32")
EXPORTS_DIR = "exports"


def fingerprint(model) -> str:
    """sha256 of a PyTorch model's parameters and buffers (names, shapes, dtypes, bytes) and config.

    >>> from ner_demo.models import build_tiny_model                                 # doctest: +SKIP
    >>> len(fingerprint(model))                                                      # doctest: +SKIP
    64
    """
    import torch

    digest = hashlib.sha256(model.config.to_json_string(use_diff=False).encode())
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            t = tensor.detach().to("cpu").contiguous()
            digest.update(f"{name}:{tuple(t.shape)}:{t.dtype}".encode())
            digest.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


def export_cache_key(model) -> str:
    import onnxruntime
    import torch

    from ner_demo.export import ATTENTION, INT8_SETTINGS, OPSET

    versions = (f"torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, opset {OPSET}, {INT8_SETTINGS}, "
                f"attention {ATTENTION}")
    return hashlib.sha256(f"{fingerprint(model)}|{versions}".encode()).hexdigest()[:24]


def exports_root() -> Path:
    """``$NER_DEMO_EXPORTS``, else ``exports`` under the cache root (``$NER_DEMO_HOME``)."""
    from ner_demo.data.sources import data_home

    chosen = os.environ.get("NER_DEMO_EXPORTS")
    return Path(chosen).expanduser() if chosen else data_home() / EXPORTS_DIR


def cached_export(model, tokenizer=None, root: str | os.PathLike | None = None, log=print) -> Path:
    """A folder with ``model.onnx`` and ``model.int8.onnx`` of ``model``: from the cache, or exported now.

    The export is written to a staging folder and renamed into place, so a crash mid-export leaves no
    entry that looks complete, and two processes exporting at once both end with a complete folder.
    """
    from ner_demo.backends import EXPORT_FILE
    from ner_demo.export import export_model

    root = Path(root) if root else exports_root()
    folder = root / export_cache_key(model)
    if (folder / EXPORT_FILE).is_file():
        return folder
    root.mkdir(parents=True, exist_ok=True)
    log(f"exporting the model to ONNX (fp32 + int8) once, into {folder}; later loads reuse it")
    started = time.perf_counter()
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=root))
    try:
        info = export_model(model, staging, "int8", tokenizer=tokenizer)
        (staging / EXPORT_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        if folder.exists() and not (folder / EXPORT_FILE).is_file():
            shutil.rmtree(folder)  # an incomplete entry (files lost or removed by hand): never trusted
        try:
            os.replace(staging, folder)
        except OSError:  # another process finished the same export first: theirs is as good as ours
            if not (folder / EXPORT_FILE).is_file():
                raise
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log(f"exported in {time.perf_counter() - started:.0f} s")
    return folder


def choose_backend(model_dir: str | os.PathLike, data: str = "conll2003", split: str = "dev",
                   candidates: Sequence[str] = CANDIDATES, tolerance: float | None = None) -> dict:
    """Score and time each candidate backend on ``split``; the fastest within ``tolerance`` strict F1
    of ``torch-fp32`` wins. Returns ``{"backend": ..., "measured": {name: {strict_f1, words_per_s}}}``.

    Tune on dev: the test split is for reporting.
    """
    from ner_demo.data.sources import load_split
    from ner_demo.evaluation.metrics import evaluate
    from ner_demo.evaluation.model_eval import predict_corpus
    from ner_demo.export import F1_TOLERANCE
    from ner_demo.inference import Tagger, load_model

    tolerance = F1_TOLERANCE if tolerance is None else tolerance
    unknown = [c for c in candidates if c not in CANDIDATES]
    if unknown:
        raise ConfigError(f"candidate backends {unknown} are not among {', '.join(CANDIDATES)}")
    corpus = load_split(data, split)
    model, tokenizer, features = load_model(str(model_dir))
    n_words = sum(len(s.words) for s in corpus.sentences)
    measured = {}
    for name in dict.fromkeys(["torch-fp32", *candidates]):  # fp32 first: it is the reference
        tagger = Tagger(model, tokenizer, features, device="cpu", backend=name)
        tagger.predict_words([list(s.words) for s in corpus.sentences[:32]])  # warm-up
        started = time.perf_counter()
        predicted = predict_corpus(tagger, corpus)
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
    from ner_demo.encoding import FEATURES_FILE

    path = Path(model_dir, FEATURES_FILE)
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    data.setdefault("input_features", {})["backend"] = choice["backend"]
    data["backend_choice"] = choice
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

"""Inference backends: one forward pass, ``(input_ids, attention_mask, token_type_ids) -> probabilities``.

The Tagger does the windowing, batching and decoding; a backend only runs the network. Keeping that
seam narrow means a new runtime (another ONNX Runtime provider, a compiled graph) is one small class,
and every backend is scored by the same code, so their F1 and speed compare like for like.

- ``torch-fp32``, ``torch-bf16`` (autocast), ``torch-fp16`` (CUDA) and ``torch-int8`` (dynamic
  quantisation of the Linear layers) run the PyTorch model;
- ``onnx-fp32`` and ``onnx-int8`` run an exported graph (``ner_demo.export``) with ONNX Runtime.
  Only *dynamic* int8 is offered: static quantisation of activations is known to wreck NER F1
  unless LayerNorm and GELU are kept in float, and dynamic int8 already uses the VNNI units.
"""

from __future__ import annotations

import logging
import os
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import Protocol

import numpy as np

from ner_demo.errors import ConfigError, ModelLoadError
from ner_demo.models import OnnxModel, accepts_token_types

# torch, onnxruntime and transformers are deferred into the backend that runs on each: an ONNX backend
# must start without importing torch, and a PyTorch one without onnxruntime.

log = logging.getLogger(__name__)

BACKENDS = ("torch-fp32", "torch-bf16", "torch-fp16", "torch-int8", "onnx-fp32", "onnx-int8")


class Backend(Protocol):
    name: str  # one of BACKENDS
    uses_token_types: bool  # False for graphs/models without a token_type_ids input (DistilBERT)
    batch_size: int  # windows per call that run fastest here (the Tagger's default)

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray, token_type_ids: np.ndarray) -> np.ndarray:
        """(B, T) int64 arrays -> (B, T, n_labels) float32 label probabilities."""

    def describe(self) -> str: ...


def cpu_threads() -> int:
    """Cores this process may run on (a container's CPU set, not the host's core count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def apply_temperature(probs: np.ndarray, temperature: float, by_label: np.ndarray | None = None) -> np.ndarray:
    """``softmax(logits / temperature)`` from ``probs = softmax(logits)``, on the last axis.

    ``log(probs)`` is the logits less a constant per row, and a softmax ignores such a constant, so this
    is exactly the tempered softmax of the logits, whatever backend produced ``probs``; the order of a
    row, and so its argmax, is unchanged. A probability that underflowed to 0 stays 0. ``by_label``
    (n_labels,): each row's temperature is that of its argmax label instead (per-type temperatures),
    which keeps every row's argmax too.

    >>> apply_temperature(np.array([[0.8, 0.2]]), 2.0).round(4).tolist()
    [[0.6667, 0.3333]]
    >>> apply_temperature(np.array([[0.8, 0.2], [0.2, 0.8]]), 1.0, np.array([1.0, 2.0])).round(4).tolist()
    [[0.8, 0.2], [0.3333, 0.6667]]
    """
    if by_label is not None:
        temperature = np.asarray(by_label, dtype=np.float32)[probs.argmax(axis=-1)][..., None]
    elif temperature == 1.0:
        return probs
    with np.errstate(divide="ignore"):
        scaled = np.log(probs) / temperature
    return softmax(scaled).astype(probs.dtype, copy=False)


# ---- PyTorch -------------------------------------------------------------------------------------


class TorchBackend:
    """The PyTorch model, optionally under autocast or dynamically quantised to int8."""

    def __init__(self, model, device: str, precision: str):
        import torch

        if precision == "int8" and device != "cpu":
            raise ConfigError(f"backend torch-int8 runs on the CPU only, not on {device}")
        self.name = f"torch-{precision}"
        self.batch_size = 64  # length-sorted batches of 64 ran fastest in fp32 (GUIDE section 4, BENCHMARKS.md)
        self.device = device
        self.model = model.to(device).eval()
        if precision == "int8":
            # A quantised copy: the caller's model (e.g. one being trained) stays untouched.
            self.model = torch.ao.quantization.quantize_dynamic(self.model, {torch.nn.Linear}, dtype=torch.qint8)
        self.uses_token_types = accepts_token_types(model)
        self._dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray, token_type_ids: np.ndarray) -> np.ndarray:
        import torch

        inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if self.uses_token_types:
            inputs["token_type_ids"] = token_type_ids
        inputs = {k: torch.from_numpy(v).to(self.device) for k, v in inputs.items()}
        device_type = self.device.split(":")[0]
        with torch.inference_mode(), torch.autocast(device_type, dtype=self._dtype or torch.float32,
                                                    enabled=self._dtype is not None):
            logits = self.model(**inputs).logits  # (B, T, n_labels)
        return torch.softmax(logits.float(), dim=-1).cpu().numpy()

    def describe(self) -> str:
        return f"{self.name} ({type(self.model).__name__} on {self.device})"


# ---- ONNX Runtime --------------------------------------------------------------------------------


class OnnxBackend:
    """An ONNX Runtime CPU session over one graph of an export folder."""

    def __init__(self, model: OnnxModel, backend: str, threads: int | None = None, spinning: bool = False,
                 parallel: int = 1, keep_optimized: bool = True):
        import onnxruntime as ort

        path = model.graph(backend)
        # The graph as ONNX Runtime's portable (extended) optimisations leave it, saved beside it once:
        # optimising the int8 graph took most of a session's start (0.5 s of predict's ~1 s), loading the
        # saved one a fifth of that; the hardware-specific layout passes still run at each start. Only in
        # the export cache: a user's export folder is never written to.
        graph = _extended_graph(path, ort) if keep_optimized and model.cache_entry else path
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Default: one thread per call and one call per core at once (the Tagger runs its batches in
        # parallel): faster on CoNLL-2003 test than one call split over all cores (bench/bench_onnx_options.py,
        # figures in BENCHMARKS.md); ops on a batch of short sentences are too small for intra-op threads to pay.
        if threads is None:
            threads, parallel = 1, max(parallel, cpu_threads())
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # No busy-waiting between ops: on a 2-core box shared with the web server (and other work),
        # spinning pool threads stole the cores; under load one sentence took about three times as long
        # with spinning, and batches tagged fewer words/s (BENCHMARKS.md, "Backends and serving").
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
        try:
            self.session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # ORT raises its own (non-exported) exception types
            raise ModelLoadError(f"{path}: onnxruntime cannot load it ({exc})") from exc
        self.name = backend
        # Smaller batches than PyTorch's: int8 tagged more words/s in batches of 8-32 than of 64 on 2
        # shared cores (BENCHMARKS.md, "Backends and serving").
        self.batch_size = 16
        self.path = path
        self.threads = options.intra_op_num_threads
        # Batches the Tagger may run at once from its own threads (session.run releases the GIL and
        # is thread-safe): data parallelism across cores instead of splitting each small op.
        self.parallel_calls = parallel
        self._inputs = [i.name for i in self.session.get_inputs()]
        self.uses_token_types = "token_type_ids" in self._inputs

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray, token_type_ids: np.ndarray) -> np.ndarray:
        given = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
        # Feed only what the graph declares: ORT rejects unknown inputs (DistilBERT has no token types).
        (logits,) = self.session.run(["logits"], {name: given[name] for name in self._inputs})
        return softmax(logits.astype(np.float32, copy=False))

    def describe(self) -> str:
        import onnxruntime as ort

        calls = f" x {self.parallel_calls} batches at once" if self.parallel_calls > 1 else ""
        return f"{self.name} (onnxruntime {ort.__version__}, {self.path.name}, {self.threads} threads{calls})"


def _extended_graph(path: Path, ort) -> Path:
    """``path`` after ONNX Runtime's extended (hardware-independent) optimisations, from a file saved
    beside it by this onnxruntime version (made now when missing; the original when it cannot be
    written, e.g. a read-only export folder, which only costs start-up time)."""
    saved = path.with_name(f"{path.stem}.ort-{ort.__version__}.extended.onnx")
    if saved.is_file() and saved.stat().st_mtime_ns >= path.stat().st_mtime_ns:
        return saved
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{saved.name}.", dir=path.parent)
        os.close(fd)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.optimized_model_filepath = tmp
        ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        os.replace(tmp, saved)  # atomic: another process sees the whole file or none
        return saved
    except Exception as exc:  # noqa: BLE001 - ORT's own error types; the original graph serves the same
        log.info("%s: not saving its optimised graph (%s); optimising it at each start instead", path.name, exc)
        if tmp:
            with suppress(OSError):
                os.unlink(tmp)
        return path

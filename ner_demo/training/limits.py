"""What a backbone can train, checked before a run folder exists: ``max_length`` against its positions,
and an ``init_from`` model that can be fine-tuned."""

from __future__ import annotations

import json
import os

from ner_demo.errors import ConfigError, ModelLoadError
from ner_demo.models import resolve_backbone
from ner_demo.training.config import TrainConfig
from ner_demo.training.init_from import carried_features, resolve_init_from


def check_max_length(config: TrainConfig, limit: int | None, model: str | None = None) -> None:
    """``model``: how to name the model (default: the backbone)."""
    if limit and config.max_length > limit:
        what = model or f"the backbone {config.backbone}"
        raise ConfigError(f"max_length={config.max_length}: {what} reads at most {limit} "
                          f"positions; set max_length to {limit} or less (longer sentences are split into windows)")


def backbone_positions(name: str) -> int | None:
    """``max_position_embeddings`` from the backbone's config.json, where it can be read without a download
    (a local folder, the offline encoder, a Hub model already in the cache); None when it cannot."""
    return _positions(_backbone_config(name))


def _positions(config_json: dict) -> int | None:
    value = config_json.get("max_position_embeddings")
    return value if isinstance(value, int) and value > 0 else None


def layer_count(config_json: dict) -> int | None:
    """Transformer layers of a model's config.json (BERT-style ``num_hidden_layers``, DistilBERT ``n_layers``)."""
    value = config_json.get("num_hidden_layers", config_json.get("n_layers"))
    return value if isinstance(value, int) and value > 0 else None


def _backbone_config(name: str) -> dict:
    """The backbone's config.json where it can be read without a download, else {}."""
    try:
        backbone = resolve_backbone(name)
    except ModelLoadError:
        return {}  # prepare() reports it, naming the backbone
    path = os.path.join(backbone.location, "config.json")
    if backbone.needs_hub:
        # deferred: huggingface_hub is only needed for a Hub id, and the CLI's start-up should not pay for it
        from huggingface_hub import try_to_load_from_cache

        try:
            path = try_to_load_from_cache(backbone.location, "config.json")
        except Exception:  # an odd id or cache layout: not knowable here
            return {}
        if not isinstance(path, str):
            return {}
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def check_freeze_layers(config: TrainConfig, layers: int | None) -> None:
    """``freeze_layers`` against the layers the run keeps (``encoder_layers`` may keep fewer); the message
    of ``models.freeze_lower_layers``, which checks it again on the loaded model."""
    if not config.freeze_layers or layers is None:
        return
    kept = len(config.layer_indices() or range(layers))
    if config.freeze_layers > kept:
        raise ConfigError(f"freeze_layers={config.freeze_layers}: the encoder has {kept} layers; use 0 to {kept}")


def check_backbone_limits(config: TrainConfig) -> None:
    """Refuse, before a run folder exists, what the backbone cannot train (max_length over its positions),
    with the message ``prepare`` gives when it finds it only at run time. With ``init_from``, that model is
    resolved and checked instead (ConfigError naming the value: unknown, a run with no best/, not a
    token-classification model), its carried features included. ``freeze_layers`` is checked against the
    model's layers in both cases. A ``teacher`` is resolved and checked the same way (its labels are
    compared with the data's when the run starts)."""
    if config.teacher.strip():  # unknown, a run with no best/, not a token classifier: refused at Start
        resolve_init_from(config.teacher, config.runs_dir, key="teacher")
    if config.init_from.strip():
        source = resolve_init_from(config.init_from, config.runs_dir)
        carried, _ = carried_features(config, source)
        check_max_length(carried, source.positions, source.name)
        check_freeze_layers(config, source.layers)
        return
    found = _backbone_config(config.backbone)
    check_max_length(config, _positions(found))
    check_freeze_layers(config, layer_count(found))

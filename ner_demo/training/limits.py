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
    try:
        backbone = resolve_backbone(name)
    except ModelLoadError:
        return None  # prepare() reports it, naming the backbone
    path = os.path.join(backbone.location, "config.json")
    if backbone.needs_hub:
        # deferred: huggingface_hub is only needed for a Hub id, and the CLI's start-up should not pay for it
        from huggingface_hub import try_to_load_from_cache

        try:
            path = try_to_load_from_cache(backbone.location, "config.json")
        except Exception:  # an odd id or cache layout: not knowable here
            return None
        if not isinstance(path, str):
            return None
    try:
        with open(path, encoding="utf-8") as fh:
            value = json.load(fh).get("max_position_embeddings")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and value > 0 else None


def check_backbone_limits(config: TrainConfig) -> None:
    """Refuse, before a run folder exists, what the backbone cannot train (max_length over its positions),
    with the message ``prepare`` gives when it finds it only at run time. With ``init_from``, that model is
    resolved and checked instead (ConfigError naming the value: unknown, a run with no best/, not a
    token-classification model), its carried features included."""
    if config.init_from.strip():
        source = resolve_init_from(config.init_from, config.runs_dir)
        carried, _ = carried_features(config, source)
        check_max_length(carried, source.positions, source.name)
        return
    check_max_length(config, backbone_positions(config.backbone))

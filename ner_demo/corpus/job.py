"""What a ``tag-corpus`` run is: the input, the output folder, the model and the options that decide the
output. Both engines take a :class:`CorpusJob`; the manifest records :meth:`CorpusJob.options` and the
model's identity, and a resumed run must match them.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from ner_demo.errors import ConfigError, ModelLoadError
from ner_demo.inference import Tagger

FORMATS = ("jsonl", "parquet")
DEFAULT_SHARD_SIZE = 1000  # records a shard: a resumed run redoes at most one shard per worker
# Files of a model folder that do not change what it predicts (its card, its scores).
_NOT_THE_MODEL = {"README.md", "scores.json"}


@dataclass(frozen=True)
class CorpusJob:
    """``input``: a file or folder; ``output``: the folder of shards and manifest; ``model``: a model
    folder or Hub id; ``tagger_options``: keyword arguments of :meth:`Tagger.from_pretrained`
    (aggregation, precision, device, backend, batch_size, context_words, chunk_share)."""

    input: str
    output: str
    model: str
    text_field: str = "text"
    id_field: str | None = None
    format: str = "jsonl"
    shard_size: int = DEFAULT_SHARD_SIZE
    tagger_options: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.format not in FORMATS:
            raise ConfigError(f"format {self.format!r} is not one of {', '.join(FORMATS)}")
        if self.shard_size < 1:
            raise ConfigError(f"shard size must be at least 1 record, got {self.shard_size}")
        if not self.text_field:
            raise ConfigError("the text field is empty: name the JSONL field or Parquet column with the text")

    def options(self) -> dict:
        """What decides the output besides the input and the model: a resumed run must give the same.
        The number of workers is not in it: it changes the speed, never the output."""
        return {"text_field": self.text_field, "id_field": self.id_field, "format": self.format,
                "shard_size": self.shard_size, "tagger": dict(sorted(self.tagger_options.items()))}

    def load_tagger(self) -> Tagger:
        """The Tagger each worker (a process, or an actor on Ray) loads once."""
        return Tagger.from_pretrained(self.model, **self.tagger_options)


def model_identity(model: str) -> tuple[str, str]:
    """(name, version) of a model: the folder's name (never its path on this machine) or the Hub id, and a
    sha256 of the files that make its predictions (weights or graphs, config, tokenizer, ``ner_demo.json``),
    read without loading the model. Two folders holding the same files have the same version."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path.resolve().name, _folder_digest(path)
    return model, _folder_digest(_hub_snapshot(model))


def _folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name not in _NOT_THE_MODEL
                   and not p.name.startswith("."))
    if not files:
        raise ModelLoadError(f"{folder.name}: a model folder without files")
    for file in files:
        digest.update(f"{file.name}:{file.stat().st_size}:".encode())
        with open(file, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return "sha256:" + digest.hexdigest()[:16]


def _hub_snapshot(repo_id: str) -> Path:
    """The local snapshot of a Hub model, as loading it would fetch it."""
    from huggingface_hub import snapshot_download  # deferred: only a Hub id needs it

    try:
        return Path(snapshot_download(repo_id, local_files_only=bool(os.environ.get("HF_HUB_OFFLINE"))))
    except Exception as exc:  # huggingface_hub raises many error types of its own (offline, not found, ...)
        raise ModelLoadError(f"{repo_id}: not a model folder here, and the Hub did not give it ({type(exc).__name__})") from None

"""The typed training configuration, saved with every run.

One flat dataclass in the style of run_ner.py: every field has a default (the seeds' values) and a
``help`` text, and ``__post_init__`` rejects bad values with a message that names the key and the
value. Configs load from YAML or JSON and take ``key=value`` overrides from the command line.

>>> cfg = TrainConfig().with_overrides(["epochs=5", "freeze_encoder=true"])
>>> cfg.epochs, cfg.freeze_encoder, cfg.learning_rate
(5, True, 5e-05)
"""

from __future__ import annotations

import difflib
import json
import typing
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Sequence

from ner_demo.decoding import DECODINGS
from ner_demo.encoding import check_chunk_share
from ner_demo.errors import ConfigError

ENGINES = ("custom", "trainer")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DEVICES = ("auto", "cpu", "cuda", "mps")
LOSS_REDUCTIONS = ("batch-mean", "fixed")
# "auto": each dev evaluation scores every decoding from the same forward pass and keeps the best one, the
# choice `ship` makes on dev; best/ records the decoding it was scored with.
DECODING_CHOICES = ("auto", *DECODINGS)
# A top-level mapping of a training/*.yaml that describes the recipe (name, version, expected dev F1...):
# read by ner_demo.training.recipes, skipped by TrainConfig.from_file (it is not a training setting).
RECIPE_KEY = "recipe"
MIN_MAX_LENGTH = 34  # the Tagger's floor: 2 * InputFeatures.max_pieces_per_word + 2


@dataclass(frozen=True)
class TrainConfig:
    # --- what to train on --------------------------------------------------------------------------
    name: str = field(
        default="", metadata={"group": "data",
                              "help": "Short run name, part of the run id (default: derived from the config file)."}
    )
    backbone: str = field(
        default="distilbert-base-cased",
        metadata={"group": "backbone",
            "help": "Encoder to fine-tune: a Hub id, a local model folder, or 'offline-minilm' (bundled, no internet)."
        },
    )
    dataset: str = field(
        default="conll2003",
        metadata={"group": "data",
            "help": "'conll2003' (local cache, see `fetch-data`), 'multinerd', a folder with train/dev files, "
            "or 'annotation:<name>' (an annotation dataset; a seeded 20% held out as dev)."
        },
    )
    train_file: str | None = field(
        default=None, metadata={"group": "data", "help": "A CoNLL file used as the train split instead of `dataset`'s."}
    )
    dev_file: str | None = field(
        default=None, metadata={"group": "data", "help": "A CoNLL file used as the dev split instead of `dataset`'s."}
    )
    label_subset: str = field(
        default="all",
        metadata={"group": "data",
            "help": "'all', 'five' (MultiNERD's PER/ORG/LOC/ANIM/DIS), or a comma list of entity types to keep; "
            "the others become O."
        },
    )
    limit_train_sentences: int | None = field(
        default=None, metadata={"group": "data", "help": "Use only the first N train sentences (quick trials)."}
    )
    limit_dev_sentences: int | None = field(default=None, metadata={"group": "data",
                                                                    "help": "Use only the first N dev sentences."})
    # --- input features ------------------------------------------------------------------------------
    max_length: int = field(
        default=128, metadata={"group": "features",
                               "help": "Subword window length; longer sentences are split into windows, not truncated."}
    )
    casing: bool = field(
        default=False,
        metadata={"group": "features",
                  "help": "Mark capitalised words in token_type_ids (helps uncased encoders; BERT-style models only)."},
    )
    context_words: int = field(
        default=0, metadata={"group": "features",
                             "help": "Read up to N words of neighbouring document text on each side."}
    )
    context_dropout: float = field(
        default=0.0,
        metadata={"group": "features",
                  "help": "Share of train sentences (drawn with the seed) read without document context, so one "
                  "model also tags well with context off (fewer tokens); on CoNLL-2003 it cost the context gain "
                  "(BENCHMARKS.md)."},
    )
    encoder_layers: str = field(
        default="",
        metadata={"group": "backbone",
                  "help": "Keep only these encoder layers, a comma list of indices: '0,2,4' keeps every other layer "
                  "of a 6-layer encoder (a smaller, faster model); empty keeps them all."},
    )
    init_from: str = field(
        default="",
        metadata={"group": "backbone",
                  "help": "Fine-tune a trained NER model instead of a new head on `backbone` (which is then not "
                  "used): a shipped model (minilm-conll2003, minilm3-conll2003-fast), a finished run's id (its "
                  "best/) or a local model folder. Its head keeps the rows of the labels the data shares, gets "
                  "new rows for new labels (from the mean of its B-/I- rows) and loses those the data lacks. "
                  "Empty: start from `backbone`."},
    )
    init_features: bool = field(
        default=True,
        metadata={"group": "backbone",
                  "help": "With init_from: train with the starting model's input features (casing bit, context "
                  "words, window length... from its ner_demo.json) in place of this config's, and say so in the "
                  "log where they differ; false: use this config's, with a warning where they differ."},
    )
    teacher: str = field(
        default="",
        metadata={"group": "backbone",
                  "help": "Distil from a trained NER model (a shipped model such as minilm-conll2003, a finished "
                  "run's id or a local model folder): its word probabilities on the train split, read with its "
                  "own document context, are soft labels beside the gold tags (see distill_weight). They are "
                  "computed once and cached in the runs folder. Its labels must be the data's. Empty: no teacher."},
    )
    distill_weight: float = field(
        default=0.5,
        metadata={"group": "optimisation",
                  "help": "With a teacher: the loss is (1 - w) * cross-entropy on the gold tags + w * T^2 * "
                  "KL(teacher || student) at temperature T, at each word's first subword. 0: gold tags only."},
    )
    distill_temperature: float = field(
        default=2.0,
        metadata={"group": "optimisation",
                  "help": "With a teacher: the softmax temperature T of the KL term (1: the teacher's own "
                  "probabilities; higher: softer, more of its second choices)."},
    )
    all_subwords: bool = field(
        default=False, metadata={"group": "features",
                                 "help": "Train on every subword, not only each word's first piece."}
    )
    decoding: str = field(
        default="auto",
        metadata={"group": "features", "choices": DECODING_CHOICES,
                  "help": "How words get their tags from the model, saved in best/ner_demo.json: 'argmax' (each "
                  "word's most likely tag), 'bio' (the most likely valid IOB2 sequence: no I-X without B-X), or "
                  "'auto' (each dev evaluation scores both from one pass and keeps the better, as `ship` does)."},
    )
    chunk_share: float = field(
        default=0.5,
        metadata={"group": "features",
                  "help": "Share of a window that each chunk of a long document predicts, in dev evaluation and "
                  "saved for the Tagger: 0.5 reads every word with context on both sides; 1.0 reads consecutive "
                  "windows (fewer, faster; the fast model's choice, BENCHMARKS.md)."},
    )
    # --- optimisation ----------------------------------------------------------------------------
    learning_rate: float = field(default=5e-5, metadata={"group": "optimisation", "help": "Peak AdamW learning rate."})
    batch_size: int = field(default=16, metadata={"group": "optimisation",
                                                  "help": "Sentences (windows) per step and per process."})
    eval_batch_size: int = field(default=64, metadata={"group": "optimisation",
                                                       "help": "Windows per forward pass during dev evaluation."})
    epochs: int = field(default=3, metadata={"group": "optimisation", "help": "Passes over the train split."})
    max_steps: int | None = field(
        default=None, metadata={"group": "optimisation",
                                "help": "Stop after this many optimizer steps (overrides epochs)."}
    )
    weight_decay: float = field(
        default=0.01, metadata={"group": "optimisation",
                                "help": "AdamW weight decay (not applied to biases and LayerNorm)."}
    )
    warmup_ratio: float = field(
        default=0.1, metadata={"group": "optimisation",
                               "help": "Fraction of steps with a linear learning-rate warm-up."}
    )
    grad_clip: float = field(
        default=1.0, metadata={"group": "optimisation",
                               "help": "Clip the gradient norm to this value; 0 turns clipping off."}
    )
    seed: int = field(default=42, metadata={"group": "optimisation",
                                            "help": "Seed for the head's initialisation, batch order and dropout."})
    freeze_encoder: bool = field(
        default=False, metadata={"group": "optimisation",
                                 "help": "Train only the classification head; the encoder's outputs are computed once."}
    )
    freeze_layers: int = field(
        default=0,
        metadata={"group": "optimisation",
                  "help": "Freeze the embeddings and the lowest N encoder layers (0: train every layer): fewer "
                  "weights move, so a model fine-tuned on a few sentences keeps more of what it knew."},
    )
    head_learning_rate: float | None = field(
        default=None,
        metadata={"group": "optimisation",
                  "help": "Peak learning rate of the classification head (custom engine); empty: learning_rate. "
                  "With init_from, a small learning_rate (e.g. 3e-5) keeps the encoder close to what it learnt "
                  "while the head's new rows learn faster (e.g. 2e-3: they start below the trained rows; "
                  "BENCHMARKS.md, fine-tuning to a new type)."},
    )
    class_weighted_loss: bool = field(default=False, metadata={"group": "optimisation",
                                                               "help": "Weight the loss by inverse label frequency."})
    group_by_length: bool = field(
        default=True, metadata={"group": "optimisation",
                                "help": "Batch windows of similar length together (less padding, faster)."}
    )
    loss_reduction: str = field(
        default="fixed",
        metadata={"group": "optimisation", "choices": LOSS_REDUCTIONS,
                  "help": "'batch-mean': the loss is the mean over a batch's labelled tokens (the HF convention); "
                  "'fixed': their sum over a constant, the mean labelled tokens per batch of the train split, so "
                  "every token weighs the same in whichever batch it lands (length grouping otherwise up-weights "
                  "the tokens of short sentences; BENCHMARKS.md has the dev F1 of both)."},
    )
    early_stopping_patience: int = field(
        default=0, metadata={"group": "optimisation",
                             "help": "Stop after N epochs without a better dev strict F1; 0 turns it off."}
    )
    average_from: float = field(
        default=0.0,
        metadata={"group": "optimisation",
                  "help": "Average the weights over the end of training (custom engine): from this share of the "
                  "steps on, a running mean of the weights is taken every `average_every` steps, and dev "
                  "evaluation and best/ use it. 0 turns it off; 0.67 averages the last of 3 epochs."},
    )
    average_every: int = field(default=10, metadata={"group": "optimisation",
                                                     "help": "Steps between two weights folded into the average."})
    # --- engine and hardware -----------------------------------------------------------------------
    engine: str = field(
        default="custom", metadata={"group": "engine", "choices": ENGINES,
                                    "help": "'custom' (our loop) or 'trainer' (the Hugging Face Trainer)."}
    )
    precision: str = field(default="auto", metadata={"group": "engine", "choices": PRECISIONS,
                                                     "help": "'auto', 'fp32', 'bf16' or 'fp16' (autocast)."})
    device: str = field(default="auto", metadata={"group": "engine", "choices": DEVICES,
                                                  "help": "'auto', 'cpu', 'cuda' or 'mps'."})
    threads: int = field(default=0, metadata={"group": "engine",
                                              "help": "torch CPU threads per process; 0 keeps torch's default."})
    # --- bookkeeping ----------------------------------------------------------------------------
    runs_dir: str = field(default="runs", metadata={"group": "engine", "form": False,
                                                    "help": "Folder that holds one sub-folder per run."})
    log_every: int = field(
        default=50,
        metadata={"group": "engine", "help": "Write loss, lr and tokens/s every N steps, at most: a run logs every "
                  "min(N, max(1, total_steps // 50)) steps, so a short run still draws a curve of about 50 points "
                  "(a 20-step run logs every step)."},
    )
    checkpoint_every: int = field(
        default=200,
        metadata={"group": "engine",
                  "help": "Also checkpoint every N steps inside an epoch; 0 checkpoints at epoch ends only."},
    )
    keep_checkpoints: int = field(default=2, metadata={"group": "engine",
                                                       "help": "Complete checkpoints kept on disk (newest first)."})

    def __post_init__(self) -> None:
        for f in fields(self):  # every field with choices in its metadata: a new one is checked as well
            if "choices" in f.metadata:
                _choice(f.name, getattr(self, f.name), f.metadata["choices"])
        for key in ("max_length", "batch_size", "eval_batch_size", "epochs", "log_every", "keep_checkpoints",
                    "average_every"):
            _at_least(key, getattr(self, key), 1)
        for key in ("context_words", "early_stopping_patience", "checkpoint_every", "threads",
                    "freeze_layers"):
            _at_least(key, getattr(self, key), 0)
        for key in ("max_steps", "limit_train_sentences", "limit_dev_sentences"):
            if getattr(self, key) is not None:
                _at_least(key, getattr(self, key), 1)
        if self.max_length < MIN_MAX_LENGTH:
            raise ConfigError(
                f"max_length={self.max_length}: windows must hold [CLS], [SEP] and two words of up to "
                f"16 pieces; use at least {MIN_MAX_LENGTH}"
            )
        if not 0 < self.learning_rate < 1:
            raise ConfigError(f"learning_rate={self.learning_rate}: must be between 0 and 1 (e.g. 5e-5)")
        if self.head_learning_rate is not None and not 0 < self.head_learning_rate < 1:
            raise ConfigError(f"head_learning_rate={self.head_learning_rate}: must be between 0 and 1 (e.g. 5e-4), "
                              "or empty for learning_rate")
        if self.head_learning_rate is not None and self.engine == "trainer":
            raise ConfigError(f"head_learning_rate={self.head_learning_rate}: a separate head learning rate is part "
                              "of the custom engine; use engine=custom or leave head_learning_rate empty")
        if self.freeze_layers and self.freeze_encoder:
            raise ConfigError(f"freeze_layers={self.freeze_layers} with freeze_encoder=true: freeze_encoder already "
                              "freezes every layer; set freeze_layers=0 or freeze_encoder=false")
        if not 0 <= self.warmup_ratio < 1:
            raise ConfigError(f"warmup_ratio={self.warmup_ratio}: must be in [0, 1)")
        check_chunk_share(self.chunk_share)  # names the value
        if not 0 <= self.context_dropout < 1:
            raise ConfigError(f"context_dropout={self.context_dropout}: must be in [0, 1)")
        if self.context_dropout and not self.context_words:
            raise ConfigError(f"context_dropout={self.context_dropout} needs context_words > 0: there is no context to drop")
        if not 0 <= self.average_from < 1:
            raise ConfigError(f"average_from={self.average_from}: must be in [0, 1) (a share of the training steps)")
        if self.average_from and self.engine == "trainer":
            raise ConfigError(f"average_from={self.average_from}: weight averaging is part of the custom engine; "
                              "use engine=custom or average_from=0")
        if not 0 <= self.distill_weight <= 1:
            raise ConfigError(f"distill_weight={self.distill_weight}: must be in [0, 1] (the KL term's share)")
        if not 0 < self.distill_temperature <= 100:
            raise ConfigError(f"distill_temperature={self.distill_temperature}: must be above 0 (e.g. 2), at most 100")
        self.layer_indices()  # a bad encoder_layers fails here, naming the value
        for key in ("weight_decay", "grad_clip"):
            if getattr(self, key) < 0:
                raise ConfigError(f"{key}={getattr(self, key)}: must not be negative")
        if not self.backbone.strip():
            raise ConfigError("backbone='': name a Hub id, a local model folder, or 'offline-minilm'")
        if not self.label_subset.strip():
            raise ConfigError("label_subset='': use 'all', 'five' or a comma list of entity types such as 'PER,LOC'")
        if self.precision == "fp16" and self.device in ("cpu", "mps"):
            raise ConfigError(
                f"precision='fp16' with device={self.device!r}: fp16 training needs a CUDA GPU; use bf16 or fp32"
            )

    def log_every_for(self, total_steps: int) -> int:
        """The logging interval a run of ``total_steps`` uses (see ``log_every``'s help).

        >>> TrainConfig().log_every_for(20), TrainConfig().log_every_for(1000), TrainConfig().log_every_for(10**5)
        (1, 20, 50)
        """
        return min(self.log_every, max(1, total_steps // 50))

    def layer_indices(self) -> list[int] | None:
        """``encoder_layers`` as indices (None: keep every layer).

        >>> TrainConfig(encoder_layers="0, 2,4").layer_indices()
        [0, 2, 4]
        """
        if not self.encoder_layers.strip():
            return None
        try:
            indices = [int(part) for part in self.encoder_layers.split(",")]
        except ValueError:
            raise ConfigError(f"encoder_layers={self.encoder_layers!r}: expected a comma list of layer indices such as '0,2,4'") from None
        if any(i < 0 for i in indices) or len(set(indices)) != len(indices):
            raise ConfigError(f"encoder_layers={self.encoder_layers!r}: indices must be 0 or more, each at most once")
        return indices

    # --- serialisation --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> "TrainConfig":
        """Build from a mapping; unknown keys are errors (a typo must not silently fall back to a default)."""
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a mapping of key: value, got {type(data).__name__}")
        known = {f.name: f for f in fields(cls)}
        for key in data:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ConfigError(f"{source}: unknown key {key!r}{hint}")
        types = field_types(cls)
        values = {key: _check_type(key, value, types[key], source) for key, value in data.items()}
        return cls(**values)

    @classmethod
    def from_file(cls, path: str | Path) -> "TrainConfig":
        """Load a ``.yaml``/``.yml`` or ``.json`` file."""
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".json":
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}, line {exc.lineno}: invalid JSON ({exc.msg})") from None
        else:
            import yaml

            try:
                data = yaml.safe_load(text) or {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f", line {mark.line + 1}" if mark is not None else ""
                raise ConfigError(f"{path}{where}: invalid YAML ({getattr(exc, 'problem', exc)})") from None
        if isinstance(data, dict) and isinstance(data.get(RECIPE_KEY), dict):
            data = {k: v for k, v in data.items() if k != RECIPE_KEY}  # a recipe's description, not a setting
        config = cls.from_dict(data, source=str(path))
        return config if config.name else replace(config, name=path.stem)

    def with_overrides(self, assignments: Sequence[str]) -> "TrainConfig":
        """Apply ``key=value`` strings (from ``--set``); values are coerced to the field's type."""
        types = field_types(type(self))
        data = self.to_dict()
        for item in assignments:
            key, sep, raw = item.partition("=")
            key = key.strip()
            if not sep or not key:
                raise ConfigError(f"--set {item!r}: expected key=value, e.g. --set epochs=5")
            if key not in types:
                close = difflib.get_close_matches(key, types, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ConfigError(f"--set {item!r}: unknown key {key!r}{hint}")
            data[key] = coerce(key, raw.strip(), types[key])
        return type(self)(**data)

    @classmethod
    def describe_fields(cls) -> str:
        """One line per key with its default, choices and help, for ``--help``: read from the fields, so a
        new field is listed with no other edit."""
        lines = []
        for f in fields(cls):
            choices = f" [{' | '.join(f.metadata['choices'])}]" if "choices" in f.metadata else ""
            lines.append(f"  {f.name} (default {f.default!r}){choices}: {f.metadata.get('help', '')}")
        return "\n".join(lines)


def field_types(cls: type = TrainConfig) -> dict[str, Any]:
    """Field name -> its resolved type (``int | None``...) for ``cls``, a TrainConfig or a subclass."""
    # Resolved once per call: with `from __future__ import annotations` field.type is only a string.
    return typing.get_type_hints(cls)




def _choice(key: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ConfigError(f"{key}={value!r}: must be one of {', '.join(choices)}")


def _at_least(key: str, value: int, minimum: int) -> None:
    if value < minimum:
        raise ConfigError(f"{key}={value}: must be at least {minimum}")


def base_type(annotation) -> tuple[type, bool]:
    """``int | None`` -> (int, True); ``str`` -> (str, False)."""
    args = typing.get_args(annotation)
    if args:
        non_none = [a for a in args if a is not type(None)]
        return non_none[0], len(non_none) < len(args)
    return annotation, False


def _check_type(key: str, value: Any, annotation, source: str) -> Any:
    """Values from YAML/JSON are already typed; accept ints for floats, reject anything else."""
    base, optional = base_type(annotation)
    if value is None and optional:
        return None
    if base is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if base is int and isinstance(value, bool) or not isinstance(value, base):
        if isinstance(value, str):  # "5e-5" in YAML is a string: PyYAML follows YAML 1.1 float syntax
            return coerce(key, value, annotation, source)
        raise ConfigError(f"{source}: {key}={value!r}: expected {base.__name__}{' or null' if optional else ''}")
    return value


def coerce(key: str, raw: str, annotation, source: str = "--set") -> Any:
    """A command-line string to the field's type.

    >>> coerce("epochs", "5", int), coerce("freeze_encoder", "yes", bool), coerce("max_steps", "none", int | None)
    (5, True, None)
    """
    base, optional = base_type(annotation)
    if optional and raw.lower() in ("none", "null", ""):
        return None
    try:
        if base is bool:
            lowered = raw.lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if base is int:
            return int(raw)
        if base is float:
            return float(raw)
        return str(raw)
    except ValueError:
        kind = "true or false" if base is bool else base.__name__
        raise ConfigError(f"{source}: {key}={raw!r}: expected {kind}") from None

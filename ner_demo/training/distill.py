"""Distillation (``teacher``): a trained NER model's word probabilities on the train split, as soft labels.

The teacher reads the train split as the Tagger reads any corpus: whole documents, with its own input
features (casing bit, context words, window length, chunk share from its ``ner_demo.json``), at
temperature 1 (its calibration, if any, left out), on the PyTorch backend at the run's precision. So
its tokenizer and windows need not be the student's: its distributions are per *word*, and the loss
reads each word's at the student's first subword of that word (``data_prep.encode(teacher_words=True)``).

Computed once: the probabilities are kept under ``<runs_dir>/.teacher-cache/``, keyed as the prediction
cache keys its entries (``evaluation.cache.prediction_key``: the teacher's weights fingerprint, the
words and their documents, the Tagger's settings, the labels), so a resumed run (after a kill -9
too) and a second run with the same teacher and data read them back. The run folder's ``teacher.json``
records the teacher and its fingerprint; a resume whose teacher has changed since is refused.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from ner_demo.data.conll import Corpus
from ner_demo.errors import ConfigError
from ner_demo.labels import LabelSet
from ner_demo.training.config import TrainConfig
from ner_demo.training.init_from import InitSource, resolve_init_from

CACHE_FOLDER = ".teacher-cache"  # a dot folder: list_runs never takes it for a run
RECORD_FILE = "teacher.json"
_FLOOR = 1e-12  # log(0) is -inf: a word probability that underflowed to 0 stands at this floor instead


@dataclass
class TeacherTargets:
    """The teacher's log-probabilities per train word, in the student's label order."""

    log_probs: object  # torch tensor (N_words, C) float32; rows: the train split's words one after the other
    name: str  # how messages name the teacher (no server path)
    fingerprint: str  # sha256 of its weights and config
    key: str  # its cache entry
    computed: bool  # False: read from the cache

    def record(self) -> dict:
        """What the run folder and best/ner_demo.json keep about the teacher."""
        return {"teacher": self.name, "fingerprint": self.fingerprint, "cache_key": self.key,
                "words": int(self.log_probs.shape[0])}


def resolve_teacher(config: TrainConfig) -> InitSource:
    """The ``teacher`` model folder, checked as ``init_from`` is (a ConfigError naming ``teacher=``)."""
    return resolve_init_from(config.teacher, config.runs_dir, key="teacher")


def check_labels(source: InitSource, labels: LabelSet) -> list[int]:
    """For each student label, the teacher's column; a ConfigError naming both label lists when the
    sets differ (a KL term needs the same outcomes on both sides).

    >>> check_labels(InitSource("t", "folder", Path("t"), ("O", "B-PER", "I-PER"), None, None),
    ...              LabelSet(("O", "I-PER", "B-PER")))
    [0, 2, 1]
    """
    if set(source.labels) != set(labels.names):
        raise ConfigError(
            f"teacher={source.value!r}: its labels are not the data's: the teacher has {len(source.labels)} "
            f"({', '.join(source.labels)}), the data {len(labels.names)} ({', '.join(labels.names)}); "
            "distillation needs the same label set: pick a teacher trained on these types, or set label_subset "
            "(or the data) to the teacher's"
        )
    return [source.labels.index(name) for name in labels.names]


def cache_dir(runs_dir: str | Path) -> Path:
    return Path(runs_dir) / CACHE_FOLDER


def teacher_targets(config: TrainConfig, train: Corpus, labels: LabelSet, device: str, precision: str,
                    run_path: Path | None = None, is_main: bool = True, barrier=lambda: None,
                    say=print, phase=lambda text: None) -> TeacherTargets:
    """The teacher's word log-probabilities on ``train``, from the cache or computed (then cached).

    Under DDP the main process computes and writes the entry while the others wait at ``barrier`` and
    then read it. ``run_path``: the run folder, whose ``teacher.json`` is written (main process) or, on a
    resume, checked against the teacher's fingerprint now. ``phase(text)`` is told while the teacher tags
    (status.json's phase: it takes about a dev evaluation of the teacher per train split).
    """
    import numpy as np
    import torch

    # Deferred: evaluation and inference load numpy/seqeval/torch pieces a config check does not need.
    from ner_demo.evaluation.cache import PredictionCache, model_fingerprint, prediction_key
    from ner_demo.inference import Tagger
    from ner_demo.models import load_trained

    source = resolve_teacher(config)
    columns = check_labels(source, labels)
    model, tokenizer, features = load_trained(str(source.folder))
    backend = f"torch-{precision}" if precision in ("fp32", "bf16", "fp16") else "torch-fp32"
    # temperature 1, no per-type ones: the distillation temperature is applied in the loss, to raw scores
    tagger = Tagger(model, tokenizer, features, device=device, backend=backend, temperature=1.0,
                    type_temperatures={}, batch_size=config.eval_batch_size)
    words, docs = [s.words for s in train], [s.doc_id for s in train]
    fingerprint = model_fingerprint(tagger)
    key = prediction_key(tagger, words, docs)
    if run_path is not None:
        _check_record(run_path / RECORD_FILE, source, fingerprint)
    cache = PredictionCache(1, cache_dir(config.runs_dir))
    probs = cache.get(key) if is_main else None
    computed = False
    if probs is None and is_main:
        say(f"teacher {source.name}: tagging {len(train)} train sentences ({sum(map(len, words))} words) once, "
            f"{tagger.describe()}")
        phase(f"the teacher tags the train split ({len(train)} sentences; once, then cached)")
        t0 = time.time()
        probs = tag_corpus(tagger, train)
        cache.put(key, probs)
        computed = True
        say(f"teacher soft labels computed in {time.time() - t0:.1f} s, cached in the runs folder's {CACHE_FOLDER}/")
    barrier()  # the main process has written the entry
    if probs is None:
        probs = cache.get(key)
        if probs is None:
            raise ConfigError(f"teacher={config.teacher!r}: its soft labels were not found in the runs folder's "
                              f"{CACHE_FOLDER}/ after the main process computed them; the processes must share "
                              "the runs folder")
    flat = np.concatenate(probs)[:, columns] if probs else np.zeros((0, len(columns)), dtype=np.float32)
    log_probs = torch.from_numpy(np.log(np.maximum(flat, _FLOOR)).astype(np.float32))
    targets = TeacherTargets(log_probs, source.name, fingerprint, key, computed)
    gold = np.array([i for s in train for i in labels.encode(s.tags, s.source, s.line)], dtype=np.int64)
    agree = float((flat.argmax(axis=1) == gold).mean()) if len(gold) else 0.0
    where = "computed" if computed else "read from the cache"
    say(f"teacher {source.name}: soft labels for {len(flat)} words ({where}); its most likely tag is the gold "
        f"one for {agree:.2%} of them")
    if run_path is not None and is_main:
        (run_path / RECORD_FILE).write_text(json.dumps(targets.record(), indent=2) + "\n", encoding="utf-8")
    return targets


def tag_corpus(tagger, corpus: Corpus) -> list:
    """Each sentence's word probabilities (documents kept whole): the one place the teacher runs."""
    from ner_demo.evaluation.model_eval import corpus_probabilities

    return corpus_probabilities(tagger, corpus, cache=None)


def _check_record(path: Path, source: InitSource, fingerprint: str) -> None:
    """A resumed run must distil from the teacher it started with."""
    try:
        before = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # a new run (or a record lost): this run's is written after
    old = before.get("fingerprint") if isinstance(before, dict) else None
    if old and old != fingerprint:
        raise ConfigError(
            f"teacher={source.value!r}: {source.name} has changed since this run started (weights fingerprint "
            f"{old[:12]}… then, {fingerprint[:12]}… now); the run's soft labels came from the old one: restore it, "
            "or start a new run"
        )

"""What both engines share: setting a run up, evaluating on dev, writing ``best/``, the run lifecycle.

``run_training`` is the one entry point: it marks the run running, dispatches to an engine, and
records how it ended (finished / cancelled / failed with the error) in status.json.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, replace
from typing import Sequence

from ner_demo.data.conll import Corpus
from ner_demo.decoding import DECODINGS
from ner_demo.encoding import InputFeatures
from ner_demo.errors import ConfigError, TrainingDivergedError
from ner_demo.labels import LabelSet
from ner_demo.training.cards import run_card
from ner_demo.training.config import TrainConfig
from ner_demo.training.data_prep import TrainingData, encode, features_for, load_splits_for
from ner_demo.training.hardware import Hardware, choose
from ner_demo.training.init_from import carried_features, load_start_model, resolve_init_from
from ner_demo.training.limits import check_max_length
from ner_demo.training.preflight import small_run_warning
from ner_demo.training.runs import Run, replace_dir


class Cancelled(Exception):
    """Raised inside an engine when the run was cancelled; a checkpoint was saved first."""


@dataclass
class Setup:
    """Everything an engine needs, built the same way for both."""

    config: TrainConfig
    run: Run
    hardware: Hardware
    dist: object  # accelerate.PartialState: process index/count, barriers
    tokenizer: object
    model: object
    labels: LabelSet
    features: InputFeatures
    splits: TrainingData
    train_examples: list[dict]
    token_types: bool
    teacher: object = None  # distill.TeacherTargets of a run with a teacher (then examples carry teacher_word)

    @property
    def is_main(self) -> bool:
        return self.dist.is_main_process

    @property
    def world(self) -> int:
        return self.dist.num_processes

    @property
    def rank(self) -> int:
        return self.dist.process_index

    def barrier(self) -> None:
        if self.world > 1:
            self.dist.wait_for_everyone()

    def say(self, message: str) -> None:
        """One line on stdout (the log of a background run), from the main process only."""
        if self.is_main:
            print(message, flush=True)


def distributed_state(config: TrainConfig):
    """The process group of ``accelerate launch``/``torchrun`` (gloo on CPU), or a single process."""
    from accelerate import PartialState

    from ner_demo.training.hardware import gpu_like_available

    # accelerate forms a gloo group over CPU processes only when told the run is on the CPU.
    return PartialState(cpu=config.device == "cpu" or (config.device == "auto" and not gpu_like_available()))


def prepare(config: TrainConfig, run: Run) -> Setup:
    """Hardware, data, tokenizer and a model: a fresh head sized for the label set on ``backbone``, or the
    ``init_from`` model with its head mapped onto the label set (its features carried into the config)."""
    import torch
    from transformers import set_seed

    from ner_demo.models import (
        accepts_token_types, freeze_lower_layers, keep_encoder_layers, load_token_classifier, load_tokenizer,
        resolve_backbone,
    )

    if config.threads:
        torch.set_num_threads(config.threads)
    dist = distributed_state(config)
    hardware = choose(config.device, config.precision, dist.local_process_index)
    splits = load_splits_for(config)
    notes: list[str] = []
    if config.init_from.strip():  # a trained model: its encoder, tokenizer and features, its head mapped
        source = resolve_init_from(config.init_from, config.runs_dir)
        config, notes = carried_features(config, source)
        tokenizer = load_tokenizer(source.backbone)
        set_seed(config.seed)  # dropout and batch order, as below (new rows use their own seeded generator)
        model, mapping = load_start_model(source, splits.labels, config.seed)
        notes += mapping.describe(source.name)
        model_name = source.name
    else:
        backbone = resolve_backbone(config.backbone)
        tokenizer = load_tokenizer(backbone)
        set_seed(config.seed)  # the new head's initialisation depends on it
        model = load_token_classifier(backbone, splits.labels)
        model_name = config.backbone
    if layers := config.layer_indices():
        keep_encoder_layers(model, layers)
    if config.freeze_layers:
        notes.append(f"frozen: {', '.join(freeze_lower_layers(model, config.freeze_layers))}")
    token_types = accepts_token_types(model)
    if config.casing and not (token_types and getattr(model.config, "type_vocab_size", 0) >= 2):
        raise ConfigError(f"casing=true needs a BERT-style model with 2 token types; {model_name} has none")
    check_max_length(config, getattr(model.config, "max_position_embeddings", None),
                     model_name if config.init_from.strip() else None)
    features = features_for(config)
    distilling = bool(config.teacher.strip())
    examples = encode(tokenizer, splits.train, splits.labels, features, config, teacher_words=distilling)
    setup = Setup(config, run, hardware, dist, tokenizer, model, splits.labels, features, splits, examples, token_types)
    for line in notes:
        setup.say(line)
    if distilling:
        # deferred: only a distillation run loads the teacher and the Tagger
        from ner_demo.training.distill import teacher_targets

        setup.teacher = teacher_targets(config, splits.train, splits.labels, hardware.device, hardware.precision,
                                        run.path, setup.is_main, setup.barrier, setup.say,
                                        phase=lambda text: run.write_status(phase=text) if setup.is_main else None)
    return setup


def dev_scores(
    model,
    tokenizer,
    features: InputFeatures,
    corpus: Corpus,
    device: str,
    precision: str = "fp32",
    batch_size: int = 64,
    max_length: int | None = None,
    decodings: Sequence[str] | None = None,
):
    """Word-level dev scores through the Tagger (``corpus_probabilities``, then ``evaluate``: what
    ``evaluate_tagger`` does), exactly as the model will be used and scored after training.

    Returns the EvaluationResult of ``features.decoding``; with ``decodings``, a dict decoding ->
    EvaluationResult, all from one forward pass (decoding only reads the word probabilities).
    The Tagger puts the model in eval mode; the caller switches it back to train() if needed. No
    prediction cache: the weights change between evaluations, so an entry would never be read again.
    The corpus is tagged in one piece (``chunk``), as it always was here: the same batches, so the dev
    F1 of a run stays what earlier runs of the same recipe logged.
    """
    # Deferred: the CLI's parser imports this module (distributed_state), and evaluation loads seqeval.
    from ner_demo.evaluation.metrics import evaluate
    from ner_demo.evaluation.model_eval import corpus_probabilities
    from ner_demo.inference import Tagger

    tagger = Tagger(model, tokenizer, features, device=device, precision=precision,
                    batch_size=batch_size, max_length=max_length)
    probs = corpus_probabilities(tagger, corpus, chunk=max(1, len(corpus)), cache=None)
    gold, words = [s.tags for s in corpus], [s.words for s in corpus]
    results = {}
    for decoding in decodings or (features.decoding,):
        if decoding not in DECODINGS:
            raise ConfigError(f"decoding {decoding!r} is not one of {', '.join(DECODINGS)}")
        tagger.decoding = decoding  # the Tagger's own decoding path, as the saved model will decode
        results[decoding] = evaluate(gold, [tagger.decode_words(p).tags for p in probs], words)
    return results if decodings else results[features.decoding]


def eval_record(result, step: int, epoch: float) -> dict:
    """The metrics.jsonl / status.json form of an EvaluationResult."""
    return {
        "kind": "eval", "split": "dev", "step": step, "epoch": epoch,
        "strict_f1": result.strict.micro.f1, "conlleval_f1": result.conlleval.micro.f1,
        "token_accuracy": result.token_accuracy,
        "per_type": {t: s.__dict__ for t, s in result.strict.per_type.items()},
    }


def dev_evaluation(setup: Setup, model, step: int, epoch: float, averaged: int = 0, progress=None) -> dict:
    """Evaluate on dev, log it, and return the record (every process computes it: same weights).

    ``averaged``: how many weight snapshots the model's (averaged) weights are the mean of; 0 for plain weights.
    ``progress``: the run's :class:`callbacks.Progress`, told the phase and, after, the evaluation's time.
    """
    phase = f"evaluating on dev ({len(setup.splits.dev)} sentences)"
    if progress is not None:
        progress.phase(phase, step)  # dev evaluation takes a while on a CPU (BENCHMARKS.md, Training): say so
    elif setup.is_main:
        setup.run.write_status(phase=phase)
    t0 = time.time()
    # "auto": every decoding is scored from the same pass and the best one is the record's (and best/'s)
    decodings = DECODINGS if setup.config.decoding == "auto" else (setup.config.decoding,)
    results = dev_scores(
        model,
        setup.tokenizer,
        setup.features,
        setup.splits.dev,
        setup.hardware.device,
        setup.hardware.precision,
        setup.config.eval_batch_size,
        setup.config.max_length,
        decodings=decodings,
    )
    decoding = max(decodings, key=lambda d: results[d].strict.micro.f1)  # ties: the first, argmax (as ship)
    record = eval_record(results[decoding], step, epoch)
    record["decoding"] = decoding
    record["strict_f1_by_decoding"] = {d: r.strict.micro.f1 for d, r in results.items()}
    record["seconds"] = round(time.time() - t0, 2)
    if progress is not None:
        progress.note_eval(time.time() - t0)
    if averaged:
        record["averaged_weights"] = averaged
    if setup.is_main:
        setup.run.log_metrics(record)
        setup.run.write_status(dev=_headline(record))
        setup.say(
            f"dev @ step {step} (epoch {epoch:g}): strict F1 {record['strict_f1']:.4f}, "
            f"conlleval F1 {record['conlleval_f1']:.4f}, token accuracy {record['token_accuracy']:.4f}, "
            f"{decoding} decoding"
            + (f" (mean of {averaged} weight snapshots)" if averaged else "")
        )
    return record


def dev_tokens_estimate(setup: Setup) -> int:
    """About how many subword tokens one dev evaluation reads: dev sentences times the mean train window
    (windows are built the same way, document context included), for the ETA before the first evaluation."""
    examples = setup.train_examples
    if not examples:
        return 0
    mean = sum(len(e["input_ids"]) for e in examples) / len(examples)
    return int(len(setup.splits.dev) * mean)


def announce_plan(setup: Setup, steps_per_epoch: int, total_steps: int) -> None:
    """Say how much training the run does, and warn (log and status.json) when that is too little to
    learn from (``preflight.small_run_warning``); a resumed run's old warning is replaced."""
    examples = len(setup.train_examples)
    setup.say(f"{examples} train windows, {steps_per_epoch} steps/epoch, {total_steps} steps")
    warning = small_run_warning(setup.config, examples, "train window", (steps_per_epoch, total_steps))
    if warning:
        setup.say(f"warning: {warning}")
    if setup.is_main:
        setup.run.write_status(warning=warning)


def _headline(record: dict) -> dict:
    return {k: record[k] for k in ("step", "epoch", "strict_f1", "conlleval_f1", "token_accuracy", "decoding")
            if k in record}


def save_best(setup: Setup, model, record: dict) -> None:
    """Write ``best/`` (HF folder + ner_demo.json + README.md card) next to it, then swap it in."""
    if not setup.is_main:
        return
    from ner_demo.models import save_model

    setup.run.write_status(phase="saving the best model")
    tmp = setup.run.path / ".best.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    extra = {"trained_with": "ner_demo", "run_id": setup.run.id, "dev": _headline(record)}
    if setup.teacher is not None:  # where the soft labels came from
        extra["distilled_from"] = setup.teacher.record()
    # The decoding this evaluation scored with (chosen on dev under decoding="auto"): the Tagger's default.
    features = replace(setup.features, decoding=record.get("decoding", setup.features.decoding))
    try:
        save_model(model, setup.tokenizer, tmp, features, extra)
        card = run_card(setup.config, setup.splits.summary(), record, setup.hardware.description)
        (tmp / "README.md").write_text(card, encoding="utf-8")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # on a full disk, free what the half-written copy took
        raise
    replace_dir(tmp, setup.run.best_dir)
    setup.run.write_status(best=_headline(record))


def check_finite_loss(loss, step: int, epoch: float, any_process=bool) -> None:
    """Stop the run at the first nan/inf training loss, before the optimizer takes the step.

    Policy: fail, don't skip. One step with non-finite gradients turns every weight into nan; training
    on would finish "successfully" with a useless model and checkpoints that carry the nan on. Failing
    here leaves the weights, ``best/`` and the last checkpoint as they were. (fp16 overflow is another
    matter: the GradScaler skips steps whose scaled *gradients* overflow.) The check reads one number
    per step (a device sync on a GPU). ``any_process`` makes every process of a DDP run agree, so all
    of them stop at the same step.
    """
    import torch

    bad = not bool(torch.isfinite(loss.detach()).all())
    if any_process(bad):
        value = f"{loss.item()}" if bad else "non-finite on another process"
        raise TrainingDivergedError(
            f"the training loss is {value} at step {step} (epoch {epoch:.2f}); the run stopped before that "
            "step changed the weights. Lower learning_rate, use precision=fp32, or check the data; `resume` "
            "continues from the last checkpoint"
        )


def total_steps_for(config: TrainConfig, steps_per_epoch: int) -> tuple[int, int]:
    """(total optimizer steps, epochs to run): ``max_steps`` wins over ``epochs``."""
    if steps_per_epoch < 1:
        raise ConfigError("the train split gives no full batch; add data or lower batch_size")
    if config.max_steps:
        return config.max_steps, -(-config.max_steps // steps_per_epoch)
    return config.epochs * steps_per_epoch, config.epochs

"""The HF Trainer engine: the same config, data, evaluation and run folder as the custom loop.

What we add around ``transformers.Trainer``:
- ``evaluate`` is our word-level dev evaluation (Tagger + seqeval strict IOB2), so both engines report
  the same numbers; it also writes ``best/`` when dev strict F1 improves;
- a callback writes metrics.jsonl/status.json, honours the CANCEL flag, asks for mid-epoch saves every
  ``checkpoint_every`` steps and marks each HF checkpoint complete after HF has written it, so resume
  never picks a half-written ``checkpoint-N`` folder;
- real-token counting for tokens/s (attention-mask ones, padding excluded).
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Sequence

import torch
from transformers import EarlyStoppingCallback, PrinterCallback, Trainer, TrainerCallback, TrainingArguments

from ner_demo.training.callbacks import CrashAt, Progress, crash_from_env
from ner_demo.training.checkpoints import MARKER, CheckpointError, load_newest_verified, mark_complete
from ner_demo.training.common import (
    Cancelled,
    Setup,
    announce_plan,
    check_finite_loss,
    dev_evaluation,
    dev_tokens_estimate,
    prepare,
    save_best,
    total_steps_for,
)
from ner_demo.training.config import TrainConfig
from ner_demo.training.data_prep import Collator, EpochSampler, epoch_batches
from ner_demo.training.loss import class_weights, distillation_loss, labelled_tokens_per_batch, token_loss
from ner_demo.training.runs import Run

HF_PREFIX = "checkpoint-"  # the Trainer's checkpoint folder names


def train_with_trainer(run: Run, config: TrainConfig, resume: bool = False, callbacks: Sequence = ()) -> dict:
    setup = prepare(config, run)
    if config.freeze_encoder:  # the Trainer still runs the encoder every step; the custom engine caches it
        for p in setup.model.base_model.parameters():
            p.requires_grad_(False)
    output_dir = run.path / "trainer"
    hooks = RunCallback(setup, [cb for cb in [*crash_from_env(), *callbacks] if isinstance(cb, CrashAt)])
    trainer = NerTrainer(
        setup=setup,
        model=setup.model,
        args=training_arguments(setup, str(output_dir)),
        train_dataset=setup.train_examples,
        eval_dataset=setup.splits.dev.sentences,  # only so the Trainer accepts eval_strategy; evaluate() is ours
        data_collator=Collator(setup.tokenizer.pad_token_id or 0, setup.token_types),
        processing_class=setup.tokenizer,
        callbacks=[hooks]
        + ([EarlyStoppingCallback(config.early_stopping_patience)] if config.early_stopping_patience else []),
    )
    hooks.trainer = trainer
    trainer.remove_callback(PrinterCallback)  # RunCallback prints one line per log step already
    checkpoint = None
    if resume:  # the newest checkpoint that verifies (sha256) and whose JSON parts parse; the Trainer loads it
        checkpoint, _, skipped, note = load_newest_verified(output_dir, _parse_json_parts, HF_PREFIX, setup.say,
                                                            set_aside=setup.is_main)
        if setup.is_main:
            run.write_status(skipped_checkpoints=skipped, resumed_from=checkpoint.name if checkpoint else None)
        if checkpoint is not None:
            checked = " (an older checkpoint: checked by size only, no sha256)" if note == "sizes only" else ""
            setup.say(f"resuming from {checkpoint.name}{checked}")
        else:
            setup.say(("no checkpoint verifies" if skipped else "no complete checkpoint yet")
                      + ": starting from the beginning")
    if setup.is_main:
        run.truncate_metrics(_step_of(checkpoint))
    setup.say(f"{setup.hardware.description}; {setup.world} process(es); HF Trainer")
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    if hooks.cancelled:
        raise Cancelled()
    state = trainer.state
    stopped = "completed" if state.global_step >= state.max_steps else "early_stopping"
    return {"step": state.global_step, "total_steps": state.max_steps, "epoch": state.epoch, "stopped": stopped}


def _parse_json_parts(folder: Path) -> None:
    """The Trainer would die on a garbled JSON part (trainer_state.json...) with a raw JSONDecodeError."""
    import json

    for part in sorted(folder.glob("*.json")):
        try:
            json.loads(part.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"checkpoint {folder.name}: {part.name} cannot be read ({exc})") from None


def _step_of(checkpoint) -> int:
    return int(checkpoint.name[len(HF_PREFIX) :]) if checkpoint else 0


def _steps_per_epoch(setup: Setup) -> int:
    cfg = setup.config
    return len(epoch_batches([1] * len(setup.train_examples), cfg.batch_size, cfg.seed, 0, False, 0, setup.world))


def training_arguments(setup: Setup, output_dir: str) -> TrainingArguments:
    cfg, hw = setup.config, setup.hardware
    total_steps, _ = total_steps_for(cfg, _steps_per_epoch(setup))
    return TrainingArguments(
        output_dir=output_dir,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.eval_batch_size,
        learning_rate=cfg.learning_rate,
        weight_decay=cfg.weight_decay,
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps or -1,
        warmup_steps=cfg.warmup_ratio,  # a float in [0, 1) is a ratio of the total steps in transformers 5
        lr_scheduler_type="linear",
        max_grad_norm=cfg.grad_clip,
        optim="adamw_torch_fused",  # the custom loop's optimizer (and the Trainer's default on torch >= 2.8)
        seed=cfg.seed,
        bf16=hw.precision == "bf16",
        fp16=hw.precision == "fp16",
        use_cpu=hw.device_type == "cpu",
        eval_strategy="epoch",
        save_strategy="epoch",
        load_best_model_at_end=True,
        metric_for_best_model="strict_f1",
        greater_is_better=True,
        save_total_limit=cfg.keep_checkpoints,
        logging_strategy="steps",
        logging_steps=cfg.log_every_for(total_steps),
        report_to="none",
        train_sampling_strategy="group_by_length" if cfg.group_by_length else "random",
        disable_tqdm=True,
        dataloader_num_workers=0,
        remove_unused_columns=False,
        # Plain DDP semantics, as in the custom loop: each process averages its own tokens' loss. (With
        # True, the Trainer scales the loss by the process count and logs it that way too.)
        average_tokens_across_devices=False,
        ddp_find_unused_parameters=False,
    )


class NerTrainer(Trainer):
    """Trainer whose evaluate() is our word-level dev evaluation; counts real tokens; optional class weights."""

    def __init__(self, *args, setup: Setup, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup = setup
        self.tokens_window = 0
        self.progress: Progress | None = None  # set by RunCallback at train begin
        self.loss_weights = None
        self.loss_normalizer = labelled_tokens_per_batch(setup.train_examples, setup.config.batch_size)
        if setup.config.class_weighted_loss:
            self.loss_weights = class_weights(setup.train_examples, len(setup.labels)).to(self.args.device)
        # a distillation run: the teacher's (N_words, C) log-probabilities, read at each batch's teacher_word
        self.teacher_table = setup.teacher.log_probs.to(self.args.device) if setup.teacher is not None else None

    def _get_train_sampler(self, train_dataset=None):
        cfg = self.setup.config
        lengths = [len(e["input_ids"]) for e in self.setup.train_examples]
        return EpochSampler(lengths, cfg.batch_size, cfg.seed, cfg.group_by_length)

    def training_step(self, model, inputs, num_items_in_batch=None):
        self.tokens_window += int(inputs["attention_mask"].sum())  # real tokens, padding excluded
        loss = super().training_step(model, inputs, num_items_in_batch)
        # Before the optimizer step (the Trainer takes it after this returns): a nan stops the run here.
        # The Trainer itself only leaves nan out of the logged loss (logging_nan_inf_filter) and steps on.
        state = self.state
        epoch = state.epoch if state.epoch is not None else 0.0
        check_finite_loss(loss, state.global_step + 1, epoch, self._any_process)
        return loss

    def _any_process(self, flag: bool) -> bool:
        if self.setup.world == 1:
            return flag
        import torch.distributed as dist

        t = torch.tensor([float(flag)], device=self.args.device)
        dist.all_reduce(t)
        return t.item() > 0

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        cfg = self.setup.config
        if self.loss_weights is None and cfg.loss_reduction == "batch-mean" and self.teacher_table is None:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        inputs = dict(inputs)
        labels = inputs.pop("labels")
        teacher_word = inputs.pop("teacher_word", None)  # (B, T) with a teacher: not a model input
        outputs = model(**inputs)
        if self.teacher_table is None:
            loss = token_loss(outputs.logits, labels, self.loss_weights, cfg.loss_reduction, self.loss_normalizer)
        else:
            teacher = self.teacher_table[teacher_word.clamp(min=0)]  # (B, T, C); -1 rows are masked out
            loss = distillation_loss(outputs.logits, labels, teacher, teacher_word >= 0, self.loss_weights,
                                     cfg.loss_reduction, self.loss_normalizer, cfg.distill_weight,
                                     cfg.distill_temperature)
        return (loss, outputs) if return_outputs else loss

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix="eval"):
        s = self.setup
        step, epoch = self.state.global_step, round(self.state.epoch or 0.0, 4)
        with self.progress.paused() if self.progress else contextlib.nullcontext():
            record = dev_evaluation(s, self.model, step, epoch, progress=self.progress) if s.is_main else None
            if s.world > 1:
                from accelerate.utils import broadcast_object_list

                record = broadcast_object_list([record])[0]
            self.model.train()
            best = self.state.best_metric  # the Trainer updates it after evaluate() returns
            if best is None or record["strict_f1"] > best:
                save_best(s, self.model, record)
        metrics = {f"{metric_key_prefix}_{k}": record[k] for k in ("strict_f1", "conlleval_f1", "token_accuracy")}
        self.log(metrics)
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics)
        return metrics


class RunCallback(TrainerCallback):
    """metrics/status, cancel, mid-epoch saves, completion markers and simulated crashes."""

    def __init__(self, setup: Setup, crashes: list[CrashAt]):
        self.setup = setup
        self.crashes = crashes
        self.trainer = None
        self.progress: Progress | None = None
        self.cancelled = False
        self._save_t0: float | None = None  # checkpoint writes are not training time (tokens/s)

    def _any_process(self, flag: bool) -> bool:
        if self.setup.world == 1:
            return flag
        import torch.distributed as dist

        t = torch.tensor([float(flag)])
        dist.all_reduce(t)
        return t.item() > 0

    def on_train_begin(self, args, state, control, **kwargs):
        steps_per_epoch = _steps_per_epoch(self.setup)
        announce_plan(self.setup, steps_per_epoch, state.max_steps)
        self.progress = Progress(
            self.setup.run, state.max_steps, steps_per_epoch, state.global_step, self.setup.is_main,
            dev_tokens_estimate(self.setup), self.setup.config.checkpoint_every,
        )
        self.trainer.progress = self.progress
        self.progress.status(state.global_step, args.learning_rate)

    def on_step_begin(self, args, state, control, **kwargs):
        for crash in self.crashes:  # "after step K" = before step K+1, once step K's save is done
            crash.check(state.global_step)

    def on_step_end(self, args, state, control, **kwargs):
        every = self.setup.config.checkpoint_every
        epoch_end = abs(state.epoch - round(state.epoch)) < 1e-9  # the epoch-end save follows the evaluation
        if every and state.global_step % every == 0 and not epoch_end:
            control.should_save = True
        if self._any_process(self.setup.run.cancel_requested()):
            self.cancelled = True
            control.should_save = True
            control.should_training_stop = True
        elif self.progress.status_due():
            self.progress.status(state.global_step, self.trainer.lr_scheduler.get_last_lr()[0])
        self._unmark_before_rewrite(args, state, control)
        return control

    def on_epoch_end(self, args, state, control, **kwargs):
        if self.cancelled:  # saved at the cancel step already; no evaluation on the way out
            control.should_evaluate = False
            control.should_save = False
        self._unmark_before_rewrite(args, state, control)
        return control

    def on_evaluate(self, args, state, control, **kwargs):
        if self._save_t0 is not None:  # the evaluation was paused on its own; the save starts now
            self._save_t0 = time.time()

    def _unmark_before_rewrite(self, args, state, control) -> None:
        """The Trainer rewrites ``checkpoint-N`` in place when it saves step N twice (max_steps ending
        on a periodic save): drop our marker first, so the folder is never complete mid-rewrite."""
        if control.should_save:
            self._save_t0 = time.time()
            if self.progress is not None:
                self.progress.phase("saving a checkpoint")
            if self.setup.is_main:
                (self._folder(args, state) / MARKER).unlink(missing_ok=True)

    @staticmethod
    def _folder(args, state) -> Path:
        return Path(args.output_dir) / f"{HF_PREFIX}{state.global_step}"

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs and self.progress is not None:
            tokens = self.trainer.tokens_window * self.setup.world  # other processes: same batch sizes
            self.progress.tokens_total += self.trainer.tokens_window  # this process's, as the custom loop counts
            record = self.progress.report(state.global_step, logs.get("learning_rate", 0.0), logs["loss"], tokens)
            self.trainer.tokens_window = 0
            self.setup.say(
                f"step {state.global_step}/{state.max_steps}  loss {record['loss']:.4f}  "
                f"lr {record['lr']:.2e}  {record['tokens_per_s']:.0f} tokens/s"
            )

    def on_save(self, args, state, control, **kwargs):
        if self._save_t0 is not None and self.progress is not None:
            seconds = time.time() - self._save_t0
            self.progress.pause_for(seconds)
            self.progress.note_checkpoint(seconds)
            self._save_t0 = None
        self.setup.barrier()  # every process has written its RNG state file
        if self.setup.is_main:
            mark_complete(self._folder(args, state), state.global_step)
        return control

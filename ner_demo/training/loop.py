"""The custom engine: one explicit training loop, nanoGPT style.

Per step: pad a length-grouped batch to its own longest window (dynamic padding), forward under
autocast, cross-entropy in fp32, backward, clip, AdamW step, linear warm-up/decay schedule. Per
epoch: dev evaluation through the Tagger (word level, strict IOB2 F1), ``best/`` on improvement,
early stopping, a checkpoint. Progress, periodic checkpoints and cancellation are callbacks.

Several processes run DDP: each takes every N-th batch, gradients are averaged, and process 0 evaluates
and writes the run folder. Launch with ``accelerate launch --multi_gpu --num_processes N -m ner_demo train
...`` (GPUs, or CPU processes over gloo when no GPU is visible: accelerate's ``--cpu`` launcher needs MPI
for more than one process) or ``torchrun --nproc_per_node N -m ner_demo train ...``.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from typing import Sequence

from ner_demo.errors import ConfigError
from ner_demo.training.averaging import WeightAverage
from ner_demo.training.callbacks import (
    CancelCallback,
    CheckpointCallback,
    Progress,
    ProgressCallback,
    crash_from_env,
)
from ner_demo.training.checkpoints import TrainState, load_checkpoint, load_newest_verified, prune, save_checkpoint
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
from ner_demo.training.data_prep import collate, epoch_batches
from ner_demo.training.loss import class_weights, distillation_loss, labelled_tokens_per_batch, token_loss
from ner_demo.training.runs import Run


def train_custom(run: Run, config: TrainConfig, resume: bool = False, callbacks: Sequence = ()) -> dict:
    return CustomLoop(prepare(config, run), callbacks).train(resume)


def param_groups(model, weight_decay: float, head=None, head_lr: float | None = None) -> list[dict]:
    """Decay matrices only: biases and LayerNorm weights (1-D) are not regularised (as in nanoGPT).

    With ``head_lr``, the parameters of ``head`` (the classifier) get their own groups at that learning
    rate; the scheduler scales every group's rate alike, so the ratio holds over the whole run. Frozen
    parameters (``requires_grad`` off) are in no group.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    head_ids = {id(p) for p in head.parameters()} if head is not None and head_lr is not None else set()

    def split(part: list, extra: dict) -> list[dict]:
        return [{"params": [p for p in part if p.dim() >= 2], "weight_decay": weight_decay, **extra},
                {"params": [p for p in part if p.dim() < 2], "weight_decay": 0.0, **extra}]

    if not head_ids:
        return split(params, {})
    groups = split([p for p in params if id(p) not in head_ids], {}) + \
        split([p for p in params if id(p) in head_ids], {"lr": head_lr})
    return [g for g in groups if g["params"]]  # the frozen engine trains the head alone: no empty groups


class CustomLoop:
    periodic_checkpoints = True  # the frozen loop turns these off: its epochs take seconds

    def __init__(self, setup: Setup, callbacks: Sequence = ()):
        import torch
        from transformers import get_linear_schedule_with_warmup

        self.setup = setup
        cfg = self.config = setup.config
        self.device = setup.hardware.device
        self.model = setup.model.to(self.device)
        # (N_words, C) teacher log-probabilities, gathered per batch at the examples' teacher_word indices
        self.teacher_table = setup.teacher.log_probs.to(self.device) if setup.teacher is not None else None
        self.prepare_data()
        self.steps_per_epoch = len(self.batches_for_epoch(0))
        self.total_steps, self.epochs = total_steps_for(cfg, self.steps_per_epoch)
        head = getattr(self.model, "classifier", None)
        if cfg.head_learning_rate is not None and head is None:
            raise ConfigError(f"head_learning_rate={cfg.head_learning_rate}: {type(self.model).__name__} has no "
                              "`classifier` head to give it to; leave head_learning_rate empty")
        groups = param_groups(self.trainable_module(), cfg.weight_decay, head, cfg.head_learning_rate)
        # The fused kernel: on a CPU, several times faster than the default for-each AdamW and a large share
        # of the step time (BENCHMARKS.md, "Engine throughput").
        fused = setup.hardware.device_type in ("cpu", "cuda")
        self.optimizer = torch.optim.AdamW(groups, lr=cfg.learning_rate, fused=fused or None)
        warmup = int(cfg.warmup_ratio * self.total_steps)
        self.scheduler = get_linear_schedule_with_warmup(self.optimizer, warmup, self.total_steps)
        # fp16 needs loss scaling (its range is narrow); bf16 has fp32's range and does not.
        self.scaler = torch.amp.GradScaler("cuda") if setup.hardware.precision == "fp16" else None
        self.loss_weights = None
        if cfg.class_weighted_loss:
            self.loss_weights = class_weights(setup.train_examples, len(setup.labels)).to(self.device)
        self.loss_normalizer = labelled_tokens_per_batch(setup.train_examples, cfg.batch_size)
        trainable = [p for g in self.optimizer.param_groups for p in g["params"]]
        self.average = WeightAverage.for_run(trainable, cfg.average_from, cfg.average_every, self.total_steps)
        self.state = TrainState()
        self.stop_reason: str | None = None
        self.progress: Progress | None = None  # made in train(): its clock starts with the first step
        self.last_loss = None  # the last step's loss tensor (B-averaged)
        self.last_tokens = 0
        self.callbacks = list(callbacks)

    # --- data: overridden by the frozen loop ---------------------------------------------------

    def prepare_data(self) -> None:
        self.lengths = [len(e["input_ids"]) for e in self.setup.train_examples]

    def batches_for_epoch(self, epoch: int) -> list[list[int]]:
        cfg, s = self.config, self.setup
        return epoch_batches(self.lengths, cfg.batch_size, cfg.seed, epoch, cfg.group_by_length, s.rank, s.world)

    def trainable_module(self):
        return self.model

    def compute_loss(self, net, indices: list[int]):
        """(loss, real tokens) of one batch; ``net`` is the model, or its DDP wrapper."""
        import torch

        s = self.setup
        batch = collate([s.train_examples[i] for i in indices], s.tokenizer.pad_token_id or 0, s.token_types)
        tokens = int(batch["attention_mask"].sum())  # counted on the CPU: no device sync per step
        batch = {k: v.to(self.device) for k, v in batch.items()}
        labels = batch.pop("labels")  # (B, T); the loss is ours, so class weights work with any model
        teacher_word = batch.pop("teacher_word", None)  # (B, T) with a teacher
        dtype = s.hardware.autocast_dtype
        with torch.autocast(s.hardware.device_type, dtype=dtype or torch.float32, enabled=dtype is not None):
            logits = net(**batch).logits  # (B, T, C)
        return self.loss(logits, labels, teacher_word), tokens

    def loss(self, logits, labels, teacher_word=None):
        """Cross-entropy on the gold labels; with a teacher, beside the KL term at ``teacher_word``'s words."""
        cfg = self.config
        if self.teacher_table is None:
            return token_loss(logits, labels, self.loss_weights, cfg.loss_reduction, self.loss_normalizer)
        teacher = self.teacher_table[teacher_word.clamp(min=0)]  # (B, T, C); rows of -1 are masked out
        return distillation_loss(logits, labels, teacher, teacher_word >= 0, self.loss_weights, cfg.loss_reduction,
                                 self.loss_normalizer, cfg.distill_weight, cfg.distill_temperature)

    # --- collective helpers (no-ops in one process) ----------------------------------------------

    def reduce_sum(self, values: list[float]) -> list[float]:
        if self.setup.world == 1:
            return values
        import torch
        import torch.distributed as dist

        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return t.tolist()

    def any_process(self, flag: bool) -> bool:
        """True on every process if it is true on any: all ranks must stop at the same step."""
        return self.reduce_sum([float(flag)])[0] > 0

    def broadcast(self, obj):
        if self.setup.world == 1:
            return obj
        from accelerate.utils import broadcast_object_list

        return broadcast_object_list([obj])[0]

    # --- pieces callbacks use ----------------------------------------------------------------

    @property
    def lr(self) -> float:
        return self.scheduler.get_last_lr()[0]

    @property
    def at_epoch_end(self) -> bool:
        return self.state.batch_in_epoch >= self.steps_per_epoch

    def request_stop(self, reason: str) -> None:
        self.stop_reason = reason

    def save_checkpoint(self) -> None:
        s = self.setup
        average = self.average.tensors() if self.average else None
        self.state.averaged = self.average.count if self.average else 0
        self.progress.phase("saving a checkpoint")
        t0 = time.time()
        with self.progress.paused():
            save_checkpoint(s.run.checkpoints_dir, self.state, self.model, self.optimizer, self.scheduler,
                            self.scaler, self.config.to_dict(), s.rank, s.barrier, average)
            if s.is_main:
                prune(s.run.checkpoints_dir, self.config.keep_checkpoints)
        self.progress.note_checkpoint(time.time() - t0)

    # --- the loop --------------------------------------------------------------------------

    def resume(self) -> None:
        """Continue from the newest checkpoint that verifies (sha256) and loads; newer ones that do not are
        skipped, and the log and status.json say which and why."""
        s = self.setup

        def load(folder):
            state = load_checkpoint(folder, self.model, self.optimizer, self.scheduler, self.scaler, s.rank,
                                    verified=True)  # load_newest_verified has just checked its sha256
            if self.average:
                self.average.load(folder, state.averaged)
            return state

        found, state, skipped, note = load_newest_verified(s.run.checkpoints_dir, load, say=s.say, set_aside=s.is_main)
        if s.is_main:
            s.run.write_status(skipped_checkpoints=skipped, resumed_from=found.name if found else None)
        if found is None:
            s.say(("no checkpoint verifies" if skipped else "no complete checkpoint yet")
                  + ": starting from the beginning")
            return
        self.state = state
        checked = "" if note == "sha256" else " (an older checkpoint: its files were checked by size only, no sha256)"
        s.say(f"resumed from {found.name}: step {self.state.step}, epoch {self.state.epoch}{checked}")

    def train(self, resume: bool = False) -> dict:
        import torch

        s, cfg = self.setup, self.config
        if resume:
            self.resume()
        if s.is_main:
            s.run.truncate_metrics(self.state.step)
        s.say(f"{s.hardware.description}; {s.world} process(es)")
        announce_plan(s, self.steps_per_epoch, self.total_steps)
        net = self.model
        if s.world > 1:
            ids = [torch.device(self.device).index] if s.hardware.device_type == "cuda" else None
            net = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        progress = self.progress = Progress(s.run, self.total_steps, self.steps_per_epoch, self.state.step, s.is_main,
                                            dev_tokens_estimate(s),
                                            cfg.checkpoint_every if self.periodic_checkpoints else 0)
        callbacks = [ProgressCallback(progress, cfg.log_every_for(self.total_steps))]
        if self.periodic_checkpoints:
            callbacks.append(CheckpointCallback(cfg.checkpoint_every))
        callbacks += [CancelCallback(), *crash_from_env(), *self.callbacks]
        for cb in callbacks:
            cb.on_train_begin(self)
        progress.status(self.state.step, self.lr)

        self.model.train()
        while self.state.step < self.total_steps and self.state.epoch < self.epochs:
            batches = self.batches_for_epoch(self.state.epoch)
            for indices in batches[self.state.batch_in_epoch :]:
                loss, tokens = self.compute_loss(net, indices)
                st = self.state
                check_finite_loss(loss, st.step + 1, st.epoch + (st.batch_in_epoch + 1) / self.steps_per_epoch,
                                  self.any_process)
                self.backward_and_step(loss)
                self.state.step += 1
                if self.average:
                    self.average.update(self.state.step)
                self.state.batch_in_epoch += 1
                self.state.tokens_seen += tokens * s.world  # approximate across processes; exact in one
                self.last_loss, self.last_tokens = loss.detach(), tokens  # .item() only when logging
                for cb in callbacks:
                    cb.on_step_end(self)
                if self.stop_reason == "cancelled":
                    self.save_checkpoint()
                    raise Cancelled()
                if self.state.step >= self.total_steps:
                    break
            if self.at_epoch_end:
                self.state.epoch += 1
                self.state.batch_in_epoch = 0
            if self.end_of_epoch(callbacks):
                break
        if self.state.last_eval_step != self.state.step:  # a resumed run that had already finished
            self.end_of_epoch(callbacks)
        return {"step": self.state.step, "total_steps": self.total_steps, "epoch": self.state.epoch,
                "stopped": self.stop_reason or "completed"}

    def backward_and_step(self, loss) -> None:
        import torch

        params = [p for g in self.optimizer.param_groups for p in g["params"]]
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)  # clip the true gradients, not the scaled ones
        else:
            loss.backward()
        if self.config.grad_clip:
            torch.nn.utils.clip_grad_norm_(params, self.config.grad_clip)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)

    def end_of_epoch(self, callbacks) -> bool:
        """Evaluate, keep the best model, checkpoint; True when early stopping says stop.

        With weight averaging under way, the averaged weights are the ones evaluated and saved.
        """
        s, st = self.setup, self.state
        epoch = st.epoch + st.batch_in_epoch / self.steps_per_epoch
        with self.progress.paused(), (self.average.swapped_in() if self.average else nullcontext()):
            averaged = self.average.count if self.average else 0
            record = (dev_evaluation(s, self.model, st.step, round(epoch, 4), averaged, self.progress)
                      if s.is_main else None)
            record = self.broadcast(record)  # one evaluation, one decision for every process
            st.last_eval_step = st.step
            if record["strict_f1"] > st.best_f1:
                st.best_f1, st.best_step, st.best_epoch, st.bad_epochs = record["strict_f1"], st.step, st.epoch, 0
                save_best(s, self.model, record)
            else:
                st.bad_epochs += 1
        self.model.train()  # the Tagger left it in eval mode
        for cb in callbacks:
            cb.on_epoch_end(self, record)
        patience = self.config.early_stopping_patience
        if patience and st.bad_epochs >= patience:
            self.stop_reason = "early_stopping"
            s.say(f"early stopping: no better dev strict F1 for {patience} evaluation(s)")
        self.save_checkpoint()
        return self.stop_reason == "early_stopping"

"""Frozen-encoder mode (the seed-000 recipe): train only the classification head.

The encoder never changes, so its output for every labelled train position is computed once (in eval
mode, length-sorted batches) and cached in the run folder; each step then only runs the head's
dropout + linear layer on cached vectors, and an epoch over CoNLL-2003 takes seconds. Steps, batches,
checkpoints, dev evaluation (through the full model and the Tagger, so entity F1 is reported, not only
token accuracy) are those of the custom loop.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from ner_demo.errors import ConfigError
from ner_demo.labels import IGNORE_INDEX
from ner_demo.training.common import Setup, prepare
from ner_demo.training.config import TrainConfig
from ner_demo.training.data_prep import collate, epoch_batches
from ner_demo.training.loop import CustomLoop
from ner_demo.training.loss import distillation_loss
from ner_demo.training.runs import Run

CACHE_FILE = "cache/frozen-encoder.safetensors"


def train_frozen(run: Run, config: TrainConfig, resume: bool = False, callbacks: Sequence = ()) -> dict:
    setup = prepare(config, run)
    if setup.world > 1:
        raise ConfigError(
            "freeze_encoder=true trains in one process (its epochs take seconds); launch without accelerate"
        )
    if not hasattr(setup.model, "classifier"):
        raise ConfigError(
            f"freeze_encoder=true needs a model with a `classifier` head; {type(setup.model).__name__} has none"
        )
    return FrozenLoop(setup, callbacks).train(resume)


def encode_once(setup: Setup, device: str, batch_size: int = 64):
    """Encoder outputs at labelled positions: ``x`` (N, H) float32, ``y`` (N,), per-example row
    ``offsets`` (E+1,) and real-token counts ``tokens`` (E,), all on the CPU."""
    import torch

    model, examples = setup.model, setup.train_examples
    encoder = model.base_model.eval()
    dtype = setup.hardware.autocast_dtype
    order = sorted(range(len(examples)), key=lambda i: len(examples[i]["input_ids"]))
    per_example: list = [None] * len(examples)
    with torch.inference_mode():
        for b in range(0, len(order), batch_size):
            idx = order[b : b + batch_size]
            batch = collate([examples[i] for i in idx], setup.tokenizer.pad_token_id or 0, setup.token_types)
            labels = batch.pop("labels")
            batch.pop("teacher_word", None)  # a distillation run's: read by the loss, not by the encoder
            batch = {k: v.to(device) for k, v in batch.items()}
            with torch.autocast(setup.hardware.device_type, dtype=dtype or torch.float32, enabled=dtype is not None):
                hidden = encoder(**batch).last_hidden_state  # (B, T, H)
            hidden = hidden.float().cpu()
            for row, i in enumerate(idx):
                keep = labels[row] != IGNORE_INDEX
                per_example[i] = (hidden[row][keep], labels[row][keep])
    x = torch.cat([h for h, _ in per_example])
    y = torch.cat([lab for _, lab in per_example])
    sizes = torch.tensor([len(lab) for _, lab in per_example])
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), sizes.cumsum(0)])
    tokens = torch.tensor([len(e["input_ids"]) for e in examples])
    return {"x": x.contiguous(), "y": y, "offsets": offsets, "tokens": tokens}


def cached_encoding(setup: Setup, device: str) -> dict:
    """The encoder outputs, from the run's cache when present (a resume does not recompute them)."""
    from safetensors.torch import load_file, save_file

    path = setup.run.path / CACHE_FILE
    if path.is_file():
        return load_file(str(path))
    setup.say(f"computing encoder outputs for {len(setup.train_examples)} windows (once)")
    data = encode_once(setup, device)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(str(path) + ".tmp")
    save_file(data, str(tmp))
    os.replace(tmp, path)  # a crash mid-write must not leave a truncated cache behind
    return data


class FrozenLoop(CustomLoop):
    periodic_checkpoints = False

    def prepare_data(self) -> None:
        import torch

        data = cached_encoding(self.setup, self.device)
        self.x = data["x"].to(self.device)  # (N, H)
        self.y = data["y"].to(self.device)  # (N,)
        self.offsets = data["offsets"].tolist()
        self.tokens = data["tokens"].tolist()
        self.lengths = self.tokens
        self.dropout = getattr(self.model, "dropout", torch.nn.Identity())
        if self.teacher_table is not None:  # per cached row (a labelled position), its teacher word or -1
            self.teacher_rows = torch.tensor([w for e in self.setup.train_examples
                                              for w, lab in zip(e["teacher_word"], e["labels"]) if lab != IGNORE_INDEX],
                                             dtype=torch.long, device=self.device)  # (N,), the order of x's rows
        for p in self.model.base_model.parameters():
            p.requires_grad_(False)

    def batches_for_epoch(self, epoch: int) -> list[list[int]]:
        # Every cached vector costs the same, so length grouping would buy nothing.
        cfg = self.config
        return epoch_batches(self.lengths, cfg.batch_size, cfg.seed, epoch, group_by_length=False)

    def trainable_module(self):
        return self.model.classifier

    def compute_loss(self, net, indices: list[int]):
        import torch
        import torch.nn.functional as F

        rows = torch.cat([torch.arange(self.offsets[i], self.offsets[i + 1]) for i in indices]).to(self.device)
        logits = self.model.classifier(self.dropout(self.x[rows]))  # (N_batch, C)
        if self.teacher_table is None:
            loss = F.cross_entropy(logits, self.y[rows], weight=self.loss_weights)
        else:  # the mean over the batch's positions, as the plain frozen loss
            words = self.teacher_rows[rows]
            loss = distillation_loss(logits, self.y[rows], self.teacher_table[words.clamp(min=0)], words >= 0,
                                     self.loss_weights, "batch-mean", 1.0, self.config.distill_weight,
                                     self.config.distill_temperature)
        return loss, sum(self.tokens[i] for i in indices)

"""The training loss: cross-entropy over token labels, with optional class weights and a fixed normalizer.

Both engines (the custom loop and the HF Trainer) compute their loss here, so they train on the same objective. torch is imported inside the
functions on purpose: the CLI imports the engines, and building its parser must not load torch.
"""

from __future__ import annotations

from typing import Sequence

from ner_demo.labels import IGNORE_INDEX


def class_weights(examples: Sequence[dict], n_labels: int):
    """Inverse-frequency label weights ("balanced": total / (n_labels * count)), for the loss.

    Labels that never occur get weight 1: they are never a target, so the value does not matter.
    """
    import torch

    counts = torch.zeros(n_labels)
    for ex in examples:
        for lab in ex["labels"]:
            if lab != IGNORE_INDEX:
                counts[lab] += 1
    weights = torch.ones(n_labels)
    seen = counts > 0
    weights[seen] = counts.sum() / (int(seen.sum()) * counts[seen])
    return weights


def labelled_tokens_per_batch(examples: Sequence[dict], batch_size: int) -> float:
    """The mean number of labelled (not -100) positions in a batch of ``batch_size`` examples: the
    constant a ``fixed`` loss divides its sum by.

    >>> labelled_tokens_per_batch([{"labels": [1, -100, 0]}, {"labels": [2]}], batch_size=4)
    6.0
    """
    labelled = sum(sum(1 for lab in ex["labels"] if lab != IGNORE_INDEX) for ex in examples)
    return max(1.0, labelled / max(1, len(examples)) * batch_size)


def token_loss(logits, labels, weights, reduction: str, normalizer: float):
    """Cross-entropy in fp32 over (B, T, C) logits and (B, T) labels, -100 ignored: the batch mean, or the
    sum over ``normalizer`` (see :func:`labelled_tokens_per_batch`)."""
    import torch.nn.functional as F

    flat_logits, flat_labels = logits.float().flatten(0, 1), labels.flatten()
    if reduction == "fixed":
        return F.cross_entropy(flat_logits, flat_labels, weight=weights, ignore_index=IGNORE_INDEX,
                               reduction="sum") / normalizer
    return F.cross_entropy(flat_logits, flat_labels, weight=weights, ignore_index=IGNORE_INDEX)

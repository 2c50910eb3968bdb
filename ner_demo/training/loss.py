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
    """Cross-entropy in fp32 over (B, T, C) logits and (B, T) labels (or (N, C) and (N,)), -100 ignored: the
    batch mean, or the sum over ``normalizer`` (see :func:`labelled_tokens_per_batch`)."""
    import torch.nn.functional as F

    flat_logits, flat_labels = logits.float().reshape(-1, logits.shape[-1]), labels.reshape(-1)  # (B*T, C), (B*T,)
    if reduction == "fixed":
        return F.cross_entropy(flat_logits, flat_labels, weight=weights, ignore_index=IGNORE_INDEX,
                               reduction="sum") / normalizer
    return F.cross_entropy(flat_logits, flat_labels, weight=weights, ignore_index=IGNORE_INDEX)


def distillation_kl(student_logits, teacher_logits, mask, temperature: float, reduction: str, normalizer: float):
    """KL(softmax(teacher / T) || softmax(student / T)) at the ``mask``ed positions, in fp32.

    ``student_logits`` and ``teacher_logits``: (..., C), e.g. (B, T, C) or (N, C); the teacher's may be
    log-probabilities (a softmax does not change when a constant is added to every logit). ``mask``:
    (...) bool, the positions that have a teacher distribution. ``batch-mean``: the mean over those
    positions (0 when there are none); ``fixed``: their sum over ``normalizer``, as :func:`token_loss`.

    >>> import torch
    >>> same = torch.tensor([[1.0, 3.0, -2.0]])
    >>> float(distillation_kl(same, same, torch.tensor([True]), 2.0, "batch-mean", 1.0))
    0.0
    """
    import torch.nn.functional as F

    classes = student_logits.shape[-1]
    keep = mask.reshape(-1)
    student = F.log_softmax(student_logits.float().reshape(-1, classes)[keep] / temperature, dim=-1)  # (N, C)
    teacher = F.log_softmax(teacher_logits.float().reshape(-1, classes)[keep] / temperature, dim=-1)  # (N, C)
    per_position = F.kl_div(student, teacher, reduction="none", log_target=True).sum(-1)  # (N,)
    if reduction == "fixed":
        return per_position.sum() / normalizer
    return per_position.sum() / max(1, int(keep.sum()))


def distillation_loss(logits, labels, teacher_logits, mask, weights, reduction: str, normalizer: float,
                      alpha: float, temperature: float):
    """``(1 - alpha) * CE(gold) + alpha * T^2 * KL(teacher || student)`` (Hinton et al., 2015): the T^2
    keeps the soft term's gradients on the scale of the hard one's whatever the temperature. ``alpha=0``
    is :func:`token_loss` exactly (the teacher is not read)."""
    hard = token_loss(logits, labels, weights, reduction, normalizer)
    if alpha == 0:
        return hard
    soft = distillation_kl(logits, teacher_logits, mask, temperature, reduction, normalizer)
    return (1 - alpha) * hard + alpha * temperature**2 * soft

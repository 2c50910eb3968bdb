"""A trained classification head mapped onto another label set: a pure function on its tensors.

Fine-tuning a trained model on data whose labels differ (a new type added, one left out) keeps what the
head knows about the labels both share, and only those:

- a shared label (same name: ``B-PER`` is ``B-PER``) keeps its row of the weight and its bias, unchanged;
- a new label gets a new row: the mean of the old rows with the same prefix (``B-NORP`` from the mean of
  every ``B-`` row, bias likewise), or, where the old head has none with that prefix, a small random row
  (normal, std ``init_std``: the transformers initialisation) with bias 0;
- an old label the new data lacks loses its row.

Why the mean of the same-prefix rows: its logit, on any hidden state, is the mean of the old ``B-`` logits,
so it is never above the largest of them. The mapped model therefore tags as the old one did at the
start (a known label keeps winning; the new label never takes a token before training says so), while
the new row starts in the range of the trained logits and points where entity starts point. A random
row starts near logit 0, far below the trained rows; the ``O`` row would tie with ``O`` on every token.

>>> import torch
>>> w, b = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 3.0]]), torch.tensor([0.5, 0.1, 0.3])
>>> nw, nb, m = map_head(w, b, ["O", "B-PER", "B-LOC"], ["O", "B-NEW", "B-PER"])
>>> nw.tolist(), [round(x, 2) for x in nb.tolist()], m.added, m.dropped
([[1.0, 0.0], [0.0, 2.0], [0.0, 1.0]], [0.5, 0.2, 0.1], ('B-NEW',), ('B-LOC',))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

INSIDE_OUTSIDE_PREFIXES = ("B-", "I-")


@dataclass(frozen=True)
class HeadMapping:
    """What :func:`map_head` did, label by label (for the run's log and the tests)."""

    kept: tuple[str, ...]  # rows copied from the old head
    added: tuple[str, ...]  # new rows
    dropped: tuple[str, ...]  # old rows left out
    added_from: dict[str, str]  # new label -> "mean of 4 B- rows" or "random"

    def describe(self, source: str) -> list[str]:
        """Lines for the run's log."""
        lines = [f"init_from {source}: kept the head rows of {len(self.kept)} label(s) ({', '.join(self.kept)})"]
        for label in self.added:
            lines.append(f"init_from {source}: new label {label}: its row is the {self.added_from[label]}")
        if self.dropped:
            lines.append(f"init_from {source}: dropped the rows of {', '.join(self.dropped)} (not in the train data)")
        return lines


def _prefix(label: str) -> str | None:
    return next((p for p in INSIDE_OUTSIDE_PREFIXES if label.startswith(p)), None)


def map_head(
    weight: torch.Tensor,
    bias: torch.Tensor,
    old_labels: Sequence[str],
    new_labels: Sequence[str],
    init_std: float = 0.02,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor, HeadMapping]:
    """``weight`` (C_old, H) and ``bias`` (C_old,) of a head over ``old_labels`` -> (weight (C_new, H),
    bias (C_new,), mapping) over ``new_labels``; the inputs are not changed. See the module docstring."""
    if weight.dim() != 2 or bias.shape != (weight.shape[0],) or weight.shape[0] != len(old_labels):
        raise ValueError(f"a head of {len(old_labels)} labels needs weight (C, H) and bias (C,) with C = "
                         f"{len(old_labels)}; got {tuple(weight.shape)} and {tuple(bias.shape)}")
    if len(set(new_labels)) != len(new_labels):
        raise ValueError(f"duplicate labels in {list(new_labels)}")
    old_index = {label: i for i, label in enumerate(old_labels)}
    by_prefix = {p: [i for i, label in enumerate(old_labels) if label.startswith(p)] for p in INSIDE_OUTSIDE_PREFIXES}
    rows, biases, added_from = [], [], {}
    for label in new_labels:
        if label in old_index:
            rows.append(weight[old_index[label]].clone())
            biases.append(bias[old_index[label]].clone())
            continue
        same = by_prefix.get(_prefix(label) or "", [])
        if same:
            rows.append(weight[same].mean(dim=0))
            biases.append(bias[same].mean())
            added_from[label] = f"mean of {len(same)} {_prefix(label)} row(s)"
        else:
            rows.append(torch.randn(weight.shape[1], generator=generator, dtype=weight.dtype) * init_std)
            biases.append(torch.zeros((), dtype=bias.dtype))
            added_from[label] = f"random (normal, std {init_std:g}; no old row starts with its prefix)"
    mapping = HeadMapping(
        kept=tuple(label for label in new_labels if label in old_index),
        added=tuple(label for label in new_labels if label not in old_index),
        dropped=tuple(label for label in old_labels if label not in set(new_labels)),
        added_from=added_from,
    )
    return torch.stack(rows), torch.stack(biases), mapping

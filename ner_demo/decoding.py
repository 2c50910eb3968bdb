"""Word-level decoding: per-word argmax, or the best *valid* IOB2 sequence (BIO-constrained Viterbi).

Strict IOB2 scoring drops an entity that starts with ``I-X``; a per-word argmax produces such tags
now and then (``O I-ORG``, ``B-PER I-LOC``). Constrained decoding picks the most probable tag
sequence in which every ``I-X`` follows ``B-X`` or ``I-X``: no transition weights are learned, the
constraint only forbids impossible paths.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np

DECODINGS = ("argmax", "bio")


def allowed_transitions(labels: Sequence[str]) -> np.ndarray:
    """(n, n) boolean matrix: may tag ``j`` follow tag ``i``?

    >>> allowed_transitions(["O", "B-PER", "I-PER"]).astype(int).tolist()
    [[1, 1, 0], [1, 1, 1], [1, 1, 1]]
    """
    n = len(labels)
    allowed = np.ones((n, n), dtype=bool)
    for j, tag in enumerate(labels):
        if tag.startswith("I-"):
            entity = tag[2:]
            for i, prev in enumerate(labels):
                allowed[i, j] = prev in (f"B-{entity}", f"I-{entity}")
    return allowed


def allowed_starts(labels: Sequence[str]) -> np.ndarray:
    return np.array([not tag.startswith("I-") for tag in labels])


@lru_cache(maxsize=32)
def _constraints(labels: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(allowed transitions, transition penalties, allowed starts) of a label set, built once."""
    allowed = allowed_transitions(labels)
    return allowed, np.where(allowed, 0.0, -np.inf), allowed_starts(labels)


def is_valid_path(best: np.ndarray, labels: Sequence[str]) -> bool:
    """Does this tag-index sequence obey IOB2 (no ``I-X`` without ``B-X``/``I-X`` before it)?

    >>> is_valid_path(np.array([0, 2]), ["O", "B-PER", "I-PER"]), is_valid_path(np.array([1, 2]), ["O", "B-PER", "I-PER"])
    (False, True)
    """
    allowed, _, starts = _constraints(tuple(labels))
    return len(best) == 0 or bool(starts[best[0]] and allowed[best[:-1], best[1:]].all())


def viterbi_bio(probs: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """Indices of the most probable valid IOB2 sequence for (n_words, n_labels) probabilities.

    >>> p = np.array([[0.1, 0.2, 0.7], [0.2, 0.1, 0.7]])  # argmax would say I-PER I-PER
    >>> viterbi_bio(p, ["O", "B-PER", "I-PER"]).tolist()
    [1, 2]
    """
    n_words, n_labels = probs.shape
    if n_words == 0:
        return np.zeros(0, dtype=np.int64)
    # Without transition weights, the best path overall is the per-word argmax; when that path is
    # already valid it is also the best valid one, so the search is only needed for the rest.
    best = probs.argmax(axis=1)
    if is_valid_path(best, labels):
        return best
    _, penalty, starts = _constraints(tuple(labels))  # penalty: (prev, next)
    log_p = np.log(np.clip(probs, 1e-12, 1.0))
    score = np.where(starts, log_p[0], -np.inf)
    back = np.zeros((n_words, n_labels), dtype=np.int64)
    for t in range(1, n_words):
        total = score[:, None] + penalty  # (prev, next)
        back[t] = total.argmax(axis=0)
        score = total.max(axis=0) + log_p[t]
    best = np.zeros(n_words, dtype=np.int64)
    best[-1] = int(score.argmax())
    for t in range(n_words - 1, 0, -1):
        best[t - 1] = back[t, best[t]]
    return best

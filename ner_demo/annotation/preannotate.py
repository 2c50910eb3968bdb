"""A Tagger's suggestions for a dataset's examples, with how unsure it was about each.

The Tagger reads each example's words (:func:`ner_demo.annotation.formats.example_words`: the file's own
words, else :func:`ner_demo.spans.split_words`), through
:func:`ner_demo.evaluation.model_eval.corpus_probabilities`, the path the evaluation uses, so a suggestion
is exactly the prediction the Evaluate tab scores. Per example it keeps, as the suggestion's meta:

- ``margin``: the lowest, over the words, of the best label's probability minus the second best's (a
  word the model hesitates over between two labels, or between an entity and O; 1 when sure);
- ``entropy``: the highest word entropy of the label distribution (nats);
- ``forms``: the surface forms of the suggested entities and of the words with a margin under
  :data:`UNSURE_MARGIN`: what the diversity order counts so as not to ask about one name again and again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ner_demo.annotation.edits import Span
from ner_demo.annotation.formats import example_words
from ner_demo.annotation.store import AnnotationStore, Example
from ner_demo.data.conll import Corpus, Sentence
from ner_demo.evaluation.cache import model_fingerprint
from ner_demo.evaluation.model_eval import corpus_probabilities
from ner_demo.spans import word_tags_to_entities

UNSURE_MARGIN = 0.5


@dataclass(frozen=True)
class Uncertainty:
    margin: float
    entropy: float
    forms: list[str]

    def to_dict(self) -> dict:
        return {"margin": self.margin, "entropy": self.entropy, "forms": self.forms}


def word_uncertainty(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per word: margin (best minus second-best probability) and entropy (nats) of ``(n_words, n_labels)``."""
    if len(probs) == 0:
        return np.zeros(0), np.zeros(0)
    top = np.sort(probs, axis=1)[:, ::-1]
    margin = top[:, 0] - (top[:, 1] if probs.shape[1] > 1 else 0.0)
    clipped = np.clip(probs, 1e-12, 1.0)
    entropy = -(probs * np.log(clipped)).sum(axis=1)
    return margin, entropy


def uncertainty(text: str, words, probs: np.ndarray, entity_spans: Sequence[Span]) -> Uncertainty:
    """An example's :class:`Uncertainty` from its words' probabilities and the suggested spans."""
    margin, entropy = word_uncertainty(probs)
    forms = [text[s.start:s.end] for s in entity_spans]
    forms += [w.text for w, m in zip(words, margin) if m < UNSURE_MARGIN and any(c.isalnum() for c in w.text)]
    return Uncertainty(float(margin.min()) if len(margin) else 1.0,
                       float(entropy.max()) if len(entropy) else 0.0, list(dict.fromkeys(forms)))


def document_ids(items: Sequence[Example]) -> list[int]:
    """A document id for each example, for the Tagger's document context: examples next to each other
    that a CoNLL file put in one document (the same file and ``meta["doc_id"]``) share one; every other
    example (a text of its own) is a document alone, so unrelated texts never read each other as context.

    >>> from ner_demo.annotation.store import Example
    >>> ex = lambda p, src, meta: Example(p, p, "x", src, meta, None)
    >>> document_ids([ex(0, "a.conll:1", {"doc_id": 0}), ex(1, "a.conll:3", {"doc_id": 0}),
    ...               ex(2, "b.conll:1", {"doc_id": 0}), ex(3, "t.txt:1", {}), ex(4, "t.txt:2", {})])
    [0, 0, 1, 2, 3]
    """
    out: list[int] = []
    previous = None
    for ex in items:
        doc = ex.meta.get("doc_id") if isinstance(ex.meta, dict) else None
        source = (ex.source_id or "").rpartition(":")[0]
        key = (source, doc) if isinstance(doc, int) and not isinstance(doc, bool) else ("item", ex.position)
        if not out:
            out.append(0)
        else:
            out.append(out[-1] if key == previous else out[-1] + 1)
        previous = key
    return out


def suggest(tagger, items: Sequence[Example], labels: Sequence[str] | None = None,
            progress: Callable[[int, int], None] | None = None) -> list[tuple[int, list[Span], dict]]:
    """``(position, spans, meta)`` for each example: the Tagger's entities (of ``labels`` only, when given)
    and its :class:`Uncertainty`; pure apart from running the model."""
    words = [example_words(ex.text, ex.tokens) for ex in items]
    kept = [(ex, ws) for ex, ws in zip(items, words) if ws]
    docs = document_ids([ex for ex, _ in kept])
    corpus = Corpus([Sentence(tuple(w.text for w in ws), ("O",) * len(ws), doc)
                     for (_, ws), doc in zip(kept, docs)], "annotation")
    probs = corpus_probabilities(tagger, corpus, progress=progress, cache=None) if kept else []
    out = []
    for (ex, ws), p in zip(kept, probs):
        prediction = tagger.decode_words(p)
        entities = word_tags_to_entities(ex.text, ws, prediction.tags, prediction.scores)
        spans = [Span(e.start, e.end, e.label) for e in entities if labels is None or e.label in labels]
        meta = uncertainty(ex.text, ws, p, spans).to_dict()
        meta["scores"] = [round(e.score, 4) for e in entities if labels is None or e.label in labels]
        out.append((ex.position, spans, meta))
    return out


def preannotate(store: AnnotationStore, name: str, tagger, model: str, model_version: str | None = None,
                positions: Sequence[int] | None = None,
                progress: Callable[[int, int], None] | None = None) -> int:
    """Store ``tagger``'s suggestions for the dataset's examples (all, or ``positions``), marked as
    suggestions by ``model`` at ``model_version`` (default: the first 12 hex digits of the weights'
    sha256). Types the dataset does not annotate are left out. Returns the number stored."""
    info = store.dataset(name)
    chosen = store.examples(name)
    if positions is not None:
        wanted = set(positions)
        chosen = [ex for ex in chosen if ex.position in wanted]
    version = model_version or model_fingerprint(tagger)[:12]
    items = suggest(tagger, chosen, info.label_names, progress)
    return store.suggest_many(name, items, model, version)

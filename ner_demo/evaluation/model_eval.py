"""Score a Tagger on a corpus: word-level predictions (first subword by default) against gold tags.

Tagging goes through a prediction cache (:mod:`ner_demo.evaluation.cache`): the same model, data and
settings are tagged once per process (and once at all with a disk cache), and decoding, thresholds
and scoring start again from the cached word probabilities.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from ner_demo.data.conll import Corpus
from ner_demo.evaluation.cache import PREDICTIONS, PredictionCache, prediction_key
from ner_demo.evaluation.metrics import EvaluationResult, evaluate

_DEFAULT = object()
CHUNK_SENTENCES = 2048  # sentences per Tagger call (whole documents): full length-sorted batches, bounded memory


def corpus_probabilities(tagger, corpus: Corpus, chunk: int | None = None,
                         progress: Callable[[int, int], None] | None = None,
                         cache: PredictionCache | None = PREDICTIONS) -> list[np.ndarray]:
    """Each sentence's (n_words, n_labels) word probabilities, from ``cache`` when it holds them (then
    ``progress`` is told once that all is done), else tagged in chunks of whole documents so that
    ``progress`` (done, total sentences) can be reported and document context stays intact.

    ``chunk`` (sentences, rounded up to whole documents) defaults to 2048, which keeps length-sorted
    batches full and memory bounded on a large file. Watched or not, the chunks are the same: ``progress``
    moves after every batch inside a chunk (the Tagger reports it), so the CLI, the app and a benchmark
    tag in the same batches and a dynamically quantised backend (onnx-int8) gives them the same numbers,
    which the prediction cache, shared by all of them, relies on. ``cache=None``: tag, and keep nothing."""
    sentences = corpus.sentences
    key = None
    if cache is not None:
        key = prediction_key(tagger, [s.words for s in sentences], [s.doc_id for s in sentences])
        found = cache.get(key)
        if found is not None:
            if progress is not None:
                progress(len(sentences), len(sentences))
            return found
    keep_documents = tagger.features.context_words > 0
    if chunk is None:
        chunk = CHUNK_SENTENCES
    out: list[np.ndarray] = []
    start = 0
    while start < len(sentences):
        end = min(start + chunk, len(sentences))
        # Never cut a document when sentences are each other's context; without context (a model
        # read sentence by sentence) a file without -DOCSTART- lines would otherwise be one chunk.
        while keep_documents and end < len(sentences) and sentences[end].doc_id == sentences[end - 1].doc_id:
            end += 1
        part = sentences[start:end]
        watch = None
        if progress is not None:  # windows done in this chunk, as sentences of the corpus (an estimate)
            def watch(done: int, total: int, start=start, size=len(part)) -> None:
                progress(start + (size * done) // max(total, 1), len(sentences))
        out += tagger.word_probabilities([s.words for s in part], [s.doc_id for s in part], progress=watch)
        start = end
        if progress is not None:
            progress(start, len(sentences))
    if cache is not None:
        cache.put(key, out)
    return out


def predict_corpus_scored(tagger, corpus: Corpus, chunk: int | None = None,
                          progress: Callable[[int, int], None] | None = None,
                          cache: PredictionCache | None = PREDICTIONS,
                          thresholds: Mapping[str, float] | None = None):
    """``WordPrediction`` (tags and scores) of every sentence; ``thresholds``: per-type thresholds
    (default the Tagger's own, from the model's ``ner_demo.json``; ``{}``: none)."""
    probs = corpus_probabilities(tagger, corpus, chunk, progress, cache)
    return [tagger.decode_words(p, thresholds) for p in probs]


def predict_corpus(tagger, corpus: Corpus, chunk: int | None = None,
                   progress: Callable[[int, int], None] | None = None,
                   cache: PredictionCache | None = PREDICTIONS,
                   thresholds: Mapping[str, float] | None = None) -> list[list[str]]:
    """Predicted IOB2 tags for every sentence (see :func:`corpus_probabilities` and
    :func:`predict_corpus_scored`)."""
    return [p.tags for p in predict_corpus_scored(tagger, corpus, chunk, progress, cache, thresholds)]


def evaluate_tagger(tagger, corpus: Corpus, progress: Callable[[int, int], None] | None = None,
                    cache: PredictionCache | None = PREDICTIONS, chunk: int | None = None) -> EvaluationResult:
    """The one way to score a Tagger on a labelled corpus: :func:`predict_corpus` (``chunk``,
    ``progress`` and ``cache`` as there), then :func:`evaluate` at word level."""
    pred = predict_corpus(tagger, corpus, chunk=chunk, progress=progress, cache=cache)
    return evaluate([s.tags for s in corpus], pred, [s.words for s in corpus])

"""Score a Tagger on a corpus: word-level predictions (first subword by default) against gold tags."""

from __future__ import annotations

from typing import Callable

from ner_demo.data.conll import Corpus
from ner_demo.evaluation.metrics import EvaluationResult, evaluate


def predict_corpus(tagger, corpus: Corpus, chunk: int = 2048, progress: Callable[[int, int], None] | None = None) -> list[list[str]]:
    """Predicted IOB2 tags for every sentence, in chunks of whole documents so that ``progress``
    (done, total sentences) can be reported and document context stays intact."""
    sentences = corpus.sentences
    out: list[list[str]] = []
    start = 0
    while start < len(sentences):
        end = min(start + chunk, len(sentences))
        while end < len(sentences) and sentences[end].doc_id == sentences[end - 1].doc_id:
            end += 1  # never cut a document: its sentences are each other's context
        part = sentences[start:end]
        out += tagger.predict_words([s.words for s in part], [s.doc_id for s in part])
        start = end
        if progress is not None:
            progress(start, len(sentences))
    return out


def evaluate_tagger(tagger, corpus: Corpus, progress: Callable[[int, int], None] | None = None) -> EvaluationResult:
    pred = predict_corpus(tagger, corpus, progress=progress)
    return evaluate([s.tags for s in corpus], pred, [s.words for s in corpus])

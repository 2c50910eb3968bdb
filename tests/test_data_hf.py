from pathlib import Path

import pytest

from ner_demo.data.conll import read_conll
from ner_demo.data.hf import corpus_to_dataset
from ner_demo.errors import DataFormatError

TINY = Path(__file__).parent / "data" / "tiny_iob2.conll"
LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]


def test_columns_and_first_row():
    ds = corpus_to_dataset(read_conll(TINY), LABELS)
    assert ds.column_names == ["words", "tags", "doc_id", "sentence_index"]
    assert ds[0] == {
        "words": ["Marta", "Lindqvist", "visited", "Porto", "Alegre", "."],
        "tags": [1, 2, 0, 5, 6, 0],
        "doc_id": 0,
        "sentence_index": 0,
    }


def test_doc_ids_and_sentence_indices_follow_the_corpus():
    ds = corpus_to_dataset(read_conll(TINY), LABELS)
    assert (ds["doc_id"], ds["sentence_index"]) == ([0, 0, 1], [0, 1, 2])


def test_tags_feature_carries_label_names():
    ds = corpus_to_dataset(read_conll(TINY), LABELS)
    assert ds.features["tags"].feature.names == LABELS


def test_unknown_tag_names_source_line_and_tag():
    with pytest.raises(DataFormatError) as info:
        corpus_to_dataset(read_conll(TINY), ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"])
    assert (info.value.source, info.value.line_no, info.value.content) == (str(TINY), 10, "Quillfeather B-ORG")
    assert "tag 'B-ORG' is not in the label set (O, B-PER, I-PER, B-LOC, I-LOC)" in str(info.value)


def test_duplicate_label_names_are_refused():
    with pytest.raises(ValueError, match=r"duplicates: \['O'\]"):
        corpus_to_dataset(read_conll(TINY), ["O", "B-PER", "O"])

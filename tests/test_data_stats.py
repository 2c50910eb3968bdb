from pathlib import Path

from ner_demo.data.conll import Corpus, parse_conll, read_conll
from ner_demo.data.stats import (
    LengthStats, LengthSummary, SplitStats, corpus_stats, format_stats_table, length_stats, merge_lengths,
    summarize_lengths,
)

DATA = Path(__file__).parent / "data"


def test_fixture_counts():
    stats = corpus_stats(read_conll(DATA / "tiny_iob2.conll"))
    assert stats == SplitStats(documents=2, sentences=3, tokens=17, entities={"LOC": 1, "MISC": 1, "ORG": 1, "PER": 1})


def test_total_entities_sums_types():
    assert corpus_stats(read_conll(DATA / "tiny_iob2.conll")).total_entities == 4


def test_file_without_docstart_is_one_document():
    assert corpus_stats(parse_conll("Odile B-PER\n\nHarrow B-ORG\n")).documents == 1


def test_empty_corpus_counts_zero():
    assert corpus_stats(Corpus()) == SplitStats(0, 0, 0, {})


def test_multiword_entity_counts_once():
    assert corpus_stats(parse_conll("Kestrel B-LOC\nBay I-LOC\n")).entities == {"LOC": 1}


def test_adjacent_b_tags_count_twice():
    assert corpus_stats(parse_conll("Odile B-PER\nJo B-PER\n")).entities == {"PER": 2}


def test_stray_i_tag_counts_as_an_entity():
    assert corpus_stats(parse_conll("Odile B-PER\nsails O\nBay I-LOC\n")).entities == {"LOC": 1, "PER": 1}


def test_iob1_and_bioes_count_like_iob2():
    iob1 = corpus_stats(parse_conll("Ines I-PER\nVarga I-PER\nTomas B-PER\n"))
    bioes = corpus_stats(parse_conll("Ines B-PER\nVarga E-PER\nTomas S-PER\n"))
    assert iob1.entities == bioes.entities == {"PER": 2}


def test_to_dict():
    assert SplitStats(1, 2, 9, {"PER": 3}).to_dict() == {
        "documents": 1, "sentences": 2, "tokens": 9, "entities": {"PER": 3}, "total_entities": 3,
    }


def test_table_has_one_column_per_split_and_thousands_separators():
    table = format_stats_table({"train": SplitStats(946, 14041, 203621, {"PER": 6600}), "dev": SplitStats(1, 2, 3, {})})
    assert table == (
        "             train  dev\n"
        "documents      946    1\n"
        "sentences   14,041    2\n"
        "tokens     203,621    3\n"
        "PER          6,600    0\n"
        "entities     6,600    0"
    )


# ---- length distributions -------------------------------------------------------------------------


def test_sentence_lengths_count_words_per_sentence():
    assert length_stats(read_conll(DATA / "tiny_iob2.conll")).sentences == {5: 1, 6: 2}


def test_entity_lengths_count_words_per_entity_per_type():
    lengths = length_stats(parse_conll("New B-LOC\nYork I-LOC\nCity I-LOC\nis O\n\nAda B-PER\nand O\nBo B-PER\nLee I-PER\n"))
    assert lengths.entities == {"LOC": {3: 1}, "PER": {1: 1, 2: 1}}


def test_bioes_entity_lengths_read_like_iob2():
    assert length_stats(parse_conll("Ines B-PER\nVarga E-PER\nTomas S-PER\n")).entities == {"PER": {1: 1, 2: 1}}


def test_empty_corpus_has_empty_lengths():
    assert length_stats(Corpus()) == LengthStats({}, {})


def test_merged_lengths_sum_the_splits():
    train = length_stats(parse_conll("Ada B-PER\nsang O\n"))
    dev = length_stats(parse_conll("Bo B-PER\nLee I-PER\nsang O\n\nAda B-PER\nsang O\n"))
    assert merge_lengths([train, dev]) == LengthStats({2: 2, 3: 1}, {"PER": {1: 2, 2: 1}})


def test_length_summary_gives_mean_median_and_longest():
    assert summarize_lengths({2: 1, 3: 2, 40: 1}) == LengthSummary(count=4, mean=12.0, median=3, longest=40)

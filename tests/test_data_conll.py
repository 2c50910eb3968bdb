from pathlib import Path

import pytest

from ner_demo.data.conll import format_conll, parse_conll, read_conll, write_conll
from ner_demo.errors import DataFormatError

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny_iob2.conll"


def _write(tmp_path: Path, data: bytes, name: str = "bad.conll") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_parse_reads_words_and_tags():
    corpus = parse_conll("Odile B-PER\nsails O\n\nHarrow B-ORG\n")
    assert [s.words for s in corpus] == [("Odile", "sails"), ("Harrow",)]
    assert [s.tags for s in corpus] == [("B-PER", "O"), ("B-ORG",)]


def test_parse_keeps_middle_columns():
    corpus = parse_conll("Odile NNP B-NP B-PER\nsails VBZ B-VP O\n")
    assert corpus.sentences[0].columns == (("NNP", "B-NP"), ("VBZ", "B-VP"))


def test_parse_accepts_tabs_and_many_columns():
    corpus = parse_conll("Odile\tx\ty\tz\tB-PER\n")
    assert corpus.sentences[0].columns == (("x", "y", "z"),)
    assert corpus.sentences[0].tags == ("B-PER",)


def test_parse_records_first_line_of_each_sentence():
    corpus = parse_conll("\nOdile B-PER\n\n\nHarrow B-ORG\nMills I-ORG\n", source="f.conll")
    assert [(s.source, s.line) for s in corpus] == [("f.conll", 2), ("f.conll", 5)]


def test_docstart_lines_separate_documents():
    corpus = read_conll(TINY)
    assert [s.doc_id for s in corpus] == [0, 0, 1]
    assert [len(doc) for doc in corpus.documents()] == [2, 1]


def test_sentences_before_any_docstart_form_their_own_document():
    corpus = parse_conll("Odile B-PER\n\n-DOCSTART- O\n\nHarrow B-ORG\n")
    assert [s.doc_id for s in corpus] == [0, 1]


def test_format_round_trips_fixture_byte_for_byte():
    assert format_conll(read_conll(TINY).sentences) == TINY.read_text(encoding="utf-8")


def test_write_then_read_gives_same_sentences(tmp_path):
    corpus = read_conll(TINY)
    out = tmp_path / "copy.conll"
    write_conll(corpus.sentences, out)
    again = read_conll(out)
    assert [(s.words, s.tags, s.columns, s.doc_id) for s in again] == [
        (s.words, s.tags, s.columns, s.doc_id) for s in corpus
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.conll"]  # no .tmp left behind


def test_format_without_docstart_omits_docstart_lines():
    corpus = parse_conll("Odile B-PER\n")
    assert format_conll(corpus.sentences, docstart=False) == "Odile B-PER\n\n"


def test_crlf_line_endings_are_read():
    corpus = parse_conll("Odile B-PER\r\nsails O\r\n\r\nHarrow B-ORG\r\n")
    assert [s.tags for s in corpus] == [("B-PER", "O"), ("B-ORG",)]


def test_utf8_bom_is_ignored(tmp_path):
    path = _write(tmp_path, "\ufeffOdile B-PER\n".encode("utf-8"))
    assert read_conll(path).sentences[0].words == ("Odile",)


def test_no_break_space_stays_inside_a_word():
    corpus = parse_conll("10\u00a0000 O\nkm O\n")
    assert corpus.sentences[0].words == ("10\u00a0000", "km")


def test_unicode_line_separator_does_not_end_a_line():
    corpus = parse_conll("a\u2028b O\nc O\n")
    assert corpus.sentences[0].words == ("a\u2028b", "c")


def test_too_few_columns_names_file_line_and_value(tmp_path):
    path = _write(tmp_path, b"Odile B-PER\nsails\n")
    with pytest.raises(DataFormatError) as info:
        read_conll(path)
    assert str(info.value) == f"{path}, line 2: 'sails': expected at least 2 columns (word ... tag)"


def test_inconsistent_columns_names_line_and_counts(tmp_path):
    path = _write(tmp_path, b"Odile NNP B-PER\nsails O\n")
    with pytest.raises(DataFormatError) as info:
        read_conll(path)
    assert str(info.value) == f"{path}, line 2: 'sails O': has 2 columns but earlier lines have 3"


def test_bad_tag_names_line_and_tag(tmp_path):
    path = _write(tmp_path, b"Odile B-PER\nsails PERSON\n")
    with pytest.raises(DataFormatError) as info:
        read_conll(path)
    assert (info.value.source, info.value.line_no) == (str(path), 2)
    assert "'PERSON' is not a tag" in str(info.value)


def test_nul_bytes_are_rejected_with_their_line(tmp_path):
    path = _write(tmp_path, b"Odile B-PER\nsa\x00ils O\n")
    with pytest.raises(DataFormatError) as info:
        read_conll(path)
    assert (info.value.source, info.value.line_no) == (str(path), 2)
    assert "binary file" in str(info.value)


def test_nul_bytes_far_into_the_file_are_rejected(tmp_path):
    path = _write(tmp_path, b"Odile O\n" * 2000 + b"x\x00 O\n")
    with pytest.raises(DataFormatError) as info:
        read_conll(path)
    assert info.value.line_no == 2001


def test_invalid_utf8_names_line_and_bytes(tmp_path):
    path = _write(tmp_path, b"Odile B-PER\nS\xe3o B-LOC\n")
    with pytest.raises(DataFormatError) as info:
        read_conll(path)
    assert (info.value.source, info.value.line_no) == (str(path), 2)
    assert "not valid UTF-8 (bytes b'\\xe3o B'" in str(info.value)


def test_file_with_only_docstart_has_no_sentences(tmp_path):
    path = _write(tmp_path, b"-DOCSTART- O\n\n")
    with pytest.raises(DataFormatError, match="contains no sentences"):
        read_conll(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(DataFormatError, match="nope.conll: no such file"):
        read_conll(tmp_path / "nope.conll")

import pytest

from ner_demo.data.conll import parse_conll
from ner_demo.data.schemes import BIOES, IOB1, IOB2, corpus_to_iob2, detect_scheme, to_iob2
from ner_demo.errors import TagSchemeError


def test_detects_iob2():
    assert detect_scheme([["B-PER", "I-PER", "O", "B-LOC"]]) == IOB2


def test_detects_iob1_from_an_entity_opened_with_i():
    assert detect_scheme([["I-PER", "I-PER", "O", "I-LOC", "B-LOC"]]) == IOB1


def test_detects_bioes_from_s_and_e():
    assert detect_scheme([["S-PER", "O", "B-LOC", "E-LOC"]]) == BIOES


def test_all_o_counts_as_iob2():
    assert detect_scheme([["O", "O"], []]) == IOB2


def test_iob1_b_between_same_type_is_not_iob2_evidence():
    assert detect_scheme([["I-PER", "B-PER"]]) == IOB1


def test_mixed_iob1_and_iob2_is_refused_naming_lines():
    corpus = parse_conll("Odile B-PER\nsails O\n\nHarrow I-ORG\n", source="mix.conll")
    with pytest.raises(TagSchemeError) as info:
        corpus_to_iob2(corpus)
    assert str(info.value) == (
        "mix.conll: tags mix IOB1 (line 4 ('I-ORG')) and IOB2 (line 1 ('B-PER')); "
        "use one scheme per file (IOB2: every entity starts with B-)"
    )


def test_mixed_without_lines_names_sentence_and_word():
    with pytest.raises(TagSchemeError, match=r"IOB1 \(sentence 2, word 1 \('I-ORG'\)\)"):
        detect_scheme([["B-PER"], ["I-ORG"]])


def test_bioes_with_i_opening_an_entity_is_refused():
    with pytest.raises(TagSchemeError, match="mix IOB1"):
        detect_scheme([["S-PER", "O", "I-LOC"]])


def test_iob1_to_iob2():
    assert to_iob2(["I-PER", "I-PER", "B-PER", "O", "I-LOC"], IOB1) == ["B-PER", "I-PER", "B-PER", "O", "B-LOC"]


def test_iob1_type_change_starts_new_entity():
    assert to_iob2(["I-PER", "I-ORG"], IOB1) == ["B-PER", "B-ORG"]


def test_bioes_to_iob2():
    assert to_iob2(["S-PER", "B-ORG", "I-ORG", "E-ORG", "O"], BIOES) == ["B-PER", "B-ORG", "I-ORG", "I-ORG", "O"]


def test_unknown_scheme_is_refused():
    with pytest.raises(TagSchemeError, match="unknown tag scheme 'BILOU'"):
        to_iob2(["O"], "BILOU")


def test_corpus_to_iob2_reports_detected_scheme_and_converts():
    corpus, scheme = corpus_to_iob2(parse_conll("Ines I-PER\nVarga I-PER\nmet O\nTomas I-PER\n"))
    assert scheme == IOB1
    assert corpus.sentences[0].tags == ("B-PER", "I-PER", "O", "B-PER")


def test_corpus_to_iob2_returns_iob2_corpus_unchanged():
    original = parse_conll("Odile B-PER\n")
    corpus, scheme = corpus_to_iob2(original)
    assert (scheme, corpus) == (IOB2, original)


def test_corpus_to_iob2_with_explicit_scheme_skips_detection():
    corpus, scheme = corpus_to_iob2(parse_conll("Jo S-PER\n"), scheme=BIOES)
    assert (scheme, corpus.sentences[0].tags) == (BIOES, ("B-PER",))

import pytest

from ner_demo.spans import (
    Entity, Word, WordSpan, entities_to_word_tags, iob2_word_spans, split_words, word_spans_to_iob2,
    word_tags_to_entities,
)


def test_split_words_follows_conll_tokenisation():
    assert [w.text for w in split_words("Germany's S&P 500 rose 3.5% on 1996-08-22, U.S. says.")] == [
        "Germany", "'s", "S&P", "500", "rose", "3.5", "%", "on", "1996-08-22", ",", "U.S.", "says", ".",
    ]


def test_split_words_offsets_slice_the_text():
    text = "  Hello,\tworld!  "
    assert [(w.text, text[w.start:w.end]) for w in split_words(text)] == [
        ("Hello", "Hello"), (",", ","), ("world", "world"), ("!", "!"),
    ]


def test_split_words_keeps_emoji_zwj_sequence_whole():
    family = "\U0001F469\u200d\U0001F469\u200d\U0001F467"
    assert [w.text for w in split_words(f"Hi {family}!")] == ["Hi", family, "!"]


def test_split_words_keeps_combining_marks_in_the_word():
    assert [w.text for w in split_words("Cafe\u0301 Zu\u0308rich")] == ["Cafe\u0301", "Zu\u0308rich"]


def test_split_words_on_cjk_keeps_a_run_of_han_characters():
    assert [(w.text, w.start, w.end) for w in split_words("在东京 Tokyo")] == [("在东京", 0, 3), ("Tokyo", 4, 9)]


def test_split_words_of_whitespace_is_empty():
    assert split_words(" \n\t\r\n ") == []


def test_iob2_spans_are_half_open():
    assert iob2_word_spans(["B-PER", "I-PER", "O", "B-LOC"]) == [WordSpan("PER", 0, 2), WordSpan("LOC", 3, 4)]


def test_iob2_stray_inside_tag_starts_an_entity():
    assert iob2_word_spans(["O", "I-ORG", "I-ORG"]) == [WordSpan("ORG", 1, 3)]


def test_iob2_type_change_inside_splits_entities():
    assert iob2_word_spans(["B-PER", "I-LOC"]) == [WordSpan("PER", 0, 1), WordSpan("LOC", 1, 2)]


def test_iob2_adjacent_b_tags_are_two_entities():
    assert iob2_word_spans(["B-PER", "B-PER"]) == [WordSpan("PER", 0, 1), WordSpan("PER", 1, 2)]


def test_iob2_rejects_a_non_tag():
    with pytest.raises(ValueError, match="'PER'"):
        iob2_word_spans(["PER"])


def test_word_spans_round_trip_to_tags():
    tags = ["B-PER", "I-PER", "O", "B-LOC", "B-LOC"]
    assert word_spans_to_iob2(iob2_word_spans(tags), len(tags)) == tags


def test_word_tags_to_entities_uses_character_offsets():
    text = "Angela Merkel visited Paris."
    words = split_words(text)
    entities = word_tags_to_entities(text, words, ["B-PER", "I-PER", "O", "B-LOC", "O"], [0.9, 0.7, 1, 0.8, 1])
    assert [(e.label, e.start, e.end, e.text) for e in entities] == [("PER", 0, 13, "Angela Merkel"), ("LOC", 22, 27, "Paris")]
    assert entities[0].score == pytest.approx(0.8)


def test_entity_text_is_exact_slice_with_emoji_before_it():
    text = "\U0001F600\U0001F600 Zoë Müller"
    words = split_words(text)
    entities = word_tags_to_entities(text, words, ["O", "B-PER", "I-PER"])
    assert [(e.start, e.end, e.text) for e in entities] == [(3, 13, "Zoë Müller")]


def test_entities_to_word_tags_marks_overlapping_words():
    words = [Word("New", 0, 3), Word("York", 4, 8), Word("rocks", 9, 14)]
    assert entities_to_word_tags(words, [Entity("LOC", 0, 8, "New York")]) == ["B-LOC", "I-LOC", "O"]

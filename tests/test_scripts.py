"""ner_demo.scripts: when a text is mostly in a script the English models cannot read, say so."""

import pytest

from ner_demo.scripts import ScriptShare, script_share, script_warning


def test_cyrillic_names_are_counted_and_the_script_named():
    assert script_share("Путин met Macron") == ScriptShare(letters=14, non_latin=5, main_script="Cyrillic")


def test_accented_latin_letters_count_as_latin():
    assert script_share("Café Zoë Müller Łódź").non_latin == 0


def test_digits_punctuation_emoji_and_marks_are_not_letters():
    assert script_share("123 !!! 😀 \u0301 \x00").letters == 0


def test_cyrillic_text_is_warned_about():
    assert script_warning("Владимир Путин посетил Москву.") == (
        "Most letters of this text (100%) are Cyrillic, not Latin script: the models here were trained on "
        "English text, so their entities and scores on it are unreliable.")


@pytest.mark.parametrize("text, script", [
    ("東京 北京市", "CJK (Chinese/Japanese)"), ("서울 김정은", "Hangul (Korean)"), ("محمد بن سلمان", "Arabic"),
    ("בנימין נתניהו", "Hebrew"), ("Ἀθῆναι", "Greek"), ("とうきょう", "Japanese kana"),
])
def test_each_non_latin_script_is_named(text, script):
    assert f"are {script}, not Latin script" in script_warning(text)


def test_an_english_text_with_a_foreign_name_is_not_warned_about():
    assert script_warning("John met Mary in 東京 and Paris .") is None


def test_half_the_letters_outside_latin_is_warned_about():
    assert script_warning("abcd абвг") is not None and script_warning("abcde абвг") is None


def test_one_stray_letter_is_not_a_text_in_another_script():
    assert script_warning("π") is None and script_warning("東") is None


@pytest.mark.parametrize("text", ["", "   ", "\x00\ud800", "👩‍👩‍👧‍👦", "1996-08-22"])
def test_texts_without_letters_are_not_warned_about(text):
    assert script_warning(text) is None


def test_a_million_letter_text_is_counted_whole():
    share = script_share("Ж" * 1_000_000)
    assert (share.letters, share.non_latin, share.main_script) == (1_000_000, 1_000_000, "Cyrillic")

"""Which writing system a text is in, and a warning when the models here cannot read it well.

The shipped models were fine-tuned on English news (CoNLL-2003) from an English encoder: on text that
is mostly in another script they still answer, with confident-looking nonsense (Cyrillic names came
out ORG at 0.42-0.60). :func:`script_warning` says so before anyone trusts such a result; the Tagger
puts it on :attr:`ner_demo.inference.TaggedText.warnings`, the CLI prints it to stderr and the app
shows it beside the result. Pure functions, no model needed.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass

import regex

NON_LATIN_SHARE = 0.5  # warn when at least this share of a text's letters is outside the Latin script
MIN_NON_LATIN_LETTERS = 2  # one stray letter (a "π", a "東") is not a text in another script
_NOT_LETTERS = regex.compile(r"[^\p{L}]+")
_NOT_FOREIGN_LETTERS = regex.compile(r"[^\p{L}]+|\p{Latin}+")
_SCRIPT_SAMPLE = 5_000  # letters looked up by name to find the main script: enough to name it, fast on 1M chars
_NAMES = {"CJK": "CJK (Chinese/Japanese)", "HIRAGANA": "Japanese kana", "KATAKANA": "Japanese kana",
          "HANGUL": "Hangul (Korean)"}


@dataclass(frozen=True)
class ScriptShare:
    """How many letters a text has, how many are not Latin, and the most frequent of those scripts."""

    letters: int
    non_latin: int
    main_script: str | None  # e.g. "Cyrillic"; None when every letter is Latin

    @property
    def non_latin_share(self) -> float:
        return self.non_latin / self.letters if self.letters else 0.0


def script_share(text: str) -> ScriptShare:
    """Letters of ``text`` (Unicode category L: digits, punctuation, emoji and marks do not count)
    and those outside the Latin script, with the most frequent of their scripts.

    >>> script_share("Путин met Macron")
    ScriptShare(letters=14, non_latin=5, main_script='Cyrillic')
    >>> script_share("123 !!! 😀").letters
    0
    """
    letters = len(_NOT_LETTERS.sub("", text))
    foreign = _NOT_FOREIGN_LETTERS.sub("", text)
    if not foreign:
        return ScriptShare(letters, 0, None)
    counts = Counter(_script_of(ch) for ch in foreign[:_SCRIPT_SAMPLE])
    return ScriptShare(letters, len(foreign), counts.most_common(1)[0][0])


def script_warning(text: str) -> str | None:
    """A sentence for the user when most letters of ``text`` are not in the Latin script, else None.

    >>> print(script_warning("Владимир Путин посетил Москву."))
    Most letters of this text (100%) are Cyrillic, not Latin script: the models here were trained on English text, so their entities and scores on it are unreliable.
    >>> script_warning("John met Mary in 東京.") is None
    True
    >>> script_warning("") is None
    True
    """
    share = script_share(text)
    if share.non_latin < MIN_NON_LATIN_LETTERS or share.non_latin_share < NON_LATIN_SHARE:
        return None
    return (f"Most letters of this text ({share.non_latin_share:.0%}) are {share.main_script}, not Latin script: "
            "the models here were trained on English text, so their entities and scores on it are unreliable.")


def _script_of(letter: str) -> str:
    """A readable script name from the character's Unicode name ("CYRILLIC SMALL LETTER A" -> "Cyrillic")."""
    first = unicodedata.name(letter, "UNKNOWN").split()[0]
    return _NAMES.get(first, first.title())

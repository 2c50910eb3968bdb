"""A seeded corpus of adversarial texts for the Tagger and the app (tests/test_fuzz_tagger.py).

Each text comes with the name of the family it was drawn from, so a failure names what kind of input
broke. The same seed always gives the same corpus; ``python tests/fuzz_corpus.py`` prints a summary.

Families: empty and whitespace-only, one text of 200,000 characters, emoji and ZWJ sequences, CJK,
right-to-left scripts (Arabic, Hebrew, with bidi controls), combining marks (stacked "Zalgo" too),
control characters, NUL, lone surrogates, very long "words", repeated punctuation, and mixtures of all
of these with ordinary sentences that contain names the tiny test model knows (so that entities are
actually found next to the hostile characters and their offsets are checked).
"""

from __future__ import annotations

import random
from collections import Counter

SEED = 20240607
N_TEXTS = 1_200
BIG_CHARS = 200_000

NAMES = ["John", "Mary", "Angela", "Pedro", "Li", "Paris", "Berlin", "Tokyo", "Lagos", "Lima", "Acme Corp",
         "Reuters Corp", "Siemens Corp"]
FILLER = ["lives", "in", "and", "visited", "works", "for", "the", "today", "met", "at", "."]
WHITESPACE = [" ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u2000", "\u2003", "\u200b", "\u3000", "\u2028", "\u2029",
              "\u0085", "\u180e", "\ufeff", "\x0b", "\x0c"]
EMOJI = ["😀", "👍🏽", "🇫🇷", "🏳️‍🌈", "👩‍👩‍👧‍👦", "👨🏿‍💻", "🧑‍🤝‍🧑", "❤️", "🫠", "#️⃣", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "\u200d", "\ufe0f"]
CJK = ["東京", "北京市", "習近平", "株式会社", "서울", "김정은", "とうきょう", "カタカナ", "中华人民共和国", "。", "、", "「", "」"]
RTL = ["القاهرة", "محمد بن سلمان", "ירושלים", "בנימין נתניהו", "\u200f", "\u200e", "\u202e", "\u202b", "\u2067",
       "\u2069", "٣٤٥", "ﷺ", "لا"]
COMBINING = ["\u0301", "\u0308", "\u0327", "\u0336", "\u20dd", "\u0489", "\u0e31", "\u094d", "\u3099", "\u1ab0"]
CONTROLS = [chr(c) for c in range(0x01, 0x20) if chr(c) not in "\t\n\r"] + ["\x7f", "\x80", "\x9f", "\u200c",
                                                                            "\u2066", "\ufffe", "\uffff"]
SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff", "\ud83d", "\ude00"]
PUNCT = list("!?.,;:-_=+*/\\|()[]{}<>'\"`~@#$%^&")


def _sentence(rng: random.Random, n: int | None = None) -> str:
    words = [rng.choice(NAMES) if rng.random() < 0.3 else rng.choice(FILLER) for _ in range(n or rng.randint(3, 10))]
    return " ".join(words)


def _sprinkle(rng: random.Random, pool: list[str], k: int) -> str:
    """A sentence with ``k`` characters from ``pool`` dropped in anywhere, inside words too."""
    text = list(_sentence(rng))
    for _ in range(k):
        text.insert(rng.randint(0, len(text)), rng.choice(pool))
    return "".join(text)


def _empty(rng):
    return "".join(rng.choice(WHITESPACE) for _ in range(rng.randint(0, 12)))


def _emoji(rng):
    return " ".join(rng.choice(EMOJI + NAMES) for _ in range(rng.randint(1, 15)))


def _cjk(rng):
    if rng.random() < 0.5:
        return "".join(rng.choice(CJK) for _ in range(rng.randint(1, 30)))
    return _sprinkle(rng, CJK, rng.randint(1, 6))


def _rtl(rng):
    if rng.random() < 0.5:
        return " ".join(rng.choice(RTL) for _ in range(rng.randint(1, 12)))
    return _sprinkle(rng, RTL, rng.randint(1, 6))


def _combining(rng):
    text = _sentence(rng)
    out = []
    for ch in text:
        out.append(ch)
        if rng.random() < 0.3:
            out.append("".join(rng.choice(COMBINING) for _ in range(rng.randint(1, 20))))  # Zalgo stacks
    if rng.random() < 0.3:
        out.insert(0, rng.choice(COMBINING))  # a mark with nothing to combine with
    return "".join(out)


def _controls(rng):
    return _sprinkle(rng, CONTROLS + ["\x00"], rng.randint(1, 10))


def _nul(rng):
    if rng.random() < 0.3:
        return "\x00" * rng.randint(1, 50)
    return _sprinkle(rng, ["\x00"], rng.randint(1, 5))


def _surrogates(rng):
    if rng.random() < 0.3:
        return "".join(rng.choice(SURROGATES) for _ in range(rng.randint(1, 10)))
    return _sprinkle(rng, SURROGATES, rng.randint(1, 5))


def _long_word(rng):
    n = rng.choice([200, 1_000, 5_000, 20_000])
    kind = rng.randrange(4)
    if kind == 0:
        word = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))
    elif kind == 1:
        word = "A" * n
    elif kind == 2:
        word = "-".join(rng.choice(NAMES).replace(" ", "") for _ in range(n // 6))  # one hyphenated compound
    else:
        word = "https://example.com/" + "a/" * (n // 2)
    return f"{_sentence(rng, 3)} {word} {_sentence(rng, 3)}"


def _punct(rng):
    mark = rng.choice(PUNCT)
    run = mark * rng.choice([2, 10, 100, 3_000])
    if rng.random() < 0.5:
        run = "".join(rng.choice(PUNCT) for _ in range(rng.randint(2, 500)))
    return f"{_sentence(rng, 3)}{run}{_sentence(rng, 3)}"


def _mixed(rng):
    pools = [EMOJI, CJK, RTL, COMBINING, CONTROLS, SURROGATES, PUNCT, WHITESPACE, ["\x00"]]
    parts = []
    for _ in range(rng.randint(2, 8)):
        parts.append(_sentence(rng) if rng.random() < 0.5 else _sprinkle(rng, rng.choice(pools), rng.randint(1, 8)))
    return rng.choice(["", " ", "\n", "\u200b"]).join(parts)


FAMILIES = {
    "empty/whitespace": _empty,
    "emoji/ZWJ": _emoji,
    "CJK": _cjk,
    "RTL": _rtl,
    "combining marks": _combining,
    "control chars": _controls,
    "NUL": _nul,
    "lone surrogates": _surrogates,
    "long words": _long_word,
    "repeated punctuation": _punct,
    "mixed": _mixed,
}


def big_text(rng: random.Random, n_chars: int = BIG_CHARS) -> str:
    """Exactly ``n_chars`` characters: ordinary sentences laced with every hostile family."""
    parts, size = [], 0
    families = list(FAMILIES.values())
    while size < n_chars:
        part = _sentence(rng) + " " if rng.random() < 0.7 else rng.choice(families)(rng)[:2_000] + " "
        parts.append(part)
        size += len(part)
    return "".join(parts)[:n_chars]


def fuzz_corpus(seed: int = SEED, n: int = N_TEXTS) -> list[tuple[str, str]]:
    """``n`` (family, text) pairs: the fixed edge cases, one 200,000-character text, then random draws."""
    rng = random.Random(seed)
    fixed = [
        ("empty/whitespace", ""), ("empty/whitespace", " "), ("empty/whitespace", "\n\n\t "),
        ("empty/whitespace", "\u200b\u200b"), ("NUL", "\x00"), ("lone surrogates", "\ud800"),
        ("lone surrogates", "John\udc00 met Mary"), ("emoji/ZWJ", "👩‍👩‍👧‍👦"), ("combining marks", "\u0301"),
        ("control chars", "\x1b[31mJohn\x1b[0m met Mary in Paris ."), ("RTL", "\u202eJohn met Mary in Paris\u202c"),
        ("mixed", "John 👍🏽 met Mary\x00 in 東京 and Paris\u0301 ."), ("repeated punctuation", "!" * 10_000),
        ("long words", "x" * 50_000),
    ]
    out = list(fixed)
    out.append(("200,000 chars", big_text(rng)))
    names = list(FAMILIES)
    while len(out) < n:
        family = names[len(out) % len(names)]
        out.append((family, FAMILIES[family](rng)))
    return out


def summary(corpus: list[tuple[str, str]]) -> str:
    counts = Counter(family for family, _ in corpus)
    chars = sum(len(text) for _, text in corpus)
    lines = [f"{len(corpus):,} texts, {chars:,} characters"]
    lines += [f"  {family:22s} {count:5d}" for family, count in sorted(counts.items())]
    return "\n".join(lines)


if __name__ == "__main__":
    print(summary(fuzz_corpus()))

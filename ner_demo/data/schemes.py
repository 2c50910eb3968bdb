"""Tag schemes: detect IOB1 / IOB2 / BIOES and convert to IOB2, the one scheme used inside.

IOB1 (the original CoNLL-2003 release) starts an entity with ``I-`` and uses ``B-`` only between
two adjacent entities of the same type; IOB2 starts every entity with ``B-``; BIOES adds ``E-``
(end) and ``S-`` (single word). A file that starts some entities with ``B-`` after ``O`` and others
with ``I-`` is neither: we refuse it rather than guess.
"""

from __future__ import annotations

from typing import Sequence

from ner_demo.data.conll import Corpus
from ner_demo.errors import TagSchemeError

IOB1, IOB2, BIOES = "IOB1", "IOB2", "BIOES"
SCHEMES = (IOB1, IOB2, BIOES)


def _parts(tag: str) -> tuple[str, str]:
    return ("O", "") if tag == "O" else (tag[0], tag[2:])


def _first_evidence(sequences: Sequence[Sequence[str]]) -> dict[str, tuple[int, int]]:
    """Where each scheme first shows itself: {"IOB1": (sentence, word), ...}."""
    found: dict[str, tuple[int, int]] = {}
    for s, tags in enumerate(sequences):
        prev_prefix, prev_label = "O", ""
        for w, tag in enumerate(tags):
            prefix, label = _parts(tag)
            if prefix in {"E", "S"}:
                found.setdefault(BIOES, (s, w))
            elif prefix == "I" and (prev_prefix == "O" or prev_label != label):
                found.setdefault(IOB1, (s, w))  # I- opening an entity
            elif prefix == "B" and (prev_prefix == "O" or prev_label != label):
                found.setdefault(IOB2, (s, w))  # B- opening an entity that touches nothing of its type
            prev_prefix, prev_label = prefix, label
    return found


def detect_scheme(sequences: Sequence[Sequence[str]], source: str = "<memory>", first_lines: Sequence[int] = ()) -> str:
    """The scheme of some tag sequences; IOB2 when nothing tells them apart (e.g. all O).

    ``first_lines`` (the file line of each sequence's first word) lets errors name the line.

    >>> detect_scheme([["I-PER", "O", "I-LOC", "B-LOC"]])
    'IOB1'
    >>> detect_scheme([["S-PER", "O", "B-LOC", "E-LOC"]])
    'BIOES'
    """
    found = _first_evidence(sequences)
    if BIOES in found:
        # In BIOES an I- opening an entity is an error, so IOB1 evidence contradicts it.
        if IOB1 in found:
            raise _mixed(sequences, found, IOB1, BIOES, source, first_lines)
        return BIOES
    if IOB1 in found and IOB2 in found:
        raise _mixed(sequences, found, IOB1, IOB2, source, first_lines)
    return IOB1 if IOB1 in found else IOB2


def _mixed(sequences, found, a: str, b: str, source: str, first_lines: Sequence[int]) -> TagSchemeError:
    def where(scheme: str) -> str:
        s, w = found[scheme]
        tag = sequences[s][w]
        if first_lines:
            return f"line {first_lines[s] + w} ({tag!r})"
        return f"sentence {s + 1}, word {w + 1} ({tag!r})"

    return TagSchemeError(
        f"{source}: tags mix {a} ({where(a)}) and {b} ({where(b)}); "
        f"use one scheme per file (IOB2: every entity starts with B-)"
    )


def to_iob2(tags: Sequence[str], scheme: str) -> list[str]:
    """Convert one tag sequence from ``scheme`` to IOB2.

    >>> to_iob2(["I-PER", "I-PER", "B-PER", "O", "I-LOC"], "IOB1")
    ['B-PER', 'I-PER', 'B-PER', 'O', 'B-LOC']
    >>> to_iob2(["S-PER", "B-ORG", "I-ORG", "E-ORG"], "BIOES")
    ['B-PER', 'B-ORG', 'I-ORG', 'I-ORG']
    """
    if scheme not in SCHEMES:
        raise TagSchemeError(f"unknown tag scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
    out: list[str] = []
    prev_prefix, prev_label = "O", ""
    for tag in tags:
        prefix, label = _parts(tag)
        if prefix == "O":
            out.append("O")
        elif scheme == BIOES:
            out.append(f"B-{label}" if prefix in {"B", "S"} else f"I-{label}")
        elif prefix == "I" and (prev_prefix == "O" or prev_label != label):
            out.append(f"B-{label}")  # IOB1 (or a stray IOB2 I-) opening an entity
        else:
            out.append(tag)
        prev_prefix, prev_label = prefix, label
    return out


def corpus_to_iob2(corpus: Corpus, scheme: str = "auto") -> tuple[Corpus, str]:
    """The corpus with IOB2 tags, and the scheme it was in (detected when ``scheme="auto"``)."""
    sequences = [s.tags for s in corpus.sentences]
    if scheme == "auto":
        scheme = detect_scheme(sequences, corpus.name, [s.line for s in corpus.sentences])
    if scheme == IOB2:
        return corpus, scheme
    converted = [s.with_tags(to_iob2(s.tags, scheme)) for s in corpus.sentences]
    return Corpus(converted, corpus.name), scheme

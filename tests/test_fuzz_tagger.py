"""Adversarial text (tests/fuzz_corpus.py) through the Tagger and through the running app's API.

Every one of the corpus's texts goes through ``Tagger.tag_texts`` in batches (windows of many lengths
share each batch): no exception, and every entity is a half-open span inside its text whose ``text`` is
exactly ``text[start:end]``; with each other aggregation, a seeded sample with the big text in it. A
sample of them (the 200,000-character text included) then goes through the app's ``/tag`` REST route
on 127.0.0.1, and the app must still answer an ordinary request afterwards. Over-long input is refused
with a message that gives the limit, never cut silently.
"""

from __future__ import annotations

import copy
import json
import random
import time
import urllib.request

import pytest
from app_harness import TAG_SENTENCE, running_app
from fuzz_corpus import BIG_CHARS, FAMILIES, N_TEXTS, fuzz_corpus
from http_support import call

from ner_demo.app.tag_format import highlighted_text
from ner_demo.errors import InputTooLargeError
from ner_demo.inference import AGGREGATIONS, MAX_TEXT_CHARS, Tagger
from ner_demo.spans import split_words

BATCH = 100  # texts per predict_many call: the big text's windows and the small ones share batches
APP_SAMPLE = 50
AGGREGATION_SAMPLE = 300  # texts per aggregation besides the default, which runs the whole corpus


@pytest.fixture(scope="module")
def corpus() -> list[tuple[str, str]]:
    return fuzz_corpus()


@pytest.fixture(scope="module")
def tagger(trained_tiny_dir) -> Tagger:
    return Tagger.from_pretrained(str(trained_tiny_dir), batch_size=64)


def tagger_for(tagger: Tagger, aggregation: str) -> Tagger:
    """The module's tagger (one loaded model) with another aggregation."""
    other = copy.copy(tagger)
    other.aggregation = aggregation
    return other


def aggregation_sample(corpus: list[tuple[str, str]], aggregation: str) -> list[tuple[str, str]]:
    """The whole corpus for the default aggregation; for the others the fixed edge cases and the big text,
    then a seeded draw (the same for each, different from the app's), to keep the suite's time down."""
    if aggregation == "first":
        return corpus
    return corpus[:15] + random.Random(f"agg-{aggregation}").sample(corpus[15:], AGGREGATION_SAMPLE - 15)


def span_problems(text: str, entities) -> list[str]:
    """Every way the entities of ``text`` break the span contract (none, when all is well)."""
    problems = []
    for e in entities:
        if not (0 <= e.start < e.end <= len(text)):
            problems.append(f"[{e.start}, {e.end}) outside 0..{len(text)}")
        elif text[e.start : e.end] != e.text:
            problems.append(f"[{e.start}, {e.end}) is {text[e.start : e.end]!r}, entity says {e.text!r}")
    return problems


def test_the_corpus_is_seeded_and_covers_every_family(corpus):
    assert len(corpus) >= 1_000 and len(corpus) == N_TEXTS
    assert corpus == fuzz_corpus()  # same seed, same texts
    families = {family for family, _ in corpus}
    assert set(FAMILIES) <= families and "200,000 chars" in families
    assert max(len(text) for _, text in corpus) == BIG_CHARS
    texts = [text for _, text in corpus]
    for needle in ("\x00", "\u200d", "\ud800", "\u0301", "\u05d9", "\u0627", "\u6771", "\x1b"):
        assert any(needle in t for t in texts), f"no text contains {needle!r}"
    assert "" in texts and any(t and t.isspace() for t in texts)


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
def test_every_text_is_tagged_with_exact_spans(tagger, corpus, aggregation):
    tagger = tagger_for(tagger, aggregation)
    corpus = aggregation_sample(corpus, aggregation)
    texts = [text for _, text in corpus]
    started = time.perf_counter()
    crashes, bad_spans, n_entities = [], [], 0
    for first in range(0, len(texts), BATCH):
        batch = texts[first : first + BATCH]
        try:
            results = tagger.tag_texts(batch)
        except Exception as exc:  # noqa: BLE001 - the point is to name the text that broke it
            for k, text in enumerate(batch):  # find the culprit(s), one text at a time
                try:
                    tagger.predict(text)
                except Exception as one:  # noqa: BLE001
                    crashes.append(f"{corpus[first + k][0]} {text[:60]!r}: {type(one).__name__}: {one}")
            crashes = crashes or [f"batch at {first}: {type(exc).__name__}: {exc}"]
            continue
        assert len(results) == len(batch)
        for k, (text, result) in enumerate(zip(batch, results)):
            n_entities += len(result.entities)
            bad_spans += [f"{corpus[first + k][0]} {text[:40]!r}: {p}" for p in span_problems(text, result.entities)]
            assert all(isinstance(w, str) and w for w in result.warnings), result.warnings
    assert crashes == [], f"{len(crashes)} crash(es):\n" + "\n".join(crashes[:20])
    assert bad_spans == [], "\n".join(bad_spans[:20])
    assert n_entities > 1_000  # names sit beside the hostile characters: spans were really checked
    assert time.perf_counter() - started < 120  # ~5 s on 2 shared cores (the whole corpus)


def test_windows_of_the_fuzz_batches_differ_in_length(tagger, corpus):
    """What made average/max crash: a batch whose windows are padded to the longest."""
    batch = [[w.text for w in split_words(text)] for _, text in corpus[15:15 + BATCH]]
    assert len({len(w.input_ids) for w in tagger.plan(batch)}) > 10


def test_words_are_exact_ordered_and_never_blank(corpus):
    for family, text in corpus:
        end = 0
        for w in split_words(text):
            assert end <= w.start < w.end <= len(text) and text[w.start : w.end] == w.text, (family, w)
            assert not w.text.isspace(), (family, w)
            end = w.end


def test_entities_near_hostile_characters_keep_their_offsets(tagger):
    text = "\ud800\x00👩‍👩‍👧‍👦 John met Mary\u0301 in Paris \u202e東京 ."
    found = {(e.label, e.text) for e in tagger.predict(text)}
    assert ("PER", "John") in found and ("LOC", "Paris") in found
    assert not span_problems(text, tagger.predict(text))


def test_over_long_text_is_refused_never_cut(tagger):
    with pytest.raises(InputTooLargeError, match=r"text 2 has 1,000,001 characters; the limit is 1,000,000"):
        tagger.predict_many(["John met Mary .", "a" * (MAX_TEXT_CHARS + 1)])
    (tagged,) = tagger.tag_texts(["a" * MAX_TEXT_CHARS])  # exactly at the limit: tagged whole
    assert [(w.start, w.end) for w in tagged.words] == [(0, MAX_TEXT_CHARS)] and len(tagged.tags) == 1


# ---- through the app ------------------------------------------------------------------------------


def as_sent(text: str) -> str:
    """The text as the server reads it: JSON has no way to send a lone high surrogate followed by a
    lone low one (``"\\ud83d\\ude00"`` *is* the pair, one code point), so offsets are checked on this."""
    return json.loads(json.dumps(text))


def app_sample(corpus: list[tuple[str, str]], n: int = APP_SAMPLE, seed: int = 7) -> list[tuple[str, str]]:
    """The fixed edge cases and the big text, then a seeded draw from the rest."""
    head = corpus[:15]
    return head + random.Random(seed).sample(corpus[15:], n - len(head))


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, trained_tiny_dir):
    with running_app(tmp_path_factory.mktemp("fuzz_app"), str(trained_tiny_dir), None) as url:
        yield url


def test_app_tags_adversarial_texts_and_keeps_answering(app_url, corpus):
    sample = app_sample(corpus)
    assert any(len(text) == BIG_CHARS for _, text in sample)
    failures = []
    for family, text in sample:
        text = as_sent(text)
        event, outputs = call(app_url, "tag", [text, "(default)", "first", 0.0])
        if not text.strip():  # nothing to tag: a clear error, not "0 entities in 0 words"
            if event != "error" or "no text to tag" not in outputs["error"]:
                failures.append(f"{family} {text[:40]!r}: {event} {str(outputs)[:200]}")
            continue
        if event != "complete":
            failures.append(f"{family} {text[:40]!r}: {event} {outputs}")
            continue
        highlight, table, latency, json_file, _ = outputs
        if highlighted_text(highlight) != text:  # the drawn text, entity labels left out
            failures.append(f"{family} {text[:40]!r}: the highlights do not spell the text")
        for entity_text, _, start, end, _ in table["data"]:
            if not (0 <= start < end <= len(text) and text[start:end] == entity_text):
                failures.append(f"{family} {text[:40]!r}: row [{start}, {end}) {entity_text!r}")
        if len(text) == BIG_CHARS or "\ud800" in text:  # the download holds the text exactly, surrogates too
            with urllib.request.urlopen(json_file["url"], timeout=30) as response:
                saved = json.loads(response.read().decode("utf-8"))
            if saved["text"] != text:
                failures.append(f"{family} {text[:40]!r}: entities.json does not hold the text")
    assert failures == [], "\n".join(failures[:20])
    event, outputs = call(app_url, "tag", [TAG_SENTENCE, "(default)", "first", 0.0])
    assert event == "complete" and ["John", "PER", 0, 4] in [row[:4] for row in outputs[1]["data"]]


def test_app_decoding_view_survives_hostile_text(app_url, corpus):
    for _, text in corpus[:15]:
        event, outputs = call(app_url, "decode", [text, "(default)", "first"])
        assert event == ("complete" if text.strip() else "error"), (text[:40], outputs)


def test_app_refuses_over_long_text_with_the_limit(app_url):
    event, outputs = call(app_url, "tag", ["a" * (MAX_TEXT_CHARS + 1), "(default)", "first", 0.0])
    assert event == "error" and "the limit is 1,000,000" in outputs["error"]
    event, _ = call(app_url, "tag", [TAG_SENTENCE, "(default)", "first", 0.0])
    assert event == "complete"

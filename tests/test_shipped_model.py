"""The model shipped in the repository loads offline and finds the obvious entities."""

import json

import pytest

from ner_demo.inference import Tagger
from ner_demo.models import SHIPPED_MODEL, default_model


@pytest.fixture(scope="module")
def tagger():
    return Tagger.from_pretrained(str(SHIPPED_MODEL), precision="fp32")


def test_default_model_is_the_shipped_folder(monkeypatch):
    monkeypatch.delenv("NER_DEMO_MODEL", raising=False)
    assert default_model() == str(SHIPPED_MODEL)


def test_shipped_folder_is_small_and_says_how_it_loads():
    size = sum(p.stat().st_size for p in SHIPPED_MODEL.iterdir())
    features = json.loads((SHIPPED_MODEL / "ner_demo.json").read_text())["input_features"]
    assert size < 50_000_000 and features["casing"] is True


def test_finds_people_places_and_organisations(tagger):
    text = "Angela Merkel met Emmanuel Macron in Paris, and Siemens said it would cut jobs in Germany."
    found = {(e.label, e.text) for e in tagger.predict(text)}
    assert {("PER", "Angela Merkel"), ("PER", "Emmanuel Macron"), ("LOC", "Paris"), ("ORG", "Siemens"),
            ("LOC", "Germany")} <= found


def test_casing_matters_to_the_uncased_encoder(tagger):
    assert [(e.label, e.text) for e in tagger.predict("Rain fell on London.")] == [("LOC", "London")]


def test_reads_the_neighbouring_sentences_of_a_document(tagger):
    assert tagger.features.context_words == 64
    windows = tagger.plan([["Rain", "fell", ".", "London", "wins", "."]], [[(0, 3), (3, 6)]])
    assert [len(w.input_ids) for w in windows] == [8, 8]  # [CLS] + six words + [SEP]: each sentence sees the other

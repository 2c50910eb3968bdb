"""The models shipped in the repository load offline and find the obvious entities."""

import json

import pytest

from ner_demo.inference import Tagger
from ner_demo.models import SHIPPED_MODEL, default_model, other_shipped_models

FAST_MODEL = SHIPPED_MODEL.parent / "minilm3-conll2003-fast"
SHIPPED = [SHIPPED_MODEL, FAST_MODEL]


@pytest.fixture(scope="module", params=SHIPPED, ids=lambda p: p.name)
def folder_and_tagger(request):
    return request.param, Tagger.from_pretrained(str(request.param), precision="fp32")


def test_default_model_is_the_shipped_folder(monkeypatch):
    monkeypatch.delenv("NER_DEMO_MODEL", raising=False)
    assert default_model() == str(SHIPPED_MODEL)


def test_the_fast_model_is_the_other_shipped_model():
    assert other_shipped_models() == [FAST_MODEL]


@pytest.mark.parametrize("folder", SHIPPED, ids=lambda p: p.name)
def test_shipped_folder_is_small_and_says_how_it_loads(folder):
    size = sum(p.stat().st_size for p in folder.iterdir())
    features = json.loads((folder / "ner_demo.json").read_text())["input_features"]
    assert size < 50_000_000 and features["casing"] is True


def test_finds_people_places_and_organisations(folder_and_tagger):
    _, tagger = folder_and_tagger
    text = "Angela Merkel met Emmanuel Macron in Paris, and Siemens said it would cut jobs in Germany."
    found = {(e.label, e.text) for e in tagger.predict(text)}
    assert {("PER", "Angela Merkel"), ("PER", "Emmanuel Macron"), ("LOC", "Paris"), ("ORG", "Siemens"),
            ("LOC", "Germany")} <= found


def test_casing_matters_to_the_uncased_encoder(folder_and_tagger):
    _, tagger = folder_and_tagger
    assert [(e.label, e.text) for e in tagger.predict("Rain fell on London.")] == [("LOC", "London")]


def test_reads_the_neighbouring_sentences_of_a_document(folder_and_tagger):
    _, tagger = folder_and_tagger
    assert tagger.features.context_words == 64
    windows = tagger.plan([["Rain", "fell", ".", "London", "wins", "."]], [[(0, 3), (3, 6)]])
    assert [len(w.input_ids) for w in windows] == [8, 8]  # [CLS] + six words + [SEP]: each sentence sees the other


def test_the_fast_model_runs_half_the_encoder():
    tagger = Tagger.from_pretrained(str(FAST_MODEL), precision="fp32")
    assert tagger.model.config.num_hidden_layers == 3

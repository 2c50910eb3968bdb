"""The models shipped in the repository load offline and find the obvious entities."""

import json

import pytest

from ner_demo.errors import ModelLoadError
from ner_demo.inference import Tagger
from ner_demo.models import CHECKOUT_MODELS, default_model, other_shipped_models, shipped_model_dir

DEFAULT_MODEL = CHECKOUT_MODELS / "minilm-conll2003"
FAST_MODEL = CHECKOUT_MODELS / "minilm3-conll2003-fast"
SHIPPED = [DEFAULT_MODEL, FAST_MODEL]


@pytest.fixture(scope="module", params=SHIPPED, ids=lambda p: p.name)
def folder_and_tagger(request):
    return request.param, Tagger.from_pretrained(str(request.param), precision="fp32")


@pytest.fixture()
def no_model_variables(monkeypatch):
    monkeypatch.delenv("NER_DEMO_MODEL", raising=False)
    monkeypatch.delenv("NER_DEMO_MODELS", raising=False)


def _fake_models(home, *names):
    for name in names:
        (home / name).mkdir(parents=True)
        (home / name / "config.json").write_text("{}", encoding="utf-8")
    return home


def test_default_model_is_the_shipped_folder(no_model_variables):
    assert default_model() == str(DEFAULT_MODEL)


def test_the_fast_model_is_the_other_shipped_model(no_model_variables):
    assert other_shipped_models() == [FAST_MODEL]


def test_shipped_models_are_found_by_name(no_model_variables):
    assert shipped_model_dir("minilm3-conll2003-fast") == FAST_MODEL


def test_the_models_variable_is_looked_in_before_the_checkout(no_model_variables, monkeypatch, tmp_path):
    home = _fake_models(tmp_path / "models", "minilm-conll2003", "mine")
    monkeypatch.setenv("NER_DEMO_MODELS", str(home))
    assert shipped_model_dir() == home / "minilm-conll2003"
    assert other_shipped_models() == [home / "mine", FAST_MODEL]  # the checkout's still count


def test_a_shipped_model_missing_everywhere_names_where_it_was_looked_for(no_model_variables, monkeypatch, tmp_path):
    monkeypatch.setenv("NER_DEMO_MODELS", str(tmp_path / "elsewhere"))
    with pytest.raises(ModelLoadError) as caught:
        shipped_model_dir("no-such-model")
    message = str(caught.value)
    assert "no shipped model 'no-such-model'" in message
    assert str(tmp_path / "elsewhere") in message and str(CHECKOUT_MODELS) in message
    assert "set NER_DEMO_MODELS" in message


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

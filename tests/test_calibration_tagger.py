"""A model's temperature and per-type thresholds in ner_demo.json, applied by the Tagger on every backend;
the calibrate command; the prediction cache. On copies of the tiny trained model (never models/)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from ner_demo.cli import main
from ner_demo.data.conll import Corpus, Sentence
from ner_demo.encoding import FEATURES_FILE, InputFeatures, save_calibration
from ner_demo.errors import ConfigError
from ner_demo.evaluation.cache import PredictionCache
from ner_demo.evaluation.model_eval import predict_corpus
from ner_demo.inference import Tagger

WORDS = [["John", "lives", "in", "Paris"], ["Mary", "works", "for", "Acme", "Corp", "."]]
TEXT = "John lives in Paris and Mary works for Acme Corp ."


@pytest.fixture
def model_copy(trained_tiny_dir, tmp_path):
    return shutil.copytree(trained_tiny_dir, tmp_path / "model")


def _corpus():
    return Corpus([Sentence(tuple(w), tuple(t)) for w, t in [
        (WORDS[0], ["B-PER", "O", "O", "B-LOC"]), (WORDS[1], ["B-PER", "O", "O", "B-ORG", "I-ORG", "O"])]])


def test_old_ner_demo_json_without_calibration_loads_uncalibrated(model_copy):
    path = model_copy / FEATURES_FILE
    data = json.loads(path.read_text())
    data["input_features"].pop("temperature", None)
    data["input_features"].pop("thresholds", None)
    path.write_text(json.dumps(data))
    features = InputFeatures.load(model_copy)
    assert (features.temperature, features.thresholds) == (1.0, {})


def test_save_calibration_keeps_the_rest_of_ner_demo_json(model_copy):
    before = json.loads((model_copy / FEATURES_FILE).read_text())
    save_calibration(model_copy, temperature=1.5, thresholds={"PER": 0.4})
    after = json.loads((model_copy / FEATURES_FILE).read_text())
    assert after["input_features"]["temperature"] == 1.5 and after["input_features"]["thresholds"] == {"PER": 0.4}
    assert {k: v for k, v in after["input_features"].items() if k not in ("temperature", "thresholds")} == {
        k: v for k, v in before["input_features"].items() if k not in ("temperature", "thresholds")}
    assert not [p.name for p in model_copy.iterdir() if p.name.startswith(".")]  # no staging file left


def test_a_bad_temperature_in_ner_demo_json_names_the_file(model_copy):
    path = model_copy / FEATURES_FILE
    data = json.loads(path.read_text())
    data["input_features"]["temperature"] = 0
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=r"ner_demo.json: temperature must be a number above 0, got 0"):
        InputFeatures.load(model_copy)


def test_a_threshold_above_one_is_refused(model_copy):
    with pytest.raises(ConfigError, match="threshold of 'PER' must be a number between 0 and 1, got 2"):
        save_calibration(model_copy, thresholds={"PER": 2})


def test_saved_temperature_changes_the_scores_not_the_tags(model_copy):
    plain = Tagger.from_pretrained(str(model_copy), backend="torch-fp32").predict_words_scored(WORDS)
    save_calibration(model_copy, temperature=3.0)
    tagger = Tagger.from_pretrained(str(model_copy), backend="torch-fp32")
    hot = tagger.predict_words_scored(WORDS)
    assert tagger.temperature == 3.0 and "temperature=3" in tagger.describe()
    assert [p.tags for p in hot] == [p.tags for p in plain]
    assert all(h < p for a, b in zip(hot, plain) for h, p in zip(a.scores, b.scores) if p > 0.5)


def test_an_explicit_temperature_overrides_the_saved_one(model_copy):
    plain = Tagger.from_pretrained(str(model_copy), backend="torch-fp32").predict_words_scored(WORDS)
    save_calibration(model_copy, temperature=3.0)
    again = Tagger.from_pretrained(str(model_copy), backend="torch-fp32", temperature=1.0).predict_words_scored(WORDS)
    assert [p.scores for p in again] == [p.scores for p in plain]


def test_onnx_backend_applies_the_temperature_like_torch(model_copy, tmp_path):
    pytest.importorskip("onnxruntime")
    from ner_demo.export import export_onnx

    save_calibration(model_copy, temperature=2.5)
    onnx_dir = export_onnx(model_copy, tmp_path / "onnx")
    onnx = Tagger.from_pretrained(str(onnx_dir), backend="onnx-fp32")
    torch = Tagger.from_pretrained(str(model_copy), backend="torch-fp32")
    assert onnx.temperature == 2.5  # the export carries the model's ner_demo.json
    for a, b in zip(torch.predict_words_scored(WORDS), onnx.predict_words_scored(WORDS)):
        assert a.tags == b.tags
        np.testing.assert_allclose(a.scores, b.scores, atol=1e-4)


def test_saved_per_type_thresholds_change_what_predict_returns(model_copy):
    before = Tagger.from_pretrained(str(model_copy), backend="torch-fp32").predict(TEXT)
    assert "PER" in {e.label for e in before}
    save_calibration(model_copy, thresholds={"PER": 1.0})  # no PER scores a full 1.0
    tagger = Tagger.from_pretrained(str(model_copy), backend="torch-fp32")
    after = tagger.predict(TEXT)
    assert [e for e in before if e.label != "PER"] == after
    assert "thresholds=PER:1" in tagger.describe()


def test_an_explicit_threshold_overrides_the_saved_ones(model_copy):
    before = Tagger.from_pretrained(str(model_copy), backend="torch-fp32").predict(TEXT)
    save_calibration(model_copy, thresholds={"PER": 1.0})
    assert Tagger.from_pretrained(str(model_copy), backend="torch-fp32").predict(TEXT, threshold=0.0) == before


def test_thresholds_turn_the_dropped_entities_words_into_o(model_copy):
    save_calibration(model_copy, thresholds={"PER": 1.0})
    tags = Tagger.from_pretrained(str(model_copy), backend="torch-fp32").predict_words(WORDS)
    assert tags[0][0] == "O" and tags[1][0] == "O" and tags[0][3] == "B-LOC"


# ---- the prediction cache ------------------------------------------------------------------------------


class _Counting:
    """Counts the backend's forward passes."""

    def __init__(self, backend):
        self.backend, self.calls = backend, 0

    def __call__(self, *arrays):
        self.calls += 1
        return self.backend(*arrays)

    def __getattr__(self, name):
        return getattr(self.backend, name)


def _counting_tagger(folder, **kwargs):
    tagger = Tagger.from_pretrained(str(folder), backend="torch-fp32", **kwargs)
    tagger.backend = _Counting(tagger.backend)
    return tagger


def test_a_second_evaluation_does_not_run_the_model(trained_tiny_dir):
    cache = PredictionCache()
    tagger = _counting_tagger(trained_tiny_dir)
    first = predict_corpus(tagger, _corpus(), cache=cache)
    calls = tagger.backend.calls
    assert calls > 0
    assert predict_corpus(tagger, _corpus(), cache=cache) == first
    assert (tagger.backend.calls, cache.hits, cache.misses) == (calls, 1, 1)


def test_the_cache_rescores_other_thresholds_without_tagging(trained_tiny_dir):
    cache = PredictionCache()
    tagger = _counting_tagger(trained_tiny_dir)
    predict_corpus(tagger, _corpus(), cache=cache)
    calls = tagger.backend.calls
    tags = predict_corpus(tagger, _corpus(), cache=cache, thresholds={"PER": 1.0})
    assert tagger.backend.calls == calls and tags[0][0] == "O"


@pytest.mark.parametrize("setting", [{"aggregation": "max"}, {"context_words": 0}, {"temperature": 2.0}])
def test_a_changed_setting_misses_the_cache(trained_tiny_dir, setting):
    cache = PredictionCache()
    predict_corpus(_counting_tagger(trained_tiny_dir, context_words=3), _corpus(), cache=cache)
    other = _counting_tagger(trained_tiny_dir, **{"context_words": 3, **setting})
    predict_corpus(other, _corpus(), cache=cache)
    assert other.backend.calls > 0 and cache.misses == 2


def test_another_backend_misses_the_cache(trained_tiny_dir):
    cache = PredictionCache()
    predict_corpus(Tagger.from_pretrained(str(trained_tiny_dir), backend="torch-fp32"), _corpus(), cache=cache)
    predict_corpus(Tagger.from_pretrained(str(trained_tiny_dir), backend="torch-int8"), _corpus(), cache=cache)
    assert (cache.hits, cache.misses) == (0, 2)


def test_changed_words_miss_the_cache(trained_tiny_dir):
    cache = PredictionCache()
    tagger = _counting_tagger(trained_tiny_dir)
    predict_corpus(tagger, _corpus(), cache=cache)
    other = Corpus([Sentence(("Mary", "lives"), ("B-PER", "O"))])
    predict_corpus(tagger, other, cache=cache)
    assert cache.misses == 2


def test_the_lru_keeps_only_its_last_entries():
    cache = PredictionCache(max_entries=2)
    for key in "abc":
        cache.put(key, [np.zeros((1, 2), dtype=np.float32)])
    assert cache.get("a") is None and cache.get("c") is not None and len(cache) == 2


def test_the_disk_cache_serves_a_new_process(trained_tiny_dir, tmp_path):
    predict_corpus(Tagger.from_pretrained(str(trained_tiny_dir), backend="torch-fp32"), _corpus(),
                   cache=PredictionCache(folder=tmp_path / "cache"))
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1
    assert not list((tmp_path / "cache").glob(".*"))  # no staging file left
    fresh = PredictionCache(folder=tmp_path / "cache")  # as a new process would make it
    tagger = _counting_tagger(trained_tiny_dir)
    predict_corpus(tagger, _corpus(), cache=fresh)
    assert (tagger.backend.calls, fresh.hits) == (0, 1)


def test_a_damaged_disk_entry_is_tagged_again(trained_tiny_dir, tmp_path):
    folder = tmp_path / "cache"
    tagger = Tagger.from_pretrained(str(trained_tiny_dir), backend="torch-fp32")
    first = predict_corpus(tagger, _corpus(), cache=PredictionCache(folder=folder))
    next(folder.glob("*.npz")).write_bytes(b"not a zip")
    assert predict_corpus(tagger, _corpus(), cache=PredictionCache(folder=folder)) == first


# ---- the calibrate command ------------------------------------------------------------------------------


def _splits(folder):
    folder.mkdir()
    text = ("-DOCSTART- O\n\nJohn B-PER\nlives O\nin O\nParis B-LOC\n\n-DOCSTART- O\n\n"
            "Mary B-PER\nworks O\nfor O\nAcme B-ORG\nCorp I-ORG\n. O\n")
    for split in ("train", "dev", "test"):
        (folder / f"{split}.conll").write_text(text, encoding="utf-8")
    return folder


def test_calibrate_prints_ece_before_and_after_and_keeps_the_argmax(capsys, model_copy, tmp_path):
    data = _splits(tmp_path / "data")
    code = main(["calibrate", "--model", str(model_copy), "--precision", "fp32", "--data", str(data), "--test"])
    out = capsys.readouterr().out
    assert code == 0 and "temperature: " in out and "(fitted; 1 = uncalibrated)" in out
    assert "dev: expected calibration error (entities, strict), before -> after" in out
    assert "test: expected calibration error" in out and "argmax entities unchanged" in out
    assert InputFeatures.load(model_copy).temperature == 1.0  # nothing written without --write


def test_calibrate_write_saves_temperature_and_thresholds(capsys, model_copy, tmp_path):
    data = _splits(tmp_path / "data")
    code = main(["calibrate", "--model", str(model_copy), "--precision", "fp32", "--data", str(data),
                 "--thresholds", "f1", "--write", "--json"])
    result = json.loads(capsys.readouterr().out)
    features = InputFeatures.load(model_copy)
    assert code == 0 and result["written"] == FEATURES_FILE
    assert features.temperature == pytest.approx(result["temperature"])
    assert features.thresholds == result["thresholds"] and set(features.thresholds) == {"LOC", "ORG", "PER"}
    assert len(result["threshold_curves"]["PER"]["f1"]) == 101


def test_calibrate_write_without_a_model_folder_is_a_usage_error(capsys):
    assert main(["calibrate", "--write"]) == 2
    assert "--write needs --model" in capsys.readouterr().err


def test_per_type_temperatures_keep_the_tags_and_temper_only_their_type(model_copy):
    plain = Tagger.from_pretrained(str(model_copy), backend="torch-fp32").predict_words_scored(WORDS)
    save_calibration(model_copy, type_temperatures={"PER": 4.0})
    hot = Tagger.from_pretrained(str(model_copy), backend="torch-fp32").predict_words_scored(WORDS)
    assert [p.tags for p in hot] == [p.tags for p in plain]
    for a, b in zip(plain, hot):
        for tag, before, after in zip(a.tags, a.scores, b.scores):
            assert (after < before) if tag.endswith("PER") else after == pytest.approx(before, abs=1e-6)


def test_calibrate_per_type_writes_type_temperatures(capsys, model_copy, tmp_path):
    data = _splits(tmp_path / "data")
    code = main(["calibrate", "--model", str(model_copy), "--precision", "fp32", "--data", str(data),
                 "--per-type", "--write", "--json"])
    result = json.loads(capsys.readouterr().out)
    # 12 words of dev: fewer than 100 predicted as any type, so none gets its own temperature
    assert code == 0 and result["type_temperatures"] == {} and InputFeatures.load(model_copy).type_temperatures == {}


def test_evaluate_cache_keeps_predictions_on_disk_and_reuses_them(capsys, trained_tiny_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("NER_DEMO_HOME", str(tmp_path / "home"))
    data = _splits(tmp_path / "data")
    argv = ["evaluate", "--model", str(trained_tiny_dir), "--precision", "fp32", "--data", str(data),
            "--bootstrap", "0", "--cache"]
    assert main(argv) == 0
    first = capsys.readouterr().out
    entries = list((tmp_path / "home" / "cache" / "predictions").glob("*.npz"))
    assert len(entries) == 1
    stamp = entries[0].stat().st_mtime_ns
    assert main(argv) == 0 and capsys.readouterr().out == first
    assert entries[0].stat().st_mtime_ns == stamp  # read, not written again


def test_calibrate_on_refuses_a_tagger_that_is_already_calibrated(trained_tiny_dir):
    from ner_demo.evaluation.model_calibration import calibrate_on

    tagger = Tagger.from_pretrained(str(trained_tiny_dir), backend="torch-fp32", temperature=2.0)
    with pytest.raises(ConfigError, match="needs the Tagger at temperature 1 with no thresholds"):
        calibrate_on(tagger, _corpus())


def test_evaluate_prints_the_expected_calibration_error(capsys, trained_tiny_dir, tmp_path):
    data = _splits(tmp_path / "data")
    assert main(["evaluate", "--model", str(trained_tiny_dir), "--precision", "fp32", "--data", str(data),
                 "--bootstrap", "0"]) == 0
    out = capsys.readouterr().out
    assert "expected calibration error (entities, strict, temperature 1): " in out
    assert "over 4 predicted entities" in out


def test_weights_changed_in_place_miss_the_cache(trained_tiny_dir):
    import torch

    cache = PredictionCache()
    tagger = _counting_tagger(trained_tiny_dir)
    predict_corpus(tagger, _corpus(), cache=cache)
    with torch.no_grad():
        next(tagger.source_model.parameters()).add_(0.01)  # as a training step would
    predict_corpus(tagger, _corpus(), cache=cache)
    assert cache.misses == 2


def test_calibrate_no_temperature_chooses_thresholds_at_the_models_own(capsys, model_copy, tmp_path):
    data = _splits(tmp_path / "data")
    save_calibration(model_copy, temperature=2.0)
    code = main(["calibrate", "--model", str(model_copy), "--precision", "fp32", "--data", str(data),
                 "--no-temperature", "--thresholds", "f1", "--write", "--json"])
    result = json.loads(capsys.readouterr().out)
    features = InputFeatures.load(model_copy)
    assert code == 0 and (result["temperature"], result["fitted"]) == (2.0, False)
    assert features.temperature == 2.0 and features.thresholds == result["thresholds"]


def test_an_explicit_threshold_outside_zero_to_one_is_refused(trained_tiny_dir):
    tagger = Tagger.from_pretrained(str(trained_tiny_dir), backend="torch-fp32")
    with pytest.raises(ConfigError, match="threshold must be between 0 and 1, got 1.5"):
        tagger.predict(TEXT, threshold=1.5)

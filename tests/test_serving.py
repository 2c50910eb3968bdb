"""The model's own serving backend (ner_demo.json), how it is chosen, and the ONNX backend it may name."""

import json
import shutil

import pytest

from conftest import synthetic_sentences

from ner_demo.backends import OnnxBackend
from ner_demo.data.conll import Sentence, write_conll
from ner_demo.export import cached_export, export_onnx
from ner_demo.inference import Tagger
from ner_demo.models import load_onnx_model, load_trained
from ner_demo.serving import choose_backend, choose_default, pick_fastest, record_backend


@pytest.fixture(scope="module")
def int8_model_dir(trained_tiny_dir, tmp_path_factory):
    """The trained tiny model, its ner_demo.json naming onnx-int8 as its backend."""
    folder = tmp_path_factory.mktemp("serving") / "model"
    shutil.copytree(trained_tiny_dir, folder)
    record_backend(folder, {"backend": "onnx-int8"})
    return folder


def test_the_models_own_backend_serves_by_default(int8_model_dir):
    assert Tagger.from_pretrained(str(int8_model_dir)).backend_name == "onnx-int8"


def test_an_explicit_precision_wins_over_the_models_backend(int8_model_dir):
    assert Tagger.from_pretrained(str(int8_model_dir), precision="fp32").backend_name == "torch-fp32"


def test_the_onnx_backend_finds_what_pytorch_finds(int8_model_dir):
    text = "John lives in Paris ."
    onnx = [(e.label, e.text) for e in Tagger.from_pretrained(str(int8_model_dir)).predict(text)]
    torch = [(e.label, e.text) for e in Tagger.from_pretrained(str(int8_model_dir), precision="fp32").predict(text)]
    assert onnx == torch == [("PER", "John"), ("LOC", "Paris")]


def test_pick_fastest_ignores_a_faster_backend_that_loses_f1():
    measured = {"torch-fp32": {"strict_f1": 0.9000, "words_per_s": 5000},
                "torch-int8": {"strict_f1": 0.8900, "words_per_s": 10000},
                "onnx-fp32": {"strict_f1": 0.9000, "words_per_s": 5500}}
    assert pick_fastest(measured, tolerance=0.003) == "onnx-fp32"


def test_choose_backend_measures_every_candidate_and_records_the_choice(int8_model_dir, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(int8_model_dir, folder)
    choice = choose_backend(folder, "tests/data/dev_tiny.conll", candidates=("onnx-int8", "torch-int8"), tolerance=1.0)
    assert sorted(choice["measured"]) == ["onnx-int8", "torch-fp32", "torch-int8"]
    record_backend(folder, choice)
    saved = json.loads((folder / "ner_demo.json").read_text())
    assert saved["input_features"]["backend"] == choice["backend"] and saved["input_features"]["casing"] is False


def test_batches_run_at_once_give_the_same_tags_in_the_same_order(int8_model_dir):
    model, tokenizer, features = load_trained(str(int8_model_dir))
    onnx_model = load_onnx_model(cached_export(model, tokenizer), model.config)
    sentences = [["John", "lives", "in", "Paris", "."], ["Mary", "met", "Li"], ["Acme", "Corp", "in", "Lima"]] * 3
    tags = {}
    for parallel in (1, 2):
        tagger = Tagger(model, tokenizer, features, backend="onnx-int8", batch_size=1)
        tagger.backend = OnnxBackend(onnx_model, "onnx-int8", threads=1, parallel=parallel)
        tags[parallel] = tagger.predict_words(sentences)
    assert tags[2] == tags[1] and tags[1][0] == ["B-PER", "O", "O", "B-LOC", "O"]


@pytest.fixture(scope="module")
def onnx_dir(trained_tiny_dir, tmp_path_factory):
    return export_onnx(trained_tiny_dir, tmp_path_factory.mktemp("export") / "onnx", quantize="int8")


@pytest.fixture()
def dev_file(tmp_path):
    path = tmp_path / "dev.conll"
    write_conll([Sentence(tuple(w), tuple(t)) for w, t in synthetic_sentences(40, seed=5)], path)
    return path


@pytest.mark.parametrize(("tolerance", "default"), [(1.0, "onnx-int8"), (-1.0, "onnx-fp32")])
def test_int8_stays_the_default_only_within_the_f1_tolerance(onnx_dir, dev_file, tmp_path, tolerance, default):
    folder = shutil.copytree(onnx_dir, tmp_path / "copy")
    check = choose_default(folder, str(dev_file), "dev", tolerance=tolerance)
    assert set(check["strict_f1"]) == {"onnx-fp32", "onnx-int8"} and check["strict_f1"]["onnx-fp32"] > 0.8
    assert Tagger.from_pretrained(str(folder)).backend_name == default

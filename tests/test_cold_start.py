"""Serving a model folder from its cached ONNX export: no torch, no transformers, the same entities."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import LABELS
from tiny_models import build_tiny_model

from ner_demo.encoding import InputFeatures
from ner_demo.errors import ModelLoadError
from ner_demo.export import cached_export, find_folder_export
from ner_demo.fast_tokenizer import FileTokenizer
from ner_demo.inference import Tagger, load_for_serving
from ner_demo.models import OnnxModel, load_trained

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "transformers")
TEXTS = ["John lives in Paris .", "Mary met Pedro at Acme Corp in Lagos today .", "Angela Merkel visited Paris."]


def _served_copy(source: Path, dest: Path) -> Path:
    """A copy of a trained model folder whose ner_demo.json names onnx-int8, as the shipped models' do."""
    shutil.copytree(source, dest)
    InputFeatures(backend="onnx-int8").save(dest)
    return dest


@pytest.fixture(scope="module")
def served_dir(trained_tiny_dir, tmp_path_factory):
    """A served folder whose export is cached and indexed (the first load does both)."""
    folder = _served_copy(trained_tiny_dir, tmp_path_factory.mktemp("served") / "model")
    load_for_serving(str(folder))
    return folder


def _imported_top_level(importtime_stderr: str) -> set[str]:
    """The top-level package of every module a ``-X importtime`` run imported."""
    lines = [line for line in importtime_stderr.splitlines() if line.startswith("import time:")]
    return {line.rsplit("|", 1)[1].strip().split(".")[0] for line in lines[1:]}  # [0] is the header


def test_a_served_folder_loads_as_its_graph_with_the_folders_labels_and_tokenizer(served_dir):
    model, tokenizer, features = load_for_serving(str(served_dir))
    assert isinstance(model, OnnxModel) and isinstance(tokenizer, FileTokenizer)
    assert (model.config.id2label, features.backend) == (dict(enumerate(LABELS.names)), "onnx-int8")


def test_the_graph_served_without_torch_tags_as_the_pytorch_model_on_its_export_does(served_dir):
    fast = Tagger.from_pretrained(str(served_dir))
    slow = Tagger(*load_trained(str(served_dir)))  # the PyTorch model, run on the cached graph as before
    assert (fast.backend_name, slow.backend_name) == ("onnx-int8", "onnx-int8")
    assert [[e.to_dict() for e in t.entities] for t in fast.tag_texts(TEXTS)] == \
           [[e.to_dict() for e in t.entities] for t in slow.tag_texts(TEXTS)]


def test_predict_in_a_process_imports_neither_torch_nor_transformers(served_dir):
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "ner_demo", "predict", "--model", str(served_dir),
                           "Angela Merkel visited Paris."], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    imported = _imported_top_level(done.stderr)
    assert "onnxruntime" in imported and "tokenizers" in imported  # the run did read a graph and a tokenizer
    assert imported & set(HEAVY) == set()


def test_predict_of_standard_input_in_a_process_imports_neither_torch_nor_transformers(served_dir):
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "ner_demo", "predict", "--model", str(served_dir),
                           "-", "--lines"], input="John lives in Paris .\nMary\n", capture_output=True, text=True,
                          timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    assert [line for line in done.stdout.splitlines() if line.startswith("#")] == ["# stdin line 1", "# stdin line 2"]
    assert _imported_top_level(done.stderr) & set(HEAVY) == set()


_APP_SCRIPT = """
import json, sys
import ner_demo.app as app
from ner_demo.app import tag
from ner_demo.app.model_cache import DEFAULT_CHOICE

app.build()
app.warm_up()
answers = tag.entities(["John lives in Paris .", "Mary met Pedro ."])  # what /entities runs
tag.tag("Li works for Reuters .", DEFAULT_CHOICE, "first", 0.0)  # the Tag tab's button on the default model
print(json.dumps({"answers": len(answers[0]), "heavy": sorted(m for m in sys.modules if m.split(".")[0] in {heavy})}))
"""


def test_the_app_process_serving_an_onnx_model_holds_no_torch_after_tagging(served_dir, tmp_path):
    env = {**os.environ, "NER_DEMO_MODEL": str(served_dir), "NER_DEMO_RUNS": str(tmp_path / "runs"),
           "GRADIO_ANALYTICS_ENABLED": "False"}
    done = subprocess.run([sys.executable, "-c", _APP_SCRIPT.replace("{heavy}", repr(set(HEAVY)))], env=env,
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"answers": 2, "heavy": []}


def test_a_request_for_a_torch_backend_still_loads_the_pytorch_model(served_dir):
    assert Tagger.from_pretrained(str(served_dir), backend="torch-fp32").backend_name == "torch-fp32"


def test_int8_precision_still_means_torch_int8_for_a_model_folder(served_dir):
    assert Tagger.from_pretrained(str(served_dir), precision="int8").backend_name == "torch-int8"


def test_an_export_cached_before_the_index_is_found_with_the_reason_logged(trained_tiny_dir, tmp_path, monkeypatch,
                                                                              caplog):
    monkeypatch.setenv("NER_DEMO_EXPORTS", str(tmp_path / "exports"))
    folder = _served_copy(trained_tiny_dir, tmp_path / "model")
    model, tokenizer, _ = load_trained(str(folder))
    old = cached_export(model, tokenizer, log=lambda _: None)  # the cache as it was: entries, no index
    with caplog.at_level(logging.WARNING, logger="ner_demo.inference"):
        loaded, _, _ = load_for_serving(str(folder))
    assert "finding or making its ONNX export in a child process" in caplog.text and "indexed" in caplog.text
    assert loaded.folder == old and find_folder_export(folder) == (old, "")
    assert sorted(p.name for p in (tmp_path / "exports").iterdir()) == sorted([old.name, "by-folder"])  # no new export


def test_a_folder_whose_weights_changed_is_not_served_its_old_graph(trained_tiny_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("NER_DEMO_EXPORTS", str(tmp_path / "exports"))
    folder = _served_copy(trained_tiny_dir, tmp_path / "model")
    first, _, _ = load_for_serving(str(folder))
    build_tiny_model(folder, LABELS, ["John"], arch="bert", seed=5)  # retrained in place: new weights
    InputFeatures(backend="onnx-int8").save(folder)
    export, reason = find_folder_export(folder)
    assert export is None and "changed weights" in reason
    assert load_for_serving(str(folder))[0].folder != first.folder


def test_the_first_load_leaves_this_process_without_torch(trained_tiny_dir, tmp_path):
    folder = _served_copy(trained_tiny_dir, tmp_path / "model")  # nothing indexed for it in a fresh cache
    code = ("import sys; from ner_demo.inference import Tagger; "
            f"print(Tagger.from_pretrained({str(folder)!r}).backend_name, "
            "sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers')))")
    env = {**os.environ, "NER_DEMO_EXPORTS": str(tmp_path / "exports")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["onnx-int8", "[]"] and "exporting the model to ONNX" in done.stderr


def test_a_folder_that_cannot_load_is_reported_with_the_childs_message(tmp_path, monkeypatch):
    monkeypatch.setenv("NER_DEMO_EXPORTS", str(tmp_path / "exports"))
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "bert"}', encoding="utf-8")
    (folder / "model.bin").write_bytes(b"pickle")
    InputFeatures(backend="onnx-int8").save(folder)
    with pytest.raises(ModelLoadError, match=r"has only model.bin but no model.safetensors"):
        load_for_serving(str(folder))


def test_a_served_folder_whose_features_pick_fp32_is_served_the_fp32_graph(served_dir, tmp_path):
    folder = shutil.copytree(served_dir, tmp_path / "fp32")
    InputFeatures(backend="onnx-fp32").save(folder)
    assert Tagger.from_pretrained(str(folder)).backend_name == "onnx-fp32"


def test_a_served_graph_is_optimised_once_into_a_file_beside_it_that_gives_the_same_probabilities(served_dir):
    import numpy as np
    import onnxruntime

    from ner_demo.backends import OnnxBackend

    tagger = Tagger.from_pretrained(str(served_dir))
    graph = tagger.backend.path
    saved = graph.with_name(f"{graph.stem}.ort-{onnxruntime.__version__}.extended.onnx")
    assert saved.is_file()
    plain = OnnxBackend(tagger.model, "onnx-int8", keep_optimized=False)
    ids = np.random.default_rng(0).integers(5, 100, (3, 12))
    args = (ids, np.ones_like(ids), np.zeros_like(ids))
    assert np.array_equal(tagger.backend(*args), plain(*args))


def test_a_users_export_folder_is_never_written_to_when_it_is_served(trained_tiny_dir, tmp_path):
    from ner_demo.export import export_onnx

    folder = export_onnx(trained_tiny_dir, tmp_path / "tiny-onnx", quantize="int8")
    before = sorted(p.name for p in Path(folder).iterdir())
    tagger = Tagger.from_pretrained(str(folder), backend="onnx-int8")
    assert tagger.predict("John lives in Paris .") is not None
    assert sorted(p.name for p in Path(folder).iterdir()) == before

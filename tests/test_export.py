"""ONNX export and the ONNX Runtime backends, on the tiny trained model (seconds)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from ner_demo.errors import ConfigError, ModelLoadError  # noqa: E402
from ner_demo.export import cached_export, export_model, export_onnx, fingerprint  # noqa: E402
from ner_demo.inference import Tagger  # noqa: E402
from ner_demo.models import EXPORT_FILE, OnnxModel, is_onnx_folder, load_trained  # noqa: E402

TEXTS = [
    "John visited Berlin and met Mary at Siemens Corp .",
    "Pedro lives in Lagos",
    "Li works for Acme Corp in Tokyo today .",
    "",
    " ".join(["Mary lives in Paris ."] * 40),  # over the tiny model's 128 positions: several windows
]


def spans(entities):
    return [(e.label, e.start, e.end, e.text) for e in entities]


@pytest.fixture(scope="module")
def onnx_dir(trained_tiny_dir, tmp_path_factory):
    return export_onnx(trained_tiny_dir, tmp_path_factory.mktemp("export") / "onnx", quantize="int8")


@pytest.fixture(scope="module")
def torch_entities(trained_tiny_dir):
    return [spans(e) for e in Tagger.from_pretrained(str(trained_tiny_dir), backend="torch-fp32").predict_many(TEXTS)]


def test_export_folder_describes_itself(onnx_dir):
    names = {p.name for p in onnx_dir.iterdir()}
    assert {"model.onnx", "model.int8.onnx", "config.json", "ner_demo.json", "export.json", "tokenizer.json"} <= names
    info = json.loads((onnx_dir / "export.json").read_text())
    assert info["files"] == {"onnx-fp32": "model.onnx", "onnx-int8": "model.int8.onnx"}
    assert info["default_backend"] == "onnx-int8"
    assert info["opset"] >= 14 and info["quantization"]["type"] == "dynamic"
    assert info["check_vs_torch"]["onnx-fp32"]["max_abs_logit_diff"] < 1e-3
    assert not any(p.name.startswith(".") for p in onnx_dir.parent.iterdir())  # no staging folder left behind


@pytest.mark.parametrize("backend", ["onnx-fp32", "onnx-int8"])
def test_onnx_backends_find_the_same_entities_as_torch(onnx_dir, torch_entities, backend):
    tagger = Tagger.from_pretrained(str(onnx_dir), backend=backend)
    assert [spans(e) for e in tagger.predict_many(TEXTS)] == torch_entities


def test_onnx_fp32_probabilities_match_torch(onnx_dir, trained_tiny_dir):
    words = [["John", "met", "Mary", "in", "Paris", "."], ["Lima"]]
    torch_scores = Tagger.from_pretrained(str(trained_tiny_dir), backend="torch-fp32").predict_words_scored(words)
    onnx_scores = Tagger.from_pretrained(str(onnx_dir), backend="onnx-fp32").predict_words_scored(words)
    for a, b in zip(torch_scores, onnx_scores):
        assert a.tags == b.tags
        np.testing.assert_allclose(a.scores, b.scores, atol=1e-4)


def test_export_folder_loads_with_its_default_backend(onnx_dir):
    tagger = Tagger.from_pretrained(str(onnx_dir))
    assert tagger.backend_name == "onnx-int8" and tagger.precision == "int8"
    assert tagger.describe().startswith("onnx-int8 (onnxruntime")


@pytest.mark.parametrize("backend", ["torch-fp32", "torch-bf16", "torch-int8"])
def test_describe_names_the_torch_backend(trained_tiny_dir, backend):
    tagger = Tagger.from_pretrained(str(trained_tiny_dir), backend=backend)
    assert tagger.describe().startswith(backend + " (")
    assert tagger.predict("Pedro lives in Lagos")  # every backend still tags


def test_precision_still_picks_the_backend(trained_tiny_dir, onnx_dir):
    assert Tagger.from_pretrained(str(trained_tiny_dir), precision="fp32").backend_name == "torch-fp32"
    assert Tagger.from_pretrained(str(onnx_dir), precision="fp32").backend_name == "onnx-fp32"


def test_onnx_export_cannot_run_a_torch_backend(onnx_dir):
    with pytest.raises(ConfigError, match="ONNX export"):
        Tagger.from_pretrained(str(onnx_dir), backend="torch-bf16")


def test_fp32_only_export_says_how_to_get_int8(trained_tiny_dir, tmp_path):
    folder = export_onnx(trained_tiny_dir, tmp_path / "fp32")
    assert Tagger.from_pretrained(str(folder)).backend_name == "onnx-fp32"
    with pytest.raises(ConfigError, match="--quantize int8"):
        Tagger.from_pretrained(str(folder), backend="onnx-int8")


def test_torch_model_runs_on_onnx_runtime_in_memory(tiny_model_dir):
    """DistilBERT: no token_type_ids input, so the graph must not be fed one."""
    model, tokenizer, features = load_trained(str(tiny_model_dir))
    words = [["John", "lives", "in", "Paris"], ["Acme", "Corp", "met", "Li", "today", "."]]
    expected = Tagger(model, tokenizer, features, backend="torch-fp32").predict_words_scored(words)
    tagger = Tagger(model, tokenizer, features, backend="onnx-fp32")
    assert not tagger.backend.uses_token_types
    for a, b in zip(expected, tagger.predict_words_scored(words)):
        np.testing.assert_allclose(a.scores, b.scores, atol=1e-4)


def test_export_leaves_the_model_in_eval_mode(trained_tiny_dir, tmp_path):
    model, tokenizer, _ = load_trained(str(trained_tiny_dir))
    export_model(model, tmp_path, tokenizer=tokenizer)
    assert not model.training and not any(m.training for m in model.modules())


def test_attention_is_traced_eager_and_the_model_keeps_its_own(trained_tiny_dir, tmp_path):
    import onnx

    model, tokenizer, _ = load_trained(str(trained_tiny_dir))
    before = model.config._attn_implementation
    info = export_model(model, tmp_path, tokenizer=tokenizer)
    ops = {node.op_type for node in onnx.load(str(tmp_path / "model.onnx")).graph.node}
    assert "IsNaN" not in ops and info["attention"] == "eager"  # SDPA's traced mask guard is gone
    assert model.config._attn_implementation == before


def test_bad_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ModelLoadError, match="no config.json"):
        export_onnx(tmp_path / "missing", tmp_path / "out")


def test_onnx_folder_without_graphs_is_a_clear_error(onnx_dir, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "export.json").write_text(json.dumps({"files": {"onnx-fp32": "model.onnx"}}))
    with pytest.raises(ModelLoadError, match="no ONNX graph"):
        Tagger.from_pretrained(str(broken))


def test_export_refuses_to_overwrite_a_model_folder(trained_tiny_dir, tiny_model_dir):
    with pytest.raises(ConfigError, match="not an ONNX export"):
        export_onnx(trained_tiny_dir, tiny_model_dir)


def test_exporting_an_export_is_refused(onnx_dir, tmp_path):
    with pytest.raises(ConfigError, match="already an ONNX export"):
        export_onnx(onnx_dir, tmp_path / "again")


def test_unknown_quantisation_is_refused(trained_tiny_dir, tmp_path):
    with pytest.raises(ConfigError, match="'int4'"):
        export_onnx(trained_tiny_dir, tmp_path / "x", quantize="int4")


def test_cli_export_writes_a_folder_predict_can_use(trained_tiny_dir, tmp_path, capsys):
    from ner_demo.cli import main

    out = tmp_path / "cli-onnx"
    assert main(["export", "--model", str(trained_tiny_dir), "--format", "onnx", "--quantize", "int8",
                 "--output", str(out)]) == 0
    assert "default backend: onnx-int8" in capsys.readouterr().out
    assert is_onnx_folder(out)
    assert main(["predict", "--model", str(out), "Pedro lives in Lagos"]) == 0
    assert "PER\t0\t5" in capsys.readouterr().out


def test_cli_export_of_a_bad_folder_prints_one_line(tmp_path, capsys):
    from ner_demo.cli import main

    assert main(["export", "--model", str(tmp_path / "nope")]) == 1
    assert "no config.json" in capsys.readouterr().err


def test_onnx_model_is_a_stand_in_for_the_torch_model(onnx_dir):
    model, tokenizer, features = load_trained(str(onnx_dir))
    assert isinstance(model, OnnxModel) and model.config.num_labels == 7
    assert Tagger(model, tokenizer, features).labels[0] == "O"


def test_export_json_cannot_point_outside_its_folder(onnx_dir, tmp_path):
    import shutil

    folder = shutil.copytree(onnx_dir, tmp_path / "copy")
    info = json.loads((folder / "export.json").read_text())
    info["files"]["onnx-fp32"] = "../model.onnx"
    (folder / "export.json").write_text(json.dumps(info))
    with pytest.raises(ModelLoadError, match="file names in the folder"):
        Tagger.from_pretrained(str(folder))


def test_the_export_is_made_once_and_reused(trained_tiny_dir, tmp_path):
    model, tokenizer, _ = load_trained(str(trained_tiny_dir))
    said = []
    first = cached_export(model, tokenizer, root=tmp_path, log=said.append)
    again = cached_export(model, tokenizer, root=tmp_path, log=said.append)
    assert first == again and len(said) == 2  # "exporting ..." and "exported in ...", once


def test_a_half_written_export_is_not_used(trained_tiny_dir, tmp_path):
    model, tokenizer, _ = load_trained(str(trained_tiny_dir))
    folder = cached_export(model, tokenizer, root=tmp_path, log=lambda _: None)
    (folder / EXPORT_FILE).unlink()  # as if the process died before the export finished
    said = []
    assert cached_export(model, tokenizer, root=tmp_path, log=said.append) == folder
    assert (folder / EXPORT_FILE).is_file() and said[0].startswith("exporting")


def test_fingerprint_changes_with_any_weight(trained_tiny_dir):
    import torch

    model, _, _ = load_trained(str(trained_tiny_dir))
    before = fingerprint(model)
    with torch.no_grad():
        model.classifier.bias[0] += 1e-3
    assert fingerprint(model) != before


def test_fingerprint_ignores_the_folder_the_model_was_loaded_from(trained_tiny_dir, tmp_path):
    import shutil

    copy = shutil.copytree(trained_tiny_dir, tmp_path / "elsewhere")
    model_here, _, _ = load_trained(str(trained_tiny_dir))
    model_there, _, _ = load_trained(str(copy))
    assert model_here.config._name_or_path != model_there.config._name_or_path
    assert fingerprint(model_here) == fingerprint(model_there)

"""A plain ``transformers.pipeline`` on a folder saved as ship saves it (fp16 weights) runs in float32 on a
CPU: the config's dtype, which pipeline's ``dtype="auto"`` follows, says float32 (ner_demo.models.save_model)."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors import safe_open
from transformers import pipeline

from ner_demo.models import CHECKOUT_MODELS, load_trained, save_model

SHIPPED = ["minilm-conll2003", "minilm3-conll2003-fast"]


@pytest.fixture(scope="module")
def half_folder(trained_tiny_dir, tmp_path_factory):
    """trained_tiny_dir saved as ship saves it: ``save_model(model.half(), ...)``."""
    model, tokenizer, features = load_trained(str(trained_tiny_dir))
    return save_model(model.half(), tokenizer, tmp_path_factory.mktemp("half") / "model", features,
                      {"stored_dtype": "float16"})


def test_a_half_model_is_stored_in_fp16(half_folder):
    with safe_open(str(half_folder / "model.safetensors"), "pt") as f:
        assert {f.get_tensor(k).dtype for k in f.keys()} == {torch.float16}


def test_a_half_models_config_says_float32(half_folder):
    assert json.loads((half_folder / "config.json").read_text(encoding="utf-8"))["dtype"] == "float32"


def test_a_plain_pipeline_loads_float32_weights(half_folder):
    ner = pipeline("token-classification", model=str(half_folder), device="cpu")
    assert {p.dtype for p in ner.model.parameters()} == {torch.float32}


def test_the_pipeline_in_float32_tags_as_ner_demos_fp32_model_does(half_folder):
    ner = pipeline("token-classification", model=str(half_folder), device="cpu")
    model, tokenizer, _ = load_trained(str(half_folder))
    enc = tokenizer("John lives in Paris .", return_tensors="pt")
    with torch.inference_mode():
        expected = model(**enc).logits.argmax(-1)[0, 1:-1].tolist()
    got = [model.config.label2id[e["entity"]] for e in ner("John lives in Paris .", aggregation_strategy="none")]
    assert [i for i in expected if i != model.config.label2id["O"]] == got


def test_an_explicit_dtype_still_wins(half_folder):
    ner = pipeline("token-classification", model=str(half_folder), device="cpu", dtype=torch.float16)
    assert {p.dtype for p in ner.model.parameters()} == {torch.float16}


@pytest.mark.parametrize("name", SHIPPED)
def test_the_shipped_folders_say_float32_and_store_fp16(name):
    folder = CHECKOUT_MODELS / name
    assert json.loads((folder / "config.json").read_text(encoding="utf-8"))["dtype"] == "float32"
    with safe_open(str(folder / "model.safetensors"), "pt") as f:
        assert {f.get_tensor(k).dtype for k in list(f.keys())[:5]} == {torch.float16}

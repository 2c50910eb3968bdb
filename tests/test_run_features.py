"""Every run's best/ records the inference features the shipped models record (casing bit, context words,
window length, decoding, chunk share) in ner_demo.json, whichever engine trained it; a Tagger uses them."""

from __future__ import annotations

import json

import pytest
import torch
from training_support import build_model, tiny_config

from ner_demo.errors import ConfigError
from ner_demo.inference import Tagger
from ner_demo.training import TrainConfig, train

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory):
    return build_model(tmp_path_factory.mktemp("tiny") / "bert", arch="bert")  # 2 token types: casing works


def _features(run) -> dict:
    return json.loads((run.best_dir / "ner_demo.json").read_text(encoding="utf-8"))["input_features"]


def test_a_runs_best_records_casing_context_length_decoding_and_chunk_share(bert_dir, tmp_path):
    run = train(tiny_config(bert_dir, tmp_path, epochs=1, casing=True, context_words=4, decoding="bio",
                            chunk_share=0.75))
    features = _features(run)
    assert {k: features[k] for k in ("casing", "context_words", "max_length", "decoding", "chunk_share")} == {
        "casing": True, "context_words": 4, "max_length": 48, "decoding": "bio", "chunk_share": 0.75}


def test_a_tagger_loaded_from_a_runs_best_uses_its_decoding_and_chunk_share(bert_dir, tmp_path):
    run = train(tiny_config(bert_dir, tmp_path, epochs=1, decoding="bio", chunk_share=0.75))
    tagger = Tagger.from_pretrained(str(run.best_dir), device="cpu", precision="fp32")
    assert (tagger.decoding, tagger.chunk_share, tagger.max_length) == ("bio", 0.75, 48)


def test_auto_decoding_saves_the_decoding_that_scored_best_on_dev(bert_dir, tmp_path):
    run = train(tiny_config(bert_dir, tmp_path, epochs=2))  # decoding="auto", the default
    evals = run.metrics("eval")
    assert all(sorted(r["strict_f1_by_decoding"]) == ["argmax", "bio"] for r in evals)
    best = max(evals, key=lambda r: r["strict_f1"])  # the first of equals: best/ is only replaced by a better one
    by_decoding = best["strict_f1_by_decoding"]
    chosen = "bio" if by_decoding["bio"] > by_decoding["argmax"] else "argmax"  # ties go to argmax, as in ship
    assert best["decoding"] == chosen and best["strict_f1"] == by_decoding[chosen]
    assert _features(run)["decoding"] == chosen == run.read_status()["best"]["decoding"]


@pytest.mark.parametrize("engine", ["trainer", "frozen"])
def test_the_other_engines_save_the_features_too(bert_dir, tmp_path, engine):
    changes = {"engine": "trainer"} if engine == "trainer" else {"freeze_encoder": True, "learning_rate": 5e-2}
    run = train(tiny_config(bert_dir, tmp_path, epochs=1, decoding="bio", chunk_share=0.6, **changes))
    assert (_features(run)["decoding"], _features(run)["chunk_share"]) == ("bio", 0.6)


def test_a_chunk_share_outside_0_to_1_is_refused_naming_the_value():
    with pytest.raises(ConfigError, match="chunk_share must be above 0 and at most 1 .*got 1.5"):
        TrainConfig(chunk_share=1.5)


def test_an_unknown_decoding_is_refused_with_the_choices():
    with pytest.raises(ConfigError, match="decoding='viterbi': must be one of auto, argmax, bio"):
        TrainConfig(decoding="viterbi")

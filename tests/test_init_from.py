"""Fine-tuning from a trained model (init_from): the head's label mapping, the loading glue, runs from a
model in the three engines, refusals before launch, freeze_layers and head_learning_rate.

Tiny random models (tests/tiny_models.py) and the 20-sentence fixture (LOC/ORG/PER); the starting models
are saved with other label sets (MISC instead of ORG) so that a label is kept, one added, one dropped.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil

import pytest
import torch
from safetensors.torch import load_file
from tiny_models import build_tiny_model
from training_support import DEV, TRAIN, tiny_config

from ner_demo.data import read_conll
from ner_demo.encoding import InputFeatures
from ner_demo.errors import ConfigError
from ner_demo.inference import Tagger
from ner_demo.labels import LabelSet
from ner_demo.models import freeze_lower_layers, load_trained
from ner_demo.training import Run, TrainConfig, background, train
from ner_demo.training.head_mapping import map_head
from ner_demo.training.init_from import InitSource, carried_features, load_start_model, resolve_init_from
from ner_demo.training.loop import param_groups

torch.set_num_threads(1)
OLD = ["O", "B-LOC", "I-LOC", "B-MISC", "I-MISC", "B-PER", "I-PER"]  # the starting model's labels
NEW = ["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-PER", "I-PER"]  # the fixture's: ORG new, MISC dropped


def _head(n: int = len(OLD), hidden: int = 8, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, hidden, generator=g), torch.randn(n, generator=g)


# ---- the pure mapping -----------------------------------------------------------------------------


def test_shared_labels_keep_their_rows_exactly():
    w, b = _head()
    nw, nb, mapping = map_head(w, b, OLD, NEW)
    for label in ("O", "B-LOC", "I-LOC", "B-PER", "I-PER"):
        assert torch.equal(nw[NEW.index(label)], w[OLD.index(label)])
        assert torch.equal(nb[NEW.index(label)], b[OLD.index(label)])
    assert mapping.kept == ("O", "B-LOC", "I-LOC", "B-PER", "I-PER")


def test_a_new_b_label_starts_from_the_mean_of_the_old_b_rows():
    w, b = _head()
    nw, nb, mapping = map_head(w, b, OLD, NEW)
    b_rows = [OLD.index(x) for x in ("B-LOC", "B-MISC", "B-PER")]
    assert torch.allclose(nw[NEW.index("B-ORG")], w[b_rows].mean(0), atol=0, rtol=0)
    assert torch.allclose(nb[NEW.index("B-ORG")], b[b_rows].mean(), atol=0, rtol=0)
    assert mapping.added_from["B-ORG"] == "mean of 3 B- row(s)"


def test_a_new_i_label_starts_from_the_mean_of_the_old_i_rows():
    w, b = _head()
    nw, _, mapping = map_head(w, b, OLD, NEW)
    i_rows = [OLD.index(x) for x in ("I-LOC", "I-MISC", "I-PER")]
    assert torch.equal(nw[NEW.index("I-ORG")], w[i_rows].mean(0))
    assert mapping.added == ("B-ORG", "I-ORG")


def test_labels_the_new_data_lacks_lose_their_rows():
    w, b = _head()
    nw, nb, mapping = map_head(w, b, OLD, NEW)
    assert nw.shape == (7, 8) and nb.shape == (7,)
    assert mapping.dropped == ("B-MISC", "I-MISC")
    assert not any(torch.equal(row, w[OLD.index("B-MISC")]) for row in nw)


def test_a_label_with_no_row_of_its_prefix_starts_small_random_and_seeded():
    w, b = _head(2)
    old, new = ["O", "PER"], ["O", "B-X"]  # the old head has no B- row
    nw1, nb1, mapping = map_head(w, b, old, new, 0.02, torch.Generator().manual_seed(3))
    nw2, _, _ = map_head(w, b, old, new, 0.02, torch.Generator().manual_seed(3))
    assert torch.equal(nw1[1], nw2[1]) and float(nb1[1]) == 0.0
    assert 0 < float(nw1[1].abs().max()) < 0.1
    assert mapping.added_from["B-X"].startswith("random (normal, std 0.02")
    assert mapping.dropped == ("PER",)


def test_the_mapped_head_tags_as_before_until_trained():
    w, b = _head()
    new = ["O", "B-LOC", "I-LOC", "B-MISC", "I-MISC", "B-NORP", "I-NORP", "B-PER", "I-PER"]  # one added, none dropped
    nw, nb, _ = map_head(w, b, OLD, new)
    hidden = torch.randn(500, 8, generator=torch.Generator().manual_seed(1))
    before = [OLD[i] for i in (hidden @ w.T + b).argmax(-1).tolist()]
    after = [new[i] for i in (hidden @ nw.T + nb).argmax(-1).tolist()]
    assert after == before  # a mean of the B- logits is never above their max


def test_map_head_leaves_its_inputs_alone():
    w, b = _head()
    w0, b0 = w.clone(), b.clone()
    nw, _, _ = map_head(w, b, OLD, NEW)
    nw[0].add_(1.0)
    assert torch.equal(w, w0) and torch.equal(b, b0)


def test_map_head_refuses_a_head_that_does_not_match_its_labels():
    w, b = _head(5)
    with pytest.raises(ValueError, match="a head of 7 labels needs weight"):
        map_head(w, b, OLD, NEW)


# ---- loading a starting model ---------------------------------------------------------------------


def _words() -> list[str]:
    return sorted({w for path in (TRAIN, DEV) for s in read_conll(path) for w in s.words})


@pytest.fixture(scope="module")
def start_dir(tmp_path_factory):
    """A 2-layer BERT over OLD labels, saved with casing and 2 context words in its ner_demo.json."""
    return build_tiny_model(tmp_path_factory.mktemp("start") / "model", LabelSet(tuple(OLD)), _words(),
                            arch="bert", seed=5, features=InputFeatures(casing=True, context_words=2))


def test_the_loaded_model_keeps_the_saved_rows_of_shared_labels(start_dir):
    saved = load_file(str(start_dir / "model.safetensors"))
    source = resolve_init_from(str(start_dir))
    model, mapping = load_start_model(source, LabelSet(tuple(NEW)))
    head = model.classifier
    for label in mapping.kept:
        assert torch.equal(head.weight[NEW.index(label)], saved["classifier.weight"][OLD.index(label)])
        assert torch.equal(head.bias[NEW.index(label)], saved["classifier.bias"][OLD.index(label)])
    assert head.weight.shape == (len(NEW), 32)
    assert model.config.id2label == dict(enumerate(NEW)) and model.num_labels == len(NEW)


def test_the_loaded_model_keeps_the_saved_encoder(start_dir):
    saved = load_file(str(start_dir / "model.safetensors"))
    model, _ = load_start_model(resolve_init_from(str(start_dir)), LabelSet(tuple(NEW)))
    state = model.state_dict()
    encoder = [k for k in saved if not k.startswith("classifier")]
    assert encoder and all(torch.equal(state[k], saved[k]) for k in encoder)


def test_the_starting_models_features_carry_into_the_config(start_dir):
    config = TrainConfig(init_from=str(start_dir))
    carried, notes = carried_features(config, resolve_init_from(str(start_dir)))
    assert (carried.casing, carried.context_words) == (True, 2)
    assert notes[0].startswith("casing=true from ") and "(the config said false;" in notes[0]


def test_init_features_false_keeps_the_configs_features_with_a_warning(start_dir):
    config = TrainConfig(init_from=str(start_dir), init_features=False)
    carried, notes = carried_features(config, resolve_init_from(str(start_dir)))
    assert carried == config
    assert notes[0].startswith("warning: casing=false, but ") and "was trained with casing=true" in notes[0]


def test_carried_features_that_break_the_config_name_the_model():
    source = InitSource("m", "folder", None, tuple(OLD), InputFeatures(context_words=0), 128)
    config = TrainConfig(init_from="m", context_words=4, context_dropout=0.5)
    with pytest.raises(ConfigError, match=r"init_from='m': with its features \(context_words=0\): context_dropout"):
        carried_features(config, source)


# ---- refusals before launch -----------------------------------------------------------------------


def test_an_unknown_init_from_is_refused_before_a_run_folder_exists(start_dir, tmp_path):
    config = tiny_config(start_dir, tmp_path / "runs", init_from="no-such-model")
    with pytest.raises(ConfigError, match=r"init_from='no-such-model': not a shipped model \(minilm-conll2003"):
        background.start(config)
    assert not (tmp_path / "runs").exists() or list((tmp_path / "runs").iterdir()) == []


def test_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"init_from='./nowhere/model': no such folder"):
        resolve_init_from("./nowhere/model", tmp_path)


def test_a_run_with_no_best_model_is_refused(start_dir, tmp_path):
    run = Run.create(tiny_config(start_dir, tmp_path), tmp_path)  # queued: never evaluated
    with pytest.raises(ConfigError, match=rf"init_from='{run.id}': the run has no best/ model yet \(state: queued\)"):
        resolve_init_from(run.id, tmp_path)


def test_an_encoder_without_a_token_classification_head_is_refused(start_dir, tmp_path):
    encoder = tmp_path / "encoder"
    shutil.copytree(start_dir, encoder)
    config = json.loads((encoder / "config.json").read_text())
    (encoder / "config.json").write_text(json.dumps({**config, "architectures": ["BertModel"]}))
    with pytest.raises(ConfigError, match=r"not a token-classification model \(architectures: BertModel\); to start "
                                          r"from an encoder, set backbone instead"):
        resolve_init_from(str(encoder))


def test_the_offline_encoder_is_refused_with_a_pointer_to_backbone(tmp_path):
    with pytest.raises(ConfigError, match=r"init_from='offline-minilm': the offline encoder is an encoder, not a "
                                          r"trained NER model; set backbone=offline-minilm"):
        resolve_init_from("offline-minilm", tmp_path)


def test_a_model_with_only_pickle_weights_is_refused(start_dir, tmp_path):
    pickled = tmp_path / "pickled"
    shutil.copytree(start_dir, pickled)
    (pickled / "model.safetensors").rename(pickled / "pytorch_model.bin")
    with pytest.raises(ConfigError, match=r"has only pytorch_model.bin but no model.safetensors"):
        resolve_init_from(str(pickled))


def test_a_shipped_model_name_resolves_to_its_folder():
    source = resolve_init_from("minilm3-conll2003-fast")
    assert source.kind == "shipped" and source.folder.name == "minilm3-conll2003-fast"
    assert source.name == "shipped model minilm3-conll2003-fast" and source.labels[0] == "O"


# ---- runs from a model ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_and_output(start_dir, tmp_path_factory):
    """A 2-epoch run from ``start_dir`` on the fixture, and what it printed (the log of a background run)."""
    runs, out = tmp_path_factory.mktemp("runs"), io.StringIO()
    with contextlib.redirect_stdout(out):
        run = train(tiny_config(start_dir, runs, init_from=str(start_dir), epochs=2))
    return run, out.getvalue()


@pytest.fixture(scope="module")
def run_from_model(run_and_output):
    return run_and_output[0]


def test_a_run_from_a_model_finishes_with_the_datas_labels(run_from_model):
    assert run_from_model.read_status()["state"] == "finished"
    saved = json.loads((run_from_model.best_dir / "config.json").read_text())
    assert [saved["id2label"][str(i)] for i in range(len(NEW))] == NEW


def test_a_run_from_a_model_saves_the_carried_features(run_from_model):
    features = InputFeatures.load(run_from_model.best_dir)
    assert (features.casing, features.context_words) == (True, 2)


def test_a_run_from_a_model_logs_the_mapping_and_the_carried_features(run_and_output, start_dir):
    lines = run_and_output[1].splitlines()
    assert f"init_from {start_dir}: new label B-ORG: its row is the mean of 3 B- row(s)" in lines
    assert f"init_from {start_dir}: dropped the rows of B-MISC, I-MISC (not in the train data)" in lines
    assert f"casing=true from {start_dir} (the config said false; init_features=false keeps the config's)" in lines


def test_the_best_model_of_a_run_from_a_model_tags(run_from_model):
    tagger = Tagger(*load_trained(str(run_from_model.best_dir))[:2], InputFeatures.load(run_from_model.best_dir))
    tags = tagger.predict_words([["Marta", "Ovell", "lives", "in", "Quenby", "."]])
    assert len(tags[0]) == 6 and set(tags[0]) <= set(NEW)


def test_a_finished_run_id_resolves_to_its_best_folder(run_from_model):
    source = resolve_init_from(run_from_model.id, run_from_model.path.parent)
    assert source.kind == "run" and source.folder == run_from_model.best_dir
    assert source.labels == tuple(NEW) and source.name == f"run {run_from_model.id}"


@pytest.mark.parametrize("engine", ["trainer", "frozen"])
def test_the_other_engines_train_from_a_model(engine, start_dir, tmp_path):
    changes = {"engine": "trainer"} if engine == "trainer" else {"freeze_encoder": True, "learning_rate": 5e-2}
    run = train(tiny_config(start_dir, tmp_path, init_from=str(start_dir), epochs=1, **changes))
    assert run.read_status()["state"] == "finished"
    saved = json.loads((run.best_dir / "config.json").read_text())
    assert [saved["id2label"][str(i)] for i in range(len(NEW))] == NEW


# ---- freezing and the head's learning rate --------------------------------------------------------


def test_freeze_layers_turns_off_the_embeddings_and_the_lowest_layers(start_dir):
    model, _ = load_start_model(resolve_init_from(str(start_dir)), LabelSet(tuple(NEW)))
    assert freeze_lower_layers(model, 1) == ["embeddings", "layer 0"]
    grads = {name: p.requires_grad for name, p in model.named_parameters()}
    assert not any(v for k, v in grads.items() if k.startswith(("bert.embeddings.", "bert.encoder.layer.0.")))
    assert all(v for k, v in grads.items() if k.startswith(("bert.encoder.layer.1.", "classifier.")))


def test_frozen_layers_do_not_change_in_training(start_dir, tmp_path):
    run = train(tiny_config(start_dir, tmp_path, init_from=str(start_dir), freeze_layers=1, epochs=1))
    before, after = load_file(str(start_dir / "model.safetensors")), load_file(str(run.best_dir / "model.safetensors"))
    frozen = [k for k in before if k.startswith(("bert.embeddings.", "bert.encoder.layer.0."))]
    trained = [k for k in before if k.startswith("bert.encoder.layer.1.")]
    assert frozen and all(torch.equal(before[k], after[k]) for k in frozen)
    assert any(not torch.equal(before[k], after[k]) for k in trained)


def test_freeze_layers_over_the_layer_count_is_refused(start_dir):
    model, _ = load_start_model(resolve_init_from(str(start_dir)), LabelSet(tuple(NEW)))
    with pytest.raises(ConfigError, match=r"freeze_layers=3: the encoder has 2 layers; use 0 to 2"):
        freeze_lower_layers(model, 3)


def test_freeze_layers_over_the_layer_count_is_refused_before_launch(start_dir, tmp_path):
    config = tiny_config(start_dir, tmp_path / "runs", init_from=str(start_dir), freeze_layers=4)
    with pytest.raises(ConfigError, match=r"freeze_layers=4: the encoder has 2 layers; use 0 to 2"):
        background.start(config)
    assert not (tmp_path / "runs").exists() or list((tmp_path / "runs").iterdir()) == []


def test_freeze_layers_counts_the_kept_encoder_layers_of_a_backbone(start_dir, tmp_path):
    config = tiny_config(start_dir, tmp_path / "runs", encoder_layers="1", freeze_layers=2)
    with pytest.raises(ConfigError, match=r"freeze_layers=2: the encoder has 1 layers; use 0 to 1"):
        background.start(config)


def test_head_learning_rate_gives_the_head_its_own_groups(start_dir):
    model, _ = load_start_model(resolve_init_from(str(start_dir)), LabelSet(tuple(NEW)))
    groups = param_groups(model, 0.01, model.classifier, 5e-4)
    head = [p for g in groups if g.get("lr") == 5e-4 for p in g["params"]]
    assert {id(p) for p in head} == {id(model.classifier.weight), id(model.classifier.bias)}
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))


def test_head_learning_rate_is_refused_by_the_trainer_engine():
    with pytest.raises(ConfigError, match=r"head_learning_rate=0.0005: a separate head learning rate is part of the "
                                          r"custom engine"):
        TrainConfig(engine="trainer", head_learning_rate=5e-4)


def test_freeze_layers_with_freeze_encoder_is_refused():
    with pytest.raises(ConfigError, match=r"freeze_layers=2 with freeze_encoder=true"):
        TrainConfig(freeze_layers=2, freeze_encoder=True)


def test_a_cleared_init_from_dropdown_starts_from_the_backbone():
    from ner_demo.app.train_format import DATASET_CONLL, config_from_form

    values = {"backbone": "offline-minilm", "dataset": DATASET_CONLL, "init_from": None, "head_learning_rate": 0}
    config = config_from_form(values, "runs")
    assert (config.init_from, config.head_learning_rate) == ("", None)


def test_an_init_from_typed_in_the_form_is_stripped():
    from ner_demo.app.train_format import DATASET_CONLL, config_from_form

    values = {"backbone": "offline-minilm", "dataset": DATASET_CONLL, "init_from": " minilm-conll2003 "}
    assert config_from_form(values, "runs").init_from == "minilm-conll2003"

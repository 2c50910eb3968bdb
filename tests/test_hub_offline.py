"""A Hub id while the Hub does not answer: a clear error at once, never transformers' ~25 s of retries.

The Hub is made unreachable the way it is offline (every socket connection refused) and transformers'
loaders are replaced by ones that fail the test: an offline Hub id must not even start the retry loop.
"""

from __future__ import annotations

import socket

import pytest
import torch
import transformers

from ner_demo import models
from ner_demo.cli import main
from ner_demo.errors import ModelLoadError
from ner_demo.models import hub_available, load_trained

NOT_CACHED = "someone/not-cached-model-xyz"


@pytest.fixture
def offline(monkeypatch):
    """No proxy, no HF_HUB_OFFLINE: only the refused connection tells that the Hub is unreachable."""
    for var in ("HF_HUB_OFFLINE", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    probes = []

    def refuse(address, *args, **kwargs):
        probes.append(address)
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(models, "_hub_check", None)  # no answer remembered from another test
    return probes


@pytest.fixture
def hub_loaders(monkeypatch):
    """transformers' loaders, recording the arguments they were called with instead of loading."""
    calls = []

    def record(location, **kwargs):
        calls.append((location, kwargs))
        raise OSError("recorded, not loaded")

    for cls in (transformers.AutoModelForTokenClassification, transformers.AutoTokenizer):
        monkeypatch.setattr(cls, "from_pretrained", staticmethod(record))
    return calls


def test_an_offline_hub_id_fails_at_once_with_advice(offline, hub_loaders):
    with pytest.raises(ModelLoadError) as caught:
        load_trained(NOT_CACHED)
    assert str(caught.value) == (
        f"'{NOT_CACHED}' is a Hugging Face Hub id, but the Hub cannot be reached from this machine and the model "
        "is not in the local Hugging Face cache. Use the shipped model (the default), a local model folder, or "
        "for training the offline encoder 'offline-minilm'.")
    assert hub_loaders == []  # transformers was never asked, so it never retried


def test_the_hub_is_probed_once_for_several_loads(offline, hub_loaders):
    for _ in range(3):
        with pytest.raises(ModelLoadError):
            load_trained(NOT_CACHED)
    assert [port for _, port in offline] == [443]


def test_an_offline_hub_model_in_the_local_cache_loads_from_it(offline, hub_loaders, monkeypatch):
    monkeypatch.setattr(models, "in_hub_cache", lambda repo_id: repo_id == "cached/model")
    with pytest.raises(ModelLoadError):  # the recording loader loads nothing
        load_trained("cached/model")
    assert hub_loaders == [("cached/model", {"use_safetensors": True, "trust_remote_code": False,
                                             "dtype": torch.float32,
                                             "local_files_only": True})]


def test_an_online_hub_id_is_loaded_from_the_hub_as_before(hub_loaders, monkeypatch):
    monkeypatch.setattr(models, "_hub_check", None)
    monkeypatch.setattr(models, "hub_reachable", lambda: True)
    with pytest.raises(ModelLoadError, match="from the Hugging Face Hub"):
        load_trained("someone/online-model")
    assert len(hub_loaders) == 1 and "local_files_only" not in hub_loaders[0][1]


def test_local_folders_never_probe_the_hub(offline, trained_tiny_dir):
    load_trained(str(trained_tiny_dir))
    assert offline == []


def test_hub_offline_variable_is_believed_without_a_probe(offline, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub_available() is False and offline == []


def test_cli_predict_with_an_offline_hub_id_says_what_to_use(capsys, offline, hub_loaders):
    code = main(["predict", "--model", NOT_CACHED, "John lives in Paris"])
    err = capsys.readouterr().err
    assert code == 1 and "the Hub cannot be reached" in err and "Use the shipped model (the default)" in err
    assert hub_loaders == []

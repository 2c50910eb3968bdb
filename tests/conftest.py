"""Shared fixtures: tiny random models and a tiny model trained in seconds to tag PER/LOC/ORG."""

from __future__ import annotations

import atexit
import os
import random
import shutil
import tempfile

import pytest
import torch
from tiny_models import build_tiny_model

from ner_demo.encoding import InputFeatures, training_examples
from ner_demo.evaluation.cache import PREDICTIONS
from ner_demo.labels import LabelSet
from ner_demo.models import load_trained, save_model

torch.set_num_threads(1)  # the suite runs on 2 cores; one thread per process avoids oversubscription
# ONNX exports the Tagger caches (ner_demo.export.cached_export) go to a scratch folder, never the user's cache;
# set before any test or test app starts, so subprocesses inherit it.
os.environ["NER_DEMO_EXPORTS"] = tempfile.mkdtemp(prefix="ner_demo-test-exports-")
atexit.register(shutil.rmtree, os.environ["NER_DEMO_EXPORTS"], True)


@pytest.fixture(autouse=True)
def _fresh_prediction_cache():
    """Each test starts with an empty in-process prediction cache: what one test tagged must not make
    another's evaluation a cache hit (which reports no tagging progress)."""
    PREDICTIONS.clear()
    yield

PEOPLE = ["John", "Mary", "Angela", "Pedro", "Li"]
PLACES = ["Paris", "Berlin", "Tokyo", "Lagos", "Lima"]
ORGS = ["Acme", "Reuters", "Siemens"]
FILLER = ["lives", "in", "and", "visited", "works", "for", "the", "today", "met", "at", "."]
LABELS = LabelSet.from_types(["LOC", "ORG", "PER"])


def synthetic_sentences(n: int, seed: int = 0) -> list[tuple[list[str], list[str]]]:
    """Invented sentences such as 'John lives in Paris .' with their IOB2 tags."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words, tags = [], []
        for _ in range(rng.randint(3, 7)):
            r = rng.random()
            if r < 0.2:
                words.append(rng.choice(PEOPLE)), tags.append("B-PER")
            elif r < 0.35:
                words.append(rng.choice(PLACES)), tags.append("B-LOC")
            elif r < 0.45:
                words += [rng.choice(ORGS), "Corp"]
                tags += ["B-ORG", "I-ORG"]
            else:
                words.append(rng.choice(FILLER)), tags.append("O")
        out.append((words, tags))
    return out


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A random 2-layer DistilBERT (untrained)."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", LABELS, PEOPLE + PLACES + ORGS + FILLER)


@pytest.fixture(scope="session")
def trained_tiny_dir(tmp_path_factory):
    """A 2-layer BERT trained for a few hundred steps on synthetic sentences: it tags PER/LOC/ORG."""
    folder = build_tiny_model(tmp_path_factory.mktemp("trained") / "model", LABELS,
                              PEOPLE + PLACES + ORGS + FILLER + ["Corp"], arch="bert", seed=1)
    model, tokenizer, features = load_trained(str(folder))
    data = synthetic_sentences(200)
    examples = training_examples(tokenizer, [w for w, _ in data], [LABELS.encode(t) for _, t in data],
                                 features, max_length=64)
    torch.manual_seed(0)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for step in range(150):
        batch = [examples[(step * 16 + k) % len(examples)] for k in range(16)]
        width = max(len(e["input_ids"]) for e in batch)
        ids = torch.tensor([e["input_ids"] + [0] * (width - len(e["input_ids"])) for e in batch])
        labels = torch.tensor([e["labels"] + [-100] * (width - len(e["labels"])) for e in batch])
        loss = model(input_ids=ids, attention_mask=(ids != 0).long(), labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
    return save_model(model, tokenizer, folder, InputFeatures())


@pytest.fixture
def ship_from(monkeypatch):
    """``ship_from(folder)`` makes ``folder`` the shipped default's place: its parent stands for the
    checkout's ``models/`` and ``$NER_DEMO_MODELS`` is unset, so the resolver looks nowhere else."""

    def place(folder):
        monkeypatch.delenv("NER_DEMO_MODELS", raising=False)
        monkeypatch.setattr("ner_demo.models.CHECKOUT_MODELS", folder.parent)
        monkeypatch.setattr("ner_demo.models.DEFAULT_SHIPPED", folder.name)

    return place

"""Tiny random models for tests: every loading code path, none of the download."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch
from transformers import AutoModelForTokenClassification, BertConfig, BertTokenizer, DistilBertConfig

from ner_demo.encoding import InputFeatures
from ner_demo.labels import LabelSet
from ner_demo.models import save_model

_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def build_tiny_model(
    folder: str | Path,
    labels: LabelSet,
    vocab_words: Sequence[str] = (),
    arch: str = "distilbert",
    seed: int = 0,
    features: InputFeatures = InputFeatures(),
) -> Path:
    """Save a randomly initialised 2-layer DistilBERT or BERT with a small WordPiece vocabulary.

    The vocabulary holds the special tokens, printable ASCII characters (and their ``##`` forms, so any
    ASCII word tokenizes) and ``vocab_words``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    chars = [chr(c) for c in range(33, 127)]
    vocab = list(dict.fromkeys([*_SPECIALS, *chars, *("##" + c for c in chars), *vocab_words]))
    tokenizer = BertTokenizer(vocab={piece: i for i, piece in enumerate(vocab)}, do_lower_case=False)
    common = dict(vocab_size=len(vocab), max_position_embeddings=128, pad_token_id=0,
                  num_labels=len(labels), id2label=labels.id2label, label2id=labels.label2id)
    if arch == "distilbert":
        config = DistilBertConfig(n_layers=2, n_heads=2, dim=32, hidden_dim=64, **common)
    elif arch == "bert":
        config = BertConfig(num_hidden_layers=2, num_attention_heads=2, hidden_size=32,
                            intermediate_size=64, type_vocab_size=2, **common)
    else:
        raise ValueError(f"unknown tiny architecture {arch!r}; use 'distilbert' or 'bert'")
    torch.manual_seed(seed)
    model = AutoModelForTokenClassification.from_config(config)
    return save_model(model, tokenizer, folder, features)

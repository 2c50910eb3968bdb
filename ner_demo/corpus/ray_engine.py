"""``tag-corpus --engine ray``: Ray Data runs the tagging on an actor pool, one Tagger an actor.

What each side does:

* The driver (this process) reads the input with :func:`iter_records` and cuts it into the same shards as
  the local engine (:func:`chunk_items`): the same ids, the same rejects with their file and line, the same
  shard boundaries. Ray's own text and JSON readers cannot give those: ``read_text`` decodes a whole file at
  once (one byte that is not UTF-8 fails the file) and splits on more than ``\\n`` (``str.splitlines``:
  ``\\x0b``, ``\\u2028``, ...), so its line numbers are not the file's; ``read_json`` parses a file with
  pyarrow and fails it whole on one bad line. Neither says which line a row came from.
* Ray Data gets a dataset of pending shards, one row each (``from_items``), and ``map_batches`` runs a
  fixed pool of :class:`ShardTagger` actors over it, a shard a call. Each actor loads the model once,
  tags a whole shard in one Tagger call and writes it (the local engine's :func:`tag_chunk`): the same
  Tagger calls on the same texts give the same entities, even on a dynamically quantised backend, whose
  numbers depend on what is batched together. Ray schedules the actors, streams the shards through them
  with its own backpressure, restarts a dead actor and retries its shard (Ray Data's defaults:
  ``max_restarts=-1``, ``max_task_retries=-1``).
* The driver enters each finished shard in the manifest as its figures stream back. A killed run resumes
  from the manifest like a local one (the two engines even resume each other's runs: same files).

The shards are written by :func:`write_shard`, not by Ray's ``write_parquet``/``write_json``: those name
files by write id and block, and a block is not a shard, so a killed run could not tell which records are
done. Ray starts a new actor pool for each dataset it runs, so the shards go to Ray in waves of
:data:`WAVE_SHARDS_PER_ACTOR` shards an actor: the driver holds at most one wave of texts, whatever the
corpus size, and each wave pays for the actors' start (BENCHMARKS.md measures it). docs/cluster.md says how
to run this on a real cluster.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Iterable, Iterator

from tqdm import tqdm

import ner_demo
from ner_demo.backends import cpu_threads
from ner_demo.corpus import local
from ner_demo.corpus.job import CorpusJob, model_identity
from ner_demo.corpus.records import count_items, iter_records
from ner_demo.corpus.shards import Chunk, chunk_items, start_output, summary
from ner_demo.errors import ConfigError, NerDemoError

# Shards an actor gets in one wave (one Ray dataset): more waves mean more actor starts, larger ones more
# texts held by the driver and in Ray's object store. With the default 1,000-record shards of CoNLL
# sentences, 32 shards an actor are some 400k words, minutes of tagging on one core, for a start of seconds.
WAVE_SHARDS_PER_ACTOR = 32
WAVE_TEXT_BYTES = 256 << 20  # and at most this much text in one wave (long documents: fewer shards)


class RayEngineError(NerDemoError):
    """Ray could not be started or reached, or an actor failed on a shard."""


def run_ray(job: CorpusJob, address: str | None = None, workers: int | None = None, threads: int | None = None,
            quiet: bool = False, log=None) -> dict:
    """Tag ``job``'s input into its output folder (resuming a run there) on Ray: ``workers`` actors (default:
    a Ray CPU's worth of ``threads`` each, filling the cluster) of ``threads`` threads (default 1). Ray is
    the one at ``address`` (``auto``: the cluster this machine belongs to; ``ray://host:port``: a remote
    one through Ray Client; ``host:port``: a cluster's head), or, with none, a Ray started here with this
    machine's cores; one already initialised in this process is used as it is. The summary, as
    :func:`run_local`'s."""
    log = log or (lambda message: print(message, file=sys.stderr))
    threads = threads or 1
    if threads < 1:
        raise ConfigError(f"threads must be at least 1, got {threads}")
    if workers is not None and workers < 1:
        raise ConfigError(f"workers must be at least 1, got {workers}")
    name, version, manifest = start_output(job, log)  # checks the model folder before Ray starts
    if manifest.complete:
        return manifest.summary
    started_ray = _connect(address)
    try:
        return _run(job, manifest, name, version, workers, threads, quiet)
    finally:
        if started_ray:
            import ray  # deferred, as in _connect

            ray.shutdown()


def _connect(address: str | None) -> bool:
    """Initialise Ray (the one at ``address``, or a local one); True when this call started it."""
    # Deferred on purpose: ray is a heavy dependency (about 250 MB, seconds to import) that only this
    # engine needs; `tag-corpus --engine local` and the rest of ner_demo never import it.
    import ray

    if ray.is_initialized():
        return False
    try:
        if address is None:
            ray.init(num_cpus=cpu_threads(), include_dashboard=False, logging_level="WARNING",
                     runtime_env=code_env())
        else:
            ray.init(address=address, logging_level="WARNING", runtime_env=code_env())
    except (ConnectionError, RuntimeError, ValueError) as exc:  # what ray.init raises for no cluster there
        where = "a local Ray" if address is None else f"the Ray cluster at {address}"
        raise RayEngineError(f"could not start or reach {where}: {exc}") from None
    return True


def _run(job: CorpusJob, manifest, name: str, version: str, workers: int | None, threads: int, quiet: bool) -> dict:
    import ray  # deferred, as in _connect
    import ray.data

    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # one bar, ours (texts/s and ETA over the whole corpus)
    context.print_on_execution_start = False
    context.enable_auto_log_stats = False
    cpus = int(ray.cluster_resources().get("CPU", 0))
    actors = workers or max(1, cpus // threads)
    if actors * threads > cpus:
        raise ConfigError(f"{actors} actor(s) of {threads} thread(s) need {actors * threads} CPUs; "
                          f"the Ray cluster has {cpus}: give fewer --workers")
    # One GPU an actor when the Tagger is asked for CUDA: Ray then places the actors on GPU nodes.
    gpus = 1 if str(job.tagger_options.get("device") or "").startswith("cuda") else None
    started = time.perf_counter()
    words = 0
    bar = tqdm(total=count_items(job.input), initial=manifest.done_items(), unit="texts", desc="tag-corpus",
               file=sys.stderr, disable=quiet or None, dynamic_ncols=True, smoothing=0.1)
    pending = (c for c in chunk_items(iter_records(job.input, job.text_field, job.id_field), job.shard_size)
               if c.index not in manifest.shards)  # done by an earlier run (the input was checked the same)
    try:
        for wave in waves(pending, WAVE_SHARDS_PER_ACTOR * actors, WAVE_TEXT_BYTES):
            dataset = ray.data.from_items([{"chunk": c.to_json()} for c in wave],
                                          override_num_blocks=min(len(wave), actors * 4))
            tagged = dataset.map_batches(
                ShardTagger, batch_size=1, fn_constructor_kwargs={"job": job, "name": name, "version": version,
                                                                  "threads": threads},
                compute=ray.data.ActorPoolStrategy(size=min(actors, len(wave))), num_cpus=threads, num_gpus=gpus)
            for row in tagged.iter_rows():
                info = json.loads(row["info"])
                manifest.add(info["index"], info)
                words += info["words"]
                bar.update(info["items"])
                bar.set_postfix_str(f"{words / max(time.perf_counter() - started, 1e-9):,.0f} words/s")
    except ray.exceptions.RayError as exc:
        raise RayEngineError(f"a Ray actor failed: {_cause(exc)}. The completed shards are kept: run the same "
                             "command again to resume (once that is fixed)") from None
    finally:
        bar.close()
    result = summary(manifest, time.perf_counter() - started, words)
    manifest.finish(result)
    return result


def code_env() -> dict | None:
    """How the actors get ner_demo's code: installed (site-packages), it must be installed on every node as
    it is on every node's Python with torch (None: nothing to ship); run from a checkout, the driver's own
    ``ner_demo/`` is shipped to them through Ray's runtime environment (``py_modules``: zipped once, cached by
    content on the cluster), so the actors run the very code the driver runs, on any cluster."""
    package = Path(ner_demo.__file__).resolve().parent
    if any(part in ("site-packages", "dist-packages") for part in package.parts):
        return None
    return {"py_modules": [str(package)], "excludes": ["__pycache__", "*.pyc"]}


def waves(chunks: Iterable[Chunk], max_shards: int, max_bytes: int) -> Iterator[list[Chunk]]:
    """The chunks in consecutive groups of at most ``max_shards``, closed early once their texts reach
    ``max_bytes`` (UTF-8), lazily: one group in memory at a time.

    >>> from ner_demo.corpus.records import Record
    >>> chunks = [Chunk(i, i, [Record(str(i), "x" * 10, "a.txt", i + 1)]) for i in range(5)]
    >>> [[c.index for c in w] for w in waves(chunks, max_shards=2, max_bytes=100)]
    [[0, 1], [2, 3], [4]]
    >>> [[c.index for c in w] for w in waves(chunks, max_shards=9, max_bytes=25)]
    [[0, 1, 2], [3, 4]]
    """
    wave: list[Chunk] = []
    size = 0
    for chunk in chunks:
        wave.append(chunk)
        size += sum(len(r.text.encode("utf-8")) for r in chunk.records)
        if len(wave) >= max_shards or size >= max_bytes:
            yield wave
            wave, size = [], 0
    if wave:
        yield wave


def _cause(exc: Exception) -> str:
    """The user-facing part of a Ray error: the exception raised in the actor, not Ray's traceback."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, NerDemoError):
        return str(cause)
    if cause is not None:
        return f"{type(cause).__name__}: {cause}"
    # An error raised in an actor's __init__ arrives as an ActorDiedError whose message ends with the
    # original "module.Class: message" line; ner_demo's own errors are shown by their message alone.
    last = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    return re.sub(r"^ner_demo(\.\w+)*\.\w+: ", "", last)


def _node() -> str:
    import socket

    return socket.gethostname()


class ShardTagger:
    """One actor of Ray Data's pool: loads the Tagger once (as a local worker process does), then tags and
    writes each shard it is given. The model reaches it as ``job.model``, a path that must exist on its node
    (shared storage, or the same folder staged on every node: docs/cluster.md), and so must ``job.output``."""

    def __init__(self, job: CorpusJob, name: str, version: str, threads: int):
        # A copy staged on each node must hold the driver's files: the rows say which model tagged them.
        here = model_identity(job.model)[1]
        if here != version:
            raise RayEngineError(f"{name}: the model on node {_node()} is version {here}, the driver's is {version}: "
                                 "stage the same files on every node, or put the model on shared storage")
        local._start_worker(job, name, version, threads)  # the local workers' own set-up: threads, backend

    def __call__(self, batch: dict) -> dict:
        infos = [local.tag_chunk(Chunk.from_json(data)) for data in batch["chunk"]]
        return {"info": [json.dumps(info) for info in infos]}

"""``tag-corpus --engine local``: worker processes on this machine, each with its own Tagger.

The main process reads the input (:func:`iter_records`), cuts it into shards (:func:`chunk_items`) and
hands each shard to a worker; the worker tags it, writes it (atomically) and returns only its figures.
At most ``2 x workers`` shards are in flight, so memory holds that many shards whatever the corpus size,
and the results are taken in shard order, so the manifest grows in input order. Workers start with
``spawn`` (a fresh interpreter: no threads or torch state inherited from the parent) and load the model
themselves: no tensors travel between processes, only texts and figures.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from tqdm import tqdm

from ner_demo.backends import cpu_threads
from ner_demo.corpus.job import CorpusJob
from ner_demo.corpus.records import count_items, iter_records
from ner_demo.corpus.rows import count_words, entity_rows
from ner_demo.corpus.shards import Chunk, chunk_items, shard_info, start_output, summary, write_shard
from ner_demo.errors import ConfigError, NerDemoError

IN_FLIGHT_PER_WORKER = 2  # one shard being tagged, one waiting: a worker never idles on the reader


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """Threads each worker may use so that workers x threads <= cores (at least 1).

    >>> threads_per_worker(2, cores=8), threads_per_worker(3, cores=2)
    (4, 1)
    """
    return max(1, (cores or cpu_threads()) // workers)


def run_local(job: CorpusJob, workers: int | None = None, threads: int | None = None, quiet: bool = False,
              log=None) -> dict:
    """Tag ``job``'s input into its output folder (resuming a run there) with ``workers`` processes
    (default: one per core) of ``threads`` threads each (default: the cores shared out). The summary."""
    log = log or (lambda message: print(message, file=sys.stderr))
    workers = cpu_threads() if workers is None else workers
    if workers < 1:
        raise ConfigError(f"workers must be at least 1, got {workers}")
    threads = threads or threads_per_worker(workers)
    name, version, manifest = start_output(job, log)
    if manifest.complete:
        return manifest.summary
    started = time.perf_counter()
    words = 0
    bar = tqdm(total=count_items(job.input), initial=manifest.done_items(), unit="texts", desc="tag-corpus",
               file=sys.stderr, disable=quiet or None, dynamic_ncols=True, smoothing=0.1)
    in_flight: collections.deque = collections.deque()
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                               initargs=(job, name, version, threads))
    try:
        def settle_oldest() -> None:
            nonlocal words
            chunk, future = in_flight.popleft()
            info = future.result()
            manifest.add(chunk.index, info)
            words += info["words"]
            bar.update(info["items"])
            bar.set_postfix_str(f"{words / max(time.perf_counter() - started, 1e-9):,.0f} words/s")

        for chunk in chunk_items(iter_records(job.input, job.text_field, job.id_field), job.shard_size):
            if chunk.index in manifest.shards:
                continue  # done by an earlier run (the input was checked to be the same)
            if len(in_flight) >= IN_FLIGHT_PER_WORKER * workers:
                settle_oldest()
            in_flight.append((chunk, pool.submit(tag_chunk, chunk)))
        while in_flight:
            settle_oldest()
    except BrokenProcessPool:
        raise NerDemoError("a worker process died (killed, or out of memory?); the completed shards are kept: "
                           "run the same command again to resume") from None
    finally:
        # On an error or Ctrl-C the shards not started are dropped at once (a resumed run does them);
        # the ones being tagged finish, and are entered in no manifest: a resumed run writes them again.
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
    result = summary(manifest, time.perf_counter() - started, words)
    manifest.finish(result)
    return result


# ---- in each worker process ----------------------------------------------------------------------

_worker: dict = {}


def _start_worker(job: CorpusJob, name: str, version: str, threads: int) -> None:
    """Load the Tagger once for every shard this process will tag, with ``threads`` threads at most."""
    # Ctrl-C reaches the whole process group: the main process handles it (drops the shards not started,
    # lets the running ones finish); a worker stopped halfway through would only add a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)  # before torch or onnxruntime start their pools
    try:
        tagger = job.load_tagger()
    except Exception as exc:  # kept for the first shard to raise: a failed initializer only says "broken pool"
        _worker["error"] = exc if not isinstance(exc, NerDemoError) else NerDemoError(str(exc))
        return
    if "torch" in sys.modules:  # the model is a PyTorch one (a torch-* backend, or the export check)
        sys.modules["torch"].set_num_threads(threads)
    if hasattr(tagger.backend, "parallel_calls"):
        # An ONNX backend runs one single-threaded session call per core at once (backends.OnnxBackend);
        # here the cores are shared out between the workers, so a worker runs ``threads`` at once.
        tagger.backend.parallel_calls = threads
    _worker.update(job=job, tagger=tagger, name=name, version=version)


def tag_chunk(chunk: Chunk) -> dict:
    """Tag one shard, write it and its rejects, and return what the manifest records of it."""
    if "error" in _worker:
        raise _worker["error"]  # the model did not load: the run stops with loading's own message
    job = _worker["job"]
    records = chunk.records
    rows = entity_rows(_worker["tagger"], records, _worker["name"], _worker["version"])
    file = write_shard(job.output, chunk.index, rows, chunk.rejects, job.format)
    return shard_info(chunk, file, rows, count_words(records))

"""``tag-corpus`` on CoNLL-2003 test repeated to at least 1M words: words/s with 1 and 2 workers, and peak
RSS (every process of the run together) at 1x and 10x the corpus.

    nice -n 10 python bench/bench_corpus.py                                   # the fast shipped model
    nice -n 10 python bench/bench_corpus.py --model models/minilm-conll2003 --mode sentences

``--mode documents`` (default): a CoNLL-2003 document a line, its sentences joined by spaces: the model
reads each word with its document around it, as ``evaluate`` does, so the shipped models' test F1
(README, BENCHMARKS.md) is the F1 context of these figures. ``--mode sentences``: a sentence a line, each
read alone: more, shorter texts; a model trained with document context scores lower that way.

Each configuration is a fresh ``python -m ner_demo tag-corpus`` run into a new folder: the figures include
the workers' start (loading the model), as a user sees them. words/s counts whitespace-separated words
(CoNLL's own words here). The acceptance (issue 20): 2 workers >= 1.7x the words/s of 1 worker (one thread
each, so that the processes are what is compared), and peak RSS at 10x within 10% of that at 1x.

Engines are in ENGINES. ``--engine ray`` runs the same commands with ``--engine ray`` (a local Ray started
by each run, with this machine's cores: the figures include Ray's start, as a user sees it); with
``--against-local`` the local engine runs the same configurations first and Ray's overhead is printed as
the ratio of their words/s:

    nice -n 10 python bench/bench_corpus.py --engine ray --against-local --skip-10x
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

FAST_MODEL = ROOT / "models" / "minilm3-conll2003-fast"


def local_command(corpus: Path, output: Path, model: str, workers: int, threads: int | None,
                  shard_size: int) -> list[str]:
    command = ["tag-corpus", str(corpus), str(output), "--model", model, "--engine", "local",
               "--workers", str(workers), "--shard-size", str(shard_size), "--quiet"]
    return command + (["--threads", str(threads)] if threads else [])


def ray_command(corpus: Path, output: Path, model: str, workers: int, threads: int | None,
                shard_size: int) -> list[str]:
    """The same run on Ray: ``workers`` actors of ``threads`` threads (one CPU each reserved per thread)."""
    command = ["tag-corpus", str(corpus), str(output), "--model", model, "--engine", "ray",
               "--workers", str(workers), "--shard-size", str(shard_size), "--quiet"]
    return command + (["--threads", str(threads)] if threads else [])


# Engine name -> the tag-corpus arguments of one run.
ENGINES = {"local": local_command, "ray": ray_command}


def corpus_texts(mode: str) -> list[str]:
    """CoNLL-2003 test as texts: a document a line, or a sentence a line."""
    from ner_demo.data import load_split

    test = load_split("conll2003", "test")
    if mode == "sentences":
        return [" ".join(s.words) for s in test if s.words]
    docs: dict[int, list[str]] = {}
    for s in test:
        docs.setdefault(s.doc_id, []).extend(s.words)
    return [" ".join(words) for words in docs.values() if words]


def passes_for(texts: list[str], min_words: int) -> int:
    """Passes over ``texts`` that give at least ``min_words`` words."""
    return math.ceil(min_words / sum(len(t.split()) for t in texts))


def write_corpus(path: Path, texts: list[str], passes: int) -> int:
    """``texts`` repeated ``passes`` times, a text a line, written without holding the repeated corpus;
    the words written."""
    per_pass = sum(len(t.split()) for t in texts)
    block = ("\n".join(texts) + "\n").encode("utf-8")
    with open(path, "wb") as f:
        for _ in range(passes):
            f.write(block)
    return passes * per_pass


# ---- peak RSS of a process tree -------------------------------------------------------------------


def _tree_rss_psutil(pid: int) -> int:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def _tree_rss_proc(pid: int) -> int:
    """The same from /proc alone: parents from each /proc/N/stat, RSS from /proc/N/status."""
    parent = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                parent[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {pid}, [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parent.items() if pp == p and c not in tree]
        tree.update(kids)
        frontier += kids
    total = 0
    for p in tree:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def tree_rss(pid: int) -> int:
    try:
        import psutil  # noqa: F401  (optional: /proc does the same on Linux)
    except ImportError:
        return _tree_rss_proc(pid)
    return _tree_rss_psutil(pid)


def run_once(args: list[str], every_s: float = 0.2) -> dict:
    """One ``python -m ner_demo`` run: its wall seconds, peak RSS of its process tree, and summary."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "ner_demo", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(every_s)
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"tag-corpus failed ({proc.returncode}): {err.strip()[-2000:]}")
    manifest = json.loads((Path(args[2]) / "manifest.json").read_text(encoding="utf-8"))
    return {"wall_s": round(wall, 1), "peak_rss_mb": round(peak / 2**20), **manifest["summary"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(FAST_MODEL), help="default: the fast shipped model")
    parser.add_argument("--mode", choices=("documents", "sentences"), default="documents")
    parser.add_argument("--words", type=int, default=1_000_000, help="the 1x corpus: at least this many words")
    parser.add_argument("--rss-words", type=int, default=None,
                        help="the base of the RSS comparison (1x and 10x of it; default: --words)")
    parser.add_argument("--engine", choices=sorted(ENGINES), default="local")
    parser.add_argument("--against-local", action="store_true",
                        help="with --engine ray: run the local engine on the same configurations too, and print "
                             "Ray's overhead (local words/s over Ray's)")
    parser.add_argument("--shard-size", type=int, default=None,
                        help="records a shard (default: 100 documents or 1000 sentences: some 20k words, so that "
                             "both workers have shards to tag)")
    parser.add_argument("--skip-10x", action="store_true", help="no 10x run (RSS at 1x only)")
    parser.add_argument("--work", default=None, help="folder for the corpora and outputs (default: a temporary one)")
    args = parser.parse_args()

    work = Path(args.work or tempfile.mkdtemp(prefix="bench-corpus-"))
    work.mkdir(parents=True, exist_ok=True)
    texts = corpus_texts(args.mode)
    command = ENGINES[args.engine]
    shard_size = args.shard_size or (100 if args.mode == "documents" else 1000)
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; "
          f"model {Path(args.model).name}; mode {args.mode} ({len(texts)} texts of CoNLL-2003 test a pass); "
          f"shards of {shard_size} texts", flush=True)

    results = {}
    corpus = work / "corpus-1x.txt"
    words = write_corpus(corpus, texts, passes_for(texts, args.words))
    for name, workers, threads in (("1 worker x 1 thread", 1, 1), ("2 workers x 1 thread", 2, 1)):
        r = run_once(command(corpus, work / f"out-{workers}w", args.model, workers, threads, shard_size))
        results[name] = r
        print(f"{name:22s} {words:>10,} words  {r['wall_s']:7.1f} s  {words / r['wall_s']:8,.0f} words/s (wall)  "
              f"peak RSS {r['peak_rss_mb']:,} MB  [{r['records']:,} records, {r['entities']:,} entities]", flush=True)
    one, two = results["1 worker x 1 thread"], results["2 workers x 1 thread"]
    speedup = one["wall_s"] / two["wall_s"]
    print(f"2 workers / 1 worker: {speedup:.2f}x words/s (acceptance: >= 1.7x)")
    if args.against_local and args.engine != "local":
        for name, workers in (("1 worker x 1 thread", 1), ("2 workers x 1 thread", 2)):
            r = run_once(local_command(corpus, work / f"out-local-{workers}w", args.model, workers, 1, shard_size))
            overhead = results[name]["wall_s"] / r["wall_s"]
            print(f"local {name:16s} {words:>10,} words  {r['wall_s']:7.1f} s  {words / r['wall_s']:8,.0f} words/s "
                  f"(wall)  peak RSS {r['peak_rss_mb']:,} MB; {args.engine} takes {overhead:.2f}x its time", flush=True)

    if not args.skip_10x:
        base = passes_for(texts, args.rss_words or args.words)  # 10x is exactly ten times these passes
        peaks = {}
        for scale in (1, 10):
            path = work / f"corpus-rss-{scale}x.txt"
            n = write_corpus(path, texts, base * scale)
            r = run_once(command(path, work / f"out-rss-{scale}x", args.model, 2, 1, shard_size))
            peaks[scale] = r["peak_rss_mb"]
            print(f"RSS {scale:>2}x, 2 workers   {n:>10,} words  {r['wall_s']:7.1f} s  peak RSS {r['peak_rss_mb']:,} MB", flush=True)
            path.unlink()
        print(f"peak RSS 10x / 1x: {peaks[10] / peaks[1]:.3f} (acceptance: <= 1.10)")
    print(f"# load at the end {os.getloadavg()[0]:.1f}; work folder {work}")


if __name__ == "__main__":
    main()

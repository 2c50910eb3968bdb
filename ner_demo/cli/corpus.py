"""``tag-corpus INPUT OUTPUT``: tag a corpus of any size into shards, resumably, on an engine."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from ner_demo.cli.common import UsageError, add_model_options
from ner_demo.corpus.job import DEFAULT_SHARD_SIZE, FORMATS, CorpusJob
from ner_demo.corpus.records import CorpusError, Reject, describe_reject, input_files
from ner_demo.corpus.shards import REJECTS
from ner_demo.models import default_model

ENGINES = ("local", "ray")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "tag-corpus", help="tag a corpus of any size into shards (resumable; local processes or Ray)",
        description="Tag every record of INPUT (.txt: a text a line; .jsonl: the --text-field of each line; "
        ".parquet: the --text-field column; or a folder of these, recursively) into the folder OUTPUT: shards "
        "part-NNNNN.jsonl (or .parquet) with each record's id, its entities as character spans (label, start, "
        "end, text, score) and the model's name and version, and manifest.json. Bad records (not JSON, a missing "
        "field, not UTF-8) are counted and written to OUTPUT/rejects.jsonl with their file and line. "
        "Run the same command again after a crash or kill: it resumes where it stopped.",
    )
    p.add_argument("input", metavar="INPUT", help="a .txt, .jsonl or .parquet file, or a folder of them")
    p.add_argument("output", metavar="OUTPUT", help="the output folder (new, or that of a run to resume)")
    p.add_argument("--text-field", default="text", help="the JSONL field or Parquet column with the text (default: text)")
    p.add_argument("--id-field", default=None,
                   help="the JSONL field or Parquet column with the record's id (default: <file>:<line>)")
    p.add_argument("--format", choices=FORMATS, default=None,
                   help="the shards' format (default: parquet when OUTPUT ends in .parquet, else jsonl)")
    p.add_argument("--shard-size", type=int, default=DEFAULT_SHARD_SIZE,
                   help=f"records a shard (default: {DEFAULT_SHARD_SIZE}); a resumed run redoes at most the "
                        "shards that were in flight")
    p.add_argument("--engine", choices=ENGINES, default="local",
                   help="local: worker processes on this machine (default); ray: Ray Data (--address)")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes (local) or Ray actors (ray), each with its own Tagger (default: one "
                        "per core; on Ray, one per CPU of the cluster)")
    p.add_argument("--threads", type=int, default=None,
                   help="threads of each worker's or actor's Tagger (default: the cores shared out between the "
                        "local workers; 1 an actor on Ray, which reserves that many CPUs for each)")
    p.add_argument("--address", default=None,
                   help="ray engine: 'auto' (a running cluster), ray://host:port, or none to start a local Ray")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_model_options(p)
    p.set_defaults(func=_tag_corpus)


def job_from_args(args) -> CorpusJob:
    """The job the arguments describe, checked before any model loads."""
    if args.shard_size < 1:
        raise UsageError(f"--shard-size {args.shard_size}: give a number of records, 1 or more")
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers {args.workers}: give 1 or more")
    if args.threads is not None and args.threads < 1:
        raise UsageError(f"--threads {args.threads}: give 1 or more")
    if args.address and args.engine != "ray":
        raise UsageError("--address is for --engine ray")
    try:
        input_files(args.input)
    except CorpusError as exc:
        raise UsageError(str(exc)) from None
    fmt = args.format or ("parquet" if Path(args.output).suffix.lower() == ".parquet" else "jsonl")
    options = {"aggregation": args.aggregation, "precision": args.precision, "device": args.device,
               "backend": args.backend, "batch_size": args.batch_size, "context_words": args.context_words,
               "chunk_share": args.chunk_share}
    return CorpusJob(args.input, args.output, args.model or default_model(), args.text_field, args.id_field,
                     fmt, args.shard_size, options)


def _tag_corpus(args) -> int:
    job = job_from_args(args)
    if args.engine == "ray":
        # Deferred on purpose: ray is a heavy, optional dependency that only this engine needs.
        # ner_demo.corpus.ray_engine.run_ray(job, address=..., quiet=...) returns the same summary as
        # run_local: the same shards, tagged by an actor pool of Ray Data (map_batches), one Tagger an actor.
        from ner_demo.corpus import ray_engine

        result = ray_engine.run_ray(job, address=args.address, workers=args.workers, threads=args.threads,
                                    quiet=args.quiet)
    else:
        from ner_demo.corpus.local import run_local  # deferred: it imports multiprocessing and the pool

        result = run_local(job, workers=args.workers, threads=args.threads, quiet=args.quiet)
    print(format_summary(result, Path(job.output).name, first_rejects(Path(job.output))))
    return 0


def first_rejects(output: Path, n: int = 3) -> list[str]:
    """The first ``n`` rejects of a finished run, said as ``file, line N: reason``."""
    path = output / REJECTS
    if not path.is_file():
        return []
    with open(path, encoding="utf-8") as f:
        return [describe_reject(Reject(**json.loads(line))) for line in itertools.islice(f, n)]


def format_summary(result: dict, output: str, rejects: list[str] = ()) -> str:
    """The lines printed at the end of a run; ``rejects``: the first few, said."""
    rate = f", {result['words_per_s']:,} words/s this run" if result.get("words_per_s") else ""
    lines = [f"tagged {result['records']:,} records ({result['words']:,} words) into {result['shards']} shard(s) "
             f"in {output}/: {result['entities']:,} entities{rate}"]
    if result["rejects"]:
        lines.append(f"{result['rejects']:,} bad record(s) skipped: see {output}/{REJECTS} (file, line, reason)")
        lines += [f"  {r}" for r in rejects] + (["  ..."] if result["rejects"] > len(rejects) else [])
    else:
        lines.append("no bad records")
    return "\n".join(lines)

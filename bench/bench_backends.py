"""Every Tagger backend against transformers.pipeline on the same model and CoNLL-2003 sentences.

    python bench/bench_backends.py --limit 500                 # offline encoder + random head: speed only
    python bench/bench_backends.py --model models/minilm-conll2003 --json bench.json

For each backend (and the pipeline) a fresh subprocess loads the model, so peak memory (RSS) is that
backend's own, and measures:
- words/s tagging all the sentences in batch mode (``predict_words``; the pipeline with
  ``is_split_into_words=True`` and its ``--pipeline-batch``);
- p50 / p95 latency of single calls on one sentence as text (``tag_texts([text])``, ``pipe(text)``);
- the bare forward pass on those sentences (inputs built beforehand, only the network timed: the
  backend itself, or the PyTorch model for the pipeline), alternating call by call with the single
  calls above, so ``p50 / bare`` is what tokenising, windowing and decoding add;
- strict IOB2 F1 on the split (meaningful only for a trained model: a random head scores ~0) and the
  share of words whose tag equals torch-fp32's. The pipeline feeds no casing token types, so on a
  model trained with ``casing`` its F1 is lower: that is what a user of the pipeline would get.
The machine may be shared: rows run one after another in one run, so compare ratios, not absolutes.
ONNX graphs come from ``ner_demo.export`` into a scratch folder (the offline encoder's random head is
saved there first, so every backend loads from disk as it would be deployed).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

BACKENDS = ["torch-fp32", "torch-bf16", "torch-int8", "onnx-fp32", "onnx-int8"]


# ---- worker: one backend, one process ------------------------------------------------------------


def _rss_mb() -> float:
    """Peak resident memory of this process so far, MiB. VmHWM, not ru_maxrss: Linux carries
    ru_maxrss across exec, so a worker would report its (bigger) parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 if sys.platform != "darwin" else 2**20)


def _percentiles(seconds: list[float]) -> tuple[float, float]:
    import numpy as np

    ms = np.asarray(seconds) * 1000
    return round(float(np.percentile(ms, 50)), 2), round(float(np.percentile(ms, 95)), 2)


def _tags_from_entities(words: list[str], entities: list[dict]) -> list[str]:
    """IOB2 word tags from the pipeline's character spans over ' '.join(words)."""
    starts, pos = [], 0
    for w in words:
        starts.append(pos)
        pos += len(w) + 1
    tags = ["O"] * len(words)
    for e in entities:
        inside = [i for i, s in enumerate(starts) if e["start"] <= s < e["end"]]
        for k, i in enumerate(inside):
            tags[i] = ("B-" if k == 0 else "I-") + e["entity_group"]
    return tags


def _time_pairs(call, call_inputs, bare, bare_inputs, warmup: int = 5) -> tuple[list[float], list[float]]:
    """Seconds of ``call`` and ``bare`` on each input, alternating call by call, so that a shared
    machine's load drifts over both alike (two separate loops would compare two different moments)."""
    for x, y in zip(call_inputs[:warmup], bare_inputs[:warmup]):
        call(x)
        bare(y)
    full, forward = [], []
    for x, y in zip(call_inputs, bare_inputs):
        start = time.perf_counter()
        call(x)
        middle = time.perf_counter()
        bare(y)
        forward.append(time.perf_counter() - middle)
        full.append(middle - start)
    return full, forward


def worker(args) -> dict:
    """Measure one backend; returns the row (tags included for the agreement column)."""
    import numpy as np
    import torch

    from ner_demo.data.sources import load_split
    from ner_demo.evaluation import evaluate

    corpus = load_split(args.data, args.split)
    sentences = corpus.sentences[: args.limit or None]
    words = [list(s.words) for s in sentences]
    doc_ids = [s.doc_id for s in sentences]
    n_words = sum(len(w) for w in words)
    step = max(1, len(words) // args.latency_sentences)
    single = [w for w in words[::step] if w][: args.latency_sentences]
    texts = [" ".join(w) for w in single]
    rss_imports = _rss_mb()
    start = time.perf_counter()
    if args.worker == "pipeline":
        from transformers import pipeline

        pipe = pipeline("token-classification", model=args.torch_dir, aggregation_strategy="first", device="cpu")
        load_s = time.perf_counter() - start
        batch = args.pipeline_batch[0]
        pipe(words[:8], is_split_into_words=True, batch_size=batch)  # warm-up
        start = time.perf_counter()
        out = pipe(words, is_split_into_words=True, batch_size=batch)
        batch_s = time.perf_counter() - start
        tags = [_tags_from_entities(w, ents) for w, ents in zip(words, out)]
        encoded = [pipe.tokenizer(t, return_tensors="pt") for t in texts]
        with torch.inference_mode():
            latency, bare = _time_pairs(pipe, texts, lambda x: pipe.model(**x), encoded)
        name = f"pipeline (batch {batch})"
    else:
        from ner_demo.inference import Tagger

        folder = args.onnx_dir if args.worker.startswith("onnx-") else args.torch_dir
        tagger = Tagger.from_pretrained(folder, backend=args.worker, batch_size=args.batch_size or None)
        load_s = time.perf_counter() - start
        tagger.predict_words(words[:64])  # warm-up
        start = time.perf_counter()
        tags = tagger.predict_words(words, doc_ids)
        batch_s = time.perf_counter() - start
        arrays = [tagger.batch_arrays(tagger.plan([w])) for w in single]
        latency, bare = _time_pairs(lambda t: tagger.tag_texts([t]), texts, lambda a: tagger.backend(*a), arrays)
        name = f"{args.worker} (batch {tagger.batch_size})"
    p50, p95 = _percentiles(latency)
    bare50, _ = _percentiles(bare)
    gold = [list(s.tags) for s in sentences]
    return {
        "backend": name, "words_per_s": round(n_words / batch_s), "batch_seconds": round(batch_s, 2),
        "p50_ms": p50, "p95_ms": p95, "bare_p50_ms": bare50, "p50_over_bare": round(p50 / bare50, 2),
        "load_seconds": round(load_s, 2), "rss_imports_mb": round(rss_imports), "peak_rss_mb": round(_rss_mb()),
        "strict_f1": round(evaluate(gold, tags).strict.micro.f1, 4), "threads": torch.get_num_threads(),
        "tags": tags, "n_words": n_words, "n_sentences": len(words), "latency_sentences": len(texts),
        "mean_latency_words": round(float(np.mean([len(w) for w in single])), 1),
    }


# ---- parent: prepare folders, run workers, print the table ---------------------------------------


def prepare(model: str, scratch: Path, seed: int, onnx_dir: str | None = None) -> tuple[str, str, bool]:
    """(PyTorch model folder, ONNX export folder, trained?) — the offline encoder gets a seeded random
    CoNLL head saved into ``scratch`` so that every worker loads the same weights from disk."""
    import torch

    from ner_demo.encoding import InputFeatures
    from ner_demo.export import export_onnx
    from ner_demo.labels import LabelSet
    from ner_demo.models import load_token_classifier, load_tokenizer, resolve_backbone, save_model

    backbone = resolve_backbone(model)
    trained = backbone.source != "offline"
    torch_dir = model
    if not trained:
        torch.manual_seed(seed)
        labels = LabelSet.from_types(["LOC", "MISC", "ORG", "PER"])
        torch_dir = str(save_model(load_token_classifier(backbone, labels), load_tokenizer(backbone),
                                   scratch / "model", InputFeatures()))
    onnx_dir = onnx_dir or str(export_onnx(torch_dir, scratch / "onnx", quantize="int8"))
    return torch_dir, onnx_dir, trained


def machine() -> dict:
    import onnxruntime
    import torch

    flags = ""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        model_name = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "")
        flags = " ".join(f for f in ("avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8") if f in cpuinfo)
    except OSError:
        model_name = platform.processor()
    return {"date": datetime.date.today().isoformat(), "cpu": model_name, "cpu_flags": flags,
            "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "load_avg": [round(x, 2) for x in os.getloadavg()], "python": platform.python_version(),
            "torch": torch.__version__, "onnxruntime": onnxruntime.__version__}


def run_worker(name: str, args, torch_dir: str, onnx_dir: str, out: Path) -> dict:
    worker_args = ["--worker", name]
    if name.startswith("pipeline:"):
        worker_args = ["--worker", "pipeline", "--pipeline-batch", name.split(":", 1)[1]]
    cmd = [sys.executable, __file__, *worker_args, "--torch-dir", torch_dir, "--onnx-dir", onnx_dir,
           "--data", args.data, "--split", args.split, "--limit", str(args.limit),
           "--batch-size", str(args.batch_size), "--latency-sentences", str(args.latency_sentences),
           "--result", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        return {"backend": name, "error": (done.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(out.read_text())


def best_of(rows: list[dict]) -> dict:
    """One row from several rounds: batch figures from the fastest round, latency figures from the
    round with the lowest p50 (each pair measured together), the highest peak memory."""
    ok = [r for r in rows if "error" not in r]
    if not ok:
        return rows[-1]
    best = dict(max(ok, key=lambda r: r["words_per_s"]))
    quick = min(ok, key=lambda r: r["p50_ms"])
    best.update({k: quick[k] for k in ("p50_ms", "p95_ms", "bare_p50_ms", "p50_over_bare")})
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in ok)
    best["rounds"] = len(ok)
    return best


def print_table(rows: list[dict], trained: bool) -> None:
    ok = [r for r in rows if "error" not in r]
    pipes = [r for r in ok if r["backend"].startswith("pipeline")]
    base = max(pipes, key=lambda r: r["words_per_s"]) if pipes else None
    fp32 = next((r for r in ok if r["backend"].startswith("torch-fp32")), None)
    print(f"\n{'backend':<22}{'words/s':>9}{'x pipe':>8}{'p50 ms':>8}{'p95 ms':>8}{'bare ms':>8}{'p50/bare':>9}"
          f"{'peak MB':>9}{'F1':>8}{'dF1':>8}{'agree':>8}")
    for r in rows:
        if "error" in r:
            print(f"{r['backend']:<22} failed: {r['error']}")
            continue
        x = r["words_per_s"] / base["words_per_s"] if base else float("nan")
        d_f1 = (r["strict_f1"] - fp32["strict_f1"]) * 100 if fp32 else float("nan")
        print(f"{r['backend']:<22}{r['words_per_s']:>9}{x:>7.2f}x{r['p50_ms']:>8.1f}{r['p95_ms']:>8.1f}"
              f"{r['bare_p50_ms']:>8.1f}{r['p50_over_bare']:>8.2f}x{r['peak_rss_mb']:>9}{r['strict_f1']:>8.4f}"
              f"{d_f1:>+8.2f}{r.get('agree_fp32', float('nan')):>8.2%}")
    if not trained:
        print("(random CoNLL head on the offline encoder: F1 is meaningless; 'agree' = share of words tagged as torch-fp32 does)")
    if base and fp32 and trained:
        good = [r for r in ok if not r["backend"].startswith("pipeline") and abs(r["strict_f1"] - fp32["strict_f1"]) <= 0.003]
        best = max(good, key=lambda r: r["words_per_s"], default=None)
        if best:
            print(f"\nfastest within 0.3 F1 points of torch-fp32: {best['backend']}: {best['words_per_s'] / base['words_per_s']:.1f}x "
                  f"the pipeline's batch words/s ({base['backend']}), single-sentence p50 {best['p50_over_bare']:.2f}x its bare forward pass")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="offline-minilm", help="a trained model folder, or offline-minilm (random head)")
    parser.add_argument("--data", default="conll2003")
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, default=0, help="use the first N sentences (0 = all)")
    parser.add_argument("--backends", nargs="+", default=BACKENDS, choices=BACKENDS)
    parser.add_argument("--pipeline-batch", type=int, nargs="*", default=[8, 64],
                        help="pipeline batch sizes, one row each; the fastest is the baseline (none: skip it)")
    parser.add_argument("--batch-size", type=int, default=0, help="Tagger batch size (0: each backend's default)")
    parser.add_argument("--latency-sentences", type=int, default=200, help="sentences timed one call each")
    parser.add_argument("--onnx-dir", help="use this export folder instead of exporting --model")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every row this many times, in turn, and keep each row's best (a shared machine's "
                        "load comes and goes; the best of a few rounds is the closest to a quiet machine)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the results here")
    # worker mode (internal): one backend in this process
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--torch-dir", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        Path(args.result).write_text(json.dumps(worker(args)))
        return

    info = machine()
    print(json.dumps(info))
    with tempfile.TemporaryDirectory(prefix="bench-backends-") as tmp:
        scratch = Path(tmp)
        torch_dir, onnx_dir, trained = prepare(args.model, scratch, args.seed, args.onnx_dir)
        export_info = json.loads((Path(onnx_dir) / "export.json").read_text())
        print(f"model {args.model}; ONNX {onnx_dir}: {json.dumps(export_info['check_vs_torch'])}")
        names = list(args.backends) + [f"pipeline:{b}" for b in args.pipeline_batch or []]
        runs: dict[str, list[dict]] = {name: [] for name in names}
        for round_no in range(args.rounds):
            for name in names:
                row = run_worker(name, args, torch_dir, onnx_dir, scratch / f"{name.replace(':', '-')}.json")
                runs[name].append(row)
                print(json.dumps({"round": round_no + 1, **{k: v for k, v in row.items() if k != "tags"}}), flush=True)
        rows = [best_of(runs[name]) for name in names]
    reference = next((r["tags"] for r in rows if r.get("backend", "").startswith("torch-fp32")), None)
    for r in rows:
        if reference and "tags" in r:
            pairs = [(a, b) for x, y in zip(r["tags"], reference) for a, b in zip(x, y)]
            r["agree_fp32"] = sum(a == b for a, b in pairs) / max(1, len(pairs))
    print_table(rows, trained)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"machine": info, "model": args.model, "trained": trained, "limit": args.limit,
                       "rows": [{k: v for k, v in r.items() if k != "tags"} for r in rows]}, fh, indent=2)


if __name__ == "__main__":
    main()

"""Training throughput of the engines against the seeds' baseline, side by side in one session.

    python bench/bench_training.py --steps 150          # offline encoder, CoNLL-2003 train split

Each variant trains the same number of optimizer steps from the same seed in its own process (so a
variant's memory or threads cannot slow the next), one after the other, and is scored by *real*
subword tokens per second (padding excluded) over the steps after the first logging window (warm-up).

Variants:
- baseline: the HF Trainer with default arguments: fp32, dynamic padding, no length grouping.
- trainer+grouped: the HF Trainer engine with length-grouped batches.
- custom: ner_demo's loop (length-grouped batches, fp32).
- custom+bf16: the same with bf16 autocast (pays off only on CPUs with AMX or on GPUs).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

VARIANTS = {
    "baseline (Trainer defaults)": ["engine=trainer", "group_by_length=false", "precision=fp32",
                                    "loss_reduction=batch-mean"],
    "trainer+grouped": ["engine=trainer", "group_by_length=true", "precision=fp32"],
    "custom (grouped, fp32)": ["engine=custom", "group_by_length=true", "precision=fp32"],
    "custom (grouped, bf16)": ["engine=custom", "group_by_length=true", "precision=bf16"],
}


def run_variant(name: str, overrides: list[str], args, runs_dir: Path) -> dict:
    sets = [f"backbone={args.backbone}", f"max_steps={args.steps}", f"log_every={args.log_every}",
            f"runs_dir={runs_dir}", f"threads={args.threads}", "limit_dev_sentences=64", "checkpoint_every=0",
            f"name={name.split()[0]}", *overrides]
    cmd = [sys.executable, "-m", "ner_demo", "train", "--config", args.config]
    for s in sets:
        cmd += ["--set", s]
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    run = max(runs_dir.iterdir(), key=lambda p: p.stat().st_mtime)
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    train = [r for r in records if r.get("kind") == "train"][1:]  # drop the first window: warm-up
    if not train:
        raise SystemExit(f"{name}: no train records after warm-up; raise --steps or lower --log-every")
    rate = sum(r["tokens_per_s"] for r in train) / len(train)
    return {"variant": name, "tokens_per_s": round(rate), "windows": len(train)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="training/conll2003_offline_minilm.yaml")
    parser.add_argument("--backbone", default="offline-minilm")
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--log-every", type=int, default=25)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--only", nargs="*", help="run only these variants (prefix match)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    print(f"{args.backbone}, {args.steps} steps each, {platform.processor() or platform.machine()}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_training_") as tmp:
        for name, overrides in VARIANTS.items():
            if args.only and not any(name.startswith(o) for o in args.only):
                continue
            rows.append(run_variant(name, overrides, args, Path(tmp)))
            print(json.dumps(rows[-1]), flush=True)
    base = rows[0]["tokens_per_s"]
    for row in rows:
        row["ratio"] = round(row["tokens_per_s"] / base, 2)
        print(f"{row['variant']:<30} {row['tokens_per_s']:>6} real tokens/s  x{row['ratio']}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

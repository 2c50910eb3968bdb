"""ner_demo's Tagger against the peer a user would otherwise pick: spaCy 3.8's CPU NER pipeline,
trained on the same CoNLL-2003 train split on this machine, both tagging the test split in one run.

    python -m venv /tmp/spacy-venv && /tmp/spacy-venv/bin/pip install "spacy==3.8.*"   # benchmark-only
    python bench/bench_spacy.py --spacy-python /tmp/spacy-venv/bin/python [--model models/minilm-conll2003]

spaCy lives in its own virtual environment, so it never touches ner_demo's pinned dependencies; this
script drives its CLI. The first run trains spaCy the way its docs say (``spacy init config -p ner
-o efficiency``, then ``spacy train`` with the generated defaults) into ``--workdir`` (default
``$NER_DEMO_HOME/bench/spacy``); later runs reuse that pipeline. Then, ``--rounds`` times and
alternating: spaCy's own figure (``spacy evaluate``: words/s of ``nlp.pipe`` over the test docs, and
its entity F1), then the Tagger over the same sentences (``predict_words`` with document ids, the
model's own backend unless ``--backend``). The best round of each counts: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing


def spacy_cli(python: str, *args: str, log: Path | None = None) -> str:
    """Run ``python -m spacy ARGS``; its output, or a SystemExit that shows what spaCy said."""
    proc = subprocess.run([python, "-m", "spacy", *args], capture_output=True, text=True)
    if log is not None:
        log.write_text(proc.stdout + proc.stderr, encoding="utf-8")
    if proc.returncode:
        raise SystemExit(f"spacy {args[0]} failed (exit {proc.returncode}):\n{(proc.stdout + proc.stderr)[-3000:]}")
    return proc.stdout


def prepare(python: str, workdir: Path) -> dict:
    """Convert the splits and train spaCy once; returns what the training run recorded."""
    from ner_demo.data.conll import write_conll
    from ner_demo.data.sources import load_split

    record_path = workdir / "training.json"
    if (workdir / "out" / "model-best").is_dir() and record_path.is_file():
        return json.loads(record_path.read_text(encoding="utf-8"))
    corpus_dir = workdir / "corpus"
    corpus_dir.mkdir(parents=True, exist_ok=True)
    for split in ("train", "dev", "test"):
        write_conll(load_split("conll2003", split).sentences, corpus_dir / f"{split}.conll")
        spacy_cli(python, "convert", str(corpus_dir / f"{split}.conll"), str(corpus_dir), "-c", "ner", "-n", "10")
    spacy_cli(python, "init", "config", "-l", "en", "-p", "ner", "-o", "efficiency", "--force", str(workdir / "config.cfg"))
    print("training spaCy (efficiency config, its default steps and patience); log:", workdir / "train.log", flush=True)
    start = time.perf_counter()
    spacy_cli(python, "train", str(workdir / "config.cfg"), "--paths.train", str(corpus_dir / "train.spacy"),
              "--paths.dev", str(corpus_dir / "dev.spacy"), "--output", str(workdir / "out"), log=workdir / "train.log")
    record = {"train_seconds": round(time.perf_counter() - start), "config": "spacy init config -l en -p ner -o efficiency"}
    record_path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def spacy_round(python: str, workdir: Path) -> dict:
    metrics = workdir / "metrics.json"
    spacy_cli(python, "evaluate", str(workdir / "out" / "model-best"), str(workdir / "corpus" / "test.spacy"),
              "--output", str(metrics))
    data = json.loads(metrics.read_text(encoding="utf-8"))
    return {"words_per_s": round(data["speed"]), "f1": round(data["ents_f"], 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spacy-python", required=True, help="the python of a virtual environment with spacy 3.8")
    parser.add_argument("--model", default=None, help="ner_demo model folder (default: the shipped model)")
    parser.add_argument("--backend", default="auto", help="Tagger backend (default: the model's own)")
    parser.add_argument("--context-words", type=int, default=None, help="override the model's document context")
    parser.add_argument("--chunk-share", type=float, default=None,
                        help="share of a window each chunk of a document predicts (default: the model's own)")
    parser.add_argument("--workdir", default=None, help="where spaCy's data and pipeline live")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    from ner_demo.data.sources import data_home, load_split
    from ner_demo.evaluation import evaluate
    from ner_demo.inference import Tagger
    from ner_demo.models import default_model

    workdir = Path(args.workdir or data_home() / "bench" / "spacy")
    version = subprocess.run([args.spacy_python, "-c", "import spacy; print(spacy.__version__)"], capture_output=True,
                             text=True, check=True).stdout.strip()
    training = prepare(args.spacy_python, workdir)
    sentences = load_split("conll2003", "test").sentences
    words, gold = [list(s.words) for s in sentences], [list(s.tags) for s in sentences]
    doc_ids = [s.doc_id for s in sentences]
    n_words = sum(len(w) for w in words)
    tagger = Tagger.from_pretrained(args.model or default_model(), backend=args.backend, context_words=args.context_words,
                                    chunk_share=args.chunk_share)
    tagger.predict_words(words[:64])  # warm-up
    print(f"spaCy {version} (trained in {training['train_seconds']} s) vs Tagger {tagger.describe()}; "
          f"{len(words)} test sentences, {n_words} words; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores", flush=True)

    spacy_rounds, tagger_rounds = [], []
    for r in range(args.rounds):
        spacy_rounds.append(spacy_round(args.spacy_python, workdir))
        start = time.perf_counter()
        tags = tagger.predict_words(words, doc_ids)
        seconds = time.perf_counter() - start
        tagger_rounds.append({"words_per_s": round(n_words / seconds), "f1": round(evaluate(gold, tags).strict.micro.f1, 4)})
        print(f"round {r + 1}: spaCy {spacy_rounds[-1]}  Tagger {tagger_rounds[-1]}", flush=True)
    best_spacy = max(spacy_rounds, key=lambda x: x["words_per_s"])
    best_tagger = max(tagger_rounds, key=lambda x: x["words_per_s"])
    ratio = best_tagger["words_per_s"] / best_spacy["words_per_s"]
    print(f"\nspaCy efficiency NER: {best_spacy['words_per_s']:>7} words/s  test entity F1 {best_spacy['f1']:.4f}")
    print(f"ner_demo Tagger:      {best_tagger['words_per_s']:>7} words/s  test strict F1 {best_tagger['f1']:.4f}"
          f"  ({ratio:.2f}x spaCy's words/s)")
    if args.json:
        Path(args.json).write_text(json.dumps({"spacy": spacy_rounds, "tagger": tagger_rounds, "describe": tagger.describe(),
                                               "spacy_training": training}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

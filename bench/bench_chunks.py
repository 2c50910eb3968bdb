"""How much of each window a document's chunk predicts (``Tagger(chunk_share=)``): speed against F1.

    python bench/bench_chunks.py                                   # shipped model, dev, its own backend
    python bench/bench_chunks.py --split test --shares 0.5 0.9 --backend torch-fp32

A model trained with document context reads a CoNLL document whole, in overlapping windows that each
predict a chunk in their middle; a bigger chunk means fewer windows (faster) and less context around
the chunk's edges. Each share is timed ``--rounds`` times in turn (best round kept), all in one process,
so the ratios compare like with like on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="a model folder (default: the shipped model)")
    parser.add_argument("--data", default="conll2003")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--backend", default="auto", help="Tagger backend (default: the model's own)")
    parser.add_argument("--shares", type=float, nargs="+", default=[0.5, 0.75, 0.9])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    from ner_demo.data.sources import load_split
    from ner_demo.encoding import sequences_for
    from ner_demo.evaluation import evaluate
    from ner_demo.inference import Tagger
    from ner_demo.models import default_model

    sentences = load_split(args.data, args.split).sentences
    words, gold = [list(s.words) for s in sentences], [list(s.tags) for s in sentences]
    doc_ids = [s.doc_id for s in sentences]
    n_words = sum(len(w) for w in words)
    taggers = {s: Tagger.from_pretrained(args.model or default_model(), backend=args.backend, chunk_share=s)
               for s in args.shares}
    first = taggers[args.shares[0]]
    first.predict_words(words[:64], doc_ids[:64])  # warm-up (an ONNX backend exports on first use)
    print(f"{first.describe()}; {args.split}: {len(words)} sentences, {n_words} words; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores", flush=True)

    sequences, _ = sequences_for(words, doc_ids, first.features.context_words)  # documents, as the Tagger reads them
    rows = {s: {"share": s, "words_per_s": 0, "windows": len(taggers[s].plan(sequences))} for s in args.shares}
    for r in range(args.rounds):
        for share, tagger in taggers.items():
            start = time.perf_counter()
            tags = tagger.predict_words(words, doc_ids)
            speed = round(n_words / (time.perf_counter() - start))
            rows[share]["words_per_s"] = max(rows[share]["words_per_s"], speed)
            rows[share]["strict_f1"] = round(evaluate(gold, tags).strict.micro.f1, 4)
            print(f"round {r + 1}: chunk_share {share:g}: {speed} words/s, strict F1 {rows[share]['strict_f1']:.4f}", flush=True)
    base = rows[args.shares[0]]["words_per_s"]
    print(f"\n{'chunk_share':>11}{'windows':>9}{'words/s':>10}{'vs first':>10}{'strict F1':>11}")
    for row in rows.values():
        print(f"{row['share']:>11g}{row['windows']:>9}{row['words_per_s']:>10}{row['words_per_s'] / base:>9.2f}x"
              f"{row['strict_f1']:>11.4f}")
    if args.json:
        Path(args.json).write_text(json.dumps(list(rows.values()), indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

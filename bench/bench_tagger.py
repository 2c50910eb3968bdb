"""Tagger vs transformers.pipeline on the same model and the same CoNLL-2003 sentences, in one run.

    python bench/bench_tagger.py                       # offline encoder + a random CoNLL head (speed only)
    python bench/bench_tagger.py --model runs/X/best   # a trained model: F1 of each as well

Both get the same pre-split words (the pipeline with ``is_split_into_words=True``), so their entities
are character spans of the same joined sentence and can be compared one by one. Prints words/s of
each, the ratio to the pipeline, the share of entities on which they agree (|A∩B| / |A∪B|), and, for
a trained model, strict IOB2 test F1.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing


def joined_spans(words, tags) -> set[tuple[str, int, int]]:
    """Entities as (label, start, end) character spans of ' '.join(words)."""
    from ner_demo.spans import iob2_word_spans

    starts, pos = [], 0
    for w in words:
        starts.append(pos)
        pos += len(w) + 1
    return {(s.label, starts[s.start], starts[s.end - 1] + len(words[s.end - 1])) for s in iob2_word_spans(tags)}


def timed_tagging(tagger, words, doc_ids=None) -> tuple[float, list[list[str]]]:
    """Seconds of one ``predict_words`` pass over ``words`` (after a warm-up on the first 64
    sentences), and its tags: the Tagger time this benchmark reports."""
    tagger.predict_words(words[:64])  # warm-up
    start = time.perf_counter()
    tags = tagger.predict_words(words, doc_ids)
    return time.perf_counter() - start, tags


def load(model_name: str, seed: int):
    from ner_demo.labels import LabelSet
    from ner_demo.models import load_tokenizer, load_token_classifier, load_trained, resolve_backbone

    backbone = resolve_backbone(model_name)
    if backbone.source == "offline":  # an encoder without a head: a seeded random head, speed only
        torch.manual_seed(seed)
        labels = LabelSet.from_types(["LOC", "MISC", "ORG", "PER"])
        return load_token_classifier(backbone, labels).eval(), load_tokenizer(backbone), None, False
    model, tokenizer, features = load_trained(model_name)
    return model, tokenizer, features, True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="offline-minilm")
    parser.add_argument("--data", default="conll2003")
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, default=0, help="use the first N sentences (0 = all)")
    parser.add_argument("--pipeline-batch", type=int, nargs="+", default=[1, 8, 64],
                        help="batch sizes to run the pipeline at; the fastest is the baseline")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backends", nargs="+", default=["torch-fp32", "torch-bf16", "torch-int8", "onnx-int8"],
                        help="Tagger backends to run (the first is the reference for agreement)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="Tagger windows per call (default: each backend's own, 16 for ONNX and 64 for torch)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    from transformers import pipeline

    from ner_demo.data.sources import load_split
    from ner_demo.encoding import InputFeatures
    from ner_demo.evaluation import evaluate
    from ner_demo.inference import Tagger

    corpus = load_split(args.data, args.split)
    sentences = corpus.sentences[: args.limit or None]
    words = [list(s.words) for s in sentences]
    gold = [list(s.tags) for s in sentences]
    n_words = sum(len(w) for w in words)
    model, tokenizer, features, trained = load(args.model, args.seed)
    print(f"{args.model} on {args.data}/{args.split}: {len(words)} sentences, {n_words} words; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}")

    rows = []

    def record(name, seconds, spans_per_sentence, tags=None):
        row = {"name": name, "seconds": round(seconds, 3), "words_per_s": round(n_words / seconds)}
        if tags is not None and trained:
            row["strict_f1"] = round(evaluate(gold, tags).strict.micro.f1, 4)
        rows.append((row, spans_per_sentence))
        print(json.dumps(row))

    for batch in args.pipeline_batch:
        pipe = pipeline("token-classification", model=model, tokenizer=tokenizer, aggregation_strategy="first", device="cpu")
        pipe(words[:8], is_split_into_words=True, batch_size=batch)  # warm-up
        start = time.perf_counter()
        out = pipe(words, is_split_into_words=True, batch_size=batch)
        seconds = time.perf_counter() - start
        spans = [{(e["entity_group"], e["start"], e["end"]) for e in ents} for ents in out]
        record(f"pipeline(first, batch={batch})", seconds, spans)

    # Same inputs as the pipeline (no casing bit, no context, argmax) so that agreement measures the
    # engine, not the features; then the model's own features (what users get) on the same backends.
    plain = InputFeatures()
    variants = [(b, plain, "argmax") for b in args.backends]
    if features is not None and (features != plain):
        variants += [(b, features, None) for b in args.backends]
    for backend, feats, decoding in variants:
        tagger = Tagger(model, tokenizer, feats, device="cpu", backend=backend, batch_size=args.batch_size,
                        decoding=decoding)
        seconds, tags = timed_tagging(tagger, words, [s.doc_id for s in sentences])
        label = "pipeline inputs" if feats is plain else f"model features, {tagger.decoding}"
        record(f"Tagger({backend}, {label})", seconds, [joined_spans(w, t) for w, t in zip(words, tags)], tags)

    # The pipeline re-splits words at punctuation (BERT's pre-tokenizer: "Jean-Luc" -> "Jean", "-", "Luc")
    # and labels each piece as a word; CoNLL words stay whole in the Tagger. Agreement is therefore also
    # reported on the sentences where both see the same words, which isolates the engines themselves.
    pre = tokenizer.backend_tokenizer.pre_tokenizer
    same_words = [all(len(pre.pre_tokenize_str(w)) == 1 for w in ws) for ws in words]
    print(f"sentences whose words the pipeline does not re-split: {sum(same_words)} of {len(words)}")

    def agreement(a_spans, b_spans, only_same=False):
        pairs = [(a, b) for a, b, same in zip(a_spans, b_spans, same_words) if same or not only_same]
        return sum(len(a & b) for a, b in pairs) / max(1, sum(len(a | b) for a, b in pairs))

    best_pipe = max((r for r, _ in rows if r["name"].startswith("pipeline")), key=lambda r: r["words_per_s"])
    reference = next(s for r, s in rows if r is best_pipe)
    fp32_spans = next(s for r, s in rows if r["name"].startswith(f"Tagger({args.backends[0]}"))
    print(f"\nbaseline: {best_pipe['name']} at {best_pipe['words_per_s']} words/s")
    for row, spans in rows:
        row.update(ratio=round(row["words_per_s"] / best_pipe["words_per_s"], 2),
                   agree_pipeline=round(agreement(spans, reference), 4),
                   agree_pipeline_same_words=round(agreement(spans, reference, only_same=True), 4),
                   agree_fp32=round(agreement(spans, fp32_spans), 4))
        f1 = f"  strict F1 {row['strict_f1']:.4f}" if "strict_f1" in row else ""
        print(f"{row['name']:<52} {row['words_per_s']:>7} words/s  x{row['ratio']:<5}  "
              f"agree with pipeline {row['agree_pipeline']:.2%} (same words {row['agree_pipeline_same_words']:.2%}), with Tagger {args.backends[0]} {row['agree_fp32']:.2%}{f1}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump([r for r, _ in rows], fh, indent=2)


if __name__ == "__main__":
    main()

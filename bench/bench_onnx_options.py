"""ONNX Runtime settings for the Tagger's onnx-int8 backend, side by side on CoNLL-2003 test.

    python bench/bench_onnx_options.py --model models/minilm-conll2003 [--limit N] [--rounds 2]

Variants: the graph (the plain export, or one whose attention, GELU and LayerNorm are fused by
onnxruntime's transformer optimizer, exported with eager attention so the pattern is recognisable),
thread-pool spinning on/off, and the batch size. Each variant tags the same sentences ``--rounds``
times in this process; the best round counts (the machine is shared). Prints words/s and strict F1.

Last, the ceiling: the default backend's network alone (every batch's arrays built beforehand, only
the ONNX Runtime calls timed, as many at once as the Tagger runs), so ``Tagger / network`` is the share
of time the tagging spends in the model, and ``network`` words/s is what no Tagger change can beat.
"""

from __future__ import annotations

import argparse
import itertools
from concurrent.futures import ThreadPoolExecutor
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing


def fused_int8(model, tokenizer, folder: Path) -> Path:
    """Export with eager attention, fuse with onnxruntime.transformers.optimizer, quantise (dynamic int8)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer

    from ner_demo.export import INT8_SETTINGS, export_model

    model.set_attn_implementation("eager")  # SDPA's exported pattern is not recognised by the fuser
    export_model(model, folder, None, tokenizer=tokenizer)
    model.set_attn_implementation("sdpa")
    cfg = model.config
    fused = optimizer.optimize_model(str(folder / "model.onnx"), model_type="bert", num_heads=cfg.num_attention_heads,
                                     hidden_size=cfg.hidden_size, opt_level=1)
    print("fused operators:", {k: v for k, v in fused.get_fused_operator_statistics().items() if v})
    fused.save_model_to_file(str(folder / "model.fused.onnx"))
    quantize_dynamic(folder / "model.fused.onnx", folder / "model.int8.onnx", weight_type=QuantType.QInt8,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT}, **INT8_SETTINGS)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="models/minilm-conll2003")
    parser.add_argument("--split", default="test")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--ceiling-only", action="store_true", help="measure only the network ceiling")
    args = parser.parse_args()

    from ner_demo.backends import OnnxBackend, cpu_threads
    from ner_demo.data.sources import load_split
    from ner_demo.evaluation import evaluate
    from ner_demo.inference import Tagger
    from ner_demo.export import cached_export
    from ner_demo.models import OnnxModel, load_trained

    corpus = load_split("conll2003", args.split)
    sentences = corpus.sentences[: args.limit or None]
    words, docs, gold = [list(s.words) for s in sentences], [s.doc_id for s in sentences], [list(s.tags) for s in sentences]
    n_words = sum(map(len, words))
    model, tokenizer, features = load_trained(args.model)
    if args.ceiling_only:
        return network_ceiling(model, tokenizer, features, words, docs, n_words, args.rounds)
    graphs = {"plain": cached_export(model, tokenizer)}
    scratch = Path(tempfile.mkdtemp(prefix="ner_demo-fused-"))
    graphs["fused"] = fused_int8(model, tokenizer, scratch)
    print(f"{args.model} on {args.split}: {len(words)} sentences, {n_words} words; best of {args.rounds} rounds")
    cores = cpu_threads()
    # (intra-op threads, batches run at once): one call split over the cores, or one core per call
    layouts = [(cores, 1), (1, cores)] if cores > 1 else [(1, 1)]
    for graph, spinning, (threads, parallel), batch in itertools.product(graphs, (False, True), layouts, args.batch_sizes):
        onnx_model = OnnxModel(graphs[graph], model.config, {"onnx-int8": "model.int8.onnx"}, "onnx-int8")
        tagger = Tagger(model, tokenizer, features, backend="onnx-int8", batch_size=batch)
        tagger.backend = OnnxBackend(onnx_model, "onnx-int8", threads=threads, spinning=spinning, parallel=parallel)
        tagger.predict_words(words[:64])  # warm-up
        best, tags = float("inf"), None
        for _ in range(args.rounds):
            start = time.perf_counter()
            tags = tagger.predict_words(words, docs)
            best = min(best, time.perf_counter() - start)
        f1 = evaluate(gold, tags).strict.micro.f1
        print(f"graph={graph:<6} spinning={'on ' if spinning else 'off'} threads={threads} x{parallel} batch={batch:<4} "
              f"{n_words / best:8.0f} words/s  strict F1 {f1:.4f}", flush=True)

    network_ceiling(model, tokenizer, features, words, docs, n_words, args.rounds)


def network_ceiling(model, tokenizer, features, words, docs, n_words: int, rounds: int) -> None:
    """Words/s of the default onnx-int8 backend's calls alone against the whole Tagger, same run."""
    from ner_demo.encoding import sequences_for
    from ner_demo.inference import Tagger

    tagger = Tagger(model, tokenizer, features, backend="onnx-int8")
    sequences, _ = sequences_for(words, docs, tagger.features.context_words)
    windows = tagger.plan(sequences)  # as the Tagger reads them
    windows.sort(key=lambda w: len(w.input_ids))
    size = tagger.batch_size
    arrays = [tagger.batch_arrays(windows[b : b + size]) for b in range(0, len(windows), size)]
    pieces = sum(len(w.input_ids) for w in windows)
    with ThreadPoolExecutor(tagger.backend.parallel_calls) as pool:
        list(pool.map(lambda a: tagger.backend(*a), arrays[:8]))  # warm-up
        best_net = best_all = float("inf")
        for _ in range(rounds):
            start = time.perf_counter()
            list(pool.map(lambda a: tagger.backend(*a), arrays))
            best_net = min(best_net, time.perf_counter() - start)
            start = time.perf_counter()
            tagger.predict_words(words, docs)
            best_all = min(best_all, time.perf_counter() - start)
    print(f"\nceiling ({tagger.describe()}): {len(windows)} windows, {pieces} subword tokens incl. [CLS]/[SEP]")
    print(f"network only {n_words / best_net:8.0f} words/s ({pieces / best_net:.0f} tokens/s); whole Tagger "
          f"{n_words / best_all:8.0f} words/s: the network is {best_net / best_all:.0%} of the Tagger's time")


if __name__ == "__main__":
    main()

"""The annotation loop's value: a simulated annotator adds a new type from N corrected sentences, chosen by
the uncertainty queue or at random.

    nice -n 15 env OMP_NUM_THREADS=1 python bench/bench_annotation_loop.py --sizes 50 100 200 400

The task is bench_finetune_new_type.py's (its functions, imported): NORP (nationalities, ethnic groups) carved
out of CoNLL-2003 MISC by a fixed demonym list; the starting model is the shipped model, which has never seen
NORP (it tags "German" as MISC). Training a model without one type first would cost an hour here; adding NORP
to the shipped model is the same question (a type the model lacks, learnt from a few corrected sentences).

The loop, through the product's own API (the annotation store, pre-annotation and queue):
- the pool: the first ``--pool`` train sentences in that script's seeded document order, as an annotation
  dataset (raw text, the file's words, labels PER ORG LOC MISC NORP) in a SQLite store under ``--out``;
- pre-annotation by the shipped model (:func:`ner_demo.annotation.preannotate.preannotate`: its suggestions
  and, per sentence, the lowest word margin, the highest entropy and the unsure surface forms); cached: a
  second run with the same ``--out`` reuses the store;
- the simulated annotator answers each asked sentence with its gold NORP-relabelled spans (an accept when the
  suggestion was right, else an edit), through :class:`ner_demo.annotation.session.AnnotationSession`:
  - ``uncertainty``: the queue ``order="margin", diversity=True`` (lowest margin first, an example whose
    unsure forms were already queued moves back), as the Annotate tab asks;
  - ``random``: a seeded shuffle of the pool.
  The uncertainty is the shipped model's over its own labels: it cannot be unsure about NORP, a type it does not
  have, so the proxy is its hesitation anywhere (MISC against O, MISC against LOC, ...), which is what the
  product would use for a new type; diversity keeps it from asking "German" again and again.
- for each N in ``--sizes``: the annotator's first N decisions, tags from the stored spans
  (:func:`ner_demo.annotation.formats.word_tags`), each sentence its own document (the queue picks sentences,
  not documents, so neither order gets document context), fine-tuned from the shipped model with the
  settings bench_finetune_new_type.py chose (``init_from=minilm-conll2003``, lr 3e-5, head lr 2e-3,
  ``freeze_layers`` 2, 4 epochs, batch 16, seed 42; ``--repeat K``: seed 42 + K, and the random order
  shuffled anew);
- scored as that script scores (its ``score``): on the same seeded dev subset (the first ``--select`` dev
  sentences choose each run's best epoch, the next ``--measure`` are scored), "old types" with NORP folded
  back into MISC, "NORP" the strict F1 of the new type.

Runs go to ``runs-<order>`` under ``--out`` (a runs folder trains one run at a time). ``--table`` prints the
table and writes the figure from every results_*.json under ``--out`` (so two processes, one per order, can
share the work).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing
sys.path.insert(0, str(ROOT / "bench"))  # the task's functions: bench_finetune_new_type

import bench_finetune_new_type as task  # noqa: E402

from ner_demo.annotation.formats import corpus_examples, example_words, word_tags  # noqa: E402
from ner_demo.annotation.preannotate import preannotate  # noqa: E402
from ner_demo.annotation.session import AnnotationSession  # noqa: E402
from ner_demo.annotation.store import AnnotationStore, StoreError  # noqa: E402
from ner_demo.data.conll import Corpus, Sentence, write_conll  # noqa: E402
from ner_demo.data.sources import load_splits  # noqa: E402
from ner_demo.inference import Tagger  # noqa: E402
from ner_demo.models import load_trained, shipped_model_dir  # noqa: E402
from ner_demo.training import TrainConfig, train  # noqa: E402

DATASET = "conll2003-train-pool"
LABELS = ["PER", "ORG", "LOC", "MISC", task.NEW_TYPE]
MODEL = "minilm-conll2003"
ORDERS = ("uncertainty", "random")


def open_pool(out: Path, pool: list[Sentence]) -> tuple[AnnotationStore, list]:
    """The store under ``out`` with the pool dataset (created on first use) and the gold spans per position."""
    gold_items = corpus_examples(Corpus(pool, "conll2003 train"), "conll2003 train")
    store = AnnotationStore.open(out / "annotations.sqlite3")
    try:
        info = store.dataset(DATASET)
        if info.n_examples != len(pool):
            raise SystemExit(f"{out / 'annotations.sqlite3'} holds {info.n_examples} pool sentences, not "
                             f"{len(pool)}: use another --out for another --pool")
    except StoreError:
        store.create_dataset(DATASET, LABELS, [replace(item, spans=None) for item in gold_items],
                             source="conll2003 train, seeded documents (bench_annotation_loop)")
    return store, [item.spans for item in gold_items]


def ensure_suggestions(store: AnnotationStore) -> None:
    if store.suggestions(DATASET, MODEL):
        print(f"pre-annotation by {MODEL}: cached in the store", flush=True)
        return
    model, tokenizer, features = load_trained(str(shipped_model_dir()))
    tagger = Tagger(model, tokenizer, features, device="cpu", precision="fp32")
    t0 = time.time()
    n = preannotate(store, DATASET, tagger, MODEL)
    print(f"pre-annotation by {MODEL}: {n} sentences in {time.time() - t0:.0f} s", flush=True)


def annotator_of(order: str, repeat: int) -> str:
    """The simulated annotator's name: the uncertainty queue is the same at every repeat; a random order is
    shuffled anew (seed + repeat), so each repeat of it is another annotator."""
    return f"simulated-{order}" + (f"-{repeat}" if repeat and order == "random" else "")


def annotate(store: AnnotationStore, gold: list, order: str, n: int, seed: int, repeat: int = 0) -> list[int]:
    """The simulated annotator of ``order`` answers until it has decided ``n`` sentences (continuing its
    earlier decisions); returns the positions it decided, in the order it decided them."""
    annotator = annotator_of(order, repeat)
    if order == "uncertainty":
        session = AnnotationSession(store, DATASET, annotator, order="margin", model=MODEL, diversity=True)
        asked = iter(lambda: session.next_item(), None)
    else:
        session = AnnotationSession(store, DATASET, annotator, order="order")
        shuffled = list(session.order)
        random.Random(seed + repeat).shuffle(shuffled)
        decided = store.decided_positions(DATASET, annotator)
        asked = (session.item(p) for p in shuffled if p not in decided)
    done = [d.position for d in store.decisions(DATASET, annotator)]
    for item in asked:
        if len(done) >= n:
            break
        session.accept(item, gold[item.position])
        done.append(item.position)
    return done[:n]


def annotated_sentences(store: AnnotationStore, annotator: str, n: int) -> list[Sentence]:
    """The annotator's first ``n`` decisions as sentences, tags from the stored spans, each its own document."""
    positions = [d.position for d in store.decisions(DATASET, annotator)][:n]
    latest = store.latest(DATASET, annotator)
    sentences = []
    for doc, position in enumerate(positions):
        ex = store.example(DATASET, position)
        words = example_words(ex.text, ex.tokens)
        tags = word_tags(ex.text, words, latest[position].spans, f"{DATASET}, example {position}")
        sentences.append(Sentence(tuple(w.text for w in words), tuple(tags), doc))
    return sentences


def table_and_figure(out: Path) -> None:
    from ner_demo.plots.training import order_curves_figure  # plotly only for the figure

    results = [r for path in sorted(out.glob("results_*.json")) for r in json.loads(path.read_text())]
    rank = {o: i for i, o in enumerate(("shipped", *ORDERS))}
    results.sort(key=lambda r: (r["size"], rank[r["order"]], r.get("repeat", 0)))
    print("\n| order | annotated sentences | repeat | NORP mentions in them | distinct NORP forms | dev F1, NORP | "
          "dev F1, old types (CoNLL labels) | best epoch | wall time |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['order']} | {r['size'] or '-'} | {r.get('repeat', 0)} | {r.get('norp_mentions', '-')} | "
              f"{r.get('norp_forms', '-')} | {r['norp_f1']:.4f} | {r['old_f1']:.4f} | {r.get('best_epoch') or '-'} | "
              f"{str(r['wall_s']) + ' s' if r.get('wall_s') else '-'} |")
    groups: dict[tuple, list[dict]] = {}
    for r in results:
        groups.setdefault((r["order"], r["size"]), []).append(r)
    print("\n| order | annotated sentences | runs | NORP mentions (mean) | dev F1, NORP: mean (min-max) | "
          "dev F1, old types: mean (min-max) |")
    print("|---|---|---|---|---|---|")
    points = []
    for (order, size), rows in sorted(groups.items(), key=lambda kv: (kv[0][1], rank[kv[0][0]])):
        norp, old = [r["norp_f1"] for r in rows], [r["old_f1"] for r in rows]
        mentions = [r["norp_mentions"] for r in rows if "norp_mentions" in r]
        print(f"| {order} | {size or '-'} | {len(rows)} | {sum(mentions) / len(mentions) if mentions else '-'} | "
              f"{_mean(norp):.4f} ({min(norp):.4f}-{max(norp):.4f}) | "
              f"{_mean(old):.4f} ({min(old):.4f}-{max(old):.4f}) |")
        for line in (ORDERS if order == "shipped" else (order,)):
            points.append({"order": line, "sentences": size, "NORP dev F1 (mean over runs)": _mean(norp)})
    fig = order_curves_figure(points, "NORP dev F1 (mean over runs)",
                              "NORP (new type) dev F1 by annotated sentences: uncertainty queue vs random")
    fig.write_html(out / "annotation_loop.html", include_plotlyjs="cdn")
    print(f"\nfigure: {out / 'annotation_loop.html'}")


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--orders", nargs="+", default=list(ORDERS), choices=ORDERS)
    parser.add_argument("--pool", type=int, default=2000, help="train sentences the annotator is asked from")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--model-lr", type=float, default=3e-5)
    parser.add_argument("--head-lr", type=float, default=2e-3)
    parser.add_argument("--freeze", type=int, default=2)
    parser.add_argument("--select", type=int, default=80, help="dev sentences that choose each run's best epoch")
    parser.add_argument("--measure", type=int, default=400, help="dev sentences scored (disjoint from --select)")
    parser.add_argument("--seed", type=int, default=0, 
                        help="the order of train and dev documents, and the random order")
    parser.add_argument("--repeat", type=int, default=0,
                        help="another repeat: training seed 42 + REPEAT, the random order shuffled with seed + REPEAT")
    parser.add_argument("--skip-shipped", action="store_true", help="do not score the shipped model as it is")
    parser.add_argument("--select-only", action="store_true",
                        help="pre-annotate and let the annotators answer, print what they chose, train nothing")
    parser.add_argument("--table", action="store_true", help="only print the table and write the figure")
    parser.add_argument("--out", default="runs/bench-annotation-loop", help="store, runs, results and figure")
    args = parser.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.table:
        table_and_figure(out)
        return
    splits = load_splits("conll2003")
    train_all = [task.relabel(s) for s in task.documents_in_seeded_order(splits["train"], args.seed)]
    dev_all = [task.relabel(s) for s in task.documents_in_seeded_order(splits["dev"], args.seed)]
    select = task.whole_docs(dev_all, 0, args.select)
    measure = task.whole_docs(dev_all, len(select), args.measure)
    write_conll(select, out / "dev_select.conll")
    print(f"dev: {len(select)} sentences select the best epoch, {len(measure)} are scored "
          f"({sum(t == 'B-' + task.NEW_TYPE for s in measure for t in s.tags)} NORP mentions)", flush=True)

    pool = train_all[:args.pool]
    store, gold = open_pool(out, pool)
    pool_norp = sum(t == "B-" + task.NEW_TYPE for s in pool for t in s.tags)
    print(f"pool: {len(pool)} train sentences, {pool_norp} NORP mentions", flush=True)
    if "uncertainty" in args.orders:
        ensure_suggestions(store)
    for order in args.orders:
        annotate(store, gold, order, max(args.sizes), args.seed, args.repeat)

    results_path = out / f"results_{'_'.join(args.orders)}{f'_r{args.repeat}' if args.repeat else ''}.json"
    results = []
    if not args.skip_shipped and not args.select_only:
        shipped = task.score(shipped_model_dir(), measure)
        results.append({"order": "shipped", "size": 0, **shipped})
        print(f"shipped model as it is: old types {shipped['old_f1']:.4f}, NORP {shipped['norp_f1']:.4f}", flush=True)
    for size in sorted(args.sizes):
        for order in args.orders:
            sentences = annotated_sentences(store, annotator_of(order, args.repeat), size)
            mentions = [s.words[i:j] for s in sentences for i, j in _norp_spans(s.tags)]
            forms = len({" ".join(m).lower() for m in mentions})
            print(f"{order:11s} {size:4d}: {len(mentions)} NORP mentions, {forms} distinct forms", flush=True)
            if args.select_only:
                continue
            path = out / f"train_{order}_{size}_r{args.repeat}.conll"
            write_conll(sentences, path)
            config = TrainConfig(name=f"loop-{order}-{size}-r{args.repeat}", train_file=str(path),
                                 dev_file=str(out / "dev_select.conll"), init_from=MODEL, learning_rate=args.model_lr,
                                 head_learning_rate=args.head_lr, freeze_layers=args.freeze, epochs=args.epochs,
                                 batch_size=args.batch_size, seed=42 + args.repeat, threads=1, precision="fp32",
                                 device="cpu",
                                 checkpoint_every=0, keep_checkpoints=1, runs_dir=str(out / f"runs-{order}"))
            t0 = time.time()
            run = train(config)
            wall = time.time() - t0
            row = {"order": order, "size": size, "repeat": args.repeat, "norp_mentions": len(mentions),
                   "norp_forms": forms,
                   **task.score(run.best_dir, measure), "wall_s": round(wall), "run": run.id,
                   "best_epoch": run.read_status().get("best", {}).get("epoch")}
            results.append(row)
            results_path.write_text(json.dumps(results, indent=2) + "\n")
            print(f"{order:11s} {size:4d}: NORP {row['norp_f1']:.4f}, old types {row['old_f1']:.4f}, {wall:.0f} s",
                  flush=True)
    if not args.select_only:
        results_path.write_text(json.dumps(results, indent=2) + "\n")
        table_and_figure(out)


def _norp_spans(tags) -> list[tuple[int, int]]:
    spans, i = [], 0
    while i < len(tags):
        if tags[i] == "B-" + task.NEW_TYPE:
            j = i + 1
            while j < len(tags) and tags[j] == "I-" + task.NEW_TYPE:
                j += 1
            spans.append((i, j))
            i = j
        else:
            i += 1
    return spans


if __name__ == "__main__":
    main()

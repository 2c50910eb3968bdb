"""The Evaluate tab's cost against pure tagging, on one split and the model's serving backend, in one run.

    python bench/bench_evaluate.py                                  # the shipped model on CoNLL-2003 dev
    python bench/bench_evaluate.py --split test --rounds 3
    python bench/bench_evaluate.py --model runs/X/best --backend torch-fp32

Rounds alternate, so that a machine that gets busier or quieter during the run shifts all three alike:

(a) tagging: ``Tagger.predict_words`` over the split, timed as bench/bench_tagger.py times it (its
    :func:`timed_tagging`, the same Tagger settings);
(b) first evaluation: the Evaluate tab's handler (``ner_demo.app.evaluate.evaluate``, what the button
    runs, drawing included) with every cache emptied first: the prediction cache and the memos of
    entity chunking and nervaluate, so that it tags and scores from nothing;
(c) second evaluation: the same handler again, nothing emptied (the prediction cache hits).

Prints each round, then the medians: (b) / (a), which the issue wants at most 1.25, and (c) in
seconds (under 1 s), with each one's strict micro F1 so that the model, backend and decoding are
named by their accuracy too. The model is loaded, and the data read, once before the rounds (neither
is timed in (a) either).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_tagger, whose timing this reuses

from bench_tagger import timed_tagging  # noqa: E402


def no_progress(progress=None, desc=None, total=None, unit="steps"):
    """Stands in for gr.Progress outside a Gradio event."""


def empty_caches() -> None:
    """Everything that would let an evaluation skip work it did before."""
    from ner_demo.evaluation import PREDICTIONS, chunks, schemes

    PREDICTIONS.clear()
    chunks.clear_memo()
    schemes.clear_memo()


def app_evaluation(choice: str, data_choice: str):
    """(seconds, EvalRun) of one press of the Evaluate button."""
    from ner_demo.app import evaluate as tab
    from ner_demo.app.evaluate_format import EvalRun

    start = time.perf_counter()
    outputs = tab.evaluate(choice, data_choice, None, progress=no_progress)
    seconds = time.perf_counter() - start
    runs = [o for o in outputs if isinstance(o, EvalRun)]
    if len(runs) != 1:
        raise RuntimeError(f"the Evaluate handler returned {len(runs)} evaluations, expected 1")
    return seconds, runs[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="a model folder (default: the shipped model, as the tab's default)")
    parser.add_argument("--split", default="dev", choices=["dev", "test"])
    parser.add_argument("--backend", default=None, help="Tagger backend of (a) (default: the model's serving backend, "
                        "the one the app uses)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()

    from ner_demo.app.common import MODELS
    from ner_demo.app.model_cache import DEFAULT_CHOICE
    from ner_demo.data.sources import load_split
    from ner_demo.evaluation import PREDICTIONS, evaluate
    from ner_demo.inference import Tagger

    choice = args.model or DEFAULT_CHOICE
    data_choice = f"conll2003:{args.split}"
    corpus = load_split("conll2003", args.split)
    words = [list(s.words) for s in corpus]
    doc_ids = [s.doc_id for s in corpus]
    gold = [list(s.tags) for s in corpus]

    empty_caches()
    app_evaluation(choice, data_choice)  # loads the model (and its ONNX export), reads the data, warms up
    app_tagger = MODELS.tagger(choice)
    # bench_tagger.py's Tagger: the loaded model, tokenizer and features, on the CPU, the given backend.
    tagger = Tagger(app_tagger.source_model, app_tagger.tokenizer, app_tagger.features, device="cpu",
                    backend=args.backend or app_tagger.features.backend)
    load = os.getloadavg()
    print(f"{choice} on conll2003/{args.split}: {len(words)} sentences, {sum(map(len, words))} words; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")
    print(f"(a) Tagger: {tagger.describe()}")
    print(f"(b, c) app: {app_tagger.describe()}")

    rows = []
    for r in range(1, args.rounds + 1):
        tagging, tags = timed_tagging(tagger, words, doc_ids)
        empty_caches()
        first, run_b = app_evaluation(choice, data_choice)
        hits = PREDICTIONS.hits
        second, run_c = app_evaluation(choice, data_choice)
        row = {"round": r, "tagging_s": round(tagging, 3), "first_s": round(first, 3), "second_s": round(second, 3),
               "ratio": round(first / tagging, 3),
               "strict_f1_tagging": round(evaluate(gold, tags).strict.micro.f1, 4),
               "strict_f1_first": round(run_b.result.strict.micro.f1, 4),
               "strict_f1_second": round(run_c.result.strict.micro.f1, 4), "second_hit_cache": PREDICTIONS.hits > hits}
        rows.append(row)
        print(json.dumps(row), flush=True)

    tagging, first, second = (statistics.median(r[k] for r in rows) for k in ("tagging_s", "first_s", "second_s"))
    f1 = rows[-1]
    print(f"\nmedians over {len(rows)} rounds (strict micro F1: tagging {f1['strict_f1_tagging']:.4f}, "
          f"first {f1['strict_f1_first']:.4f}, second {f1['strict_f1_second']:.4f}):")
    print(f"(a) tagging            {tagging:8.2f} s")
    print(f"(b) first evaluation   {first:8.2f} s   (b)/(a) = {first / tagging:.3f}  (issue: at most 1.25)")
    print(f"(c) second evaluation  {second:8.3f} s   (issue: under 1 s)")
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"rounds": rows, "tagging_s": tagging, "first_s": first, "second_s": second,
                       "ratio": first / tagging}, fh, indent=2)


if __name__ == "__main__":
    main()

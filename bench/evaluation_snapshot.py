"""Every figure of one full evaluation on real predictions, as JSON: run it on two checkouts and compare
the files byte for byte, to show that a change to the scoring code changes no number.

    python bench/evaluation_snapshot.py --predictions /tmp/preds --out before.json            # this checkout
    python bench/evaluation_snapshot.py --code ../other --predictions /tmp/preds --out after.json
    cmp before.json after.json

The shipped model tags each split once (its word probabilities, tags, scores and the tokenizer's pieces
are kept under ``--predictions`` as pickles, and read back on later runs), so the comparison times and
compares only the scoring. Covered: :func:`full_evaluation` (``to_dict``: strict and conlleval scores,
errors, intervals, schemes and their differences, overlap and buckets, calibration, suspicious gold),
training surfaces, and, with the argmax tags as a second model, the paired bootstrap and the
disagreements; the threshold curves and best thresholds. Prints the seconds of each full evaluation.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from pathlib import Path


def predictions(split: str, folder: Path) -> dict:
    path = folder / f"{split}.pkl"
    if path.is_file():
        with open(path, "rb") as fh:
            return pickle.load(fh)
    from ner_demo.data.sources import load_split
    from ner_demo.evaluation.model_eval import corpus_probabilities
    from ner_demo.inference import Tagger

    tagger = Tagger.from_pretrained("models/minilm-conll2003")
    corpus = load_split("conll2003", split)
    probs = corpus_probabilities(tagger, corpus, cache=None)
    scored = [tagger.decode_words(p) for p in probs]
    data = dict(gold=[list(s.tags) for s in corpus], words=[list(s.words) for s in corpus],
                doc_ids=[s.doc_id for s in corpus], probs=probs, labels=list(tagger.labels),
                pred=[p.tags for p in scored], scores=[p.scores for p in scored],
                pieces={w: max(1, len(tagger.tokenizer.tokenize(w))) for s in corpus for w in s.words})
    folder.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        pickle.dump(data, fh)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--code", default=str(Path(__file__).resolve().parent.parent),
                        help="the checkout whose ner_demo scores (default: this one)")
    parser.add_argument("--predictions", required=True, help="folder of the kept predictions")
    parser.add_argument("--splits", nargs="+", default=["dev", "test"])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(args.code).resolve()))

    from ner_demo.data.sources import load_split
    from ner_demo.evaluation.calibration import best_thresholds, scored_entities, threshold_curves
    from ner_demo.evaluation.full import full_evaluation
    from ner_demo.evaluation.generalisation import training_surfaces
    from ner_demo.evaluation.significance import disagreements, paired_bootstrap

    folder = Path(args.predictions)
    train = load_split("conll2003", "train")
    seen = training_surfaces([s.words for s in train], [s.tags for s in train])
    out: dict = {"seen": {k: sorted(v) for k, v in sorted(seen.items())}}
    for split in args.splits:
        d = predictions(split, folder)
        start = time.perf_counter()
        ev = full_evaluation(d["gold"], d["pred"], d["words"], d["doc_ids"], d["scores"], d["probs"], d["labels"],
                             seen, d["pieces"].__getitem__)
        print(f"{split}: full_evaluation {time.perf_counter() - start:.2f} s", flush=True)
        out[split] = ev.to_dict()
        argmax = [[d["labels"][k] for k in p.argmax(axis=1)] for p in d["probs"]]
        out[f"{split}_paired"] = paired_bootstrap(d["gold"], d["pred"], argmax, d["doc_ids"]).to_dict()
        out[f"{split}_disagreements"] = [x.to_dict() for x in disagreements(d["gold"], d["pred"], argmax, d["words"])]
        entities = scored_entities(d["gold"], d["pred"], d["scores"])
        out[f"{split}_curves"] = {k: v.to_dict() for k, v in threshold_curves(entities, d["gold"]).items()}
        out[f"{split}_best"] = {k: v.to_dict() for k, v in best_thresholds(entities, d["gold"]).items()}
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(out, fh, sort_keys=True)


if __name__ == "__main__":
    main()

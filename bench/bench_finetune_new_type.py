"""Adapting the shipped model to a type it has never seen, against training from the encoder.

    nice -n 10 env OMP_NUM_THREADS=1 python bench/bench_finetune_new_type.py --sizes 50 100 200

The task. CoNLL-2003 has PER/ORG/LOC/MISC, all known to the shipped model; the new type NORP
(nationalities and ethnic groups) is carved out of MISC by a fixed rule: a MISC mention becomes NORP when
its text, case-folded, with a plural "s" dropped from each word, is in DEMONYMS below, or each of its words
is ("Iraqi Kurdish", "Bosnian Serb"). Every other tag stays. "German", "Iraqis", "South African" become
NORP; "World Cup", "GMT", "Moslem" (a religion: not in the list) stay MISC.

Data. Train: the first N sentences of the train documents in a seeded order (whole documents, so document
context is real; the last one is cut at N). Dev: the dev documents in a seeded order; the first
``--select`` sentences are each run's dev file (they choose its best epoch), the next ``--measure``
sentences are scored, and never seen in training or selection.

Starts, the same sentences, epochs, batch size and seed:
- model: ``init_from=minilm-conll2003`` (its casing bit, context and window carried over), learning_rate
  ``--model-lr`` for the encoder and ``--head-lr`` for the head (its NORP rows start from the mean of its B-/I-
  rows), ``freeze_layers`` ``--freeze``;
- encoder: ``backbone=offline-minilm`` with the shipped recipe's features (casing, 64 context words, 128
  windows) and learning rate (1e-4), a new head.

Scores, on the measured dev sentences, BIO decoding for every model (the shipped model's): "old types" is
strict IOB2 micro F1 with NORP folded back into MISC in gold and prediction, which is the original CoNLL-2003
labelling, so the shipped model's own score on it is the reference; "NORP" is the strict F1 of the new
type on the relabelled dev. Wall time covers the whole run (data, training, its dev evaluations, saving).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from ner_demo.data.conll import Corpus, Sentence, write_conll  # noqa: E402
from ner_demo.data.sources import load_splits  # noqa: E402
from ner_demo.evaluation import evaluate  # noqa: E402
from ner_demo.inference import Tagger  # noqa: E402
from ner_demo.models import load_trained, shipped_model_dir  # noqa: E402
from ner_demo.training import TrainConfig, train  # noqa: E402

NEW_TYPE = "NORP"
DEMONYMS = frozenset("""
afghan african afrikaner albanian algerian american angolan arab argentine armenian australian austrian
azerbaijani azeri bahraini bangladeshi basque belarussian belgian bolivian bosnian brazilian british briton
bulgarian burmese burundian cambodian cameroonian canadian catalan chadian chechen chilean chinese colombian
congolese croat croatian cuban cypriot czech dane danish dutch ecuadorean egyptian emirati english eritrean
estonian ethiopian european filipino finn finnish flemish french georgian german ghanaian greek guatemalan
haitian honduran hungarian hutu icelandic indian indonesian iranian iraqi irish israeli italian ivorian
jamaican japanese jordanian kazakh kenyan korean kosovar kurd kurdish kuwaiti kyrgyz laotian latvian lebanese
liberian libyan lithuanian macedonian malaysian malian maltese mexican moldovan mongolian montenegrin
moroccan mozambican namibian nepali nicaraguan nigerian norwegian omani pakistani palestinian panamanian
paraguayan peruvian pole polish portuguese qatari romanian russian rwandan salvadorean saudi scot scottish
senegalese serb serbian singaporean slovak slovene slovenian somali soviet spaniard spanish sudanese swede
swedish swiss syrian taiwanese tajik tamil tanzanian thai tibetan tunisian turk turkish turkmen tutsi ugandan
ukrainian uruguayan uzbek venezuelan vietnamese welsh yemeni yugoslav zairean zambian zimbabwean
""".split()) | {"south african", "south korean", "north korean", "sri lankan", "latin american", "new zealander",
                "sierra leonean", "saudi arabian", "puerto rican", "costa rican"}


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and word[:-1] in DEMONYMS else word


def is_norp(words: list[str]) -> bool:
    """The rule of the module docstring: ``is_norp(["Iraqis"])`` and ``is_norp(["South", "African"])``."""
    folded = [_singular(w.lower()) for w in words]
    return " ".join(folded) in DEMONYMS or all(w in DEMONYMS for w in folded)


def relabel(sentence: Sentence) -> Sentence:
    tags, i = list(sentence.tags), 0
    while i < len(tags):
        if tags[i] == "B-MISC":
            j = i + 1
            while j < len(tags) and tags[j] == "I-MISC":
                j += 1
            if is_norp(list(sentence.words[i:j])):
                tags[i:j] = [f"B-{NEW_TYPE}"] + [f"I-{NEW_TYPE}"] * (j - i - 1)
            i = j
        else:
            i += 1
    return sentence.with_tags(tags)


def fold(tags) -> list[str]:
    """NORP back into MISC: the original CoNLL-2003 labelling."""
    return [t.replace(NEW_TYPE, "MISC") for t in tags]


def documents_in_seeded_order(corpus: Corpus, seed: int) -> list[Sentence]:
    docs = corpus.documents()
    random.Random(seed).shuffle(docs)
    return [s for doc in docs for s in doc]


def whole_docs(sentences: list[Sentence], start: int, n: int) -> list[Sentence]:
    """From ``start``, at least ``n`` sentences, ending at a document boundary."""
    end = min(start + n, len(sentences))
    while end < len(sentences) and sentences[end].doc_id == sentences[end - 1].doc_id:
        end += 1
    return sentences[start:end]


def score(model_dir: Path, dev: list[Sentence]) -> dict:
    model, tokenizer, features = load_trained(str(model_dir))
    tagger = Tagger(model, tokenizer, replace(features, decoding="bio"), device="cpu", precision="fp32")
    t0 = time.time()
    pred = tagger.predict_words([s.words for s in dev], [s.doc_id for s in dev])
    seconds = time.time() - t0
    gold = [list(s.tags) for s in dev]
    old = evaluate([fold(g) for g in gold], [fold(p) for p in pred])
    new = evaluate(gold, pred).strict.per_type.get(NEW_TYPE)
    return {"old_f1": old.strict.micro.f1, "norp_f1": new.f1 if new else 0.0, "score_s": round(seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--starts", nargs="+", default=["model", "encoder"], choices=["model", "encoder"])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--model-lr", type=float, default=3e-5)
    parser.add_argument("--head-lr", type=float, default=2e-3)
    parser.add_argument("--freeze", type=int, default=2, help="freeze_layers for the model start")
    parser.add_argument("--select", type=int, default=80, help="dev sentences that choose each run's best epoch")
    parser.add_argument("--measure", type=int, default=400, help="dev sentences scored (disjoint from --select)")
    parser.add_argument("--seed", type=int, default=0, help="the order of train and dev documents")
    parser.add_argument("--skip-shipped", action="store_true",
                        help="do not score the shipped model as it is (when another process of this bench does)")
    parser.add_argument("--out", default="", help="folder for the files, runs and results.json (default: a temp dir)")
    args = parser.parse_args()

    out = Path(args.out or tempfile.mkdtemp(prefix="bench-finetune-"))
    out.mkdir(parents=True, exist_ok=True)
    splits = load_splits("conll2003")
    train_all = [relabel(s) for s in documents_in_seeded_order(splits["train"], args.seed)]
    dev_all = [relabel(s) for s in documents_in_seeded_order(splits["dev"], args.seed)]
    select = whole_docs(dev_all, 0, args.select)
    measure = whole_docs(dev_all, len(select), args.measure)
    write_conll(select, out / "dev_select.conll")
    n_norp = sum(t == f"B-{NEW_TYPE}" for s in measure for t in s.tags)
    n_misc = sum(t == "B-MISC" for s in measure for t in s.tags)
    print(f"dev: {len(select)} sentences select the best epoch, {len(measure)} are scored ({n_norp} NORP and "
          f"{n_misc} MISC mentions); output in {out}", flush=True)

    results = []
    if not args.skip_shipped:
        shipped = score(shipped_model_dir(), measure)
        results.append({"start": "shipped model, not fine-tuned", "size": 0, **shipped, "wall_s": 0})
        print(f"shipped model as it is: old types {shipped['old_f1']:.4f}, NORP {shipped['norp_f1']:.4f}", flush=True)
    for size in args.sizes:
        train_part = train_all[:size]
        path = out / f"train_{size}.conll"
        write_conll(train_part, path)
        types = sorted({t[2:] for s in train_part for t in s.tags if t != "O"})
        mentions = sum(t == f"B-{NEW_TYPE}" for s in train_part for t in s.tags)
        print(f"train {size}: types {','.join(types)}; {mentions} NORP mentions", flush=True)
        for start in args.starts:
            common = dict(name=f"{start}-{size}", train_file=str(path), dev_file=str(out / "dev_select.conll"),
                          epochs=args.epochs, batch_size=args.batch_size, seed=42, threads=1, precision="fp32",
                          device="cpu", checkpoint_every=0, keep_checkpoints=1, runs_dir=str(out / "runs"))
            if start == "model":
                config = TrainConfig(init_from="minilm-conll2003", learning_rate=args.model_lr,
                                     head_learning_rate=args.head_lr, freeze_layers=args.freeze, **common)
            else:
                config = TrainConfig(backbone="offline-minilm", casing=True, context_words=64, max_length=128,
                                     learning_rate=1e-4, **common)
            t0 = time.time()
            run = train(config)
            wall = time.time() - t0
            row = {"start": start, "size": size, **score(run.best_dir, measure), "wall_s": round(wall),
                   "run": run.id, "best_epoch": run.read_status().get("best", {}).get("epoch")}
            results.append(row)
            print(f"{start:8s} {size:4d}: old types {row['old_f1']:.4f}, NORP {row['norp_f1']:.4f}, {wall:.0f} s",
                  flush=True)
            (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")

    print("\n| start | train sentences | dev F1, old types (CoNLL labels) | dev F1, NORP | wall time |")
    print("|---|---|---|---|---|")
    for r in results:
        print(f"| {r['start']} | {r['size'] or '-'} | {r['old_f1']:.4f} | {r['norp_f1']:.4f} | "
              f"{r['wall_s'] or '-'} s |")


if __name__ == "__main__":
    main()

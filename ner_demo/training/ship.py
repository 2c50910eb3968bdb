"""Turn a finished run's ``best/`` into a small shipped model folder with a full model card.

The shipped form stores fp16 weights (half the bytes; the Tagger loads them as fp32). The card
reports dev and test scores of exactly what ships, strict IOB2 and conlleval-style per type, and what
the fp16 form costs against the run's fp32 weights, so the numbers users read are the numbers they get.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import replace
from pathlib import Path

from ner_demo.decoding import DECODINGS
from ner_demo.encoding import check_chunk_share
from ner_demo.errors import ModelLoadError
from ner_demo.training.cards import Origin, describe_network, shipped_card, with_figures
from ner_demo.training.runs import replace_dir

SCORED_SPLITS = ("dev", "test")


def _score(model_dir: Path, data: str, splits=SCORED_SPLITS, decoding: str | None = None, context_words: int | None = None,
           max_length: int | None = None, chunk_share: float | None = None) -> dict:
    from ner_demo.data.sources import load_split
    from ner_demo.evaluation.model_eval import evaluate_tagger
    from ner_demo.inference import Tagger

    tagger = Tagger.from_pretrained(str(model_dir), precision="fp32", decoding=decoding, context_words=context_words,
                                    max_length=max_length, chunk_share=chunk_share)
    return {split: evaluate_tagger(tagger, load_split(data, split)) for split in splits}


def _folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file()) / 1e6


def ship_model(run_dir: str | Path, dest: str | Path, data: str = "conll2003", command: str = "",
               recipe: str = "", chunk_share: float | None = None) -> dict:
    """Write ``dest`` (fp16 weights, tokenizer, ner_demo.json, README.md) from ``run_dir/best``.

    ``recipe``: the training config file the card names. ``chunk_share``: the Tagger's default share of a
    window that a long document's chunk predicts, recorded in ``ner_demo.json`` (a speed knob; the scores
    in the card are read that way, and the card gives dev at the usual 0.5 beside it).
    """
    from ner_demo.models import load_trained, save_model

    if chunk_share is not None:
        check_chunk_share(chunk_share)
    run_dir, dest = Path(run_dir), Path(dest)
    best = run_dir / "best"
    if not (best / "config.json").is_file():
        raise ModelLoadError(f"{run_dir}: no best/ model yet (has the run finished an epoch?)")
    status = json.loads((run_dir / "status.json").read_text(encoding="utf-8")) if (run_dir / "status.json").is_file() else {}
    config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    started = time.perf_counter()
    model, tokenizer, features = load_trained(str(best))
    chunk_share = features.chunk_share if chunk_share is None else chunk_share
    # The windows it was trained on (runs saved before ner_demo.json recorded them: from the run's config).
    max_length = features.max_length or config.get("max_length")
    read = {"max_length": max_length, "chunk_share": chunk_share}
    # A lever chosen on dev only: plain argmax or BIO-constrained decoding, whichever scores higher.
    dev_results = {d: _score(best, data, ("dev",), d, **read)["dev"] for d in DECODINGS}
    dev_by_decoding = {d: r.strict.micro.f1 for d, r in dev_results.items()}
    decoding = max(DECODINGS, key=lambda d: dev_by_decoding[d])
    fp32 = {"dev": dev_results[decoding], **_score(best, data, ("test",), decoding, **read)}
    features = replace(features, decoding=decoding, max_length=max_length, chunk_share=chunk_share)
    tmp = dest.with_name(f".{dest.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    extra = {"trained_with": "ner_demo", "run_id": run_dir.name, "stored_dtype": "float16"}
    save_model(model.half(), tokenizer, tmp, features, extra)
    shipped = _score(tmp, data)
    # The card's intervals, seen/unseen and calibration figures, right after the scores above so that
    # the prediction cache still holds their probabilities (``card-stats`` recomputes them later).
    from ner_demo.evaluation.card_figures import load_card_figures

    figures = load_card_figures(tmp, data)
    # A model that reads document context also runs without it (fewer tokens): what that costs.
    alone = _score(tmp, data, context_words=0) if features.context_words else {}
    # A chunk share other than the usual half: what reading with more context around each chunk would score.
    usual = _score(tmp, data, ("dev",), chunk_share=0.5)["dev"] if features.context_words and chunk_share != 0.5 else None
    # The backend that serves it by default: the fastest on this CPU within 0.3 dev F1 of fp32.
    from ner_demo.serving import choose_backend, record_backend

    serving = choose_backend(tmp, data, "dev")
    record_backend(tmp, serving)
    summary: dict = {
        "decoding": decoding, "dev_strict_f1_by_decoding": {d: round(f, 4) for d, f in dev_by_decoding.items()},
        **{split: {"strict_f1": round(shipped[split].strict.micro.f1, 4), "conlleval_f1": round(shipped[split].conlleval.micro.f1, 4),
                "fp32_strict_f1": round(fp32[split].strict.micro.f1, 4), "token_accuracy": round(shipped[split].token_accuracy, 4)}
        for split in SCORED_SPLITS},
        "serving_backend": serving["backend"], "dev_by_backend": serving["measured"],
    }
    if alone:
        summary["without_context"] = {split: {"strict_f1": round(alone[split].strict.micro.f1, 4)} for split in SCORED_SPLITS}
    if usual is not None:
        summary["chunk_share"] = {"value": chunk_share, "dev_strict_f1_at_0.5": round(usual.strict.micro.f1, 4)}
    summary["evaluation"] = figures
    card = shipped_card(config, status, summary, shipped, features, _folder_mb(tmp), _folder_mb(best),
                        Origin(str(dest), command, recipe, describe_network(config, model)))
    card = with_figures(card, figures, str(dest))
    (tmp / "README.md").write_text(card, encoding="utf-8")
    (tmp / "scores.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    replace_dir(tmp, dest)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    return summary

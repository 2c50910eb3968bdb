"""The Evaluate tab's outputs: metric cards, per-type table, error browser and model comparison."""

from __future__ import annotations

import html
import itertools
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Callable, Sequence

from ner_demo.app.tag_format import color_map, highlight_html
from ner_demo.data.conll import Corpus
from ner_demo.evaluation import ERROR_KINDS, EntityError, EvaluationResult, evaluate
from ner_demo.evaluation.model_eval import corpus_probabilities
from ner_demo.spans import WordSpan, iob2_word_spans

ALL = "all"
PER_TYPE_HEADERS = ["type", "support", "strict P", "strict R", "strict F1", "conlleval P", "conlleval R", "conlleval F1"]
ERROR_HEADERS = ["#", "kind", "gold", "predicted", "sentence"]
COMPARE_HEADERS = ["type", "support", "F1 A", "F1 B", "ΔF1 (B − A)", "ΔP", "ΔR"]


_NUMBERS = itertools.count(1)


@dataclass(eq=False)
class EvalRun:
    """One model scored on one corpus, with the tags behind the scores (for the error browser and the
    analysis views). ``corpus`` is the shared copy of :data:`ner_demo.app.data_format.EVAL_CORPORA`, never
    one of its own; ``memo`` keeps what the views computed from these tags (intervals, schemes, buckets),
    so switching views or evaluating again re-scores nothing."""

    model: str
    data: str
    words: list[tuple[str, ...]]
    gold: list[list[str]]
    pred: list[list[str]]
    result: EvaluationResult
    seconds: float
    scores: list[list[float]] | None = None  # each word's score (its predicted label's probability)
    corpus: Corpus | None = None
    choice: str | None = None  # the model picker's value (to find the model again)
    data_choice: str | None = None  # the data picker's value
    thresholds: dict[str, float] = field(default_factory=dict)  # the model's own, applied to ``pred``
    cached: bool = False  # scored from the predictions of an earlier evaluation
    memo: dict = field(default_factory=dict)
    number: int = field(default_factory=lambda: next(_NUMBERS))  # this evaluation's own, in the cards

    @property
    def title(self) -> str:
        return f"{self.model} on {self.data}"

    @property
    def doc_ids(self) -> list[int] | None:
        return None if self.corpus is None else [s.doc_id for s in self.corpus]


class ScoredRuns:
    """The last ``size`` evaluations by what they were scored from: the prediction cache's own list of
    word probabilities (the same object for every hit on one entry, a new one when re-tagged), the
    corpus object and the thresholds. A second evaluation of the same model and data is a lookup."""

    def __init__(self, size: int = 8):
        self.size = size
        self._runs: OrderedDict[tuple, tuple] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, probs, corpus, thresholds) -> EvalRun | None:
        key = (id(probs), id(corpus), tuple(sorted(thresholds.items())))
        with self._lock:
            found = self._runs.get(key)
            # The entry holds its probs and corpus, so their ids cannot be reused while it exists.
            if found is None or found[0] is not probs or found[1] is not corpus:
                return None
            self._runs.move_to_end(key)
            return found[2]

    def put(self, probs, corpus, thresholds, run: EvalRun) -> None:
        with self._lock:
            self._runs[(id(probs), id(corpus), tuple(sorted(thresholds.items())))] = (probs, corpus, run)
            while len(self._runs) > self.size:
                self._runs.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._runs.clear()


SCORED = ScoredRuns()


def evaluate_run(tagger, corpus: Corpus, model: str, data: str,
                 progress: Callable[[int, int], None] | None = None, choice: str | None = None,
                 data_choice: str | None = None) -> EvalRun:
    """Predict every sentence (first subword per word, documents kept whole; through the prediction
    cache) and score it with the model's own thresholds; the same probabilities, corpus and thresholds
    scored before give that evaluation back (its views included) without decoding or scoring again."""
    start = time.perf_counter()
    probs = corpus_probabilities(tagger, corpus, progress=progress)
    thresholds = tagger.thresholds
    found = SCORED.get(probs, corpus, thresholds)
    if found is not None:
        return replace(found, model=model, data=data, choice=choice, data_choice=data_choice,
                       seconds=time.perf_counter() - start, cached=True, number=next(_NUMBERS))
    decoded = [tagger.decode_words(p) for p in probs]
    pred = [p.tags for p in decoded]
    words = [s.words for s in corpus]
    gold = [list(s.tags) for s in corpus]
    result = evaluate(gold, pred, words)
    run = EvalRun(model, data, words, gold, pred, result, time.perf_counter() - start, [p.scores for p in decoded],
                  corpus, choice, data_choice, thresholds)
    SCORED.put(probs, corpus, thresholds, run)
    return run


# ---- metric cards and tables ----------------------------------------------------------------------


def _card(title: str, value: float, detail: str, headline: bool = False) -> str:
    cls = "ner-card ner-card-headline" if headline else "ner-card"
    return (f'<div class="{cls}"><div class="ner-card-title">{html.escape(title)}</div>'
            f'<div class="ner-card-value">{value:.4f}</div><div class="ner-card-detail">{html.escape(detail)}</div></div>')


def metric_cards_html(run: EvalRun, interval=None) -> str:
    """Strict IOB2 micro P/R/F1 (the headline, with its bootstrap ``interval`` when given: a
    :class:`~ner_demo.evaluation.bootstrap.BootstrapResult`), conlleval-style beside it, token accuracy last."""
    r = run.result
    s, c = r.strict.micro, r.conlleval.micro
    ci = (f"95% CI [{interval.micro.low:.4f}, {interval.micro.high:.4f}] ({interval.describe()}, seed {interval.seed}) · "
          if interval is not None else "")
    cards = [
        _card("Strict IOB2 F1 (micro)", s.f1,
              f"{ci}P {s.precision:.4f} · R {s.recall:.4f} · {s.support:,} gold entities", headline=True),
        _card("conlleval F1 (micro)", c.f1, f"P {c.precision:.4f} · R {c.recall:.4f}"),
        _card("Token accuracy (secondary)", r.token_accuracy, f"{r.n_tokens:,} tokens · {r.n_sentences:,} sentences"),
    ]
    again = " (scored before: nothing tagged again)" if run.cached else ""
    kept = (" · the model's thresholds: " + ", ".join(f"{t} {v:g}" for t, v in sorted(run.thresholds.items()))
            if run.thresholds else "")
    note = (f"{html.escape(run.title)} · {len(r.errors):,} entity errors{html.escape(kept)} · "
            f"{run.seconds:.1f} s{again}. "
            "Word-level scores (first-subword predictions); entity F1 is the number that matters.")
    # The evaluation's number makes every evaluation's cards differ: the views redraw on their change.
    return (f'<div class="ner-cards" data-evaluation="{run.number}">{"".join(cards)}</div>'
            f'<p class="ner-card-note">{note}</p>')


def per_type_rows(result: EvaluationResult) -> list[list]:
    """A row per type, then the micro and macro averages; scores rounded to 4 places."""
    rows = []
    for t in result.types:
        s = result.strict.per_type.get(t)
        c = result.conlleval.per_type.get(t)
        support = (s or c).support if (s or c) else 0
        rows.append([t, support, *_prf(s), *_prf(c)])
    for name in ("micro", "macro"):
        s, c = getattr(result.strict, name), getattr(result.conlleval, name)
        rows.append([f"{name} avg", s.support, *_prf(s), *_prf(c)])
    return rows


def _prf(score) -> list[float]:
    if score is None:
        return [0.0, 0.0, 0.0]
    return [round(score.precision, 4), round(score.recall, 4), round(score.f1, 4)]


# ---- error browser -------------------------------------------------------------------------------


def words_highlight(words: Sequence[str], tags: Sequence[str]) -> dict:
    """Words joined by spaces, with the entities of ``tags`` (IOB2) as character spans.

    >>> words_highlight(["John", "visited", "New", "York"], ["B-PER", "O", "B-LOC", "I-LOC"])["entities"]
    [{'entity': 'PER', 'start': 0, 'end': 4}, {'entity': 'LOC', 'start': 13, 'end': 21}]
    """
    starts, pos = [], 0
    for w in words:
        starts.append(pos)
        pos += len(w) + 1
    text = " ".join(words)
    entities = [{"entity": s.label, "start": starts[s.start], "end": starts[s.end - 1] + len(words[s.end - 1])}
                for s in iob2_word_spans(tags)]
    return {"text": text, "entities": entities}


def error_types(result: EvaluationResult) -> list[str]:
    return sorted({s.label for e in result.errors for s in (e.gold, e.pred) if s is not None})


def _span_cell(span: WordSpan | None, words: Sequence[str]) -> str:
    return "—" if span is None else f"{span.label}: {' '.join(words[span.start : span.end])}"


def filter_errors(errors: Sequence[EntityError], kind: str = ALL, entity_type: str = ALL) -> list[int]:
    """Indices of the errors of ``kind`` whose gold or predicted type is ``entity_type``."""
    out = []
    for i, e in enumerate(errors):
        if kind != ALL and e.kind != kind:
            continue
        if entity_type != ALL and entity_type not in {s.label for s in (e.gold, e.pred) if s is not None}:
            continue
        out.append(i)
    return out


def error_rows(run: EvalRun, kind: str = ALL, entity_type: str = ALL, limit: int = 500) -> list[list]:
    """Rows for the error table; ``#`` is the error's number as people count (index + 1): the app's
    "Error #" box shows it, and 0 there means none."""
    rows = []
    for i in filter_errors(run.result.errors, kind, entity_type)[:limit]:
        e = run.result.errors[i]
        words = run.words[e.sentence]
        sentence = " ".join(words)
        rows.append([i + 1, e.kind, _span_cell(e.gold, words), _span_cell(e.pred, words),
                     sentence if len(sentence) <= 160 else sentence[:159] + "…"])
    return rows


def error_counts_line(run: EvalRun) -> str:
    counts = run.result.error_counts()
    return " · ".join(f"{kind.replace('_', ' ')}: {n:,}" for kind, n in counts.items())


def error_detail(run: EvalRun, index: int) -> tuple[str, str, str]:
    """Gold and predicted entities of the error's whole sentence, each drawn as one flowing line
    (HTML, as the Tag tab draws its text), and a caption. ``index`` is 0-based; the caption counts from 1."""
    errors = run.result.errors
    if not 0 <= index < len(errors):
        raise IndexError(f"error #{index + 1} does not exist; there are {len(errors)} errors")
    e = errors[index]
    words = run.words[e.sentence]
    colours = color_map(run.result.types)
    caption = (f"Error #{index + 1} of {len(errors):,}: **{e.kind.replace('_', ' ')}** in sentence "
               f"{e.sentence + 1} — gold {_span_cell(e.gold, words)}; predicted {_span_cell(e.pred, words)}")
    return (highlight_html(words_highlight(words, run.gold[e.sentence]), colours),
            highlight_html(words_highlight(words, run.pred[e.sentence]), colours), caption)


# ---- comparison ----------------------------------------------------------------------------------


def comparison_rows(a: EvaluationResult, b: EvaluationResult) -> list[list]:
    """Strict per-type F1 of A and B, and B minus A (P, R and F1), then the micro average."""
    types = sorted(set(a.strict.per_type) | set(b.strict.per_type))
    rows = []
    for t in [*types, None]:
        sa = a.strict.micro if t is None else a.strict.per_type.get(t)
        sb = b.strict.micro if t is None else b.strict.per_type.get(t)
        pa, ra, fa = _prf(sa)
        pb, rb, fb = _prf(sb)
        support = (sa or sb).support if (sa or sb) else 0
        rows.append([t or "micro avg", support, fa, fb, round(fb - fa, 4), round(pb - pa, 4), round(rb - ra, 4)])
    return rows


def distinct_names(a: str, b: str) -> tuple[str, str]:
    """Two labels for a chart legend, made distinct when the same model is compared with itself.

    >>> distinct_names("run x", "run x")
    ('A: run x', 'B: run x')
    """
    return (a, b) if a != b else (f"A: {a}", f"B: {b}")


def error_kind_choices() -> list[str]:
    return [ALL, *ERROR_KINDS]

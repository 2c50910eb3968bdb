"""One self-contained HTML report of an evaluation, and the JSON of every figure in it.

:func:`build_report` turns a :class:`ner_demo.evaluation.full.FullEvaluation` into ``(html, data)``:

- ``html``: one file that opens offline. plotly.js is embedded once, inline (``include_plotlyjs=True``
  on the first chart), and no element loads anything from the network: no script ``src``, no font or
  style sheet from a CDN. Tables are plain HTML, every text from the data escaped.
- ``data``: ``{"version", "meta", "evaluation", "figures"}``: the evaluation's numbers
  (:meth:`FullEvaluation.to_dict`, suspicious gold cut to ``top``) and each chart as plotly's JSON,
  ``{"id", "title", "figure"}``, in the order the HTML draws them.

It sits above :mod:`ner_demo.plots` (it draws their figures) and below the CLI and the app, which both
call it: ``evaluate --report`` and the Evaluate tab's downloads write the same report.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Sequence

import plotly.graph_objects as go

from ner_demo.evaluation.full import FullEvaluation
from ner_demo.evaluation.schemes import SchemeDifference
from ner_demo.plots.evaluation import confusion_heatmap, per_type_bar
from ner_demo.plots.statistics import (
    bucket_bar,
    interval_bar,
    reliability_figure,
    schemes_bar,
    suspicious_bar,
    type_ece_bar,
)

REPORT_VERSION = 1
DEFAULT_TOP = 50  # suspicious gold items in the report
MAX_DIFFERENCES = 300  # rows of the "why these differ" table (all of them are in the JSON)

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1100px;
       color: #222; padding: 0 1em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child, td.text { text-align: left; }
th { background: #f3f3f3; }
.note { color: #666; font-style: italic; }
.chart { margin: 1em 0 2em; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
"""


_TEXT_CELL = '<td class="text">'


def _f(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[object]], text_columns: Sequence[int] = ()) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join((_TEXT_CELL if k in text_columns else "<td>") + f"{escape(str(c))}</td>"
                        for k, c in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


class _Charts:
    """The report's charts in order; the first one carries plotly.js inline."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str, go.Figure]] = []

    def add(self, chart_id: str, title: str, fig: go.Figure) -> str:
        first = not self.items
        self.items.append((chart_id, title, fig))
        div = fig.to_html(full_html=False, include_plotlyjs=True if first else False, div_id=chart_id,
                          config={"displaylogo": False, "responsive": True})
        return f'<div class="chart">{div}</div>'

    def data(self) -> list[dict]:
        return [{"id": i, "title": t, "figure": json.loads(fig.to_json())} for i, t, fig in self.items]


def _scores_section(ev: FullEvaluation, charts: _Charts) -> str:
    r, boot = ev.result, ev.intervals
    rows = []
    for name in [*r.strict.per_type, "micro", "macro"]:
        strict = getattr(r.strict, name) if name in ("micro", "macro") else r.strict.per_type[name]
        conll = (getattr(r.conlleval, name) if name in ("micro", "macro")
                 else r.conlleval.per_type.get(name))
        interval = None if boot is None else boot.micro if name == "micro" else boot.per_type.get(name)
        ci = "-" if interval is None else f"{interval.low:.4f} - {interval.high:.4f}"
        rows.append([name, _f(strict.precision), _f(strict.recall), _f(strict.f1), ci,
                     _f(conll.precision if conll else None), _f(conll.recall if conll else None),
                     _f(conll.f1 if conll else None), strict.support])
    parts = ["<h2>Scores per type</h2>",
             _table(["type", "strict P", "strict R", "strict F1", "strict F1 95% interval", "conlleval P",
                     "conlleval R", "conlleval F1", "support"], rows)]
    if boot is None:
        parts.append(_note(f"No intervals: {ev.notes.get('bootstrap', 'not computed')}."))
    else:
        parts.append(_note(f"Intervals: percentile bootstrap, {boot.describe()} ({boot.n_units} {boot.unit}s), "
                           f"seed {boot.seed}."))
        parts.append(charts.add("chart-intervals", "Strict F1 with 95% intervals", interval_bar(boot)))
    parts.append(charts.add("chart-per-type-strict", "Per-type scores (strict IOB2)", per_type_bar(r, "strict")))
    parts.append(charts.add("chart-per-type-conlleval", "Per-type scores (conlleval)", per_type_bar(r, "conlleval")))
    return "".join(parts)


def _differences_table(differences: Sequence[SchemeDifference]) -> str:
    counts: dict[tuple[str, str], int] = {}
    for d in differences:
        counts[(d.a, d.b)] = counts.get((d.a, d.b), 0) + 1
    parts = [_table(["scheme A", "scheme B", "entities counted differently"],
                    [[a, b, n] for (a, b), n in counts.items()])]
    shown = differences[:MAX_DIFFERENCES]
    parts.append(_table(["scheme A", "scheme B", "sentence", "side", "type", "words", "text", "A counts it",
                         "B counts it"],
                        [[d.a, d.b, d.sentence, d.side, d.label, f"{d.start}-{d.end}", d.text or "", d.outcome_a,
                          d.outcome_b] for d in shown], text_columns=(6,)))
    if len(differences) > len(shown):
        parts.append(_note(f"The first {len(shown)} of {len(differences)} differences; all are in the JSON file."))
    return "".join(parts)


def _schemes_section(ev: FullEvaluation, charts: _Charts) -> str:
    rows = [[s.scheme, _f(s.precision), _f(s.recall), _f(s.f1), s.correct, s.incorrect, s.partial, s.missed,
             s.spurious] for s in ev.schemes]
    parts = ["<h2>Scoring schemes side by side</h2>",
             _table(["scheme", "P", "R", "F1", "correct", "incorrect", "partial", "missed", "spurious"], rows),
             charts.add("chart-schemes", "Scoring schemes (micro)", schemes_bar(ev.schemes)),
             "<h3>Why these differ: the entities each pair of schemes counts differently</h3>"]
    parts.append(_differences_table(ev.differences) if ev.differences else
                 _note("None: every scheme counts every entity alike."))
    return "".join(parts)


def _buckets_section(ev: FullEvaluation, charts: _Charts) -> str:
    parts = ["<h2>Generalisation</h2>"]
    if ev.overlap is None:
        parts.append(_note(f"Seen/unseen and train-test overlap: {ev.notes.get('seen_unseen', 'not computed')}."))
    else:
        o = ev.overlap
        parts.append("<h3>Train-test overlap</h3>")
        parts.append(_table(["gold mentions", "surface seen in training", "share", "seen with the same type", "share"],
                            [[o.n_mentions, o.seen_any_type, f"{o.share_seen:.1%}", o.seen_same_type,
                              f"{o.share_seen_same_type:.1%}"]]))
    for k, table in enumerate(ev.buckets):
        types = list(table.per_type)
        rows = []
        for b in table.buckets:
            s = table.overall[b]
            rows.append([b, s.n_gold, s.n_pred, _f(s.precision), _f(s.recall), _f(s.f1),
                         *(_f(table.per_type[t][b].f1) for t in types)])
        parts.append(f"<h3>By {escape(table.name)}</h3>")
        parts.append(_table(["bucket", "gold", "predicted", "P", "R", "F1", *(f"{t} F1" for t in types)], rows))
        parts.append(charts.add(f"chart-bucket-{k}", f"Strict scores by {table.name}", bucket_bar(table)))
    return "".join(parts)


def _confusion_section(ev: FullEvaluation, charts: _Charts) -> str:
    return "".join(["<h2>Confusion matrix</h2>",
                    charts.add("chart-confusion", "Entity confusion", confusion_heatmap(ev.result))])


def _calibration_section(ev: FullEvaluation, charts: _Charts) -> str:
    parts = ["<h2>Calibration</h2>"]
    report = ev.calibration
    if report is None:
        parts.append(_note(f"No calibration: {ev.notes.get('calibration', 'not computed')}."))
        return "".join(parts)
    rows = [[name, _f(r.ece), r.n, _f(r.confidence), _f(r.accuracy)]
            for name, r in [("overall", report.overall), *report.types.items()]]
    parts.append(_table(["predicted type", "ECE", "entities", "mean confidence", "share correct"], rows))
    parts.append(charts.add("chart-reliability", "Reliability diagram", reliability_figure(report)))
    parts.append(charts.add("chart-ece", "ECE per type", type_ece_bar(report)))
    return "".join(parts)


def _suspicious_section(ev: FullEvaluation, charts: _Charts, top: int) -> str:
    parts = ["<h2>Suspicious gold</h2>"]
    if "suspicious" in ev.notes:
        parts.append(_note(ev.notes["suspicious"] + "."))
    items = ev.suspicious[:top]
    if not items:
        parts.append(_note("No gold annotation is suspicious by any signal."))
        return "".join(parts)
    parts.append(_note(f"The {len(items)} most suspicious of {len(ev.suspicious)}; score 1 - (1 - max(model, "
                       "confident learning)) x (1 - inconsistent)."))
    rows = [[n, _f(it.score, 3), it.sentence, it.doc_id, it.span_text, it.gold_label or "none",
             it.suggested_label or "none", ", ".join(f"{k} {v:.2f}" for k, v in it.signals.items()), it.text]
            for n, it in enumerate(items, start=1)]
    parts.append(_table(["rank", "score", "sentence", "document", "span", "gold", "suggested", "signals", "sentence text"],
                        rows, text_columns=(4, 8)))
    parts.append(charts.add("chart-suspicious", "Suspicious gold", suspicious_bar(items)))
    return "".join(parts)


def build_report(ev: FullEvaluation, title: str = "ner_demo evaluation report", top: int = DEFAULT_TOP) -> tuple[str, dict]:
    """``(html, data)`` of ``ev`` (see the module docstring); ``top``: suspicious gold items shown."""
    charts = _Charts()
    r = ev.result
    meta_rows = [[k, v] for k, v in ev.meta.items()]
    head = [f"<h1>{escape(title)}</h1>",
            _table(["evaluated", "value"], [*meta_rows, ["sentences", r.n_sentences], ["tokens", r.n_tokens],
                              ["strict IOB2 micro F1 (headline)", _f(r.strict.micro.f1)],
                              ["conlleval micro F1", _f(r.conlleval.micro.f1)],
                              ["token accuracy (secondary)", _f(r.token_accuracy)]], text_columns=(1,))]
    body = "".join([*head, _scores_section(ev, charts), _schemes_section(ev, charts), _buckets_section(ev, charts),
                    _confusion_section(ev, charts), _calibration_section(ev, charts),
                    _suspicious_section(ev, charts, top)])
    html = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body>{body}</body></html>\n")
    data = {"version": REPORT_VERSION, "title": title, "meta": dict(ev.meta), "evaluation": ev.to_dict(top=top),
            "figures": charts.data()}
    return html, data


def write_report(ev: FullEvaluation, html_path, json_path, title: str = "ner_demo evaluation report",
                 top: int = DEFAULT_TOP) -> dict:
    """Write :func:`build_report`'s HTML and JSON; returns the data. Each file goes to a temporary
    sibling first and is renamed into place."""
    html, data = build_report(ev, title, top)
    for path, text in ((Path(html_path), html), (Path(json_path), json.dumps(data, ensure_ascii=False, indent=1) + "\n")):
        staging = path.with_name(f".{path.name}.tmp")
        staging.write_text(text, encoding="utf-8")
        staging.replace(path)
    return data

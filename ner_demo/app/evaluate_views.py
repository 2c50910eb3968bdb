"""The Evaluate tab's analysis views as event handlers: intervals, schemes, generalisation, calibration,
the comparison, suspicious gold and the report. Thin: the work is in :mod:`.evaluate_stats`,
:mod:`.evaluate_calibration`, :mod:`.evaluate_compare` and :mod:`.evaluate_report` (no Gradio there).
Every view is computed from the evaluation's state (its tags, or the prediction cache), so opening a
view, changing a setting or a threshold re-tags nothing.

:func:`refresh` runs whenever the evaluation's cards change (a new evaluation, or a failed one): the
open view is computed again for the new evaluation and every other view is cleared, so no view ever
shows an earlier evaluation's figures as if they were current.
"""

from __future__ import annotations

import gradio as gr

import ner_demo.app.data_format as ds
import ner_demo.app.evaluate_calibration as ec
import ner_demo.app.evaluate_compare as cmp
import ner_demo.app.evaluate_format as ev
import ner_demo.app.evaluate_report as rp
import ner_demo.app.evaluate_stats as st
from ner_demo.app.common import MODELS, friendly, model_name, out_dir, runs_dir
from ner_demo.app.model_cache import resolve_choice
from ner_demo.app.tag_format import color_map, highlight_html
from ner_demo.evaluation.generalisation import tokenizer_pieces
from ner_demo.plots.calibration import reliability_before_after, threshold_curves_figure
from ner_demo.plots.evaluation import compare_runs_bar
from ner_demo.plots.generalisation import bucket_type_bar
from ner_demo.plots.statistics import interval_bar, schemes_bar

VIEWS = ("scores", "intervals", "schemes", "generalisation", "calibration", "compare", "suspicious", "report")
BUCKET_CHOICES = [st.SEEN, *st.LENGTH_TABLES]
METRICS = ["recall", "precision", "f1"]
NO_CALIBRATION = "Press **Fit on dev** to fit a temperature and thresholds (it tags the dev data once)."
NO_COMPARISON = "Pick model B and press **Compare B with A**."
NO_REPORT = "Press **Build the report** for one HTML file with every chart and table, and the JSON of every figure."


def need_run(run: ev.EvalRun | None) -> ev.EvalRun:
    if run is None:
        raise gr.Error("Evaluate a model first.")
    return run


# ---- intervals, schemes, generalisation -----------------------------------------------------------


@friendly
def show_intervals(run, replicates, seed):
    boot = st.intervals(need_run(run), replicates, seed)
    return st.interval_summary(boot), interval_bar(boot), st.interval_rows(run, boot)


@friendly
def show_schemes(run, pair):
    run = need_run(run)
    rows = st.schemes(run)
    found = st.differences(run)
    pair = pair if pair in st.PAIRS else st.PAIRS[0]
    note, table = show_pair(run, pair)
    return (schemes_bar(rows), st.scheme_rows(rows), gr.Dropdown(choices=st.pair_choices(found), value=pair),
            note, table)


@friendly
def show_pair(run, pair):
    found = st.pair_differences(st.differences(need_run(run)), pair)
    return st.differences_note(found, pair), st.difference_rows(found)


@friendly
def show_generalisation(run, table_name, metric):
    run = need_run(run)
    tables, _, note = st.generalisation(run, _pieces(run))
    name = table_name if table_name in tables else next(iter(tables))
    metric = metric if metric in METRICS else "recall"
    return note, bucket_type_bar(tables[name], metric), st.bucket_rows(tables[name])


# ---- the sentence panel ---------------------------------------------------------------------------


def _sentence(run: ev.EvalRun, index: int, caption: str, b_tags=None) -> tuple[str, str, str, str]:
    words = run.words[index]
    colours = color_map(run.result.types)
    views = [highlight_html(ev.words_highlight(words, tags[index]), colours) for tags in (run.gold, run.pred)]
    b = "" if b_tags is None else highlight_html(ev.words_highlight(words, b_tags[index]), colours)
    return caption, *views, b


def pick_row(rows, event: gr.SelectData) -> int:
    """The ``#`` cell (1-based) of the clicked row of a table."""
    return int(rows.iloc[event.index[0], 0]) if len(rows) else 0


@friendly
def difference_sentence(run, pair, number):
    run = need_run(run)
    found = st.pair_differences(st.differences(run), pair)
    if not number or not 1 <= number <= len(found):
        return "", "", "", ""
    d = found[int(number) - 1]
    side = "gold entity" if d.side == "gold" else "predicted entity"
    return _sentence(run, d.sentence, f"Sentence {d.sentence + 1}: the {side} **{d.label}: {d.text}** is "
                                      f"*{d.outcome_a}* under {d.a} and *{d.outcome_b}* under {d.b}.")


# ---- calibration ----------------------------------------------------------------------------------


def _tagger(run: ev.EvalRun):
    if not run.choice:
        raise gr.Error("This evaluation does not say which model made it: evaluate again.")
    return MODELS.tagger(run.choice)


@friendly
def fit_calibration(run, fit_temperature, progress=gr.Progress()):
    run = need_run(run)
    tagger = _tagger(run)
    cal = ec.calibrate(run, tagger, bool(fit_temperature),
                       progress=lambda name: lambda done, total: progress((done, total), desc=name, unit="sentences"))
    r = cal.result
    fit_split = r.splits["fit"]
    diagram = reliability_before_after({"before": fit_split.before.overall, "after": fit_split.after.overall},
                                      f"Reliability of predicted entities on {cal.fit_name} (strict match)")
    rows, caption = ec.threshold_effect(cal, tagger, r.thresholds)
    return (ec.summary(cal), diagram, threshold_curves_figure(r.curves, r.thresholds), ec.ece_rows(cal),
            ec.threshold_rows(cal), caption, rows, _save_hint(run), cal)


def _save_hint(run: ev.EvalRun) -> str:
    try:
        ec.save_target(resolve_choice(run.choice), runs_dir())
    except Exception as exc:  # why this model cannot be saved into: said before anyone presses Save
        return f"Saving: {exc}"
    return "Saving writes the temperature and the thresholds above into this run's best/ner_demo.json."


def _need_calibration(cal):
    if cal is None:
        raise gr.Error("Fit on dev first.")
    return cal


@friendly
def optimal_thresholds(cal):
    cal = _need_calibration(cal)
    return ec.threshold_rows(cal)


@friendly
def apply_thresholds(cal, table):
    cal = _need_calibration(cal)
    thresholds = ec.read_thresholds(table.values.tolist() if hasattr(table, "values") else table)
    rows, caption = ec.threshold_effect(cal, _tagger(cal.run), thresholds)
    return caption, rows, threshold_curves_figure(cal.result.curves, thresholds)


@friendly
def save_thresholds(cal, table):
    cal = _need_calibration(cal)
    thresholds = ec.read_thresholds(table.values.tolist() if hasattr(table, "values") else table)
    return ec.save(cal, resolve_choice(cal.run.choice), runs_dir(), thresholds)


# ---- comparison -----------------------------------------------------------------------------------


@friendly
def compare(run, model_b: str, data: str, upload: str | None, replicates: float = 1000, seed: float = 0,
            progress=gr.Progress()):
    run_a = need_run(run)
    replicates, seed = st.check_bootstrap(replicates, seed)
    progress(None, desc="reading the data")
    corpus, data_name = ds.eval_corpus(data, upload)
    if data_name != run_a.data:
        raise gr.Error(f"Model A was evaluated on {run_a.data}; evaluate A on {data_name} first, then compare.")
    progress(None, desc="loading model B")
    tagger_b = MODELS.tagger(model_b)
    run_b = ev.evaluate_run(tagger_b, corpus, model_name(model_b), data_name,
                            lambda done, total: progress((done, total), desc="tagging with model B", unit="sentences"),
                            choice=model_b, data_choice=data)
    progress(None, desc="testing the difference")
    c = cmp.compare_runs(run_a, run_b, replicates, seed)
    name_a, name_b = c.names
    figure = compare_runs_bar({name_a: run_a.result, name_b: run_b.result}, baseline=name_a)
    return figure, cmp.significance_rows(c), cmp.significance_caption(c, data_name), c


def show_disagreements(comparison, closer):
    """The disagreement list (and the sentence panel cleared: what it showed may be of another comparison)."""
    if comparison is None:
        return "", None, "", "", "", ""
    return cmp.disagreement_counts(comparison), cmp.disagreement_rows(comparison, closer or "all"), "", "", "", ""


@friendly
def disagreement_sentence(comparison, number):
    if comparison is None or not number:
        return "", "", "", ""
    gold, a, b, caption = cmp.sentence_view(comparison, int(number))
    return caption, gold, a, b


# ---- suspicious gold and the report ---------------------------------------------------------------


def _pieces(run: ev.EvalRun):
    return tokenizer_pieces(MODELS.tagger(run.choice).tokenizer) if run.choice else None


@friendly
def show_suspicious(run):
    run = need_run(run)
    items = rp.suspicious(run, _tagger(run))
    return rp.suspicious_note(items), rp.suspicious_rows(items), str(rp.review_file(items, out_dir()))


@friendly
def suspicious_sentence(run, number):
    run = need_run(run)
    items = rp.suspicious(run, _tagger(run))
    if not number or not 1 <= number <= len(items):
        return "", "", "", ""
    item = items[int(number) - 1]
    return _sentence(run, item.sentence, rp.suspicious_caption(item, int(number)))


@friendly
def build_report(run, replicates, seed):
    run = need_run(run)
    full = rp.full_evaluation(run, _tagger(run), *st.check_bootstrap(replicates, seed), _pieces(run))
    paths = rp.report_files(full, out_dir(), f"{run.model} on {run.data}")
    return ("The report of **" + run.title + "**: open the HTML file in a browser (it works offline); the JSON "
            "holds every figure's data."), [str(p) for p in paths]


# ---- refreshing every view when the evaluation changes ----------------------------------------------

# The outputs of refresh(), in order: what each view shows (calibration and comparison: with their state).
VIEW_OUTPUTS = {"intervals": 3, "schemes": 5, "generalisation": 3, "calibration": 9, "compare": 4,
                "suspicious": 3, "report": 2}


def cleared_views() -> list:
    """Every view's outputs (and the sentence panel's) cleared: what a new evaluation starts with. The
    calibration, comparison and report say which button makes them."""
    out = {"intervals": [None, None, None],
           "schemes": [None, None, gr.skip(), None, None],
           "generalisation": [None, None, None],
           "calibration": [NO_CALIBRATION, None, None, None, None, None, None, None, None],
           "compare": [None, None, NO_COMPARISON, None],
           "suspicious": [None, None, None],
           "report": [NO_REPORT, None]}
    return [*(v for name in VIEW_OUTPUTS for v in out[name]), "", "", "", ""]


def refresh(run, view, replicates, seed, pair, table_name, metric):
    """The open ``view`` computed for ``run``; every other output skipped (left as it is).

    It never clears: the views were cleared when the evaluation started (:func:`cleared_views`), and a
    view the user opened meanwhile, drawn by its own event for the same ``run``, must not be blanked by
    this refresh answering after it."""
    out = {name: [gr.skip()] * size for name, size in VIEW_OUTPUTS.items()}
    if run is not None and view == "intervals":
        out["intervals"] = list(show_intervals(run, replicates, seed))
    elif run is not None and view == "schemes":
        out["schemes"] = list(show_schemes(run, pair))
    elif run is not None and view == "generalisation":
        out["generalisation"] = list(show_generalisation(run, table_name, metric))
    elif run is not None and view == "suspicious":
        out["suspicious"] = list(show_suspicious(run))
    return [*(v for name in VIEW_OUTPUTS for v in out[name]), *[gr.skip()] * 4]

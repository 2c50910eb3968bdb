"""The Evaluate tab's analysis views, called as the page calls them (no server): a second evaluation tags
nothing, the views re-score from the evaluation's tags, calibration fits on dev and saves only into a
run's best model, where its thresholds change what ``/entities`` returns, and the comparison's p-values
and disagreements."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from app_harness import TAG_SENTENCE, write_fake_conll2003

import ner_demo.app.evaluate_calibration as ec
import ner_demo.app.evaluate_stats as st
import ner_demo.app.evaluate_views as vw
from ner_demo.app import evaluate as evaluate_tab
from ner_demo.app import tag as tag_tab
from ner_demo.app.common import MODELS
from ner_demo.encoding import InputFeatures
from ner_demo.errors import ConfigError
from ner_demo.evaluation.cache import PREDICTIONS
from ner_demo.evaluation.schemes import SCHEMES

DEV_TINY = Path(__file__).parent / "data" / "dev_tiny.conll"


class Recorder:
    def __call__(self, progress, desc=None, total=None, unit="steps"):
        pass


class Counting:
    """Wraps a Tagger's forward passes (``word_probabilities``) and counts them."""

    def __init__(self, tagger, monkeypatch):
        self.calls = 0
        original = tagger.word_probabilities

        def counted(*args, **kwargs):
            self.calls += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(tagger, "word_probabilities", counted)


@pytest.fixture(scope="module")
def conll_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("eval_views_home")
    write_fake_conll2003(home)
    return home


@pytest.fixture
def home(conll_home, monkeypatch, tmp_path) -> Path:
    monkeypatch.setenv("NER_DEMO_HOME", str(conll_home))
    monkeypatch.setenv("NER_DEMO_RUNS", str(tmp_path / "runs"))
    return conll_home


def _evaluate(model, data="uploaded file", upload=DEV_TINY):
    outputs = evaluate_tab.evaluate(str(model), data, None if upload is None else str(upload), progress=Recorder())
    return outputs[0], outputs[8]  # the cards and the run


def test_a_second_evaluation_of_the_same_model_and_data_tags_nothing(trained_tiny_dir, monkeypatch):
    counter = Counting(MODELS.tagger(str(trained_tiny_dir)), monkeypatch)
    _, first = _evaluate(trained_tiny_dir)
    tagged, hits = counter.calls, PREDICTIONS.hits
    assert tagged >= 1
    cards, second = _evaluate(trained_tiny_dir)
    assert counter.calls == tagged and PREDICTIONS.hits == hits + 1
    assert second.cached and second.result is first.result and second.memo is first.memo
    assert "scored before: nothing tagged again" in cards


def test_the_headline_card_carries_its_bootstrap_interval(trained_tiny_dir):
    cards, run = _evaluate(trained_tiny_dir)
    boot = st.intervals(run)
    assert f"95% CI [{boot.micro.low:.4f}, {boot.micro.high:.4f}] (1,000 document resamples, seed 0)" in cards


def test_intervals_are_seeded_and_kept_per_setting(trained_tiny_dir):
    _, run = _evaluate(trained_tiny_dir)
    note, figure, rows = vw.show_intervals(run, 200, 3)
    assert "200 resamples" in note and "seed 3" in note
    assert [r[0] for r in rows][-1] == "micro avg" and rows[-1][2] == round(run.result.strict.micro.f1, 4)
    assert st.intervals(run, 200, 3) is st.intervals(run, 200, 3)  # computed once
    assert vw.show_intervals(run, 200, 3)[2] == rows
    assert figure.data[0].error_y.array is not None


@pytest.mark.parametrize("replicates, seed", [(0, 0), (1.5, 0), (None, 0), (100, -1)])
def test_bad_bootstrap_settings_are_refused_by_name(replicates, seed):
    with pytest.raises(ConfigError, match="bootstrap"):
        st.check_bootstrap(replicates, seed)


def test_schemes_view_scores_every_scheme_and_lists_why_they_differ(trained_tiny_dir):
    _, run = _evaluate(trained_tiny_dir)
    figure, rows, pairs, note, table = vw.show_schemes(run, "seqeval strict vs semeval partial")
    assert [r[0] for r in rows] == list(SCHEMES)
    assert rows[0][3] == round(run.result.strict.micro.f1, 4)
    assert len(pairs.choices) == 15
    found = st.pair_differences(st.differences(run), "seqeval strict vs semeval partial")
    assert len(table) == len(found)
    if found:
        assert table[0][0] == 1 and table[0][4] != table[0][5]
        caption, gold, pred, b = vw.difference_sentence(run, "seqeval strict vs semeval partial", 1)
        assert f"Sentence {found[0].sentence + 1}:" in caption and "<mark" in gold + pred and b == ""


def test_generalisation_on_conll_has_seen_buckets_and_the_overlap(trained_tiny_dir, home):
    _, run = _evaluate(trained_tiny_dir, "conll2003:test", None)
    note, figure, rows = vw.show_generalisation(run, st.SEEN, "recall")
    assert "Train-test overlap" in note
    assert {r[1] for r in rows} == {"seen, same type", "seen, other type only", "unseen"}
    _, _, rows = vw.show_generalisation(run, "subword-split words", "f1")
    assert {r[1] for r in rows} <= {"no word split", "up to half split", "over half split"}


def test_generalisation_of_an_upload_says_why_seen_unseen_is_skipped(trained_tiny_dir):
    _, run = _evaluate(trained_tiny_dir)
    note, _, rows = vw.show_generalisation(run, st.SEEN, "recall")
    assert note.startswith("Seen/unseen: an uploaded file comes without its training data")
    assert rows[0][1] == "1 word"  # the first table there is: entity length


def test_calibration_fits_on_dev_from_the_evaluations_own_predictions(trained_tiny_dir, home, monkeypatch):
    counter = Counting(MODELS.tagger(str(trained_tiny_dir)), monkeypatch)
    _, run = _evaluate(trained_tiny_dir, "conll2003:dev", None)
    calls = counter.calls
    outputs = vw.fit_calibration(run, True, progress=Recorder())
    assert counter.calls == calls  # dev was tagged by the evaluation: nothing tagged again
    note, diagram, curves, ece, thresholds, caption, effect, save_note, cal = outputs
    assert note.startswith("**Temperature ") and "argmax entities unchanged" in note
    assert ece[0][0] == "overall" and [r[0] for r in thresholds] == ["LOC", "ORG", "PER"]
    assert effect[-1][0] == "micro avg" and caption.startswith("On CoNLL-2003 dev, at temperature ")
    assert save_note.startswith("Saving: ") and "not a training run's best model" in save_note


def test_test_is_held_out_when_calibrating_for_a_test_evaluation(trained_tiny_dir, home):
    _, run = _evaluate(trained_tiny_dir, "conll2003:test", None)
    cal = vw.fit_calibration(run, True, progress=Recorder())[-1]
    assert (cal.fit_name, cal.held_name) == ("CoNLL-2003 dev", "CoNLL-2003 test")
    assert "Held out (CoNLL-2003 test, not used to fit)" in ec.summary(cal)
    # The tiny model gets every dev word right: the fit runs to the end of its range, and says so.
    assert cal.result.temperature == pytest.approx(0.05, rel=1e-3) and "stopped at the end of its range" in ec.summary(cal)


def test_applied_thresholds_re_score_from_the_cache(trained_tiny_dir, home, monkeypatch):
    _, run = _evaluate(trained_tiny_dir, "conll2003:dev", None)
    cal = vw.fit_calibration(run, False, progress=Recorder())[-1]
    counter = Counting(MODELS.tagger(str(trained_tiny_dir)), monkeypatch)
    table = pd.DataFrame([["LOC", 0.0], ["ORG", 0.0], ["PER", 1.0]], columns=["type", "threshold"])
    caption, rows, _ = vw.apply_thresholds(cal, table)
    assert counter.calls == 0
    per = next(r for r in rows if r[0] == "PER")
    assert per[4] > 0 and per[7] == 0.0  # every PER entity scores below 1: all dropped
    assert "PER 1" in caption


def test_a_threshold_that_is_no_number_is_named_with_its_row():
    with pytest.raises(ConfigError, match=r"row 2 \(PER\): the threshold 'high' is not a number"):
        ec.read_thresholds([["LOC", 0.5], ["PER", "high"]])
    with pytest.raises(ConfigError, match="threshold of 'PER' must be a number between 0 and 1"):
        ec.read_thresholds([["PER", 1.5]])


def test_saving_into_a_shipped_model_is_refused(tmp_path, ship_from, trained_tiny_dir):
    shipped = tmp_path / "models" / "minilm-conll2003"
    shutil.copytree(trained_tiny_dir, shipped)
    ship_from(shipped)
    before = (shipped / "ner_demo.json").read_bytes()
    with pytest.raises(ConfigError, match="minilm-conll2003 is a shipped model: its folder is never changed"):
        ec.save_target(str(shipped), tmp_path / "runs")
    assert (shipped / "ner_demo.json").read_bytes() == before


def test_saving_outside_a_runs_best_folder_is_refused(tmp_path, trained_tiny_dir):
    with pytest.raises(ConfigError, match="not a training run's best model"):
        ec.save_target(str(trained_tiny_dir), tmp_path / "runs")
    with pytest.raises(ConfigError, match="is not a model folder on this machine"):
        ec.save_target("someone/hub-model", tmp_path / "runs")


def test_thresholds_saved_with_a_run_change_what_entities_returns(trained_tiny_dir, home, tmp_path, monkeypatch):
    best = tmp_path / "runs" / "run-1" / "best"
    shutil.copytree(trained_tiny_dir, best)
    monkeypatch.setenv("NER_DEMO_MODEL", str(best))
    (before,) = tag_tab.entities([TAG_SENTENCE])
    assert [e["label"] for e in before[0]] == ["PER", "PER", "LOC"]
    _, run = _evaluate(best, "conll2003:dev", None)
    cal = vw.fit_calibration(run, False, progress=Recorder())[-1]
    note = vw.save_thresholds(cal, [["LOC", 0.0], ["ORG", 0.0], ["PER", 1.0]])
    assert note.startswith("Saved PER 1 into run run-1's best/ner_demo.json")
    assert InputFeatures.load(str(best)).thresholds == {"PER": 1.0}
    (after,) = tag_tab.entities([TAG_SENTENCE])
    assert [(e["label"], e["text"]) for e in after[0]] == [("LOC", "Paris")]


def test_compare_tests_the_difference_and_lists_disagreements(trained_tiny_dir, tiny_model_dir):
    _, run = _evaluate(trained_tiny_dir)
    figure, rows, caption, comparison = vw.compare(run, str(tiny_model_dir), "uploaded file", str(DEV_TINY),
                                                   200, 0, progress=Recorder())
    micro = rows[-1]
    assert micro[0] == "micro avg" and 0 < micro[-1] <= 1 and micro[-3] <= micro[4] <= micro[-2]
    assert "p = " in caption and "200 document resamples" in caption
    note, table, *sentence = vw.show_disagreements(comparison, "all")
    assert sentence == ["", "", "", ""]
    assert table and note.startswith(f"{len(comparison.found):,} sentences differ")
    closer = table[0][2]
    assert {r[2] for r in vw.show_disagreements(comparison, closer)[1]} == {closer}
    caption, gold, a, b = vw.disagreement_sentence(comparison, table[0][0])
    assert caption.startswith("Disagreement #1 of ") and "matches the gold" in caption and gold and a != b


def test_comparing_a_model_with_itself_finds_no_difference(trained_tiny_dir):
    _, run = _evaluate(trained_tiny_dir)
    _, rows, caption, comparison = vw.compare(run, str(trained_tiny_dir), "uploaded file", str(DEV_TINY), 100, 0,
                                              progress=Recorder())
    assert all(r[4] == 0 and r[-1] == 1.0 for r in rows) and comparison.found == []


def test_a_new_evaluation_redraws_the_open_view_and_leaves_the_others(trained_tiny_dir):
    _, run = _evaluate(trained_tiny_dir)
    out = vw.refresh(run, "intervals", 100, 0, st.PAIRS[0], st.SEEN, "recall")
    sizes = list(vw.VIEW_OUTPUTS.values())
    assert len(out) == sum(sizes) + 4
    assert out[0].startswith("**Strict micro F1") and out[3:] == [vw.gr.skip()] * (len(out) - 3)


def test_a_refresh_without_a_run_changes_nothing():
    out = vw.refresh(None, "intervals", 100, 0, st.PAIRS[0], st.SEEN, "recall")
    assert out == [vw.gr.skip()] * (sum(vw.VIEW_OUTPUTS.values()) + 4)


def test_a_new_evaluation_starts_with_every_view_cleared():
    cleared = vw.cleared_views()
    assert len(cleared) == sum(vw.VIEW_OUTPUTS.values()) + 4
    assert cleared[:3] == [None, None, None] and vw.NO_CALIBRATION in cleared and vw.NO_COMPARISON in cleared
    assert cleared[-4:] == ["", "", "", ""]


@pytest.fixture(scope="module")
def mislabelled(tmp_path_factory) -> Path:
    """Sentences the tiny model tags right, one of them with a wrong gold label (Paris as a person)."""
    path = tmp_path_factory.mktemp("mislabelled") / "mislabelled.conll"
    lines = ["John B-PER", "lives O", "in O", "Paris B-PER", ". O", "", "Mary B-PER", "met O", "Li B-PER", ". O", "",
             "Acme B-ORG", "Corp I-ORG", "is O", "in O", "Berlin B-LOC", ". O", ""]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_suspicious_gold_ranks_a_wrong_label_first_and_exports_it(trained_tiny_dir, mislabelled, tmp_path,
                                                                   monkeypatch):
    from ner_demo.evaluation.suspicious import read_review_list

    _, run = _evaluate(trained_tiny_dir, upload=mislabelled)
    counter = Counting(MODELS.tagger(str(trained_tiny_dir)), monkeypatch)
    note, rows, path = vw.show_suspicious(run)
    assert counter.calls == 0  # the evaluation's own probabilities, from the cache
    assert rows[0][:6] == [1, rows[0][1], 1, "Paris", "PER", "LOC"] and "gold annotation" in note
    items = read_review_list(path)
    assert Path(path).name == "suspicious-gold.jsonl" and items[0]["span_text"] == "Paris" and items[0]["rank"] == 1
    caption, gold, pred, b = vw.suspicious_sentence(run, 1)
    assert caption.startswith("Suspicious #1, sentence 1: **Paris** is gold *PER*; suggested *LOC*")
    assert 'data-label="PER"' in gold and 'data-label="LOC"' in pred


def test_the_report_is_built_from_the_views_and_names_no_server_path(trained_tiny_dir, mislabelled):
    import json

    _, run = _evaluate(trained_tiny_dir, upload=mislabelled)
    note, paths = vw.build_report(run, 100, 0)
    html_path, json_path = map(Path, paths)
    assert (html_path.name, json_path.name) == ("evaluation-report.html", "evaluation-report.json")
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["evaluation"]["bootstrap"]["replicates"] == 100 and data["figures"]
    assert data["evaluation"]["suspicious"][0]["span_text"] == "Paris"
    assert "mislabelled.conll" in html_path.read_text(encoding="utf-8")
    assert str(mislabelled.parent) not in html_path.read_text(encoding="utf-8")


def test_a_runs_best_folder_that_links_to_a_shipped_model_is_refused(tmp_path, ship_from, trained_tiny_dir):
    shipped = tmp_path / "models" / "minilm-conll2003"
    shutil.copytree(trained_tiny_dir, shipped)
    ship_from(shipped)
    best = tmp_path / "runs" / "run-1" / "best"
    best.parent.mkdir(parents=True)
    best.symlink_to(shipped, target_is_directory=True)
    with pytest.raises(ConfigError, match=r"best \(a link to minilm-conll2003\) is a shipped model"):
        ec.save_target(str(best), tmp_path / "runs")

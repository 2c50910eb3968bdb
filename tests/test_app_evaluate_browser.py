"""The Evaluate tab's analysis views in a real browser (Debian's chromium driven by Playwright): evaluate a
tiny model on a tiny CoNLL-2003 stand-in, open the intervals, schemes, generalisation and calibration
views and see their figures, compare two models and click a disagreement, and see that a failed
evaluation clears the open view. One app launch and one page for the module; screenshots go to
``tests/artifacts/`` (git-ignored)."""

from __future__ import annotations

import re

import pytest
from app_harness import running_app, write_fake_conll2003
from browser_support import ARTIFACTS, browser, choose, step, sync_api  # noqa: F401  (browser: the fixture)

TIMEOUT_MS = 60_000



@pytest.fixture(scope="module")
def app_url(tmp_path_factory, trained_tiny_dir):
    root = tmp_path_factory.mktemp("eval_browser")
    write_fake_conll2003(root / "home")
    with running_app(root, str(trained_tiny_dir), root / "home") as url:
        yield url


@pytest.fixture(scope="module")
def page(browser, app_url):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(app_url)
    page.get_by_role("tab", name="Evaluate").click()
    page.locator("#eval-button").click()
    page.locator("#eval-cards").get_by_text("95% CI [").wait_for()
    yield page
    page.close()


def _view(page, name: str) -> None:
    page.locator("#eval-views").get_by_role("tab", name=name, exact=True).click()


def _plot(page, elem_id: str):
    return page.locator(f"#{elem_id} .js-plotly-plot")


def test_the_intervals_view_draws_f1_with_its_interval(page):
    with step(page, "eval-intervals", keep=True):
        _view(page, "Intervals")
        page.locator("#interval-note").get_by_text("95% interval [").wait_for()
        _plot(page, "interval-plot").locator("g.trace.bars").wait_for()
        assert "1,000 resamples" in page.locator("#interval-note").inner_text()
        page.locator("#interval-table").get_by_text("micro avg").filter(visible=True).first.wait_for()


def test_the_schemes_view_scores_every_scheme_and_lists_why_they_differ(page):
    with step(page, "eval-schemes", keep=True):
        _view(page, "Schemes")
        _plot(page, "schemes-plot").locator("g.trace.bars").nth(2).wait_for()
        page.locator("#schemes-table").get_by_text("semeval partial").filter(visible=True).first.wait_for()
        page.locator("#pair-note").get_by_text(re.compile("count (every entity alike|differently)")).wait_for()


def test_the_generalisation_view_draws_seen_and_unseen(page):
    with step(page, "eval-generalisation", keep=True):
        _view(page, "Generalisation")
        page.locator("#overlap-note").get_by_text("Train-test overlap").wait_for()
        _plot(page, "bucket-plot").locator("g.trace.bars").first.wait_for()
        page.locator("#bucket-table").get_by_text("unseen").filter(visible=True).first.wait_for()


def test_the_calibration_view_fits_on_dev_and_draws_its_diagrams(page):
    with step(page, "eval-calibration", keep=True):
        _view(page, "Calibration")
        page.locator("#fit-button").click()
        page.locator("#calibration-note").get_by_text("Temperature").wait_for()
        _plot(page, "reliability-plot").locator("g.trace.scatter").nth(1).wait_for(state="attached")
        _plot(page, "threshold-plot").locator("g.trace.scatter").first.wait_for(state="attached")
        page.locator("#save-note").get_by_text("not a training run's best model").wait_for()
        page.locator("#effect-caption").get_by_text("re-scored from the cached predictions").wait_for()


def test_compare_two_models_and_click_a_disagreement(page, tiny_model_dir):
    with step(page, "eval-compare", keep=True):
        _view(page, "Compare")
        picker = page.get_by_role("combobox", name="Model (B)")
        picker.fill(str(tiny_model_dir))
        picker.press("Enter")
        page.locator("#compare-button").click()
        page.locator("#compare-caption").get_by_text("p = ").wait_for()
        _plot(page, "compare-plot").locator("g.trace.bars").first.wait_for()
        page.locator("#disagreement-note").get_by_text("sentences differ").wait_for()
        page.locator("#disagreement-table").get_by_test_id("cell-0-2").click()
        page.locator("#sentence-caption").get_by_text("Disagreement #1 of").wait_for()
        page.locator("#sentence-gold mark").first.wait_for()


def test_a_suspicious_gold_label_is_listed_and_one_click_shows_its_sentence(page, tmp_path):
    mislabelled = tmp_path / "mislabelled.conll"
    mislabelled.write_text("John B-PER\nlives O\nin O\nParis B-PER\n. O\n\nMary B-PER\nmet O\nLi B-PER\n. O\n",
                           encoding="utf-8")
    with step(page, "eval-suspicious", keep=True):
        _view(page, "Suspicious gold")
        page.locator("#eval-upload input[type=file]").set_input_files(str(mislabelled))
        page.locator("#eval-upload").get_by_text("mislabelled.conll").wait_for()
        choose(page, page.get_by_role("combobox", name="Data", exact=True), "an uploaded CoNLL file")
        page.locator("#eval-button").click()
        page.locator("#eval-cards").get_by_text("on mislabelled.conll").wait_for()
        page.locator("#suspicious-note").get_by_text("ranked by how probably").wait_for()  # the open view, redrawn
        page.locator("#suspicious-file").get_by_role("cell", name="suspicious-gold.jsonl").wait_for()
        page.locator("#suspicious-table").get_by_test_id("cell-0-3").click()
        page.locator("#sentence-caption").get_by_text("Suspicious #1, sentence 1:").wait_for()
        page.locator("#sentence-gold mark").first.wait_for()


def test_the_report_tab_offers_the_html_report_and_its_json(page):
    with step(page, "eval-report", keep=True):
        _view(page, "Report")
        page.locator("#report-button").click()
        files = page.locator("#report-files")
        files.get_by_role("cell", name="evaluation-report.html").wait_for()
        files.get_by_role("cell", name="evaluation-report.json").wait_for()


def test_a_failed_evaluation_clears_the_open_view(page):
    with step(page, "eval-failed", keep=True):
        _view(page, "Intervals")
        _plot(page, "interval-plot").wait_for()
        model = page.get_by_role("combobox", name="Model (A)")
        model.fill("no/such-model-here")
        model.press("Enter")
        page.locator("#eval-button").click()
        page.locator("#eval-cards").get_by_text("Failed: see the error message").wait_for()
        sync_api.expect(_plot(page, "interval-plot")).to_have_count(0)
        sync_api.expect(page.locator("#sentence-gold mark")).to_have_count(0)
        sync_api.expect(page.locator("#compare-caption")).to_contain_text("Pick model B")

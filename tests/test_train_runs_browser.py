"""The Train tab's runs table in a real browser: filter it, select a run by its row, rename it, and delete
it through the confirmation step (the app as in tests/test_app_browser.py; runs made on disk, no training)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from app_harness import running_app
from browser_support import browser, sync_api  # noqa: F401  (browser: the fixture)

from ner_demo.training import manage
from ner_demo.training.config import TrainConfig
from ner_demo.training.runs import Run, list_runs

ARTIFACTS = Path(__file__).parent / "artifacts"
TIMEOUT_MS = 60_000  # a safety net on busy cores; every wait is for a state of the page


def _run(runs_dir: Path, name: str, state: str, f1: float | None) -> Run:
    run = Run.create(TrainConfig(name=name, backbone="offline-minilm"), runs_dir)
    run.write_status(state=state, best={"strict_f1": f1} if f1 is not None else None, step=10, total_steps=10)
    return run


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs_browser")
    made = {"old": _run(root / "runs", "old", "finished", 0.41),
            "broken": _run(root / "runs", "broken", "failed", None),
            "best": _run(root / "runs", "best", "finished", 0.83)}
    manage.rename_run(made["old"].id, "Zeta baseline", root / "runs")
    manage.tag_run(made["best"].id, "keep", root / "runs")
    return root, made


@pytest.fixture(scope="module")
def page(browser, runs, trained_tiny_dir):
    root, _ = runs
    ARTIFACTS.mkdir(exist_ok=True)
    with running_app(root, str(trained_tiny_dir), None) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url)
        page.get_by_role("tab", name="Train").click()
        yield page
        page.screenshot(path=str(ARTIFACTS / "train-runs.png"), full_page=True)
        page.close()


def _table(page):
    return page.locator("#runs-table")


def _cell(page, text: str):
    return _table(page).get_by_text(text, exact=True).filter(visible=True)


def test_the_table_lists_every_run_and_the_filter_narrows_it(page, runs):
    _, made = runs
    for run in made.values():
        _cell(page, run.id).first.wait_for()
    page.locator("#runs-filter").get_by_role("textbox").fill("zeta")
    sync_api.expect(_cell(page, made["best"].id)).to_have_count(0, timeout=TIMEOUT_MS)
    sync_api.expect(_cell(page, made["broken"].id)).to_have_count(0, timeout=TIMEOUT_MS)
    _cell(page, made["old"].id).first.wait_for()
    page.locator("#runs-filter").get_by_role("textbox").fill("")
    _cell(page, made["best"].id).first.wait_for()


def test_a_clicked_row_is_selected_and_can_be_renamed(page, runs):
    root, made = runs
    _cell(page, made["best"].id).first.click()
    name = page.locator("#runs-name").get_by_role("textbox")
    tags = page.locator("#runs-tags").get_by_role("textbox")
    sync_api.expect(tags).to_have_value("keep", timeout=TIMEOUT_MS)  # the selected run's own tags, filled in
    name.fill("CoNLL champion")
    page.locator("#runs-rename").click()
    page.locator("#runs-message").get_by_text(f"Run {made['best'].id} is now called “CoNLL champion”.").wait_for()
    _cell(page, "CoNLL champion").first.wait_for()
    assert json.loads(made["best"].meta_path.read_text()) == {"name": "CoNLL champion", "tags": ["keep"]}


def test_delete_asks_first_and_keep_it_keeps_the_run(page, runs):
    root, made = runs
    _cell(page, made["broken"].id).first.click()
    # selected: its (empty) name and tags replace the renamed run's, and nothing is being asked yet
    sync_api.expect(page.locator("#runs-name").get_by_role("textbox")).to_have_value("", timeout=TIMEOUT_MS)
    sync_api.expect(page.locator("#runs-tags").get_by_role("textbox")).to_have_value("", timeout=TIMEOUT_MS)
    page.locator("#runs-delete").click()
    question = page.locator("#runs-confirm-text")
    question.get_by_text(re.compile(rf"Delete run {re.escape(made['broken'].id)}\?")).wait_for()
    page.locator("#runs-keep").click()
    sync_api.expect(page.locator("#runs-confirm-delete")).to_be_hidden(timeout=TIMEOUT_MS)
    assert made["broken"].config_path.is_file()
    _cell(page, made["broken"].id).first.wait_for()


def test_selecting_another_run_withdraws_the_question(page, runs):
    root, made = runs
    page.locator("#runs-delete").click()  # the broken run is still selected
    page.locator("#runs-confirm-text").get_by_text(re.compile(rf"Delete run {re.escape(made['broken'].id)}")).wait_for()
    _cell(page, made["old"].id).first.click()
    sync_api.expect(page.locator("#runs-confirm-delete")).to_be_hidden(timeout=TIMEOUT_MS)
    sync_api.expect(page.locator("#runs-name").get_by_role("textbox")).to_have_value("Zeta baseline", timeout=TIMEOUT_MS)
    assert made["broken"].config_path.is_file()


def test_delete_after_confirming_removes_the_run_from_the_table_and_the_disk(page, runs):
    root, made = runs
    _cell(page, made["broken"].id).first.click()
    sync_api.expect(page.locator("#runs-name").get_by_role("textbox")).to_have_value("", timeout=TIMEOUT_MS)
    page.locator("#runs-delete").click()
    page.locator("#runs-confirm-text").get_by_text(re.compile(rf"Delete run {re.escape(made['broken'].id)}")).wait_for()
    page.locator("#runs-confirm-delete").click()
    page.locator("#runs-message").get_by_text(f"Deleted run {made['broken'].id}.").wait_for()
    sync_api.expect(_cell(page, made["broken"].id)).to_have_count(0, timeout=TIMEOUT_MS)
    assert not made["broken"].path.exists()
    assert {r.run_id for r in list_runs(root / "runs")} == {made["old"].id, made["best"].id}
    page.locator("#train-progress").get_by_text("No run selected").wait_for()  # not the deleted run's progress

"""The Train tab's queue and learning curve in a real browser (chromium driven by Playwright).

A second Start while a run trains is queued and shown in the Queue table, and can be cancelled there;
a learning curve of 4 points is one click, and its plot appears. The runs are real tiny trainings
(a random 2-layer model on the fake CoNLL-2003 of tests/app_harness.py).
"""

from __future__ import annotations

import re

import pytest
from app_harness import running_app, write_fake_conll2003
from browser_support import ARTIFACTS, browser, step, sync_api  # noqa: F401  (browser: the fixture)

TIMEOUT_MS = 60_000
CURVE_TIMEOUT_MS = 300_000  # four real runs, one after the other, on 2 busy cores: a safety net only


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, tiny_model_dir):
    root = tmp_path_factory.mktemp("queue_browser")
    write_fake_conll2003(root / "home")
    with running_app(root, str(tiny_model_dir), root / "home") as url:
        yield url


@pytest.fixture(scope="module")
def page(browser, app_url):  # noqa: F811  (browser: browser_support's fixture)
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(app_url)
    page.get_by_role("tab", name="Train").click()
    page.locator("#start-button").wait_for()
    yield page
    page.close()


def _fill_form(page, backbone: str, name: str, max_steps: str, limit: str = "0", epochs: str = "1") -> None:
    field = page.locator("#train-backbone input")
    field.fill(backbone)
    field.press("Enter")
    page.locator("#train-name textarea").fill(name)
    page.locator("#train-learning-rate input").fill("0.003")
    page.locator("#train-batch-size input").fill("8")
    page.locator("#train-epochs input").fill(epochs)
    page.locator("#train-max-steps input").fill(max_steps)
    page.locator("#train-max-length input").fill("64")
    page.locator("#train-limit-train-sentences input").fill(limit)
    page.locator("#train-context-words input").fill("0")  # the shipped recipe's 64 words: slower, not needed here
    page.locator("#train-casing input").uncheck()  # the recipe's casing bit needs 2 token types; this is a DistilBERT


def _pick(page, dropdown: str, option: str) -> None:
    page.locator(f"{dropdown} input").click()
    page.get_by_role("option", name=re.compile(re.escape(option))).click()


def test_a_second_start_is_queued_shown_and_can_be_cancelled(page, tiny_model_dir):
    with step(page, "queue"):
        _fill_form(page, str(tiny_model_dir), "first", "5000")
        page.locator("#start-button").click()
        progress = page.locator("#train-progress")
        progress.get_by_text(re.compile(r"-first · running")).wait_for()
        first = progress.locator("b").first.inner_text()
        _fill_form(page, str(tiny_model_dir), "second", "5")
        page.locator("#start-button").click()
        sync_api.expect(page.locator("#train-run input")).to_have_value(re.compile(r"-second$"))  # now watched
        second = page.locator("#train-run input").input_value()
        progress.get_by_text(f"{second} · queued").wait_for()
        progress.get_by_text(f"waiting in the queue: position 1 of 1; it starts when run {first} ends").wait_for()
        queue = page.locator("#train-queue")
        sync_api.expect(queue).to_contain_text(second)
        sync_api.expect(queue).to_contain_text(re.compile(r"\bsecond\b"))  # the name column
        page.screenshot(path=str(ARTIFACTS / "train-queue.png"), full_page=True)
        sync_api.expect(page.locator("#train-queue-pick input")).to_have_value(second)  # the next one, preselected
        page.locator("#train-queue-cancel").click()
        page.locator("#train-queue-note").get_by_text(f"Run {second} was taken out of the queue").wait_for()
        sync_api.expect(queue).not_to_contain_text(second)
        # The first run trains on: pick it and cancel it, so that the next test's runs start at once.
        _pick(page, "#train-run", first)
        progress.get_by_text(re.compile(rf"{re.escape(first)} · running")).wait_for()
        page.get_by_role("button", name="Cancel", exact=True).click()
        progress.get_by_text(re.compile(rf"{re.escape(first)} · cancelled")).wait_for()


def test_a_learning_curve_is_one_click_and_its_plot_appears(page, tiny_model_dir):
    with step(page, "curve"):
        _fill_form(page, str(tiny_model_dir), "lc", "0", limit="40", epochs="2")  # 40 sentences: the 100 % point
        page.get_by_text("Learning curve: will more data help?").click()
        page.locator("#curve-start").click()
        note = page.locator("#curve-note")
        note.get_by_text(re.compile(r"-lc · (queued|running) · 0 of 4 runs finished")).wait_for()
        curve_id = note.locator("strong").inner_text()
        sync_api.expect(page.locator("#curve-pick input")).to_have_value(curve_id)
        points = page.locator("#curve-points")
        for size in ("10", "20", "30", "40"):
            sync_api.expect(points).to_contain_text(re.compile(rf"\b{size}\b"))
        note.get_by_text("finished · 4 of 4 runs finished").wait_for(timeout=CURVE_TIMEOUT_MS)
        plot = page.locator("#curve-plot .js-plotly-plot")
        plot.locator("g.trace.scatter").nth(1).wait_for()  # micro F1 and at least one entity type
        assert plot.locator("g.trace.scatter").first.locator("path.point").count() == 4  # one point per share
        assert "micro F1" in plot.inner_text()
        page.screenshot(path=str(ARTIFACTS / "train-curve.png"), full_page=True)

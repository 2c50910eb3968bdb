"""The Evaluate tab's views when events answer out of order, in a real browser: a view the user opens
while the refresh that follows an evaluation is still running stays drawn when that refresh answers.

On a busy machine the refresh (started when the evaluation succeeds, with the view then open) can answer
after the view the user opened meanwhile. It used to clear every view but the one open when it started,
and so blanked the one just drawn. Here the refresh is held, by the test, until the opened view is on
screen: the order a loaded machine produces by chance, made certain.
"""

from __future__ import annotations

import threading

import pytest
from app_harness import running_app, write_fake_conll2003
from browser_support import browser, step, sync_api  # noqa: F401  (browser: the fixture)

from ner_demo.app import evaluate_views as vw

TIMEOUT_MS = 60_000
MARK = "the held refresh answered"


class HeldRefresh:
    """``vw.refresh`` that says when it has started, waits for ``release`` and then marks the sentence
    caption (its output) so the page shows when its answer has been applied."""

    def __init__(self, real):
        self.real = real
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, *args):
        self.started.set()
        self.release.wait(timeout=120)  # a safety net only: the test releases it as soon as it has checked
        out = list(self.real(*args))
        out[-4] = MARK
        return out


@pytest.fixture
def held(monkeypatch):
    hold = HeldRefresh(vw.refresh)
    monkeypatch.setattr(vw, "refresh", hold)  # before the app is built: its event calls this one
    return hold


@pytest.fixture
def page(browser, held, tmp_path, trained_tiny_dir):
    write_fake_conll2003(tmp_path / "home")
    with running_app(tmp_path, str(trained_tiny_dir), tmp_path / "home") as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url)
        yield page
        held.release.set()
        page.close()


def test_a_view_opened_while_the_refresh_runs_stays_drawn_when_it_answers(page, held):
    with step(page, "eval-race"):
        page.get_by_role("tab", name="Evaluate").click()
        page.locator("#eval-button").click()
        page.locator("#eval-cards").get_by_text("95% CI [").wait_for()
        assert held.started.wait(timeout=TIMEOUT_MS / 1000)  # it read the open view: "Scores and errors"
        page.locator("#eval-views").get_by_role("tab", name="Intervals", exact=True).click()
        page.locator("#interval-note").get_by_text("95% interval [").wait_for()
        held.release.set()
        page.locator("#sentence-caption").get_by_text(MARK).wait_for()
        sync_api.expect(page.locator("#interval-note")).to_contain_text("95% interval [")
        sync_api.expect(page.locator("#interval-plot .js-plotly-plot g.trace.bars").first).to_be_attached()

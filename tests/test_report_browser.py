"""The HTML evaluation report in a real browser: opened from a file:// URL, every chart drawn, no errors."""

from __future__ import annotations

import pytest
from browser_support import browser  # noqa: F401  (the fixture)
from test_report import evaluation

from ner_demo.report import write_report

DRAWN = "[...document.querySelectorAll('.js-plotly-plot')].filter(d => d.querySelector('svg.main-svg')).length"


@pytest.fixture(scope="module")
def opened(browser, tmp_path_factory):  # noqa: F811  (the fixture)
    folder = tmp_path_factory.mktemp("report")
    data = write_report(evaluation(), folder / "report.html", folder / "report.json")
    page = browser.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto((folder / "report.html").as_uri())
    # Wait for the state, not for a time: every chart the JSON lists has its svg.
    page.wait_for_function(f"({DRAWN}) >= {len(data['figures'])}", timeout=60_000)
    yield page, data, errors, requests
    page.close()


def test_every_chart_the_json_lists_is_drawn(opened):
    page, data, _, _ = opened
    assert page.evaluate(DRAWN) == len(data["figures"]) == 12


def test_the_report_logs_no_console_error(opened):
    _, _, errors, _ = opened
    assert errors == []


def test_the_report_requests_nothing_but_its_own_file(opened):
    _, _, _, requests = opened
    assert [u for u in requests if not u.startswith("file://")] == []

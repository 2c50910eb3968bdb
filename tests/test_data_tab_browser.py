"""The Data tab and the login page in a real browser (Debian's chromium driven by Playwright).

What a person sees: sentence numbers that the box and the caption count alike; a failed load that
clears the previous dataset's numbers, charts and sentence instead of leaving them under the error;
and a login page that still signs in although it no longer carries the app's API description.
"""

from __future__ import annotations

import re

import pytest
from browser_support import browser  # noqa: F401  (the fixture)
from app_harness import running_app, write_fake_conll2003

TIMEOUT_MS = 60_000


@pytest.fixture()
def page(browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    page.close()


def test_a_failed_load_clears_the_previous_dataset(page, tmp_path, trained_tiny_dir):
    write_fake_conll2003(tmp_path / "home")
    bad = tmp_path / "broken.conll"
    bad.write_text("John B-PER\nParis LOCATION\n", encoding="utf-8")
    with running_app(tmp_path, str(trained_tiny_dir), tmp_path / "home") as url:
        page.goto(url)
        page.get_by_role("tab", name="Data").click()
        page.locator("#data-load").click()
        page.locator("#data-stats").get_by_text("sentences").wait_for()
        page.locator("#data-sentence mark.ner-ent").first.wait_for()
        page.get_by_text(re.compile(r"^Sentence 1 of 120")).wait_for()
        page.locator("#data-sentence-lengths .js-plotly-plot").wait_for()
        page.locator("#data-entity-lengths .js-plotly-plot g.trace.bars").first.wait_for()

        page.get_by_label("an uploaded CoNLL file").check()
        page.locator("#data-tab-upload input[type=file]").set_input_files(str(bad))
        page.locator("#data-tab-upload").get_by_text("broken.conll").wait_for()
        page.locator("#data-load").click()
        page.get_by_text(re.compile(r"broken\.conll, line 2: 'Paris LOCATION'")).first.wait_for()
        page.get_by_text("Nothing loaded: see the error message, then Load again.").wait_for()
        assert page.locator("#data-stats").get_by_text("sentences").count() == 0
        assert page.locator("#data-sentence mark.ner-ent").count() == 0
        assert page.locator("#data-distribution .js-plotly-plot").count() == 0


def test_the_login_page_signs_in_without_the_api_description(page, tmp_path, trained_tiny_dir):
    with running_app(tmp_path, str(trained_tiny_dir), None, auth=("ana", "s3cret")) as url:
        page.goto(url)
        page.get_by_label("username").fill("ana")
        page.get_by_label("password").fill("s3cret")
        page.get_by_role("button", name="Login").click()
        page.locator("#tag-button").wait_for()

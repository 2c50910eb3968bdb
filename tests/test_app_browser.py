"""The app in a real browser: Debian's chromium driven by Playwright, one app launch for the module.

Screenshots of every step go to ``tests/artifacts/`` (git-ignored) and stay there, failed or not; a
failing step also leaves ``FAILED-<step>.png``. With ``NER_DEMO_SCREENSHOTS=1`` the tests also write
the README's screenshots to ``docs/screenshots/``, on the shipped model and the real CoNLL-2003 when
both are present (tiny stand-ins otherwise), training a short run of the offline encoder.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from pathlib import Path

import pytest
from app_harness import TAG_SENTENCE, running_app, write_fake_conll2003

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
README_SHOTS = os.environ.get("NER_DEMO_SCREENSHOTS") == "1"
TIMEOUT_MS = 180_000 if README_SHOTS else 60_000

if not Path(CHROMIUM).exists() and os.environ.get("CI") != "true":
    pytest.skip(f"{CHROMIUM} is missing: `bash run.sh test` installs it (apt-get install chromium)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -r requirements-dev.txt (playwright)")


def _real_assets() -> bool:
    """Whether the shipped model and the real CoNLL-2003 are both here (for the README's screenshots)."""
    from ner_demo.app_support.datasets import conll2003_present
    from ner_demo.models import SHIPPED_MODEL

    return (SHIPPED_MODEL / "config.json").is_file() and conll2003_present()


REAL = README_SHOTS and _real_assets()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, trained_tiny_dir):
    root = tmp_path_factory.mktemp("app_browser")
    if REAL:
        with running_app(root, None, None) as url:
            yield url
        return
    write_fake_conll2003(root / "home")
    with running_app(root, str(trained_tiny_dir), root / "home") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser, app_url):
    """One page for the module: the tests follow a user from tab to tab."""
    ARTIFACTS.mkdir(exist_ok=True)
    for stale in ARTIFACTS.glob("FAILED-*.png"):  # from an earlier session; this one's stay
        stale.unlink()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(app_url)
    page.locator("#tag-button").wait_for()
    yield page
    page.close()


def shot(page, name: str, readme: str | None = None) -> None:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if README_SHOTS and readme:
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS / f"{readme}.png")


@contextlib.contextmanager
def step(page, name: str):
    """Keep a screenshot of the page as it was when a step failed."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            page.screenshot(path=str(ARTIFACTS / f"FAILED-{name}.png"), full_page=True)
        raise


def _background(locator) -> str:
    return locator.evaluate("el => getComputedStyle(el).backgroundColor")


def test_tag_highlights_people_and_places(page):
    with step(page, "tag"):
        page.get_by_role("tab", name="Tag").click()
        page.locator("#tag-text textarea").fill(TAG_SENTENCE)
        page.locator("#tag-button").click()
        highlights = page.locator("#tag-highlights")
        john = highlights.locator(".token.highlighted", has_text=re.compile(r"^\s*John\s*$"))
        paris = highlights.locator(".token.highlighted", has_text=re.compile(r"^\s*Paris\s*$"))
        john.wait_for()
        paris.wait_for()
        legend = highlights.locator(".legend-item")
        assert {"PER", "LOC"} <= set(legend.all_inner_texts())
        # A highlight's colour is its type's legend colour.
        assert _background(john) == _background(legend.filter(has_text="PER"))
        assert _background(paris) == _background(legend.filter(has_text="LOC"))
        page.locator("#tag-latency").get_by_text("ms").wait_for()
        shot(page, "tag", readme="tag")


def test_evaluate_shows_the_per_type_chart(page):
    with step(page, "evaluate"):
        page.get_by_role("tab", name="Evaluate").click()
        page.locator("#eval-button").click()
        page.locator("#eval-cards").get_by_text("Strict IOB2 F1").wait_for()
        chart = page.locator("#per-type-plot .js-plotly-plot")
        chart.locator("g.trace.bars").nth(2).wait_for()  # precision, recall and F1 bars
        assert {"Precision", "Recall", "F1"} <= set(chart.locator("g.legend text.legendtext").all_text_contents())
        assert chart.locator("g.xtick text").filter(has_text="PER").count() == 1
        page.locator("#confusion-plot .js-plotly-plot").wait_for()
        shot(page, "evaluate", readme="evaluate")


def test_train_a_tiny_run_and_watch_it(page, tiny_model_dir):
    real = REAL
    with step(page, "train"):
        page.get_by_role("tab", name="Train").click()
        page.locator("#hub-warning").get_by_text("cannot reach the Hub").wait_for()  # the default backbone, offline
        backbone = page.locator("#train-backbone input")
        backbone.fill("offline-minilm" if real else str(tiny_model_dir))
        backbone.press("Enter")
        page.get_by_label("Learning rate").fill("0.0001" if real else "0.003")
        page.get_by_label("Batch size").fill("8")
        steps = "150" if real else "45"  # tiny: 3 epochs of 15 steps, so three dev F1 points
        page.get_by_label("Max steps (0: epochs decide)").fill(steps)
        page.get_by_label("Max length (subwords)").fill("64")
        page.get_by_label("Train sentences (0: all)").fill("400" if real else "0")
        page.locator("#start-button").click()
        progress = page.locator("#train-progress")
        progress.get_by_text(re.compile(rf"step \d+/{steps}")).wait_for()
        shot(page, "train-progress")
        progress.get_by_text("finished").wait_for(timeout=TIMEOUT_MS * 3 if real else TIMEOUT_MS)
        assert progress.locator("[role=progressbar]").get_attribute("aria-valuenow") == "100"
        curves = page.locator("#train-curves .js-plotly-plot")
        curves.locator("g.trace.scatter").nth(2).wait_for()  # loss, strict F1, conlleval F1
        shot(page, "train", readme="train")
        run_id = page.locator("#train-progress b").first.inner_text()
        # The finished run is offered in the Tag tab's model picker, without a restart.
        page.get_by_role("tab", name="Tag").click()
        page.locator("#tag-model input").click()
        page.get_by_role("option", name=re.compile(re.escape(run_id))).wait_for()
        page.keyboard.press("Escape")


def test_data_tab_shows_statistics_and_sentences(page):
    with step(page, "data"):
        page.get_by_role("tab", name="Data").click()
        page.locator("#data-load").click()
        page.locator("#data-distribution .js-plotly-plot g.trace.bars").first.wait_for()
        page.locator("#data-stats").get_by_text("sentences").wait_for()
        page.locator("#data-sentence .token.highlighted").first.wait_for()
        shot(page, "data", readme="data")

"""The app in a real browser: Debian's chromium driven by Playwright, one app launch for the module.

Screenshots of every step go to ``tests/artifacts/`` (git-ignored) and stay there, failed or not; a
failing step also leaves ``FAILED-<step>.png``. With ``NER_DEMO_SCREENSHOTS=1`` the tests also write
the README's screenshots to ``docs/screenshots/``, on the shipped model and the real CoNLL-2003 when
both are present (tiny stand-ins otherwise), training a short run of the offline encoder.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from browser_support import ARTIFACTS, browser, choose, step, sync_api  # noqa: F401  (browser: the fixture)
from app_harness import TAG_SENTENCE, running_app, write_fake_conll2003

DOCS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
README_SHOTS = os.environ.get("NER_DEMO_SCREENSHOTS") == "1"
TIMEOUT_MS = 180_000 if README_SHOTS else 60_000



def _real_assets() -> bool:
    """Whether the shipped model and the real CoNLL-2003 are both here (for the README's screenshots)."""
    from ner_demo.app.data_format import conll2003_present
    from ner_demo.errors import ModelLoadError
    from ner_demo.models import shipped_model_dir

    try:
        shipped_model_dir()
    except ModelLoadError:
        return False
    return conll2003_present()


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


def _background(locator) -> str:
    return locator.evaluate("el => getComputedStyle(el).backgroundColor")


PER_COLOUR, LOC_COLOUR = "rgb(86, 180, 233)", "rgb(0, 158, 115)"  # #56B4E9, #009E73 (tagging.color_map)
DEV_TINY = Path(__file__).parent / "data" / "dev_tiny.conll"


def _tag(page, text: str, fails: bool = False) -> None:
    """Tag ``text`` and wait for its own answer: the latency line's word count (consecutive calls use
    texts of different lengths), or the failure note."""
    page.get_by_role("tab", name="Tag").click()
    page.locator("#tag-text textarea").fill(text)
    page.locator("#tag-button").click()
    done = "Failed: see the error message" if fails else re.compile(rf"\bin {len(text.split())} words")
    page.locator("#tag-latency").get_by_text(done).wait_for()


def _entity(page, word: str):
    return page.locator("#tag-highlights mark.ner-ent", has_text=re.compile(rf"^\s*{re.escape(word)}\s*[A-Z]+\s*$"))


def test_tag_labels_each_span_and_shows_its_score_on_hover(page):
    with step(page, "tag"):
        _tag(page, TAG_SENTENCE)
        john, paris = _entity(page, "John"), _entity(page, "Paris")
        john.wait_for()
        paris.wait_for()
        assert john.locator(".ner-label").inner_text() == "PER"
        assert paris.locator(".ner-label").inner_text() == "LOC"
        assert re.fullmatch(r"PER 0\.\d\d|PER 1\.00", john.get_attribute("title"))
        assert _background(john) == PER_COLOUR and _background(paris) == LOC_COLOUR
        # The text reads as typed, on one line: no block per entity.
        block = page.locator("#tag-highlights .ner-highlights")
        displays = block.evaluate("el => [...el.querySelectorAll('mark')].map(m => getComputedStyle(m).display)")
        assert set(displays) == {"inline"}, displays
        page.locator("#tag-latency").get_by_text("ms").wait_for()
        shot(page, "tag", readme="tag")


def test_a_failed_tag_clears_the_previous_results(page):
    with step(page, "tag-error"):
        _tag(page, f"{TAG_SENTENCE} {TAG_SENTENCE}")
        table_paris = page.locator("#entity-table").get_by_text("Paris", exact=True).filter(visible=True)
        table_paris.first.wait_for()
        _entity(page, "John").first.wait_for()
        _tag(page, "   ", fails=True)
        page.get_by_text("no text to tag").first.wait_for()  # the error toast names the problem
        sync_api.expect(page.locator("#tag-highlights mark")).to_have_count(0)
        sync_api.expect(table_paris).to_have_count(0)
        shot(page, "tag-error")


def test_a_long_text_stays_in_a_bounded_box(page):
    with step(page, "tag-long"):
        long_text = " ".join([TAG_SENTENCE] * 850)  # ~21,000 characters
        _tag(page, long_text)
        block = page.locator("#tag-highlights .ner-highlights")
        block.locator("mark").nth(100).wait_for(state="attached")
        box = block.bounding_box()
        assert box["height"] < 600, box
        assert block.evaluate("el => el.scrollHeight > 5 * el.clientHeight")  # the rest scrolls inside
        shot(page, "tag-long")


def test_decoding_is_cleared_when_a_new_text_is_tagged(page):
    with step(page, "decoding"):
        _tag(page, TAG_SENTENCE)
        page.get_by_text("Decoding: subword tokens").click()
        page.locator("#decode-button").click()
        page.locator("#decode-summary").get_by_text("words →").wait_for()
        old_subword = page.locator("#decode-table").get_by_text(re.compile("paris", re.I)).filter(visible=True)
        old_subword.first.wait_for()
        _tag(page, "Mary met John .")
        page.locator("#decode-summary").get_by_text("Press Show decoding").wait_for()
        sync_api.expect(old_subword).to_have_count(0)
        page.get_by_text("Decoding: subword tokens").click()  # closed again for the next steps


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


def test_evaluate_an_upload_numbers_errors_from_one_and_draws_sentences_inline(page):
    with step(page, "evaluate-upload"):
        page.get_by_role("tab", name="Evaluate").click()
        page.locator("#eval-upload input[type=file]").set_input_files(str(DEV_TINY))
        page.locator("#eval-upload").get_by_text("dev_tiny.conll").wait_for()
        choose(page, page.get_by_role("combobox", name="Data", exact=True), "an uploaded CoNLL file")
        page.locator("#eval-button").click()
        page.locator("#eval-cards").get_by_text("on dev_tiny.conll").wait_for()
        caption = page.locator("#error-caption")
        caption.get_by_text(re.compile(r"Error #1 of \d+|No errors")).wait_for()
        if "No errors" not in caption.inner_text():
            sync_api.expect(page.locator("#error-index input")).to_have_value("1")
            gold = page.locator("#error-gold .ner-highlights")
            gold.locator("mark").first.wait_for()
            # One flowing line: every span sits on the first line's top, and the block is one line high.
            tops = gold.evaluate("el => [...el.querySelectorAll('mark')].map(m => m.getClientRects().length)")
            assert set(tops) == {1}, tops  # no span is broken across lines
            assert gold.evaluate("el => el.getClientRects().length") == 1
        shot(page, "evaluate-upload")


def test_a_failed_evaluation_clears_the_previous_results(page):
    with step(page, "evaluate-error"):
        page.get_by_role("tab", name="Evaluate").click()
        if not page.locator("#eval-cards").get_by_text("Strict IOB2 F1").count():
            page.locator("#eval-button").click()
            page.locator("#eval-cards").get_by_text("Strict IOB2 F1").wait_for()
        page.get_by_role("combobox", name="Model (A)").fill("no/such-model-here")
        page.get_by_role("combobox", name="Model (A)").press("Enter")
        page.locator("#eval-button").click()
        page.locator("#eval-cards").get_by_text("Failed: see the error message").wait_for()
        sync_api.expect(page.locator("#eval-cards").get_by_text("Strict IOB2 F1")).to_have_count(0)
        sync_api.expect(page.locator("#per-type-plot .js-plotly-plot")).to_have_count(0)
        sync_api.expect(page.locator("#error-gold mark")).to_have_count(0)
        shot(page, "evaluate-error")


def test_train_a_tiny_run_and_watch_it(page, tiny_model_dir):
    real = REAL
    with step(page, "train"):
        page.get_by_role("tab", name="Train").click()
        # offline (HF_HUB_OFFLINE in the harness), the form starts from the shipped recipe and says why
        page.locator("#train-recipe-note").get_by_text("The Hugging Face Hub does not answer").wait_for()
        sync_api.expect(page.locator("#train-backbone input")).to_have_value("offline-minilm")
        sync_api.expect(page.locator("#hub-warning")).to_be_hidden()
        backbone = page.locator("#train-backbone input")
        backbone.fill("offline-minilm" if real else str(tiny_model_dir))
        backbone.press("Enter")
        page.locator("#train-learning-rate input").fill("0.0001" if real else "0.003")  # one input per TrainConfig field
        page.locator("#train-batch-size input").fill("8")
        steps = "150" if real else "45"  # tiny: 3 epochs of 15 steps, so three dev F1 points
        page.locator("#train-max-steps input").fill(steps)
        page.locator("#train-max-length input").fill("64")
        page.locator("#train-limit-train-sentences input").fill("400" if real else "0")  # 0: every sentence
        if not real:  # the recipe's casing bit needs 2 token types; the tiny stand-in is a DistilBERT
            page.locator("#train-casing input").uncheck()
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


def test_picking_a_recipe_fills_the_train_form(page):
    with step(page, "train-recipe"):
        page.get_by_role("tab", name="Train").click()
        recipe = page.get_by_role("combobox", name="Recipe")
        recipe.click()
        page.get_by_role("option", name=re.compile(r"^fast-model \(v1\)")).click()
        sync_api.expect(page.locator("#train-encoder-layers textarea, #train-encoder-layers input")).to_have_value("0,2,4")
        page.locator("#train-recipe-note").get_by_text("Recipe fast-model (version 1)").wait_for()
        shot(page, "train-recipe")
        recipe.click()
        page.get_by_role("option", name=re.compile(r"^default-model \(v1\)")).click()
        sync_api.expect(page.locator("#train-encoder-layers textarea, #train-encoder-layers input")).to_have_value("")


def test_data_tab_shows_statistics_and_sentences(page):
    with step(page, "data"):
        page.get_by_role("tab", name="Data").click()
        page.locator("#data-load").click()
        page.locator("#data-distribution .js-plotly-plot g.trace.bars").first.wait_for()
        page.locator("#data-stats").get_by_text("sentences").wait_for()
        page.locator("#data-sentence mark.ner-ent").first.wait_for()
        shot(page, "data", readme="data")

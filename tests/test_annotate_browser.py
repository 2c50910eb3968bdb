"""The Annotate tab in a real browser (Debian's chromium driven by Playwright): five sentences annotated
with the keyboard only, then exported to CoNLL; the whole loop (annotate, export, train a tiny model on
the dataset from the Train tab, pick that run in the Annotate tab and pre-annotate the next sentence with
it); and a kill -9 of the app in the middle of annotating,
after which every decision made before the kill is there. The optimistic editor: an edit and accept+next
show before the server answers (a gate holds the server's handler until the page has shown them), a burst
of edits is saved in order, a refused edit rolls back with the reason, and two tabs on one item both
decide, the latest counting.

Screenshots of every step go to ``tests/artifacts/`` (git-ignored), as in tests/test_app_browser.py.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from browser_support import browser, sync_api  # noqa: F401  (browser: the fixture)
from app_harness import free_port, running_app
from conftest import FILLER, PEOPLE, PLACES
from tiny_models import build_tiny_model

import ner_demo.app.annotate_editor as ed
from ner_demo.annotation.store import AnnotationStore
from ner_demo.labels import LabelSet

ARTIFACTS = Path(__file__).parent / "artifacts"
ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_MS = 60_000
TEXTS = ["John met Mary in Paris .", "Mary flew to Berlin .", "Peter lives in Rome .", "Anna saw Tokyo .",
         "Paul left Lima .", "Olga stayed home ."]


@contextlib.contextmanager
def step(page, name: str):
    """Keep a screenshot of the page as it was when a step failed."""
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        with contextlib.suppress(Exception):
            page.screenshot(path=str(ARTIFACTS / f"FAILED-annotate-{name}.png"), full_page=True)
        raise


def _create_dataset(page, tmp_path: Path, name: str, labels: str = "PER\nLOC") -> None:
    """Through the form: an uploaded .txt, custom types (default PER and LOC, keys 1 and 2)."""
    upload = tmp_path / f"{name}.txt"
    upload.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    page.get_by_role("tab", name="Annotate").click()
    page.get_by_text("New dataset").click()
    page.locator("#ann-new-name textarea, #ann-new-name input").first.fill(name)
    page.locator("#ann-upload input[type=file]").set_input_files(str(upload))
    page.get_by_role("radio", name="my own types").check()
    page.locator("#ann-custom-labels textarea").fill(labels)
    page.locator("#ann-create").click()
    page.locator("#ann-status").get_by_text(f"Created {name}: 6 examples").wait_for()


def _start(page, annotator: str) -> None:
    page.locator("#ann-db").get_by_text("Database:").wait_for()  # the page's load event listed the datasets
    page.locator("#ann-annotator input, #ann-annotator textarea").first.fill(annotator)
    page.locator("#ann-start").click()
    page.locator("#ann-editor .ann-editor[data-ready='1'] #ann-text").wait_for()


def _label_first_word(page, position: int) -> None:
    """Keyboard only: 1 (PER), shift+→ (select the first word), 1 (label it), Enter (accept)."""
    item = page.locator("#ann-item")
    sync_api.expect(item).to_contain_text(f"item {position} ")
    page.keyboard.press("1")
    page.keyboard.press("Shift+ArrowRight")
    page.locator("#ann-text .ann-w.ann-kbsel").first.wait_for()
    page.keyboard.press("1")
    mark = page.locator("#ann-text mark.ann-span")
    sync_api.expect(mark).to_have_count(1)
    sync_api.expect(mark).to_have_attribute("data-label", "PER")
    sync_api.expect(mark).to_have_attribute("data-s", "0")
    page.keyboard.press("Enter")
    sync_api.expect(page.locator("#ann-message")).to_contain_text(f"saved: edit of item {position}.")


@pytest.fixture()
def page(browser, tmp_path):  # noqa: F811  (browser: the fixture)
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    page.close()


@pytest.fixture(scope="module")
def app(tmp_path_factory, trained_tiny_dir):
    """One in-process app for the module: (its URL, its database file)."""
    root = tmp_path_factory.mktemp("annotate_browser")
    with running_app(root, str(trained_tiny_dir), None) as url:
        yield url, root / "runs" / "annotations.sqlite3"


def test_five_sentences_by_keyboard_then_a_conll_export(page, tmp_path, app):
    page.goto(app[0])
    with step(page, "create"):
        _create_dataset(page, tmp_path, "kb")
    with step(page, "annotate"):
        _start(page, "ana")
        for position in range(5):
            _label_first_word(page, position)
        sync_api.expect(page.locator("#ann-progress")).to_have_text("5 of 6 done")
        sync_api.expect(page.locator("#ann-item")).to_contain_text("item 5 ")
    with step(page, "export"):
        page.get_by_text("Export", exact=True).first.click()
        page.locator("#ann-export").click()
        page.locator("#ann-export-note").get_by_text("Exported 5 annotated examples of 6 (conll).").wait_for()
        link = page.locator("#ann-export-file a").first
        link.wait_for()
        content = page.request.get(link.get_attribute("href")).text()
    blocks = [b.splitlines() for b in content.strip().split("\n\n") if not b.startswith("-DOCSTART-")]
    assert [[line.split()[-1] for line in b] for b in blocks] == [
        ["B-PER", "O", "O", "O", "O", "O"], ["B-PER", "O", "O", "O", "O"], ["B-PER", "O", "O", "O", "O"],
        ["B-PER", "O", "O", "O"], ["B-PER", "O", "O", "O"]]
    assert [b[0].split()[0] for b in blocks] == ["John", "Mary", "Peter", "Anna", "Paul"]


@pytest.fixture(scope="module")
def tiny_per_dir(tmp_path_factory):
    """A random 2-layer DistilBERT whose head is O, B-PER, I-PER: the types the loop's sentences get (a
    backbone's head is kept, so it must have the size the annotated data's types give)."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny_per") / "model", LabelSet.from_types(["PER"]),
                            PEOPLE + PLACES + FILLER + ["Peter", "Anna", "Paul", "Olga", "Rome", "home", "flew", "saw",
                                                        "left", "stayed"])


def test_the_loop_annotate_export_train_and_preannotate_with_the_new_run(page, tmp_path, app, tiny_per_dir):
    page.goto(app[0])
    with step(page, "loop-annotate"):
        _create_dataset(page, tmp_path, "loop")
        _start(page, "ana")
        for position in range(5):
            _label_first_word(page, position)
        page.get_by_text("Export", exact=True).first.click()
        page.locator("#ann-export").click()
        page.locator("#ann-export-note").get_by_text("Exported 5 annotated examples of 6 (conll).").wait_for()
    with step(page, "loop-train"):
        page.get_by_role("tab", name="Train").click()  # the tab's select lists the dataset made after the load
        page.get_by_role("radio", name="annotation dataset loop (Annotate tab)").check()
        backbone = page.locator("#train-backbone input")
        backbone.fill(str(tiny_per_dir))  # a random 2-layer DistilBERT: its casing bit needs 2 token types
        backbone.press("Enter")
        page.locator("#train-casing input").uncheck()
        page.locator("#train-learning-rate input").fill("0.01")
        page.locator("#train-batch-size input").fill("4")
        page.locator("#train-max-steps input").fill("60")  # four training sentences, every one "<name> ...": PER first
        page.locator("#train-max-length input").fill("64")
        page.locator("#train-limit-train-sentences input").fill("0")
        page.locator("#start-button").click()
        progress = page.locator("#train-progress")
        progress.get_by_text(re.compile("finished|[Ff]ailed")).first.wait_for(timeout=TIMEOUT_MS * 4)
        sync_api.expect(progress).to_contain_text("finished")  # else the page says why it failed
        run_id = progress.locator("b").first.inner_text()
    with step(page, "loop-preannotate"):
        page.get_by_role("tab", name="Annotate").click()  # the tab's select lists the finished run
        page.locator("#ann-pre-model input").click()
        page.get_by_role("option", name=re.compile(re.escape(run_id))).click()
        page.locator("#ann-preannotate").click()
        page.locator("#ann-status").get_by_text(re.compile(r"suggested spans for 6 examples of loop")).wait_for()
        page.locator("#ann-start").click()
        sync_api.expect(page.locator("#ann-item")).to_contain_text("item 5 ")
        suggested = page.locator("#ann-text mark.ann-span.ann-suggested")
        suggested.first.wait_for()
        sync_api.expect(suggested.first.locator(".ann-tag")).to_contain_text("suggested")
        sync_api.expect(page.locator("#ann-editor")).to_contain_text(re.compile(rf"suggested by .*{re.escape(run_id)}"))


def _box(page, selector: str, text: str) -> dict:
    return page.locator(selector, has_text=text).first.bounding_box()


def test_the_mouse_selects_clicks_relabels_removes_and_undo_restores(page, tmp_path, app):
    page.goto(app[0])
    with step(page, "mouse"):
        _create_dataset(page, tmp_path, "mouse")
        _start(page, "bo")
        mary = _box(page, "#ann-text .ann-w", "Mary")  # "John met Mary in Paris .": Mary is [9, 13)
        page.mouse.move(mary["x"] + 2, mary["y"] + mary["height"] / 2)
        page.mouse.down()
        page.mouse.move(mary["x"] + mary["width"] - 2, mary["y"] + mary["height"] / 2, steps=4)
        page.mouse.up()
        mark = page.locator("#ann-text mark.ann-span")
        sync_api.expect(mark).to_have_attribute("data-s", "9")  # snapped to the whole word
        sync_api.expect(mark).to_have_attribute("data-e", "13")
        sync_api.expect(mark).to_have_attribute("data-label", "PER")
        mark.locator(".ann-tag").click()
        page.locator(".ann-editor[data-selected='9:13']").wait_for()
        page.keyboard.press("2")
        sync_api.expect(mark).to_have_attribute("data-label", "LOC")
        page.keyboard.press("Delete")
        sync_api.expect(mark).to_have_count(0)
        page.keyboard.press("u")
        sync_api.expect(mark).to_have_attribute("data-label", "LOC")
        page.keyboard.press("Enter")
        sync_api.expect(page.locator("#ann-message")).to_contain_text("saved: edit of item 0.")
    with AnnotationStore.open(app[1]) as store:
        assert [s.to_dict() for s in store.latest("mouse", "bo")[0].spans] == [{"start": 9, "end": 13, "label": "LOC"}]


def _serve(tmp_path: Path, port: int) -> subprocess.Popen:
    """``python app.py`` in its own process. No default model (an empty folder): the app starts without
    loading one, and this dataset's types are the user's own."""
    model = tmp_path / "no-model"
    model.mkdir(exist_ok=True)
    env = {**os.environ, "NER_DEMO_MODEL": str(model), "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False",
           "OMP_NUM_THREADS": "1"}
    env.pop("NER_DEMO_ANNOTATION_DB", None)
    return subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--runs-dir", str(tmp_path / "runs")],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _goto_when_up(page, url: str, proc: subprocess.Popen) -> None:
    deadline = time.time() + 300  # a safety net only: each try returns as soon as the server answers
    while True:
        assert proc.poll() is None, "the app exited"
        try:
            page.goto(url)
            page.get_by_role("tab", name="Annotate").wait_for(timeout=5_000)
            return
        except sync_api.Error:
            if time.time() > deadline:
                raise
            page.wait_for_timeout(250)


def test_a_kill_9_loses_no_decision_made_before_it(page, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    proc = _serve(tmp_path, port)
    try:
        _goto_when_up(page, url, proc)
        with step(page, "kill-annotate"):
            _create_dataset(page, tmp_path, "crash")
            _start(page, "ana")
            for position in range(3):
                _label_first_word(page, position)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=60)
    with AnnotationStore.open(tmp_path / "runs" / "annotations.sqlite3") as store:
        assert {p: d.spans[0].to_dict() for p, d in store.latest("crash", "ana").items()} == {
            0: {"start": 0, "end": 4, "label": "PER"}, 1: {"start": 0, "end": 4, "label": "PER"},
            2: {"start": 0, "end": 5, "label": "PER"}}
    proc = _serve(tmp_path, port)
    try:
        _goto_when_up(page, url, proc)
        with step(page, "kill-restart"):
            page.get_by_role("tab", name="Annotate").click()
            _start(page, "ana")
            sync_api.expect(page.locator("#ann-progress")).to_have_text("3 of 6 done")
            sync_api.expect(page.locator("#ann-item")).to_contain_text("item 3 ")
    finally:
        proc.kill()
        proc.wait(timeout=60)


class Gate:
    """Holds the editor's server handler ``name`` (``_edit`` or ``_decide``) until :meth:`release`: what
    the page shows before then, it shows without the server's answer."""

    def __init__(self, monkeypatch, name: str):
        self.released, self.calls = threading.Event(), 0
        original = getattr(ed, name)

        def held(*args, **kwargs):
            self.calls += 1
            assert self.released.wait(TIMEOUT_MS / 1000), "the test never released the gate"
            return original(*args, **kwargs)

        monkeypatch.setattr(ed, name, held)

    def release(self) -> None:
        self.released.set()


@pytest.fixture()
def gate(monkeypatch):
    gates = []

    def make(name: str) -> Gate:
        gates.append(Gate(monkeypatch, name))
        return gates[-1]

    yield make
    for g in gates:  # a failed test must not leave a server thread waiting
        g.release()


def _sync(page, state: str):
    return page.locator(f"[data-ann-sync='{state}']")


def test_an_edit_shows_before_the_server_answers_and_a_reload_shows_it_saved(page, tmp_path, app, gate):
    held = gate("_edit")
    page.goto(app[0])
    with step(page, "optimistic-edit"):
        _create_dataset(page, tmp_path, "fast")
        _start(page, "ana")
        page.keyboard.press("Shift+ArrowRight")
        page.keyboard.press("1")
        mark = page.locator("#ann-text mark.ann-span")
        sync_api.expect(mark).to_have_attribute("data-label", "PER")  # the server's handler is still held
        sync_api.expect(page.locator("#ann-sync")).to_have_text("saving… (1)")
        sync_api.expect(_sync(page, "saving")).to_have_count(1)
        held.release()
        _sync(page, "saved").wait_for(state="attached")
        sync_api.expect(page.locator("#ann-sync")).to_have_text("✓ saved")
        sync_api.expect(page.locator("#ann-message")).to_have_text("added 'John' as PER")
    with step(page, "optimistic-reload"):
        page.reload()
        page.get_by_role("tab", name="Annotate").click()
        page.locator("#ann-dataset input").click()
        page.get_by_role("option", name="fast").click()
        _start(page, "ana")
        sync_api.expect(page.locator("#ann-item")).to_contain_text("item 0 ")
        sync_api.expect(mark).to_have_attribute("data-label", "PER")
        sync_api.expect(page.locator("#ann-message")).to_contain_text("saved as a draft")
    assert held.calls == 1


def test_a_burst_of_edits_is_saved_in_order(page, tmp_path, app, gate):
    held = gate("_edit")
    page.goto(app[0])
    with step(page, "burst"):
        _create_dataset(page, tmp_path, "burst")
        _start(page, "ana")
        # "John met Mary in Paris .": John PER, Mary LOC, John relabelled LOC, then widened to "John met"
        for key in ("Shift+ArrowRight", "1", "ArrowRight", "ArrowRight", "Shift+ArrowRight", "2", "Tab", "2", "]"):
            page.keyboard.press(key)
        marks = page.locator("#ann-text mark.ann-span")
        sync_api.expect(marks).to_have_count(2)
        sync_api.expect(marks.first).to_have_attribute("data-e", "8")
        sync_api.expect(page.locator("[data-ann-pending='4']")).to_have_count(1)  # one held, three queued
        held.release()
        _sync(page, "saved").wait_for(state="attached")
        sync_api.expect(page.locator("#ann-message")).to_have_text("resized")
    with AnnotationStore.open(app[1]) as store:
        assert [s.to_dict() for s in store.draft("burst", 0, "ana").spans] == [
            {"start": 0, "end": 8, "label": "LOC"}, {"start": 9, "end": 13, "label": "LOC"}]
    assert held.calls == 4


def test_an_edit_the_server_refuses_rolls_back_with_the_reason(page, tmp_path, app, gate):
    held = gate("_edit")
    page.goto(app[0])
    with step(page, "refused"):
        _create_dataset(page, tmp_path, "refused")
        _start(page, "ana")
        with AnnotationStore.open(app[1]) as store:  # another session drops LOC while this page still offers it
            store.set_labels("refused", ["PER"])
        page.keyboard.press("Shift+ArrowRight")
        page.keyboard.press("2")
        mark = page.locator("#ann-text mark.ann-span")
        sync_api.expect(mark).to_have_attribute("data-label", "LOC")  # shown at once, not saved yet
        held.release()
        sync_api.expect(mark).to_have_count(0)
        sync_api.expect(page.locator("#ann-message[role='alert']")).to_contain_text(
            "not saved: label 'LOC' is not in this dataset's label set (PER)")
        sync_api.expect(page.locator("#ann-sync")).to_have_text("✗ not saved")
        sync_api.expect(_sync(page, "error")).to_have_count(1)
    with AnnotationStore.open(app[1]) as store:
        assert store.draft("refused", 0, "ana") is None


def test_accept_shows_the_next_item_before_the_server_answers_and_a_reload_keeps_it(page, tmp_path, app, gate):
    page.goto(app[0])
    with step(page, "next"):
        _create_dataset(page, tmp_path, "next")
        _start(page, "ana")
        page.keyboard.press("Shift+ArrowRight")
        page.keyboard.press("1")
        _sync(page, "saved").wait_for(state="attached")
        page.locator("#ann-text mark.ann-span").wait_for()
        page.locator("[data-ann-ahead='1']").wait_for(state="attached")  # the next item, fetched ahead
        held = gate("_decide")
        page.keyboard.press("Enter")
        sync_api.expect(page.locator("#ann-item")).to_contain_text("item 1 ")  # the decision is still held
        sync_api.expect(page.locator("#ann-text")).to_have_text("Mary flew to Berlin .")
        sync_api.expect(page.locator("#ann-message")).to_have_text("saving your accept of item 0…")
        held.release()
        _sync(page, "saved").wait_for(state="attached")
        sync_api.expect(page.locator("#ann-message")).to_have_text("saved: edit of item 0.")
    with step(page, "next-reload"):
        page.reload()
        page.get_by_role("tab", name="Annotate").click()
        page.locator("#ann-dataset input").click()
        page.get_by_role("option", name="next").click()
        _start(page, "ana")
        sync_api.expect(page.locator("#ann-item")).to_contain_text("item 1 ")
        sync_api.expect(page.locator("#ann-progress")).to_have_text("1 of 6 done")
    with AnnotationStore.open(app[1]) as store:
        decision = store.latest("next", "ana")[0]
        assert (decision.action, [s.to_dict() for s in decision.spans]) == (
            "edit", [{"start": 0, "end": 4, "label": "PER"}])


def test_two_tabs_on_one_item_both_decide_and_the_latest_counts(browser, tmp_path, app):  # noqa: F811
    first, second = (browser.new_page(viewport={"width": 1400, "height": 1100}) for _ in range(2))
    try:
        for tab in (first, second):
            tab.set_default_timeout(TIMEOUT_MS)
        first.goto(app[0])
        with step(first, "tabs-first"):
            _create_dataset(first, tmp_path, "tabs")
            _start(first, "ana")
        second.goto(app[0])
        with step(second, "tabs-second"):
            second.get_by_role("tab", name="Annotate").click()
            second.locator("#ann-dataset input").click()
            second.get_by_role("option", name="tabs").click()
            _start(second, "ana")
            sync_api.expect(second.locator("#ann-item")).to_contain_text("item 0 ")
        with step(first, "tabs-first-accept"):
            _label_first_word(first, 0)
            _sync(first, "saved").wait_for(state="attached")
        with step(second, "tabs-second-reject"):
            second.keyboard.press("x")  # the second tab still shows item 0 as it was: its reject comes later
            sync_api.expect(second.locator("#ann-item")).to_contain_text("item 1 ")
            _sync(second, "saved").wait_for(state="attached")
            sync_api.expect(second.locator("#ann-message")).to_have_text("saved: reject of item 0.")
    finally:
        first.close()
        second.close()
    with AnnotationStore.open(app[1]) as store:
        assert [d.action for d in store.decisions("tabs", "ana")] == ["edit", "reject"]
        assert store.latest("tabs", "ana")[0].action == "reject"


def test_an_edit_the_server_fails_on_rolls_back_to_what_is_saved(page, tmp_path, app, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the handler broke")  # not a NerDemoError: the request fails (HTTP 500)

    page.goto(app[0])
    with step(page, "failed"):
        _create_dataset(page, tmp_path, "failed")
        _start(page, "ana")
        monkeypatch.setattr(ed, "_edit", broken)
        page.keyboard.press("Shift+ArrowRight")
        page.keyboard.press("1")
        sync_api.expect(page.locator("#ann-message[role='alert']")).to_contain_text(
            "the server did not answer: the actions since the last \"saved\" are not saved")
        sync_api.expect(page.locator("#ann-text mark.ann-span")).to_have_count(0)
        sync_api.expect(page.locator("#ann-sync")).to_have_text("✗ not saved")

"""Debian's chromium driven by Playwright, for the browser tests: one place for the path, the flags and
the skip when chromium is absent (outside CI only: in CI a missing browser fails the run).

A browser test module starts with::

    from browser_support import sync_api, browser  # noqa: F401  (the fixture)
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

if not Path(CHROMIUM).exists() and os.environ.get("CI") != "true":
    pytest.skip(f"{CHROMIUM} is missing: `bash run.sh test` installs it (apt-get install chromium)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -r requirements-dev.txt (playwright)")


@pytest.fixture(scope="module")
def browser():
    """One chromium for the module."""
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


ARTIFACTS = Path(__file__).parent / "artifacts"  # screenshots (git-ignored)


@contextlib.contextmanager
def step(page, name: str, keep: bool = False):
    """A step of a browser test: when it fails, a screenshot of the page as it was goes to
    ``tests/artifacts/FAILED-<name>.png``; with ``keep``, a passing step's page goes to ``<name>.png``."""
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            page.screenshot(path=str(ARTIFACTS / f"FAILED-{name}.png"), full_page=True)
        raise
    if keep:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def choose(page, combobox, option, shown=None) -> None:
    """Pick ``option`` (its name, or a pattern) in a gradio Dropdown, ``combobox`` (its locator), and wait
    until the box shows it (``shown``, default ``option``). On a busy machine a click on an option can land
    while the list is still being drawn and be lost (the box kept its old value and the next step used
    it); the pick is then made again, at most three times, each waiting for the state, never for a time."""
    for attempt in range(3):
        combobox.click()
        page.get_by_role("option", name=option).click()
        try:
            sync_api.expect(combobox).to_have_value(shown or option, timeout=15_000)
            return
        except AssertionError:
            if attempt == 2:
                raise

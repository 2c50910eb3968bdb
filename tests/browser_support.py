"""Debian's chromium driven by Playwright, for the browser tests: one place for the path, the flags and
the skip when chromium is absent (outside CI only: in CI a missing browser fails the run).

A browser test module starts with::

    from browser_support import sync_api, browser  # noqa: F401  (the fixture)
"""

from __future__ import annotations

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

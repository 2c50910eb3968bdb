"""pyproject.toml: the package, its pins (those of requirements.txt) and its console scripts."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _pins(requirements: str) -> list[str]:
    lines = (re.sub(r"#.*", "", line).strip() for line in (ROOT / requirements).read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def test_the_dependencies_are_the_pins_of_requirements_txt():
    assert PROJECT["dependencies"] == _pins("requirements.txt")


def test_the_dev_extra_is_requirements_dev_txt():
    assert PROJECT["optional-dependencies"]["dev"] == _pins("requirements-dev.txt")


def test_the_console_script_is_the_cli():
    module, _, name = PROJECT["scripts"]["ner-demo"].partition(":")
    assert getattr(importlib.import_module(module), name).__module__ == "ner_demo.cli"


def test_the_app_console_script_is_what_app_py_runs():
    import app

    module, _, name = PROJECT["scripts"]["ner-demo-app"].partition(":")
    assert getattr(importlib.import_module(module), name) is app.main


def test_python_3_11_or_later():
    assert PROJECT["requires-python"] == ">=3.11"

"""Every error ner_demo raises on purpose, with messages that name the file, line and value.

One module so that the CLI and the app can catch `NerDemoError` and show its message as it is:
the message is written for the user and says what to do.
"""

from __future__ import annotations


class NerDemoError(Exception):
    """Base class: the message is meant to be shown to the user verbatim."""


class DataFormatError(NerDemoError, ValueError):
    """A data file (CoNLL, JSONL, ...) has a line we cannot read."""

    def __init__(self, source: str, line_no: int | None, content: str | None, problem: str):
        self.source = source
        self.line_no = line_no
        self.content = content
        self.problem = problem
        where = source if line_no is None else f"{source}, line {line_no}"
        shown = "" if content is None else f": {_clip(content)!r}"
        super().__init__(f"{where}{shown}: {problem}")


class TagSchemeError(NerDemoError, ValueError):
    """A tag sequence that is not valid in the scheme it claims to be in."""


class DatasetUnavailableError(NerDemoError):
    """A dataset could not be fetched or found (no network, wrong path, checksum mismatch)."""


class ModelLoadError(NerDemoError):
    """A model folder or Hub id could not be resolved or loaded."""


class ConfigError(NerDemoError, ValueError):
    """A configuration value is invalid; the message names the key and the value."""


class InputTooLargeError(NerDemoError, ValueError):
    """An input is over a documented cap; the message gives the cap and the size."""


class TrainingDivergedError(NerDemoError):
    """The training loss became nan or inf; the run stops before the weights take the step."""


class ExportError(NerDemoError):
    """An exported model does not reproduce the original's outputs; the message gives the measured gap."""


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."

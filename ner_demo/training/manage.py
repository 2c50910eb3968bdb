"""Managing finished runs: delete, rename, tag, and pick runs out of the list (state, text, sort).

A run's id is its folder name and never changes: the app's run list, ``resume``, ``cancel``, the Tag
tab's model list and model cards all point at ids. A rename gives the run a display name instead,
kept with its tags in ``meta.json`` (written atomically, like status.json). meta.json is not
status.json, which belongs to the training process while it runs, so a running run can be renamed
and tagged without racing its progress writes.

Deleting is refused for a run that trains or waits in the queue (cancel it first). The folder is
first renamed to a dot-name, which ``list_runs`` never lists, and removed after; a crash half-way
leaves a hidden folder that the next delete clears, never a half-run in the table.

>>> select_runs([], state="finished", text="conll", sort="best")
[]
"""

from __future__ import annotations

import os
import shutil
import unicodedata
from pathlib import Path
from typing import Iterable, Sequence

from ner_demo.errors import ConfigError, NerDemoError
from ner_demo.training import background
from ner_demo.training.runs import ACTIVE_STATES, STATES, Run, RunInfo, list_runs, write_json_atomic

TRASH_PREFIX = ".deleting-"
MAX_NAME = 80
MAX_TAG = 40
MAX_TAGS = 20
SORTS = {
    "newest": "newest first (start time)",
    "oldest": "oldest first (start time)",
    "best": "best dev F1 first",
    "name": "name (A to Z; unnamed runs last)",
    "state": "state",
}


class RunActiveError(NerDemoError):
    """The run trains or is queued: it cannot be deleted now."""


def _clean_text(text: str, what: str, limit: int) -> str:
    """One line of printable text, trimmed; a ConfigError naming the value otherwise."""
    if not isinstance(text, str):
        raise ConfigError(f"{what} must be text, not {type(text).__name__}")
    text = " ".join(text.split())  # line breaks and tabs would break the CLI's table and the app's cells
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in text):
        raise ConfigError(f"{what} {text!r}: control characters are not allowed")
    if len(text) > limit:
        raise ConfigError(f"{what} {text[:limit]!r}...: at most {limit} characters")
    return text


def parse_tags(tags: str | Iterable[str]) -> list[str]:
    """Tags from a comma list (or a list): trimmed, empty ones dropped, duplicates once, in order.

    >>> parse_tags(" baseline, conll ,,baseline, Fast ")
    ['baseline', 'conll', 'Fast']
    """
    parts = tags.split(",") if isinstance(tags, str) else list(tags)
    out: list[str] = []
    for part in parts:
        tag = _clean_text(part, "tag", MAX_TAG)
        if tag and tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise ConfigError(f"{len(out)} tags: at most {MAX_TAGS} per run")
    return out


def open_run(run_id: str, runs_dir: str | Path) -> Run:
    """A run by id only (never a path: these actions must not reach outside the runs folder)."""
    if not run_id or run_id != Path(run_id).name or run_id.startswith("."):
        raise ConfigError(f"no run {run_id!r} in the runs folder; give a run id from `python -m ner_demo runs`")
    return Run.open(run_id, runs_dir)


def _write_meta(run: Run, **changes) -> dict:
    meta = {**run.meta(), **changes}
    write_json_atomic(run.meta_path, meta)
    return meta


def rename_run(run_id: str, name: str, runs_dir: str | Path = "runs") -> dict:
    """Give the run a display name (its id stays); an empty name clears it. Returns meta.json's content."""
    return _write_meta(open_run(run_id, runs_dir), name=_clean_text(name, "name", MAX_NAME))


def tag_run(run_id: str, tags: str | Iterable[str], runs_dir: str | Path = "runs") -> dict:
    """Replace the run's tags (a comma list or a list; empty clears them). Returns meta.json's content."""
    return _write_meta(open_run(run_id, runs_dir), tags=parse_tags(tags))


def delete_run(run_id: str, runs_dir: str | Path = "runs") -> str:
    """Remove a run that has ended (finished, failed or cancelled) with everything in its folder.

    Refused, naming the run, while it trains or waits in the queue. Returns the id deleted.
    """
    run = open_run(run_id, runs_dir)
    root = run.path.parent
    with background._locked(root):  # no start or queue hand-over can pick the run meanwhile
        # _active records the slot's run as failed if its process died; a run that says it trains
        # without holding the slot is checked the same way (not through poll: that starts queued runs).
        holds_slot = (active := background._active(root)) is not None and active.id == run.id
        status = run.read_status()
        if not holds_slot and status.get("state") == "running" and not background.process_alive(status.get("pid")):
            background._record_death(run, status.get("pid"))
        state = run.read_status().get("state")
        if holds_slot or state in ACTIVE_STATES:
            what = "is training" if holds_slot or state == "running" else "is queued"
            raise RunActiveError(
                f"run {run.id} {what}: it cannot be deleted now; cancel it first (Cancel in the Train tab, "
                f"or `python -m ner_demo cancel {run.id}`), then delete it once it has stopped"
            )
        trash = root / f"{TRASH_PREFIX}{run.id}-{os.getpid()}"
        os.replace(run.path, trash)  # atomic: from here on the run is not listed
    shutil.rmtree(trash, ignore_errors=True)
    clear_trash(root)
    return run.id


def clear_trash(runs_dir: str | Path = "runs") -> None:
    """Finish deletes that a crash interrupted (their folders are hidden already)."""
    root = Path(runs_dir)
    for leftover in root.glob(f"{TRASH_PREFIX}*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)


def _matches(info: RunInfo, text: str) -> bool:
    haystack = " ".join([info.run_id, info.name, *info.tags, info.backbone, info.dataset, info.engine]).lower()
    return all(word in haystack for word in text.lower().split())


def select_runs(runs: Sequence[RunInfo], state: str | None = None, text: str | None = None, tag: str | None = None,
                sort: str = "newest") -> list[RunInfo]:
    """The runs in ``state`` (None or "all": any), whose id, name, tags, backbone, data or engine hold every
    word of ``text``, carrying ``tag`` (exactly, ignoring case), in ``sort`` order (see :data:`SORTS`).

    Runs without a dev F1 sort last under "best"; ties keep newest first.
    """
    if state not in (None, "", "all") and state not in STATES:
        raise ConfigError(f"state {state!r}: pick one of all, {', '.join(STATES)}")
    if sort not in SORTS:
        raise ConfigError(f"sort {sort!r}: pick one of {', '.join(SORTS)}")
    out = [r for r in runs if state in (None, "", "all") or r.state == state]
    if text and text.strip():
        out = [r for r in out if _matches(r, text)]
    if tag and tag.strip():
        wanted = tag.strip().lower()
        out = [r for r in out if wanted in (t.lower() for t in r.tags)]
    newest = sorted(out, key=lambda r: r.run_id, reverse=True)  # ids start with their creation time
    if sort == "newest":
        return newest
    if sort == "oldest":
        return newest[::-1]
    if sort == "best":
        return sorted(newest, key=lambda r: -(r.best_f1 if r.best_f1 is not None and r.best_f1 >= 0 else -1.0))
    if sort == "name":
        return sorted(newest, key=lambda r: (not r.name, r.name.lower()))  # unnamed runs last, newest first
    return sorted(newest, key=lambda r: STATES.index(r.state) if r.state in STATES else len(STATES))


def runs_view(runs_dir: str | Path = "runs", **selection) -> list[RunInfo]:
    """``select_runs`` over the runs folder, after recording dead processes (as ``checked_runs``)."""
    return select_runs(background.checked_runs(runs_dir), **selection)


__all__ = ["RunActiveError", "SORTS", "clear_trash", "delete_run", "list_runs", "open_run", "parse_tags", "rename_run",
           "runs_view", "select_runs", "tag_run"]

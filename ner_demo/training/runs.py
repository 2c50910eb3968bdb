"""Run folders: ``runs/<run-id>/`` with everything a run leaves behind.

::

    config.json      the TrainConfig, as run
    status.json      queued / running / finished / failed (with the error) / cancelled, plus progress
    metrics.jsonl    {"kind": "train", step, loss, lr, tokens_per_s} every N steps; {"kind": "eval", ...} per epoch
    best/            HF folder of the best dev model (transformers.pipeline loads it), README.md model card
    checkpoints/     atomic checkpoints (see checkpoints.py)
    log.txt          stdout/stderr of a background run
    meta.json        what people call the run: a display name and tags (manage.py); the id never changes
    CANCEL           flag file: the run stops at the next step boundary, leaving a resumable checkpoint

status.json is replaced atomically (temp file + rename), so a poller never reads half a file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from ner_demo.errors import NerDemoError
from ner_demo.training.config import TrainConfig

STATES = ("queued", "running", "finished", "failed", "cancelled")
ACTIVE_STATES = ("queued", "running")


class RunNotFoundError(NerDemoError):
    """A run id that is not a folder under the runs directory."""


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.")[:40] or "run"


_PATH = re.compile(r"(?<![\w.:/~-])(?:~|[A-Za-z]:)?(?:[/\\][\w.@+-]+)+[/\\]([\w.@+-]+)")


def without_paths(text: str) -> str:
    """A message for the status and the app: absolute paths shortened to their file or folder name (the
    server's folders are nobody's business; the name still says which file).

    >>> without_paths("No such file: '/tmp/gradio/3f2a/train.conll', line 3; see https://hf.co/a/b")
    "No such file: 'train.conll', line 3; see https://hf.co/a/b"
    """
    return _PATH.sub(r"\1", text)


def write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # per writer: see remove_temp_files_of
    try:
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk must not also keep a half-written temp file
        raise


class Run:
    """One run folder. Only the training process (rank 0) writes progress; anyone may read."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @property
    def id(self) -> str:
        return self.path.name

    # --- creation and lookup ------------------------------------------------------------------

    @classmethod
    def create(cls, config: TrainConfig, runs_dir: str | Path | None = None) -> "Run":
        """A new folder named ``<YYYYmmdd-HHMMSS>-<name>`` (a suffix keeps ids unique), status queued."""
        root = Path(runs_dir or config.runs_dir)
        root.mkdir(parents=True, exist_ok=True)
        base = f"{time.strftime('%Y%m%d-%H%M%S')}-{_slug(config.name or config.engine)}"
        for n in range(1, 1000):
            path = root / (base if n == 1 else f"{base}-{n}")
            try:
                path.mkdir()  # atomic: two processes never get the same folder
                break
            except FileExistsError:
                continue
        else:
            raise NerDemoError(f"{root}: could not create a unique run folder for {base}")
        run = cls(path)
        config.save(run.config_path)
        run.write_status(state="queued", created=_now(), run_id=run.id, engine=config.engine)
        return run

    @classmethod
    def open(cls, run_id: str, runs_dir: str | Path = "runs") -> "Run":
        """By id under ``runs_dir``, or by folder path."""
        path = Path(run_id)
        if not (path / "config.json").is_file():
            path = Path(runs_dir) / run_id
        if not (path / "config.json").is_file():
            known = ", ".join(r.run_id for r in list_runs(runs_dir)[-5:]) or "none"
            raise RunNotFoundError(
                f"no run {run_id!r} in {runs_dir}/ (recent runs: {known}); see `python -m ner_demo runs`"
            )
        return cls(path)

    # --- files ----------------------------------------------------------------------------------

    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def status_path(self) -> Path:
        return self.path / "status.json"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def best_dir(self) -> Path:
        return self.path / "best"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def log_path(self) -> Path:
        return self.path / "log.txt"

    @property
    def cancel_path(self) -> Path:
        return self.path / "CANCEL"

    @property
    def meta_path(self) -> Path:
        return self.path / "meta.json"

    def meta(self) -> dict:
        """``{"name": str, "tags": [str, ...]}`` from meta.json (empty for a run nobody named or tagged)."""
        try:
            data = json.loads(self.meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict):
            data = {}
        name = data.get("name") if isinstance(data.get("name"), str) else ""
        tags = [t for t in data.get("tags") or [] if isinstance(t, str)] if isinstance(data.get("tags"), list) else []
        return {"name": name, "tags": tags}

    def config(self) -> TrainConfig:
        data = json.loads(self.config_path.read_text(encoding="utf-8"))
        # Runs saved before loss_reduction existed trained with the batch mean: a resume must keep it.
        data.setdefault("loss_reduction", "batch-mean")
        return TrainConfig.from_dict(data, str(self.config_path))

    # --- status -------------------------------------------------------------------------------

    def read_status(self) -> dict:
        try:
            return json.loads(self.status_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"state": "unknown", "run_id": self.id}

    def remove_temp_files_of(self, pid: int) -> None:
        """Delete the temp files a *dead* process left mid-write (``write_json_atomic``, killed between
        writing and renaming): no one reads them and their writer can never finish them."""
        for tmp in self.path.glob(f".*.{int(pid)}.tmp"):
            tmp.unlink(missing_ok=True)

    def write_status(self, **fields) -> dict:
        """Merge ``fields`` into status.json (atomically) and return the new status."""
        status = self.read_status() if self.status_path.exists() else {}
        status.update(fields, updated=_now())
        if status.get("state") not in STATES:
            raise ValueError(f"unknown run state {status.get('state')!r}")
        write_json_atomic(self.status_path, status)
        return status

    # --- metrics ------------------------------------------------------------------------------

    def log_metrics(self, record: dict) -> None:
        with self.metrics_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")

    def metrics(self, kind: str | None = None) -> list[dict]:
        """The records of metrics.jsonl; a torn last line (the process was killed, or the disk filled up,
        mid-append) is skipped rather than breaking every reader of the run."""
        if not self.metrics_path.is_file():
            return []
        records = []
        for line in self.metrics_path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and (kind is None or record.get("kind") == kind):
                records.append(record)
        return records

    def truncate_metrics(self, step: int) -> None:
        """Drop records after ``step``: a resumed run replays those steps and logs them again."""
        kept = [r for r in self.metrics() if r.get("step", 0) <= step]
        write_lines = "".join(json.dumps(r) + "\n" for r in kept)
        tmp = self.metrics_path.with_name(".metrics.jsonl.tmp")
        tmp.write_text(write_lines, encoding="utf-8")
        os.replace(tmp, self.metrics_path)

    # --- cancel -------------------------------------------------------------------------------

    def request_cancel(self) -> None:
        self.cancel_path.write_text(_now() + "\n", encoding="utf-8")

    def cancel_requested(self) -> bool:
        return self.cancel_path.exists()

    def clear_cancel(self) -> None:
        self.cancel_path.unlink(missing_ok=True)


# ---- registry ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    state: str
    engine: str
    backbone: str
    dataset: str
    created: str
    step: int
    total_steps: int
    best_f1: float | None
    error: str | None
    path: str
    name: str = ""  # the display name (meta.json); "" when nobody renamed the run
    tags: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        data = dict(self.__dict__)
        data["tags"] = list(self.tags)
        return data


def list_runs(runs_dir: str | Path = "runs") -> list[RunInfo]:
    """Every run under ``runs_dir``, oldest first (ids start with their creation time).

    Folders whose name starts with a dot are not runs: a run being deleted is renamed to one first
    (``manage.delete_run``), so a half-removed folder is never listed.
    """
    root = Path(runs_dir)
    if not root.is_dir():
        return []
    out = []
    for path in sorted(p for p in root.iterdir() if not p.name.startswith(".") and (p / "config.json").is_file()):
        run = Run(path)
        status = run.read_status()
        try:
            config = json.loads(run.config_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            config = {}
        best = status.get("best") or {}
        meta = run.meta()
        out.append(RunInfo(
            run.id, status.get("state", "unknown"), config.get("engine", "?"), config.get("backbone", "?"),
            config.get("dataset", "?") if not config.get("train_file") else Path(config["train_file"]).name,
            status.get("created", ""), int(status.get("step", 0)), int(status.get("total_steps", 0)),
            best.get("strict_f1"), status.get("error"), str(path), meta["name"], tuple(meta["tags"]),
        ))
    return out


def format_runs_table(runs: list[RunInfo]) -> str:
    if not runs:
        return "no runs yet"
    header = ("RUN", "NAME", "TAGS", "STATE", "ENGINE", "BACKBONE", "DATA", "STEP", "BEST DEV F1")
    rows = [header]
    for r in runs:
        f1 = f"{r.best_f1:.4f}" if r.best_f1 is not None and r.best_f1 >= 0 else "-"
        rows.append((r.run_id, r.name[:30] or "-", ",".join(r.tags)[:30] or "-", r.state, r.engine, r.backbone[-28:],
                     r.dataset[-20:], f"{r.step}/{r.total_steps}", f1))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows)


# ---- best model folder and its card -------------------------------------------------------------


def replace_dir(src: Path, dest: Path) -> None:
    """Move a fully written folder into place; the old one is removed only after the swap."""
    old = dest.with_name(f".{dest.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if dest.exists():
        os.replace(dest, old)
    os.replace(src, dest)
    shutil.rmtree(old, ignore_errors=True)

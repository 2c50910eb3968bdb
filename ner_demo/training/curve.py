"""Learning curves: "will more data help?" One config, trained on growing shares of its train sentences.

:func:`start_curve` queues one ordinary run per share (same config and seed; ``limit_train_sentences``
set to the share's size), grouped by a curve id, and writes ``runs/curves/<id>.json``. The subsets are
the first N sentences of the train split (after the config's own ``limit_train_sentences``, which is the
100 % point): nested (the 25 % set lies inside the 50 % one, so the curve measures more data, not other
data) and in document order, so each sentence keeps its document context (a seeded sample of single
sentences would cut them out of their documents).

Each time one of its runs ends, its watcher calls :func:`update_curve_of`, which writes every run's
state and best dev scores (micro strict F1 and the per-type F1 of the best checkpoint) into the curve
file; readers (:func:`read_curve`) refresh it the same way.

>>> curve = start_curve(TrainConfig.from_file("training/conll2003_offline_minilm.yaml").with_overrides(
...     ["limit_train_sentences=2000"]))                                        # doctest: +SKIP
>>> [p["train_sentences"] for p in read_curve(curve["curve_id"])["points"]]      # doctest: +SKIP
[500, 1000, 1500, 2000]
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import re
import time
from pathlib import Path
from typing import Sequence

from ner_demo.errors import ConfigError, NerDemoError
from ner_demo.training import background
from ner_demo.training.config import TrainConfig
from ner_demo.training.data_prep import load_splits_for
from ner_demo.training.limits import check_backbone_limits
from ner_demo.training.runs import ACTIVE_STATES, Run, write_json_atomic

CURVES_DIR = "curves"
DEFAULT_SHARES = (0.25, 0.5, 0.75, 1.0)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,80}$")


class CurveNotFoundError(NerDemoError):
    """A curve id that is not a file under ``runs/curves/``."""


def parse_shares(text: str | Sequence[float]) -> tuple[float, ...]:
    """Shares of the train sentences, from "0.25,0.5,0.75,1" (or numbers): each in (0, 1], increasing.

    >>> parse_shares("0.25, 0.5,0.75, 1")
    (0.25, 0.5, 0.75, 1.0)
    >>> parse_shares("0.5,0.25")
    Traceback (most recent call last):
    ...
    ner_demo.errors.ConfigError: shares '0.5,0.25': give them in increasing order, each once (e.g. 0.25,0.5,0.75,1)
    """
    items = [t.strip() for t in text.split(",")] if isinstance(text, str) else list(text)
    shown = text if isinstance(text, str) else ",".join(str(s) for s in text)
    if not [t for t in items if str(t).strip()]:
        raise ConfigError("shares: give at least one share of the train sentences, e.g. 0.25,0.5,0.75,1")
    shares = []
    for item in items:
        try:
            share = float(item)
        except (TypeError, ValueError):
            raise ConfigError(f"shares {shown!r}: {item!r} is not a number; give shares such as 0.25,0.5,0.75,1") from None
        if not 0 < share <= 1:
            raise ConfigError(f"shares {shown!r}: {share:g} is not in (0, 1]; a share of 1 is all the train sentences")
        shares.append(share)
    if any(b <= a for a, b in zip(shares, shares[1:])):
        raise ConfigError(f"shares {shown!r}: give them in increasing order, each once (e.g. 0.25,0.5,0.75,1)")
    return tuple(shares)


def curves_dir(runs_dir: str | Path) -> Path:
    return Path(runs_dir) / CURVES_DIR


@contextlib.contextmanager
def _locked(root: Path):
    """One writer of curve files at a time (the starter and the runs' watchers)."""
    folder = curves_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.")[:40] or "curve"


def _new_id(root: Path, name: str) -> str:
    base = f"{time.strftime('%Y%m%d-%H%M%S')}-{_slug(name)}"
    for n in range(1, 1000):
        curve_id = base if n == 1 else f"{base}-{n}"
        try:
            with open(curves_dir(root) / f"{curve_id}.json", "x", encoding="utf-8") as fh:  # atomic: ids stay unique
                fh.write("{}\n")
            return curve_id
        except FileExistsError:
            continue
    raise NerDemoError(f"could not create a unique learning-curve id for {base}")


def plan(config: TrainConfig, shares: Sequence[float]) -> list[tuple[float, int]]:
    """(share, train sentences) of each point; the data are read now, so a bad upload is reported before
    any run is queued. The 100 % point is the train split after the config's ``limit_train_sentences``."""
    total = len(load_splits_for(config).train)
    sizes = [(share, max(1, round(share * total))) for share in shares]
    for (a, n), (b, m) in zip(sizes, sizes[1:]):
        if m <= n:
            raise ConfigError(f"shares {a:g} and {b:g} of {total} train sentences both give {n} sentences; "
                              "use fewer, more distant shares or more train sentences")
    return sizes


def start_curve(config: TrainConfig, shares: str | Sequence[float] = DEFAULT_SHARES,
                runs_dir: str | Path | None = None) -> dict:
    """Queue one run per share (the first starts now if nothing trains) and write the curve file."""
    shares = parse_shares(shares)
    root = Path(runs_dir or config.runs_dir)
    check_backbone_limits(config)  # what would refuse every run, before any is queued
    points = plan(config, shares)
    configs = [dataclasses.replace(config, limit_train_sentences=n, name=f"{config.name or 'run'}-lc{round(100 * s)}")
               for s, n in points]
    with _locked(root):
        curve_id = _new_id(root, config.name or "curve")
        record = {"curve_id": curve_id, "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "name": config.name,
                  "seed": config.seed, "shares": list(shares), "train_sentences": points[-1][1], "runs": [],
                  "state": "queued", "points": []}
        _write(root, record)
    for (share, n), cfg in zip(points, configs):
        run = background.start(cfg, root, queue=True, tags={"curve": curve_id, "curve_share": share})
        with _locked(root):
            record = _read(root, curve_id)
            record["runs"].append({"share": share, "train_sentences": n, "run_id": run.id})
            _write(root, record)
    return read_curve(curve_id, root)


def _write(root: Path, record: dict) -> None:
    write_json_atomic(curves_dir(root) / f"{record['curve_id']}.json", record)


def _read(root: Path, curve_id: str) -> dict:
    if not isinstance(curve_id, str) or not _ID.match(curve_id):
        raise CurveNotFoundError(f"no learning curve {curve_id!r}; pick one from the list")
    path = curves_dir(root) / f"{curve_id}.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = ", ".join(list_curves(root)[:5]) or "none"
        raise CurveNotFoundError(f"no learning curve {curve_id!r} in the runs folder (recent: {known})") from None
    if not isinstance(record, dict) or record.get("curve_id") != curve_id:
        raise CurveNotFoundError(f"learning curve {curve_id!r} is still being created, or its file is damaged")
    return record


def list_curves(runs_dir: str | Path = "runs") -> list[str]:
    """Curve ids, newest first."""
    folder = curves_dir(runs_dir)
    if not folder.is_dir():
        return []
    return sorted((p.stem for p in folder.glob("*.json") if _ID.match(p.stem)), reverse=True)


def _best_per_type(run: Run, best: dict) -> dict[str, float]:
    """Per-type strict F1 of the dev evaluation that made ``best/`` (the last one logged at its step)."""
    records = [r for r in run.metrics("eval") if r.get("step") == best.get("step")]
    if not records:
        return {}
    return {t: float(s.get("f1", 0.0)) for t, s in sorted((records[-1].get("per_type") or {}).items())}


def _point(root: Path, entry: dict) -> dict:
    run = Run(root / entry["run_id"])
    status = run.read_status() if run.status_path.exists() else {"state": "deleted"}
    best = status.get("best") or {}
    point = {**entry, "state": status.get("state", "unknown"), "dev_f1": None, "per_type": {}, "best_step": None}
    if status.get("state") == "finished" and best.get("strict_f1") is not None:
        point.update(dev_f1=float(best["strict_f1"]), per_type=_best_per_type(run, best), best_step=best.get("step"))
    if status.get("error"):
        point["error"] = status["error"]
    return point


def _state(record: dict, points: list[dict]) -> str:
    """queued / running while any run waits or trains; finished when all finished; else ended (some failed,
    were cancelled or deleted: their points are missing)."""
    if len(record.get("runs", [])) < len(record.get("shares", [])):
        return "queued"
    states = [p["state"] for p in points]
    if "running" in states:
        return "running"
    if "queued" in states:
        return "queued"
    return "finished" if all(s == "finished" for s in states) else "ended"


def read_curve(curve_id: str, runs_dir: str | Path = "runs") -> dict:
    """The curve with every run's current state and scores; written back to its file when they changed."""
    root = Path(runs_dir)
    with _locked(root):
        record = _read(root, curve_id)
        points = [_point(root, entry) for entry in record.get("runs", [])]
        state = _state(record, points)
        types = sorted({t for p in points for t in p["per_type"]})
        if points != record.get("points") or state != record.get("state") or types != record.get("types"):
            record.update(points=points, state=state, types=types, updated=time.strftime("%Y-%m-%dT%H:%M:%S"))
            _write(root, record)
    return record


def update_curve_of(run: Run) -> None:
    """After ``run`` ended: refresh its learning curve's file, if it belongs to one."""
    curve_id = run.read_status().get("curve")
    if curve_id:
        with contextlib.suppress(CurveNotFoundError):  # the curve file was deleted: nothing to update
            read_curve(curve_id, run.path.parent)


def curve_active(record: dict) -> bool:
    return record.get("state") in ACTIVE_STATES


def format_curve(record: dict) -> str:
    """The CLI's table of a curve: share, train sentences, run, state, dev F1 and each type's F1."""
    types = record.get("types") or []
    header = ("SHARE", "SENTENCES", "RUN", "STATE", "DEV F1", *types)
    rows = [header]
    for p in record.get("points", []):
        f1 = "-" if p.get("dev_f1") is None else f"{p['dev_f1']:.4f}"
        per = [f"{p['per_type'][t]:.4f}" if t in p.get("per_type", {}) else "-" for t in types]
        rows.append((f"{p['share']:g}", str(p["train_sentences"]), p["run_id"], p["state"], f1, *per))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    lines = [f"learning curve {record['curve_id']}: {record.get('state')}"]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)

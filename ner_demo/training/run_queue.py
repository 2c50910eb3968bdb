"""The queue of a runs folder: runs that wait their turn behind the one that trains.

A queued run is an ordinary run folder whose status says ``queued`` and not yet ``launched``. Its place
is ``queue_seq``, a number taken from the folder's counter (``.queue_seq``) when it joined the queue,
under the runs folder's lock (``background._locked``): two clients that queue at the same moment get
two different numbers, and everyone sees the same order. Folder names are no order: they sort by
creation second and then by name, so ``-10`` comes before ``-2`` and "b" before "tiny".

Launching, cancelling and the lock live in :mod:`ner_demo.training.background`; this module only reads
and numbers (its callers hold the lock).

>>> [e.run_id for e in queue_entries("runs")]                               # doctest: +SKIP
['20261201-194400-tiny-2', '20261201-194401-lc50']
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ner_demo.training.runs import Run, list_runs

SEQ_FILE = ".queue_seq"
QUEUE_HEADERS = ("POS", "RUN", "NAME", "QUEUED AT", "CURVE")


@dataclass(frozen=True)
class QueueEntry:
    """One waiting run: its place (1 = next to start), id, config name, when it joined, its curve if any."""

    position: int
    run_id: str
    name: str
    queued_at: str
    curve: str | None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def waiting(status: dict) -> bool:
    """Whether a run's status says it waits in the queue (queued, and no process launched for it yet)."""
    return status.get("state") == "queued" and not status.get("launched")


def take_number(root: Path) -> dict:
    """The status fields of a run that joins the queue now: the next ``queue_seq`` and ``queued_at``.

    The caller holds the runs folder's lock: the read-increment-write of the counter is not atomic alone.
    """
    path = Path(root) / SEQ_FILE
    try:
        last = int(path.read_text(encoding="utf-8").strip() or 0)
    except (OSError, ValueError):  # first use, or a counter file someone emptied: start after what is queued
        last = max((_seq(Run(info.path).read_status()) for info in list_runs(root)), default=0)
    path.write_text(f"{last + 1}\n", encoding="utf-8")
    return {"queue_seq": last + 1, "queued_at": time.strftime("%Y-%m-%dT%H:%M:%S")}


def _seq(status: dict) -> int:
    try:
        return int(status.get("queue_seq") or 0)
    except (TypeError, ValueError):
        return 0


def queued_runs(root: str | Path) -> list[Run]:
    """The waiting runs of ``root``, next first: by queue number, then by id (runs queued before the
    numbers existed have none and go first, oldest first)."""
    found = []
    for info in list_runs(root):
        run = Run(info.path)
        status = run.read_status()
        if waiting(status):
            found.append((_seq(status), info.run_id, run))
    return [run for _, _, run in sorted(found, key=lambda item: item[:2])]


def queue_entries(root: str | Path) -> list[QueueEntry]:
    """The queue as people read it: position, run id, name, when queued, curve."""
    entries = []
    for position, run in enumerate(queued_runs(root), start=1):
        status = run.read_status()
        try:
            name = run.config().name
        except Exception:  # an unreadable config.json: the run is still in the queue, shown by its id
            name = ""
        entries.append(QueueEntry(position, run.id, name, str(status.get("queued_at") or status.get("created", "")),
                                  status.get("curve")))
    return entries


def format_queue_table(entries: list[QueueEntry], active: str | None = None) -> str:
    """A plain-text table of the queue (the CLI's ``queue``), with the run that trains now above it."""
    head = f"training now: {active}" if active else "training now: nothing"
    if not entries:
        return head + "\nthe queue is empty"
    rows = [QUEUE_HEADERS] + [(str(e.position), e.run_id, e.name, e.queued_at, e.curve or "-") for e in entries]
    widths = [max(len(row[i]) for row in rows) for i in range(len(QUEUE_HEADERS))]
    return head + "\n" + "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows)

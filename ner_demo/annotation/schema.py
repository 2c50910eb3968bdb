"""The annotation database's tables and its migrations, for SQLite and PostgreSQL alike (SQLAlchemy Core).

The schema is versioned by a one-row table ``schema_version``. :data:`MIGRATIONS` is an ordered list of
``(version, function)``; :func:`migrate` applies, in one transaction each, every migration above the
database's version, so opening an older database brings it up to date and a newer one (written by a later
ner_demo) is refused with a message instead of being misread. A short list of functions is used rather than
Alembic: there are a handful of tables, the migrations must run at open time from inside the installed
package (Alembic wants a scripts folder and an env.py shipped beside it), and a test can stop at any
version to check the step to the next (tests/test_annotation_store.py).

Tables: ``datasets`` (name, source, created), ``labels`` (per dataset: name, colour, key, position),
``examples`` (per dataset: position, text, source id, meta, the words' offsets when the file gave its own
tokenisation), ``decisions`` (per example, append-only: annotator, created, action, spans as a JSON list of
``{start, end, label}`` half-open character offsets, the model and version that suggested them, and
``is_suggestion`` for a model's pre-annotation); since version 3, ``drafts`` (per example and annotator,
one row: the spans being edited and not yet decided, so a reload or a restart shows them again).
"""

from __future__ import annotations

from typing import Callable

from sqlalchemy import (
    JSON, Boolean, Column, DateTime, ForeignKey, Integer, MetaData, String, Table, Text, UniqueConstraint, select,
    text,
)
from sqlalchemy.engine import Connection

from ner_demo.errors import NerDemoError

ACTIONS = ("accept", "reject", "skip", "edit", "suggest")  # "suggest": a model's pre-annotation only

metadata = MetaData()

schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))

datasets = Table(
    "datasets", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("source", Text, nullable=False, default=""),
    Column("created", DateTime(timezone=True), nullable=False),
)

labels = Table(
    "labels", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset_id", Integer, ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("name", String(100), nullable=False),
    Column("colour", String(20), nullable=False),
    Column("key", String(10)),
    UniqueConstraint("dataset_id", "name"),
)

examples = Table(
    "examples", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset_id", Integer, ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("source_id", String(200)),
    Column("meta", JSON),
    Column("tokens", JSON),  # [[start, end], ...] when the source file gave the words (CoNLL), else null
    UniqueConstraint("dataset_id", "position"),
)

decisions = Table(
    "decisions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("example_id", Integer, ForeignKey("examples.id", ondelete="CASCADE"), nullable=False),
    Column("annotator", String(200), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("action", String(20), nullable=False),
    Column("spans", JSON, nullable=False),
    Column("suggested_by", String(500)),
    Column("model_version", String(200)),
    Column("is_suggestion", Boolean, nullable=False, default=False),
    Column("meta", JSON),
)


drafts = Table(
    "drafts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("example_id", Integer, ForeignKey("examples.id", ondelete="CASCADE"), nullable=False),
    Column("annotator", String(200), nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
    Column("spans", JSON, nullable=False),
    UniqueConstraint("example_id", "annotator"),
)
V1_TABLES = (schema_version, datasets, labels, examples, decisions)


class SchemaError(NerDemoError):
    """The database was written by a newer ner_demo, or a migration failed."""


def _v1_tables(conn: Connection) -> None:
    """Version 1: the five tables."""
    metadata.create_all(conn, tables=list(V1_TABLES))


def _v2_decision_index(conn: Connection) -> None:
    """Version 2: an index for "this annotator's latest decision on each example" (next item, undo,
    final annotations), which otherwise scans every decision of the database."""
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_decisions_example_annotator "
                      "ON decisions (example_id, annotator, id)"))
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_examples_dataset ON examples (dataset_id, position)"))


def _v3_drafts(conn: Connection) -> None:
    """Version 3: the edits of the example an annotator is on, saved as they are made (the editor shows
    an edit at once and saves it behind; a decision replaces the draft)."""
    drafts.create(conn, checkfirst=True)


MIGRATIONS: list[tuple[int, Callable[[Connection], None]]] = [
    (1, _v1_tables),
    (2, _v2_decision_index),
    (3, _v3_drafts),
]
LATEST = MIGRATIONS[-1][0]


def current_version(conn: Connection) -> int:
    """0 for an empty database."""
    if not conn.dialect.has_table(conn, "schema_version"):
        return 0
    found = conn.execute(select(schema_version.c.version)).scalar()
    return int(found or 0)


def migrate(engine, target: int = LATEST) -> int:
    """Bring the database up to ``target``, one transaction per migration; returns the version reached.

    Two processes opening a new database at once: on PostgreSQL an advisory lock orders them; on SQLite
    the second waits for the first's write lock, then its CREATE TABLE fails and it reads the version
    again, so each migration runs once."""
    with engine.connect():  # an unreachable server fails here, once, not once per retry below
        pass
    for attempt in range(5):
        try:
            return _migrate_once(engine, target)
        except SchemaError:
            raise
        except Exception:  # noqa: BLE001 - a race with another process creating the same tables; re-read
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def _migrate_once(engine, target: int) -> int:
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(718281828)"))
        version = current_version(conn)
    if version > LATEST:
        raise SchemaError(f"the annotation database is at schema version {version}, newer than this ner_demo "
                          f"knows ({LATEST}); upgrade ner_demo to open it")
    for number, step in MIGRATIONS:
        if number <= version or number > target:
            continue
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(718281828)"))
            if current_version(conn) >= number:  # another process got here first
                continue
            step(conn)
            if number == 1:
                conn.execute(schema_version.insert().values(version=1))
            else:
                conn.execute(schema_version.update().values(version=number))
        version = number
    return version

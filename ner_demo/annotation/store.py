"""The annotation store: datasets, their label sets, examples and every decision, in a real database.

>>> store = AnnotationStore.open("sqlite:///:memory:")              # default: runs/annotations.sqlite3
>>> _ = store.create_dataset("news", ["PER", "LOC"], [ExampleIn("Angela Merkel visited Paris.")])
>>> _ = store.record("news", 0, "ann", "edit", [Span(0, 13, "PER"), Span(22, 27, "LOC")])
>>> store.final_spans("news")[0]
[Span(start=0, end=13, label='PER'), Span(start=22, end=27, label='LOC')]

Every write is its own transaction, committed before the call returns: a kill -9 loses at most the
decision being written. SQLite runs in WAL mode with ``synchronous=FULL``: a commit waits until the
decision is on disk, so not even a power cut loses an acknowledged one (NORMAL would survive a killed
process too, but can lose the last commits on a power cut; one fsync per decision is cheap next to the
seconds a person spends on it: see bench/bench_annotation.py). Writers from other threads or processes
wait for each other (``busy_timeout``) instead of failing. Any SQLAlchemy URL works;
``postgresql://`` is read as ``postgresql+psycopg://`` (psycopg 3).

Decisions are append-only: an example's state for an annotator is their latest decision on it. The
final annotation of an example is the latest decision of the reviewer :data:`FINAL` when there is one,
else the latest human decision of anyone; it counts when it is an accept or an edit (a reject or a skip
leaves the example out of exports and training).

A draft is the spans an annotator is editing on an example and has not decided yet (one row per example
and annotator, replaced by each edit, deleted by their next decision on it): the editor saves each edit
as a draft, so a reload or a restart shows it again. Drafts are never exported or trained on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from sqlalchemy import create_engine, delete, event, func, insert, select, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError

from ner_demo.annotation import schema
from ner_demo.annotation.edits import Span, SpanError, check_spans, label_occurrences, spans_from_dicts, spans_to_dicts
from ner_demo.annotation.schema import ACTIONS, datasets, decisions, drafts, examples, labels
from ner_demo.errors import NerDemoError

DEFAULT_DB = Path("runs") / "annotations.sqlite3"
FINAL = "final"  # the reviewer whose decisions are the resolved version (ner_demo.annotation.review)
IMPORT = "import"  # the annotator of spans that came with the imported file
# Distinct on a white page and for the common colour blindnesses (Okabe-Ito, then Tableau's).
PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#8C564B", "#7F7F7F",
           "#BCBD22", "#17BECF", "#AEC7E8")
SQLITE_BUSY_MS = 30_000


class StoreError(NerDemoError):
    """A request the store refuses: an unknown dataset or example, a name taken, a bad action."""


@dataclass(frozen=True)
class LabelSpec:
    """An entity type of a dataset: its name, its colour (CSS hex) and the key that picks it (or None)."""

    name: str
    colour: str
    key: str | None = None


@dataclass(frozen=True)
class ExampleIn:
    """An example to add: its text, an id from its source, metadata, the words' offsets when the file
    gave its own tokenisation, and spans that came with it (stored as :data:`IMPORT`'s decision)."""

    text: str
    source_id: str | None = None
    meta: dict | None = None
    tokens: list[tuple[int, int]] | None = None
    spans: list[Span] | None = None


@dataclass(frozen=True)
class Example:
    id: int
    position: int
    text: str
    source_id: str | None
    meta: dict
    tokens: list[tuple[int, int]] | None


@dataclass(frozen=True)
class Decision:
    id: int
    position: int
    annotator: str
    created: datetime
    action: str
    spans: list[Span]
    suggested_by: str | None = None
    model_version: str | None = None
    is_suggestion: bool = False
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Draft:
    """Spans an annotator is editing on an example, not decided yet (see the module's docstring)."""

    position: int
    annotator: str
    updated: datetime
    spans: list[Span]


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    source: str
    created: datetime
    labels: list[LabelSpec]
    n_examples: int

    @property
    def label_names(self) -> list[str]:
        return [label.name for label in self.labels]


def label_specs(names: Sequence[str | LabelSpec]) -> list[LabelSpec]:
    """Label specs from names (or specs): colours from :data:`PALETTE`, keys 1-9 in order, none after the
    ninth. Duplicate names, duplicate keys and empty names raise."""
    specs: list[LabelSpec] = []
    for i, item in enumerate(names):
        if isinstance(item, LabelSpec):
            spec = item
        else:
            spec = LabelSpec(str(item).strip(), PALETTE[i % len(PALETTE)], str(i + 1) if i < 9 else None)
        if not spec.name or any(c.isspace() for c in spec.name):
            raise StoreError(f"label name {spec.name!r} must be non-empty and have no spaces")
        specs.append(spec)
    names_seen = [s.name for s in specs]
    if len(set(names_seen)) != len(names_seen):
        raise StoreError(f"label names repeat: {', '.join(names_seen)}")
    keys = [s.key for s in specs if s.key]
    if len(set(keys)) != len(keys):
        raise StoreError(f"label keys repeat: {', '.join(keys)}")
    if not specs:
        raise StoreError("a dataset needs at least one label")
    return specs


def database_url(db: str | os.PathLike | None) -> str:
    """A SQLAlchemy URL from ``db``: None -> the default SQLite file in runs/; a path -> a SQLite file;
    ``postgresql://`` -> psycopg 3's driver; any other URL as it is."""
    if db is None:
        db = DEFAULT_DB
    raw = os.fspath(db)
    if "://" not in raw:
        return f"sqlite:///{Path(raw).expanduser()}"
    if raw.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + raw.split("://", 1)[1]
    return raw


def shown_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unreadable database URL>"


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.close()


class AnnotationStore:
    """Datasets, examples and decisions in one database (see the module's docstring)."""

    def __init__(self, engine: Engine, url: str):
        self.engine = engine
        self.url = url
        self.version = schema.migrate(engine)

    @classmethod
    def open(cls, db: str | os.PathLike | None = None, migrate_to: int | None = None) -> "AnnotationStore":
        """Open (and create or migrate) the database ``db`` (see :func:`database_url`)."""
        url = database_url(db)
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise StoreError(f"{shown_url(url)} is not a database URL (e.g. postgresql://user@host/db or a file path)") from None
        kwargs: dict = {}
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_MS / 1000, "check_same_thread": False}
        else:
            kwargs["pool_pre_ping"] = True
        try:
            engine = create_engine(url, **kwargs)
        except (ArgumentError, ImportError) as exc:
            raise StoreError(f"cannot use database {shown_url(url)}: {exc}") from None
        if parsed.get_backend_name() == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        try:
            if migrate_to is not None:  # tests: stop at an older version
                schema.migrate(engine, migrate_to)
            return cls(engine, url)
        except OperationalError as exc:
            engine.dispose()
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "cannot connect"
            raise StoreError(f"cannot open the annotation database {shown_url(url)}: {reason}") from None

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "AnnotationStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def describe(self) -> str:
        return f"{shown_url(self.url)} (schema version {self.version})"

    # ---- datasets ---------------------------------------------------------------------------------

    def create_dataset(self, name: str, label_set: Sequence[str | LabelSpec], items: Sequence[ExampleIn] = (),
                       source: str = "", spans_as_suggestions: str | None = None) -> DatasetInfo:
        """A new dataset with its labels and examples, in one transaction (all or nothing). Spans that
        come with the examples are :data:`IMPORT`'s decisions, or, with ``spans_as_suggestions`` (a model
        or file name), suggestions by it."""
        name = _check_name(name)
        specs = label_specs(label_set)
        with self.engine.begin() as conn:
            if conn.execute(select(datasets.c.id).where(datasets.c.name == name)).first():
                raise StoreError(f"a dataset named {name!r} exists already; pick another name or delete it")
            try:
                dataset_id = conn.execute(insert(datasets).values(
                    name=name, source=source, created=datetime.now(timezone.utc))).inserted_primary_key[0]
            except IntegrityError:
                raise StoreError(f"a dataset named {name!r} exists already; pick another name or delete it") from None
            conn.execute(insert(labels), [{"dataset_id": dataset_id, "position": i, "name": s.name,
                                           "colour": s.colour, "key": s.key} for i, s in enumerate(specs)])
            self._insert_examples(conn, dataset_id, 0, items, [s.name for s in specs], spans_as_suggestions)
        return self.dataset(name)

    def add_examples(self, name: str, items: Sequence[ExampleIn], spans_as_suggestions: str | None = None) -> int:
        """Append examples to a dataset (one transaction); returns the position of the first."""
        with self.engine.begin() as conn:
            dataset_id = self._dataset_id(conn, name)
            start = conn.execute(select(func.coalesce(func.max(examples.c.position) + 1, 0))
                                 .where(examples.c.dataset_id == dataset_id)).scalar_one()
            names = list(conn.execute(select(labels.c.name).where(labels.c.dataset_id == dataset_id)).scalars())
            self._insert_examples(conn, dataset_id, start, items, names, spans_as_suggestions)
        return start

    def _insert_examples(self, conn, dataset_id: int, start: int, items: Sequence[ExampleIn], names: list[str],
                         spans_as_suggestions: str | None) -> None:
        if not items:
            return
        for i, item in enumerate(items):
            if item.spans:
                try:
                    check_spans(item.text, item.spans, names)
                except SpanError as exc:
                    where = item.source_id or f"example {start + i + 1}"
                    raise StoreError(f"{where}: {exc}") from None
        rows = [{"dataset_id": dataset_id, "position": start + i, "text": item.text, "source_id": item.source_id,
                 "meta": item.meta or {}, "tokens": [list(t) for t in item.tokens] if item.tokens is not None else None}
                for i, item in enumerate(items)]
        conn.execute(insert(examples), rows)
        ids = dict(conn.execute(select(examples.c.position, examples.c.id).where(
            examples.c.dataset_id == dataset_id, examples.c.position >= start)).all())
        now = datetime.now(timezone.utc)
        given = [{"example_id": ids[start + i], "annotator": IMPORT if not spans_as_suggestions else spans_as_suggestions,
                  "created": now, "action": "suggest" if spans_as_suggestions else "accept",
                  "spans": spans_to_dicts(item.spans), "suggested_by": spans_as_suggestions, "model_version": None,
                  "is_suggestion": bool(spans_as_suggestions), "meta": {}}
                 for i, item in enumerate(items) if item.spans is not None]
        if given:
            conn.execute(insert(decisions), given)

    def list_datasets(self) -> list[DatasetInfo]:
        with self.engine.connect() as conn:
            names = list(conn.execute(select(datasets.c.name).order_by(datasets.c.name)).scalars())
        return [self.dataset(n) for n in names]

    def dataset(self, name: str) -> DatasetInfo:
        with self.engine.connect() as conn:
            row = conn.execute(select(datasets).where(datasets.c.name == name)).first()
            if row is None:
                raise self._unknown(conn, name)
            specs = [LabelSpec(r.name, r.colour, r.key) for r in conn.execute(
                select(labels).where(labels.c.dataset_id == row.id).order_by(labels.c.position))]
            count = conn.execute(select(func.count()).select_from(examples)
                                 .where(examples.c.dataset_id == row.id)).scalar_one()
        return DatasetInfo(row.name, row.source, _utc(row.created), specs, int(count))

    def rename_dataset(self, old: str, new: str) -> None:
        new = _check_name(new)
        with self.engine.begin() as conn:
            dataset_id = self._dataset_id(conn, old)
            if conn.execute(select(datasets.c.id).where(datasets.c.name == new)).first():
                raise StoreError(f"a dataset named {new!r} exists already")
            conn.execute(update(datasets).where(datasets.c.id == dataset_id).values(name=new))

    def delete_dataset(self, name: str) -> None:
        """The dataset, its labels, examples and decisions (one transaction)."""
        with self.engine.begin() as conn:
            dataset_id = self._dataset_id(conn, name)
            example_ids = select(examples.c.id).where(examples.c.dataset_id == dataset_id)
            conn.execute(delete(decisions).where(decisions.c.example_id.in_(example_ids)))
            conn.execute(delete(drafts).where(drafts.c.example_id.in_(example_ids)))
            conn.execute(delete(examples).where(examples.c.dataset_id == dataset_id))
            conn.execute(delete(labels).where(labels.c.dataset_id == dataset_id))
            conn.execute(delete(datasets).where(datasets.c.id == dataset_id))

    def set_labels(self, name: str, label_set: Sequence[str | LabelSpec]) -> None:
        """Replace the label set (colours, keys); a label still used by a decision or a draft cannot be dropped."""
        specs = label_specs(label_set)
        used = {s.label for d in self.decisions(name, include_suggestions=True) for s in d.spans}
        with self.engine.connect() as conn:
            dataset_id = self._dataset_id(conn, name)
            for spans in conn.execute(select(drafts.c.spans).join(examples, examples.c.id == drafts.c.example_id)
                                      .where(examples.c.dataset_id == dataset_id)).scalars():
                used |= {s["label"] for s in spans or []}
        missing = sorted(used - {s.name for s in specs})
        if missing:
            raise StoreError(f"labels {', '.join(missing)} are used by decisions or drafts of {name!r}; keep them")
        with self.engine.begin() as conn:
            dataset_id = self._dataset_id(conn, name)
            conn.execute(delete(labels).where(labels.c.dataset_id == dataset_id))
            conn.execute(insert(labels), [{"dataset_id": dataset_id, "position": i, "name": s.name,
                                           "colour": s.colour, "key": s.key} for i, s in enumerate(specs)])

    # ---- examples -----------------------------------------------------------------------------------

    def examples(self, name: str) -> list[Example]:
        with self.engine.connect() as conn:
            dataset_id = self._dataset_id(conn, name)
            rows = conn.execute(select(examples).where(examples.c.dataset_id == dataset_id)
                                .order_by(examples.c.position)).all()
        return [_example(r) for r in rows]

    def texts(self, name: str) -> dict[int, str]:
        """``{position: text}`` in dataset order: what a queue needs, without decoding the rest."""
        with self.engine.connect() as conn:
            dataset_id = self._dataset_id(conn, name)
            return dict(conn.execute(select(examples.c.position, examples.c.text)
                                     .where(examples.c.dataset_id == dataset_id).order_by(examples.c.position)).all())

    def example(self, name: str, position: int) -> Example:
        with self.engine.connect() as conn:
            dataset_id = self._dataset_id(conn, name)
            row = conn.execute(select(examples).where(examples.c.dataset_id == dataset_id,
                                                      examples.c.position == position)).first()
            if row is None:
                count = conn.execute(select(func.count()).select_from(examples)
                                     .where(examples.c.dataset_id == dataset_id)).scalar_one()
                raise StoreError(f"dataset {name!r} has no example {position} (it has positions 0..{count - 1})")
        return _example(row)

    # ---- decisions ------------------------------------------------------------------------------------

    def record(self, name: str, position: int, annotator: str, action: str, spans: Iterable[Span] = (),
               suggested_by: str | None = None, model_version: str | None = None,
               meta: Mapping | None = None) -> Decision:
        """Store one human decision on example ``position``, committed before returning. ``spans`` are
        checked against the text and the label set; skip and reject carry none."""
        if action not in ACTIONS or action == "suggest":
            raise StoreError(f"action {action!r} is not one of accept, reject, skip, edit")
        annotator = _check_annotator(annotator)
        return self._write(name, position, annotator, action, list(spans), suggested_by, model_version,
                           False, dict(meta or {}))

    def suggest(self, name: str, position: int, spans: Iterable[Span], model: str, model_version: str | None = None,
                meta: Mapping | None = None) -> Decision:
        """Store a model's pre-annotation of one example, marked as a suggestion by ``model``."""
        return self._write(name, position, model, "suggest", list(spans), model, model_version, True, dict(meta or {}))

    def suggest_many(self, name: str, items: Sequence[tuple[int, list[Span], dict]], model: str,
                     model_version: str | None = None) -> int:
        """Suggestions for many examples ``(position, spans, meta)`` in one transaction."""
        with self.engine.begin() as conn:
            dataset_id = self._dataset_id(conn, name)
            names = list(conn.execute(select(labels.c.name).where(labels.c.dataset_id == dataset_id)).scalars())
            rows = dict((r.position, r) for r in conn.execute(
                select(examples.c.id, examples.c.position, examples.c.text).where(examples.c.dataset_id == dataset_id)))
            now = datetime.now(timezone.utc)
            out = []
            for position, spans, meta in items:
                row = rows.get(position)
                if row is None:
                    raise StoreError(f"dataset {name!r} has no example {position}")
                spans = [s for s in spans if s.label in names]  # a model's types the dataset does not annotate
                out.append({"example_id": row.id, "annotator": model, "created": now, "action": "suggest",
                            "spans": spans_to_dicts(check_spans(row.text, spans, names)), "suggested_by": model,
                            "model_version": model_version, "is_suggestion": True, "meta": meta or {}})
            if out:
                conn.execute(insert(decisions), out)
        return len(out)

    def _checked_spans(self, conn, name: str, position: int, spans: list[Span]):
        """(example row, ``spans`` checked against its text and its dataset's labels), or a StoreError."""
        row = conn.execute(
            select(examples.c.id, examples.c.text, datasets.c.id.label("dataset_id"))
            .join(datasets, datasets.c.id == examples.c.dataset_id)
            .where(datasets.c.name == name, examples.c.position == position)).first()
        if row is None:
            raise self._missing_example(conn, name, position)
        names = list(conn.execute(select(labels.c.name).where(labels.c.dataset_id == row.dataset_id)).scalars())
        try:
            return row, check_spans(row.text, spans, names)
        except SpanError as exc:
            raise StoreError(f"example {position}: {exc}") from None

    def _write(self, name, position, annotator, action, spans, suggested_by, model_version, is_suggestion, meta):
        with self.engine.begin() as conn:
            if action in ("skip", "reject") and spans and not is_suggestion:
                spans = []  # nothing to keep: the example is passed over or refused as a whole
            row, checked = self._checked_spans(conn, name, position, spans)
            created = datetime.now(timezone.utc)
            if not is_suggestion:  # the decision replaces what the annotator was editing
                conn.execute(delete(drafts).where(drafts.c.example_id == row.id, drafts.c.annotator == annotator))
            new_id = conn.execute(insert(decisions).values(
                example_id=row.id, annotator=annotator, created=created, action=action,
                spans=spans_to_dicts(checked), suggested_by=suggested_by, model_version=model_version,
                is_suggestion=is_suggestion, meta=meta)).inserted_primary_key[0]
        return Decision(int(new_id), position, annotator, created, action, checked, suggested_by, model_version,
                        is_suggestion, meta)

    def save_draft(self, name: str, position: int, annotator: str, spans: Iterable[Span]) -> Draft:
        """Save ``annotator``'s undecided spans on example ``position`` (checked; replacing their previous
        draft of it), committed before returning."""
        annotator = _check_annotator(annotator)
        with self.engine.begin() as conn:
            row, checked = self._checked_spans(conn, name, position, list(spans))
            updated = datetime.now(timezone.utc)
            # Delete and insert (not an upsert: the same statements on SQLite and PostgreSQL), one transaction.
            conn.execute(delete(drafts).where(drafts.c.example_id == row.id, drafts.c.annotator == annotator))
            conn.execute(insert(drafts).values(example_id=row.id, annotator=annotator, updated=updated,
                                               spans=spans_to_dicts(checked)))
        return Draft(position, annotator, updated, checked)

    def draft(self, name: str, position: int, annotator: str) -> Draft | None:
        """``annotator``'s draft of example ``position``, or None."""
        return self.drafts(name, annotator, position).get(position)

    def drafts(self, name: str, annotator: str, position: int | None = None) -> dict[int, Draft]:
        """``{position: draft}``: ``annotator``'s drafts in the dataset (or of the example at ``position``)."""
        with self.engine.connect() as conn:
            dataset_id = self._dataset_id(conn, name)
            query = (select(drafts, examples.c.position).join(examples, examples.c.id == drafts.c.example_id)
                     .where(examples.c.dataset_id == dataset_id, drafts.c.annotator == annotator))
            if position is not None:
                query = query.where(examples.c.position == position)
            rows = conn.execute(query).all()
        return {int(r.position): Draft(int(r.position), r.annotator, _utc(r.updated), spans_from_dicts(r.spans or []))
                for r in rows}

    def undo(self, name: str, annotator: str) -> Decision | None:
        """Remove ``annotator``'s latest decision in the dataset (committed); returns it, or None."""
        with self.engine.begin() as conn:
            dataset_id = self._dataset_id(conn, name)
            row = conn.execute(
                select(decisions, examples.c.position).join(examples, examples.c.id == decisions.c.example_id)
                .where(examples.c.dataset_id == dataset_id, decisions.c.annotator == annotator,
                       decisions.c.is_suggestion.is_(False))
                .order_by(decisions.c.id.desc()).limit(1)).first()
            if row is None:
                return None
            conn.execute(delete(decisions).where(decisions.c.id == row.id))
        return _decision(row)

    def decisions(self, name: str, annotator: str | None = None, include_suggestions: bool = False) -> list[Decision]:
        """Every decision of the dataset, oldest first (optionally of one annotator)."""
        with self.engine.connect() as conn:
            dataset_id = self._dataset_id(conn, name)
            query = (select(decisions, examples.c.position).join(examples, examples.c.id == decisions.c.example_id)
                     .where(examples.c.dataset_id == dataset_id).order_by(decisions.c.id))
            if annotator is not None:
                query = query.where(decisions.c.annotator == annotator)
            if not include_suggestions:
                query = query.where(decisions.c.is_suggestion.is_(False))
            rows = conn.execute(query).all()
        return [_decision(r) for r in rows]

    def latest(self, name: str, annotator: str, position: int | None = None) -> dict[int, Decision]:
        """``{position: decision}``: ``annotator``'s latest decision on each example they decided (or on
        the one at ``position``)."""
        with self.engine.connect() as conn:
            dataset_id = self._dataset_id(conn, name)
            newest = (select(func.max(decisions.c.id)).join(examples, examples.c.id == decisions.c.example_id)
                      .where(examples.c.dataset_id == dataset_id, decisions.c.annotator == annotator)
                      .group_by(decisions.c.example_id))
            if position is not None:
                newest = newest.where(examples.c.position == position)
            rows = conn.execute(select(decisions, examples.c.position)
                                .join(examples, examples.c.id == decisions.c.example_id)
                                .where(decisions.c.id.in_(newest))).all()
        return {r.position: _decision(r) for r in rows}

    def decided_positions(self, name: str, annotator: str) -> set[int]:
        """Positions ``annotator`` has decided (any action): what the queue passes over."""
        with self.engine.connect() as conn:
            dataset_id = self._dataset_id(conn, name)
            return set(conn.execute(
                select(examples.c.position).distinct().join(decisions, decisions.c.example_id == examples.c.id)
                .where(examples.c.dataset_id == dataset_id, decisions.c.annotator == annotator)).scalars())

    def annotators(self, name: str) -> list[str]:
        """People who decided something in the dataset (no models, no import)."""
        return sorted({d.annotator for d in self.decisions(name)} - {IMPORT})

    def suggestions(self, name: str, model: str | None = None, position: int | None = None) -> dict[int, Decision]:
        """``{position: suggestion}``: the latest suggestion on each example (by ``model``, or by any;
        of every example, or of the one at ``position``)."""
        with self.engine.connect() as conn:
            dataset_id = self._dataset_id(conn, name)
            newest = (select(func.max(decisions.c.id)).join(examples, examples.c.id == decisions.c.example_id)
                      .where(examples.c.dataset_id == dataset_id, decisions.c.is_suggestion.is_(True))
                      .group_by(decisions.c.example_id))
            if position is not None:
                newest = newest.where(examples.c.position == position)
            if model is not None:
                newest = newest.where(decisions.c.suggested_by == model)
            rows = conn.execute(select(decisions, examples.c.position)
                                .join(examples, examples.c.id == decisions.c.example_id)
                                .where(decisions.c.id.in_(newest))).all()
        return {r.position: _decision(r) for r in rows}

    def models(self, name: str) -> list[str]:
        """The models (and files) that suggested spans in the dataset."""
        with self.engine.connect() as conn:
            dataset_id = self._dataset_id(conn, name)
            return sorted(set(conn.execute(
                select(decisions.c.suggested_by).distinct().join(examples, examples.c.id == decisions.c.example_id)
                .where(examples.c.dataset_id == dataset_id, decisions.c.is_suggestion.is_(True))).scalars()) - {None})

    def final_decisions(self, name: str) -> dict[int, Decision]:
        """``{position: decision}``: each example's final decision (see the module's docstring), any action."""
        with self.engine.connect() as conn:
            dataset_id = self._dataset_id(conn, name)
            rows = conn.execute(
                select(decisions, examples.c.position).join(examples, examples.c.id == decisions.c.example_id)
                .where(examples.c.dataset_id == dataset_id, decisions.c.is_suggestion.is_(False))
                .order_by(decisions.c.id)).all()
        final: dict[int, Decision] = {}
        reviewed: set[int] = set()
        for row in rows:
            if row.annotator == FINAL:
                reviewed.add(row.position)
                final[row.position] = _decision(row)
            elif row.position not in reviewed:
                final[row.position] = _decision(row)
        return final

    def final_spans(self, name: str) -> dict[int, list[Span]]:
        """``{position: spans}`` of the examples whose final decision is an accept or an edit."""
        return {p: d.spans for p, d in sorted(self.final_decisions(name).items()) if d.action in ("accept", "edit")}

    def current_spans(self, name: str, position: int, annotator: str) -> tuple[list[Span], Decision | None]:
        """What ``annotator`` sees on an example: their latest decision's spans, else the latest
        suggestion's, else the imported spans, else none; with the decision they came from."""
        mine = self.latest(name, annotator, position).get(position)
        if mine is not None and mine.action in ("accept", "edit"):
            return mine.spans, mine
        suggestion = self.suggestions(name, position=position).get(position)
        if suggestion is not None:
            return suggestion.spans, suggestion
        given = self.latest(name, IMPORT, position).get(position)
        return (given.spans, given) if given is not None else ([], None)

    def label_all_occurrences(self, name: str, form: str, label: str, annotator: str) -> dict[str, int]:
        """Label every whole-word occurrence of ``form`` in the dataset ``label``: one ``edit`` decision by
        ``annotator`` for each example that changes, starting from what they see on it (their own spans,
        else the suggestion), all in one transaction. Returns the counts."""
        info = self.dataset(name)
        if label not in info.label_names:
            raise StoreError(f"label {label!r} is not in {name!r}'s label set ({', '.join(info.label_names)})")
        mine, suggested, given = self.latest(name, annotator), self.suggestions(name), self.latest(name, IMPORT)
        editing = self.drafts(name, annotator)
        totals = {"examples": 0, "added": 0, "relabelled": 0, "skipped": 0}
        now = datetime.now(timezone.utc)
        rows = []
        for ex in self.examples(name):
            if form not in ex.text:
                continue
            base = mine.get(ex.position) or suggested.get(ex.position) or given.get(ex.position)
            spans = base.spans if base is not None and base.action in ("accept", "edit", "suggest") else []
            if ex.position in editing:  # what they were editing there, not what they last decided
                spans = editing[ex.position].spans
            result = label_occurrences(ex.text, spans, form, label)
            totals["skipped"] += result.skipped
            if not (result.added or result.relabelled):
                continue
            totals["examples"] += 1
            totals["added"] += result.added
            totals["relabelled"] += result.relabelled
            rows.append({"example_id": ex.id, "annotator": annotator, "created": now, "action": "edit",
                         "spans": spans_to_dicts(result.spans),
                         "suggested_by": base.suggested_by if base is not None else None,
                         "model_version": base.model_version if base is not None else None,
                         "is_suggestion": False, "meta": {"all_occurrences": form}})
        if rows:
            with self.engine.begin() as conn:
                conn.execute(delete(drafts).where(drafts.c.annotator == annotator,
                                                  drafts.c.example_id.in_([r["example_id"] for r in rows])))
                conn.execute(insert(decisions), rows)
        return totals

    def next_position(self, name: str, annotator: str, order: Sequence[int] | None = None) -> int | None:
        """The first example in ``order`` (default: dataset order) that ``annotator`` has not decided."""
        decided = self.decided_positions(name, annotator)
        if order is None:
            with self.engine.connect() as conn:
                dataset_id = self._dataset_id(conn, name)
                query = select(examples.c.position).where(examples.c.dataset_id == dataset_id)
                if decided:
                    query = query.where(examples.c.position.not_in(decided))
                return conn.execute(query.order_by(examples.c.position).limit(1)).scalar()
        return next((p for p in order if p not in decided), None)

    def stats(self, name: str) -> dict:
        """Counts for a dataset: examples, decisions per action and annotator, final entities per type."""
        info = self.dataset(name)
        per_action: dict[str, int] = {}
        per_annotator: dict[str, int] = {}
        for d in self.decisions(name):
            per_action[d.action] = per_action.get(d.action, 0) + 1
            per_annotator[d.annotator] = per_annotator.get(d.annotator, 0) + 1
        final = self.final_spans(name)
        per_type = {label: 0 for label in info.label_names}
        for spans in final.values():
            for span in spans:
                per_type[span.label] = per_type.get(span.label, 0) + 1
        return {"dataset": name, "examples": info.n_examples, "annotated": len(final),
                "suggested": len(self.suggestions(name)), "decisions": per_action, "annotators": per_annotator,
                "entities": per_type, "models": self.models(name)}

    # ---- helpers --------------------------------------------------------------------------------------

    def _dataset_id(self, conn, name: str) -> int:
        found = conn.execute(select(datasets.c.id).where(datasets.c.name == name)).scalar()
        if found is None:
            raise self._unknown(conn, name)
        return int(found)

    def _unknown(self, conn, name: str) -> StoreError:
        names = list(conn.execute(select(datasets.c.name).order_by(datasets.c.name)).scalars())
        known = ", ".join(names) if names else "none yet"
        return StoreError(f"no annotation dataset named {name!r} (datasets: {known})")

    def _missing_example(self, conn, name: str, position: int) -> StoreError:
        dataset_id = self._dataset_id(conn, name)
        count = conn.execute(select(func.count()).select_from(examples)
                             .where(examples.c.dataset_id == dataset_id)).scalar_one()
        return StoreError(f"dataset {name!r} has no example {position} (it has positions 0..{count - 1})")


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 200 or any(ord(c) < 32 for c in name) or ":" in name or "@" in name:
        # ':' and '@' separate the parts of a data source: annotation:<name>@<database>
        raise StoreError(f"dataset name {name!r} must be 1-200 printable characters without ':' or '@'")
    return name


def _check_annotator(annotator: str) -> str:
    annotator = (annotator or "").strip()
    if not annotator or len(annotator) > 200:
        raise StoreError("an annotator name is needed (1-200 characters)")
    if annotator == IMPORT:
        raise StoreError(f"{IMPORT!r} is reserved for spans that came with an imported file")
    return annotator


def _example(row) -> Example:
    tokens = [tuple(t) for t in row.tokens] if row.tokens is not None else None
    return Example(int(row.id), int(row.position), row.text, row.source_id, dict(row.meta or {}), tokens)


def _decision(row) -> Decision:
    return Decision(int(row.id), int(row.position), row.annotator, _utc(row.created), row.action,
                    spans_from_dicts(row.spans or []), row.suggested_by, row.model_version, bool(row.is_suggestion),
                    dict(row.meta or {}))

"""The annotation store, each test on SQLite and on a PostgreSQL server the tests start (annotation_db.py)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from annotation_db import db_url, postgres_server  # noqa: F401  (fixtures)
from sqlalchemy import inspect, text

from ner_demo.annotation import schema
from ner_demo.annotation.edits import Span
from ner_demo.annotation.store import FINAL, AnnotationStore, ExampleIn, LabelSpec, StoreError

ROOT = Path(__file__).resolve().parent.parent
TEXTS = ["Angela Merkel visited Paris .", "Paris is in France .", "John works for Acme Corp ."]


@pytest.fixture
def store(db_url):
    with AnnotationStore.open(db_url) as opened:
        opened.create_dataset("news", ["PER", "LOC", "ORG"], [ExampleIn(t, f"s{i}") for i, t in enumerate(TEXTS)])
        yield opened


def test_a_new_dataset_lists_its_labels_with_colours_and_number_keys(store):
    info = store.list_datasets()[0]
    assert (info.name, info.n_examples, [(s.name, s.key) for s in info.labels]) == (
        "news", 3, [("PER", "1"), ("LOC", "2"), ("ORG", "3")])


def test_custom_label_specs_keep_their_colour_and_key(db_url):
    with AnnotationStore.open(db_url) as store:
        info = store.create_dataset("med", [LabelSpec("DRUG", "#ff0000", "d")], [ExampleIn("aspirin")])
        assert info.labels == [LabelSpec("DRUG", "#ff0000", "d")]


def test_a_taken_name_is_refused(store):
    with pytest.raises(StoreError, match="exists already"):
        store.create_dataset("news", ["PER"], [ExampleIn("x")])


def test_rename_keeps_the_decisions(store):
    store.record("news", 0, "ann", "accept", [Span(0, 13, "PER")])
    store.rename_dataset("news", "press")
    assert store.final_spans("press") == {0: [Span(0, 13, "PER")]}


def test_delete_removes_the_dataset_and_its_decisions(store):
    store.record("news", 0, "ann", "accept", [Span(0, 13, "PER")])
    store.delete_dataset("news")
    with store.engine.connect() as conn:
        left = conn.execute(text("SELECT COUNT(*) FROM decisions")).scalar_one()
    assert (store.list_datasets(), left) == ([], 0)


def test_an_unknown_dataset_is_named_with_the_known_ones(store):
    with pytest.raises(StoreError, match=r"no annotation dataset named 'nope' \(datasets: news\)"):
        store.examples("nope")


def test_a_decision_keeps_annotator_time_action_model_and_spans(store):
    store.record("news", 1, "ann", "edit", [Span(0, 5, "LOC")], suggested_by="tiny", model_version="abc")
    d = store.latest("news", "ann")[1]
    assert (d.annotator, d.action, d.spans, d.suggested_by, d.model_version, d.created.tzinfo is not None) == (
        "ann", "edit", [Span(0, 5, "LOC")], "tiny", "abc", True)


def test_overlapping_spans_are_refused(store):
    with pytest.raises(StoreError, match="overlap"):
        store.record("news", 0, "ann", "edit", [Span(0, 13, "PER"), Span(7, 13, "PER")])


def test_a_label_outside_the_set_is_refused(store):
    with pytest.raises(StoreError, match="not in this dataset's label set"):
        store.record("news", 0, "ann", "edit", [Span(0, 6, "MISC")])


def test_an_unknown_action_is_refused(store):
    with pytest.raises(StoreError, match="not one of accept, reject, skip, edit"):
        store.record("news", 0, "ann", "approve")


def test_undo_removes_the_latest_decision_of_that_annotator(store):
    store.record("news", 0, "ann", "accept", [Span(0, 13, "PER")])
    store.record("news", 1, "ann", "reject")
    undone = store.undo("news", "ann")
    assert (undone.position, sorted(store.latest("news", "ann"))) == (1, [0])


def test_suggestions_are_marked_and_not_final(store):
    store.suggest("news", 0, [Span(0, 13, "PER")], "tiny", "v1")
    suggestion = store.suggestions("news")[0]
    assert (suggestion.is_suggestion, suggestion.suggested_by, suggestion.model_version, store.final_spans("news")) == (
        True, "tiny", "v1", {})


def test_the_final_version_prefers_the_reviewer_and_leaves_out_rejects(store):
    store.record("news", 0, "ann", "accept", [Span(0, 13, "PER")])
    store.record("news", 0, "bob", "edit", [Span(0, 6, "PER")])
    store.record("news", 0, FINAL, "edit", [Span(0, 13, "PER")])
    store.record("news", 0, "bob", "edit", [Span(0, 6, "PER")])
    store.record("news", 1, "ann", "reject")
    assert store.final_spans("news") == {0: [Span(0, 13, "PER")]}


def test_next_position_passes_over_decided_examples(store):
    store.record("news", 0, "ann", "accept")
    store.record("news", 2, "ann", "skip")
    assert (store.next_position("news", "ann"), store.next_position("news", "ann", [2, 0, 1]),
            store.next_position("news", "bob")) == (1, 1, 0)


def test_label_all_occurrences_edits_every_example_with_the_form(store):
    totals = store.label_all_occurrences("news", "Paris", "LOC", "ann")
    assert (totals["examples"], store.final_spans("news")) == (
        2, {0: [Span(22, 27, "LOC")], 1: [Span(0, 5, "LOC")]})


def test_two_threads_writing_at_once_both_land(store):
    barrier = threading.Barrier(2)

    def write(who):
        barrier.wait()
        for i in range(20):
            store.record("news", i % 3, who, "accept")

    threads = [threading.Thread(target=write, args=(who,)) for who in ("ann", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (len(store.decisions("news", "ann")), len(store.decisions("news", "bob"))) == (20, 20)


_WRITER = """
import sys
from ner_demo.annotation.store import AnnotationStore
store = AnnotationStore.open(sys.argv[1])
for i in range(int(sys.argv[3])):
    store.record("news", i % 3, sys.argv[2], "accept")
    print(i + 1, flush=True)
"""


def test_two_processes_writing_at_once_both_land(store, db_url):
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, db_url, who, "15"], cwd=ROOT, stdout=subprocess.PIPE)
             for who in ("ann", "bob")]
    codes = [p.wait(timeout=120) for p in procs]
    assert (codes, len(store.decisions("news", "ann")), len(store.decisions("news", "bob"))) == ([0, 0], 15, 15)


def test_kill_9_loses_no_acknowledged_decision(store, db_url):
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, db_url, "ann", "100000"], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    acknowledged = 0
    deadline = time.monotonic() + 120  # a safety net only: the loop ends on the 25th acknowledgement
    while acknowledged < 25 and time.monotonic() < deadline:
        acknowledged = int(proc.stdout.readline())
    proc.kill()  # SIGKILL
    proc.wait(timeout=30)
    with AnnotationStore.open(db_url) as reopened:
        stored = len(reopened.decisions("news", "ann"))
    assert acknowledged == 25 and stored >= acknowledged


def test_an_older_schema_is_migrated_at_open(db_url):
    AnnotationStore.open(db_url, migrate_to=1).close()
    with AnnotationStore.open(db_url) as store:
        indexes = {ix["name"] for ix in inspect(store.engine).get_indexes("decisions")}
        assert (store.version, "ix_decisions_example_annotator" in indexes) == (schema.LATEST, True)


def test_a_newer_schema_is_refused(db_url):
    with AnnotationStore.open(db_url) as store:
        with store.engine.begin() as conn:
            conn.execute(schema.schema_version.update().values(version=schema.LATEST + 1))
    with pytest.raises(schema.SchemaError, match="newer than this ner_demo knows"):
        AnnotationStore.open(db_url)


def test_sqlite_runs_in_wal_mode_with_full_sync(tmp_path):
    with AnnotationStore.open(tmp_path / "a.sqlite3") as store:
        with store.engine.connect() as conn:
            modes = (conn.execute(text("PRAGMA journal_mode")).scalar(), conn.execute(text("PRAGMA synchronous")).scalar())
    assert modes == ("wal", 2)


def test_an_unreachable_server_is_named_without_its_password():
    with pytest.raises(StoreError) as caught:
        AnnotationStore.open("postgresql://me:secret@/db?host=/nonexistent-socket-folder")
    assert "cannot open the annotation database" in str(caught.value) and "secret" not in str(caught.value)


def test_a_dataset_name_with_sql_in_it_is_only_a_name(store):
    hostile = "x'); DROP TABLE examples; --"
    store.create_dataset(hostile, ["PER"], [ExampleIn("John")])
    assert ([d.name for d in store.list_datasets()], store.examples("news")[0].text) == (["news", hostile], TEXTS[0])


def test_a_dataset_name_with_a_colon_is_refused(store):
    with pytest.raises(StoreError, match="without ':' or '@'"):
        store.create_dataset("a:b", ["PER"], [ExampleIn("John")])


def test_an_annotator_cannot_pose_as_the_import(store):
    with pytest.raises(StoreError, match="reserved for spans that came with an imported file"):
        store.record("news", 0, "import", "accept")


def test_a_draft_is_kept_until_the_annotators_next_decision_on_it(store):
    store.save_draft("news", 0, "ann", [Span(0, 13, "PER")])
    store.save_draft("news", 0, "ann", [Span(0, 13, "PER"), Span(22, 27, "LOC")])  # replaces the first
    kept = store.draft("news", 0, "ann").spans
    store.record("news", 0, "ann", "edit", [Span(0, 13, "PER")])
    assert (kept, store.draft("news", 0, "ann"), store.decided_positions("news", "ann")) == (
        [Span(0, 13, "PER"), Span(22, 27, "LOC")], None, {0})


def test_a_draft_is_not_a_decision_and_is_per_annotator(store):
    store.save_draft("news", 1, "ann", [Span(0, 5, "LOC")])
    assert (store.decided_positions("news", "ann"), store.draft("news", 1, "bo"), store.final_spans("news")) == (
        set(), None, {})


def test_a_draft_with_a_label_outside_the_set_is_refused(store):
    with pytest.raises(StoreError, match=r"example 0: label 'DRUG' is not in this dataset's label set"):
        store.save_draft("news", 0, "ann", [Span(0, 6, "DRUG")])


def test_labelling_every_occurrence_starts_from_the_draft_and_replaces_it(store):
    store.save_draft("news", 1, "ann", [Span(12, 18, "LOC")])  # "Paris is in France .": France
    store.label_all_occurrences("news", "Paris", "LOC", "ann")
    assert (store.latest("news", "ann")[1].spans, store.draft("news", 1, "ann")) == (
        [Span(0, 5, "LOC"), Span(12, 18, "LOC")], None)


def test_a_version_2_database_gets_the_drafts_table(db_url):
    AnnotationStore.open(db_url, migrate_to=2).close()
    with AnnotationStore.open(db_url) as store:
        assert (store.version, "drafts" in inspect(store.engine).get_table_names()) == (3, True)


def test_a_label_a_draft_uses_cannot_be_dropped(store):
    store.save_draft("news", 1, "ann", [Span(0, 5, "LOC")])
    with pytest.raises(StoreError, match="labels LOC are used by decisions or drafts of 'news'; keep them"):
        store.set_labels("news", ["PER", "ORG"])

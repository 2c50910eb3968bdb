"""``annotate``: what a user types and reads (in-process, on a SQLite file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ner_demo.annotation.edits import Span
from ner_demo.annotation.store import AnnotationStore
from ner_demo.cli import main

DATA = Path(__file__).parent / "data"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "a.sqlite3")


def test_create_from_a_txt_file_with_named_labels(capsys, db, tmp_path):
    (tmp_path / "t.txt").write_text("John lives in Paris .\nMary left .\n", encoding="utf-8")
    code, out, _ = run(capsys, "annotate", "create", "news", "--file", str(tmp_path / "t.txt"),
                       "--labels", "PER,LOC", "--db", db)
    assert (code, "created 'news': 2 examples from t.txt; labels PER (1), LOC (2)" in out) == (0, True)


def test_create_from_a_split_takes_its_types(capsys, db):
    code, _, _ = run(capsys, "annotate", "create", "dev", "--split", f"{DATA / 'dev_tiny.conll'}:dev", "--db", db)
    code, out, _ = run(capsys, "annotate", "list", "--json", "--db", db)
    rows = json.loads(out)
    assert (code, rows[0]["name"], rows[0]["labels"], rows[0]["annotated"] == rows[0]["examples"]) == (
        0, "dev", ["LOC", "ORG", "PER"], True)


def test_rename_and_delete(capsys, db):
    run(capsys, "annotate", "create", "a", "--file", str(DATA / "dev_tiny.conll"), "--db", db)
    run(capsys, "annotate", "rename", "a", "b", "--db", db)
    code, out, _ = run(capsys, "annotate", "delete", "b", "--db", db)
    assert (code, out.strip(), AnnotationStore.open(db).list_datasets()) == (0, "deleted 'b'", [])


def test_an_unknown_dataset_is_one_clear_line(capsys, db):
    code, _, err = run(capsys, "annotate", "stats", "nope", "--db", db)
    assert (code, err) == (1, "error: no annotation dataset named 'nope' (datasets: none yet)\n")


def test_export_writes_the_final_annotations_as_conll(capsys, db, tmp_path):
    run(capsys, "annotate", "create", "a", "--file", str(DATA / "dev_tiny.conll"), "--db", db)
    code, out, _ = run(capsys, "annotate", "export", "a", "--out", str(tmp_path / "a.conll"), "--db", db)
    assert (code, (tmp_path / "a.conll").read_text().split("\n")[2]) == (0, "Arlo B-PER")


def test_import_adds_an_export_to_another_dataset(capsys, db, tmp_path):
    run(capsys, "annotate", "create", "a", "--file", str(DATA / "dev_tiny.conll"), "--db", db)
    run(capsys, "annotate", "export", "a", "--format", "jsonl", "--out", str(tmp_path / "a.jsonl"), "--db", db)
    run(capsys, "annotate", "create", "b", "--file", str(tmp_path / "a.jsonl"), "--db", db)
    with AnnotationStore.open(db) as store:
        assert store.final_spans("b") == store.final_spans("a")


def test_agreement_prints_per_type_rows(capsys, db, tmp_path):
    (tmp_path / "t.txt").write_text("John lives in Paris .\n", encoding="utf-8")
    run(capsys, "annotate", "create", "a", "--file", str(tmp_path / "t.txt"), "--labels", "PER,LOC", "--db", db)
    with AnnotationStore.open(db) as store:
        store.record("a", 0, "ann", "edit", [Span(0, 4, "PER"), Span(14, 19, "LOC")])
        store.record("a", 0, "bob", "edit", [Span(0, 4, "PER")])
    code, out, _ = run(capsys, "annotate", "agreement", "a", "ann", "bob", "--json", "--db", db)
    assert (code, [(t["label"], t["f1"]) for t in json.loads(out)["types"]]) == (
        0, [("LOC", 0.0), ("PER", 1.0), ("all", 0.6667)])


def test_pre_annotate_with_a_model(capsys, db, tmp_path, tiny_model_dir):
    (tmp_path / "t.txt").write_text("John lives in Paris .\n", encoding="utf-8")
    run(capsys, "annotate", "create", "a", "--file", str(tmp_path / "t.txt"), "--model", str(tiny_model_dir), "--db", db)
    code, out, _ = run(capsys, "annotate", "pre-annotate", "a", "--model", str(tiny_model_dir), "--db", db)
    assert (code, out.startswith("stored 1 suggestions"), AnnotationStore.open(db).models("a")) == (0, True, ["model"])

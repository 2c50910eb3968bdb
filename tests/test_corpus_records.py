"""tag-corpus's readers: every format, every kind of bad record (with its file and line), streaming."""

from __future__ import annotations

import json
import tracemalloc

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ner_demo.corpus import records
from ner_demo.corpus.records import CorpusError, Record, Reject, count_items, input_files, iter_records


def _items(path, **kwargs):
    return list(iter_records(path, **kwargs))


def test_a_txt_file_gives_a_record_a_line_with_file_and_line_ids(tmp_path):
    (tmp_path / "a.txt").write_text("John lives in Paris\n\n  \nMary works\n", encoding="utf-8")
    assert _items(tmp_path / "a.txt") == [Record("a.txt:1", "John lives in Paris", "a.txt", 1),
                                         Record("a.txt:4", "Mary works", "a.txt", 4)]


def test_txt_lines_end_at_crlf_and_at_a_lone_cr(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"one\r\ntwo\rthree\n")
    assert [(r.line, r.text) for r in _items(tmp_path / "a.txt")] == [(1, "one"), (2, "two"), (3, "three")]


def test_a_byte_order_mark_is_not_part_of_the_first_text(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"\xef\xbb\xbfParis\n")
    assert [r.text for r in _items(tmp_path / "a.txt")] == ["Paris"]


def test_jsonl_reads_the_named_text_field_and_id_field(tmp_path):
    lines = [{"body": "John lives in Paris", "doc": "d1"}, {"body": "Mary", "doc": 7}]
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    assert _items(tmp_path / "a.jsonl", text_field="body", id_field="doc") == [
        Record("d1", "John lives in Paris", "a.jsonl", 1), Record("7", "Mary", "a.jsonl", 2)]


def test_jsonl_without_an_id_field_ids_records_by_file_and_line(tmp_path):
    (tmp_path / "a.jsonl").write_text('\n{"text": "Paris"}\n', encoding="utf-8")
    assert [r.id for r in _items(tmp_path / "a.jsonl")] == ["a.jsonl:2"]


def test_invalid_json_is_a_reject_with_file_and_line_and_the_next_line_is_read(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": "a"}\n{"text": \n{"text": "b"}\n', encoding="utf-8")
    assert _items(tmp_path / "a.jsonl") == [
        Record("a.jsonl:1", "a", "a.jsonl", 1),
        Reject("a.jsonl", 2, "not JSON (Expecting value at column 10)"),
        Record("a.jsonl:3", "b", "a.jsonl", 3)]


def test_a_missing_text_field_is_a_reject_naming_the_fields_there(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"body": "a", "id": 1}\n', encoding="utf-8")
    assert _items(tmp_path / "a.jsonl") == [Reject("a.jsonl", 1, "no field 'text' (fields: 'body', 'id')")]


def test_a_text_field_that_is_not_a_string_is_a_reject(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": null}\n{"text": 3}\n', encoding="utf-8")
    assert _items(tmp_path / "a.jsonl") == [Reject("a.jsonl", 1, "field 'text' is null, not a string"),
                                           Reject("a.jsonl", 2, "field 'text' is an int, not a string")]


def test_a_json_line_that_is_not_an_object_is_a_reject(tmp_path):
    (tmp_path / "a.jsonl").write_text('["text"]\n', encoding="utf-8")
    assert _items(tmp_path / "a.jsonl") == [Reject("a.jsonl", 1, "a JSON list, not an object with a field 'text'")]


def test_a_missing_or_bad_id_field_is_a_reject(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": "a"}\n{"text": "b", "id": [1]}\n', encoding="utf-8")
    assert _items(tmp_path / "a.jsonl", id_field="id") == [
        Reject("a.jsonl", 1, "no id field 'id'"),
        Reject("a.jsonl", 2, "id field 'id' is a list, not a string or an integer")]


def test_bytes_that_are_not_utf8_reject_their_line_only(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"Paris\nbad \xff\xfe here\nBerlin\n")
    assert _items(tmp_path / "a.txt") == [
        Record("a.txt:1", "Paris", "a.txt", 1),
        Reject("a.txt", 2, "not UTF-8: byte 0xff at byte 5 of the line"),
        Record("a.txt:3", "Berlin", "a.txt", 3)]


def test_non_utf8_in_a_jsonl_line_is_a_reject_with_its_line(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(b'{"text": "caf\xe9"}\n{"text": "ok"}\n')
    assert [type(i).__name__ for i in _items(tmp_path / "a.jsonl")] == ["Reject", "Record"]
    assert _items(tmp_path / "a.jsonl")[0].line == 1


def test_a_lone_surrogate_from_a_json_escape_is_a_reject(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": "a\\ud800b"}\n', encoding="utf-8")
    assert _items(tmp_path / "a.jsonl") == [
        Reject("a.jsonl", 1, "the text holds a lone surrogate \\ud800 at character 2 (half of a character)")]


def test_a_line_over_the_limit_is_a_reject_and_is_skipped_without_losing_the_next(tmp_path, monkeypatch):
    monkeypatch.setattr(records, "MAX_LINE_BYTES", 10)
    (tmp_path / "a.txt").write_bytes(b"short\n" + b"x" * 5000 + b"\nafter\n")
    items = _items(tmp_path / "a.txt")
    assert [(type(i).__name__, i.line) for i in items] == [("Record", 1), ("Reject", 2), ("Record", 3)]
    assert items[2].text == "after"


def _parquet(path, table, row_group_size=None):
    pq.write_table(pa.table(table), path, row_group_size=row_group_size)


def test_parquet_reads_the_text_column_and_the_id_column(tmp_path):
    _parquet(tmp_path / "a.parquet", {"body": ["Paris", "Berlin"], "key": ["k1", "k2"]})
    assert _items(tmp_path / "a.parquet", text_field="body", id_field="key") == [
        Record("k1", "Paris", "a.parquet", 1), Record("k2", "Berlin", "a.parquet", 2)]


def test_parquet_without_an_id_column_ids_rows_from_1_across_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(records, "PARQUET_BATCH_ROWS", 2)
    _parquet(tmp_path / "a.parquet", {"text": ["a", "b", "c", "d", "e"]}, row_group_size=3)
    assert [r.id for r in _items(tmp_path / "a.parquet")] == [f"a.parquet:{n}" for n in range(1, 6)]


def test_a_null_text_in_parquet_is_a_reject_with_its_row(tmp_path):
    _parquet(tmp_path / "a.parquet", {"text": ["a", None]})
    assert _items(tmp_path / "a.parquet")[1] == Reject("a.parquet", 2, "column 'text' is null, not a string")


def test_a_parquet_file_without_the_column_names_the_columns_it_has(tmp_path):
    _parquet(tmp_path / "a.parquet", {"body": ["a"]})
    with pytest.raises(CorpusError, match=r"a.parquet: no column 'text' \(columns: 'body'\)"):
        _items(tmp_path / "a.parquet")


def test_a_folder_is_read_recursively_in_sorted_order_without_hidden_files(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.txt").write_text("three\n", encoding="utf-8")
    (tmp_path / "a.jsonl").write_text('{"text": "one"}\n', encoding="utf-8")
    (tmp_path / "b" / "a.txt").write_text("two\n", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("no\n", encoding="utf-8")
    (tmp_path / "notes.md").write_text("no\n", encoding="utf-8")
    assert [(r.id, r.text) for r in _items(tmp_path)] == [("a.jsonl:1", "one"), ("b/a.txt:1", "two"), ("b/z.txt:1", "three")]


def test_an_unknown_suffix_is_refused_by_name(tmp_path):
    (tmp_path / "a.csv").write_text("x\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="a.csv: not a corpus file"):
        input_files(tmp_path / "a.csv")


def test_a_missing_input_is_named_without_its_folder(tmp_path):
    with pytest.raises(CorpusError) as caught:
        input_files(tmp_path / "nope.txt")
    assert str(caught.value) == "nope.txt: no such file or folder"


def test_count_items_counts_non_blank_lines_and_parquet_rows(tmp_path):
    (tmp_path / "a.txt").write_text("a\n\nb\nc", encoding="utf-8")
    _parquet(tmp_path / "b.parquet", {"text": ["x", None]})
    assert count_items(tmp_path) == 5


def test_reading_a_large_file_holds_one_line_at_a_time(tmp_path):
    (tmp_path / "big.txt").write_bytes(b"John lives in Paris and works for Acme today\n" * 30_000)  # 1.35 MB
    tracemalloc.start()
    try:
        n = sum(1 for _ in iter_records(tmp_path / "big.txt"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 30_000
    assert peak < 400_000

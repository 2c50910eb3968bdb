"""Reading uploads and splits; CoNLL, JSONL and DatasetDict exports, and their round trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ner_demo.annotation.edits import Span
from ner_demo.annotation.formats import (
    AnnotationExportError, export_conll, export_hf, export_jsonl, read_examples, read_hf, split_examples,
)
from ner_demo.annotation.store import AnnotationStore, ExampleIn
from ner_demo.errors import DataFormatError

DATA = Path(__file__).parent / "data"


@pytest.fixture
def store(tmp_path):
    with AnnotationStore.open(tmp_path / "a.sqlite3") as opened:
        yield opened


def _write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def test_a_txt_upload_is_a_text_a_line(tmp_path):
    items = read_examples(_write(tmp_path, "t.txt", "Angela visited Paris.\n\nJohn left.\n"))
    assert [(i.text, i.source_id) for i in items] == [("Angela visited Paris.", "t.txt:1"), ("John left.", "t.txt:3")]


def test_a_jsonl_upload_keeps_its_spans_and_ids(tmp_path):
    path = _write(tmp_path, "t.jsonl", json.dumps({"id": "a7", "text": "Angela visited Paris.",
                                                   "spans": [{"start": 15, "end": 20, "label": "LOC"}]}) + "\n")
    item = read_examples(path)[0]
    assert (item.source_id, item.spans) == ("a7", [Span(15, 20, "LOC")])


def test_a_jsonl_line_that_is_not_json_is_named_with_file_and_line(tmp_path):
    path = _write(tmp_path, "t.jsonl", '{"text": "ok"}\n{"text": \n')
    with pytest.raises(DataFormatError, match=r"t.jsonl, line 2: .*is not JSON"):
        read_examples(path)


def test_a_jsonl_span_outside_its_text_is_named_with_file_and_line(tmp_path):
    path = _write(tmp_path, "t.jsonl", '{"text": "Paris"}\n{"text": "Lima", "spans": [[0, 9, "LOC"]]}\n')
    with pytest.raises(DataFormatError, match=r"t.jsonl, line 2: .*outside the text"):
        read_examples(path)


def test_an_upload_in_another_format_is_refused(tmp_path):
    with pytest.raises(DataFormatError, match=r"t.csv: is not one of .txt, .jsonl, .conll"):
        read_examples(_write(tmp_path, "t.csv", "a,b\n"))


def test_a_conll_upload_joins_words_and_keeps_their_spans(tmp_path):
    path = _write(tmp_path, "t.conll", "EU B-ORG\nrejects O\nGerman B-MISC\ncall O\n\n")
    item = read_examples(path)[0]
    assert (item.text, item.spans, item.tokens[:2]) == (
        "EU rejects German call", [Span(0, 2, "ORG"), Span(11, 17, "MISC")], [(0, 2), (3, 10)])


def test_an_existing_split_brings_its_gold_spans():
    items, source = split_examples(str(DATA / "dev_tiny.conll"), "dev", limit=2)
    assert (len(items), source, all(i.spans is not None for i in items)) == (2, "dev_tiny.conll dev", True)


def _annotated(store, texts_spans, tokens=None):
    store.create_dataset("d", ["PER", "LOC", "ORG"], [ExampleIn(t, f"x{i}", tokens=tokens) for i, (t, _) in enumerate(texts_spans)])
    for i, (_, spans) in enumerate(texts_spans):
        store.record("d", i, "ann", "edit", spans)


SAMPLE = [("Angela Merkel visited Paris, France.", [Span(0, 13, "PER"), Span(22, 27, "LOC")]),
          ("EU rejects Germany's call.", [Span(0, 2, "ORG"), Span(11, 18, "LOC")]),
          ("Nothing here.", [])]


def test_the_jsonl_round_trip_gives_identical_texts_and_spans(store, tmp_path):
    _annotated(store, SAMPLE)
    export_jsonl(store, "d", tmp_path / "out.jsonl")
    store.create_dataset("again", ["PER", "LOC", "ORG"], read_examples(tmp_path / "out.jsonl"))
    again = {p: (store.example("again", p).text, s) for p, s in store.final_spans("again").items()}
    assert again == {i: (t, s) for i, (t, s) in enumerate(SAMPLE)}


def test_the_conll_round_trip_gives_identical_words_tags_and_surface_spans(store, tmp_path):
    _annotated(store, SAMPLE)
    export_conll(store, "d", tmp_path / "out.conll")
    store.create_dataset("again", ["PER", "LOC", "ORG"], read_examples(tmp_path / "out.conll"))
    export_conll(store, "again", tmp_path / "again.conll")
    surface = lambda name: {p: [(store.example(name, p).text[s.start:s.end], s.label) for s in spans]  # noqa: E731
                            for p, spans in store.final_spans(name).items()}
    assert ((tmp_path / "again.conll").read_text() == (tmp_path / "out.conll").read_text(),
            surface("again") == surface("d")) == (True, True)


def test_a_conll_born_dataset_round_trips_with_identical_character_spans(store, tmp_path):
    store.create_dataset("c", ["PER", "LOC", "ORG", "MISC"], read_examples(DATA / "dev_tiny.conll"))
    export_conll(store, "c", tmp_path / "out.conll")
    store.create_dataset("again", ["PER", "LOC", "ORG", "MISC"], read_examples(tmp_path / "out.conll"))
    assert store.final_spans("again") == store.final_spans("c") and store.final_spans("c")


def test_the_conll_export_refuses_a_span_that_cuts_a_word(store, tmp_path):
    _annotated(store, [("Angela Merkel visited Paris.", [Span(0, 9, "PER")])])
    with pytest.raises(AnnotationExportError, match=r"d, example 0 \(x0\): span 'Angela Me' \(PER\) .* cuts a word"):
        export_conll(store, "d", tmp_path / "out.conll")


def test_the_conll_export_with_snap_widens_to_whole_words(store, tmp_path):
    _annotated(store, [("Angela Merkel visited Paris.", [Span(0, 9, "PER")])])
    export_conll(store, "d", tmp_path / "out.conll", snap=True)
    assert (tmp_path / "out.conll").read_text().split("\n")[2:4] == ["Angela B-PER", "Merkel I-PER"]


def test_the_datasetdict_round_trip_gives_identical_spans(store, tmp_path):
    _annotated(store, SAMPLE)
    export_hf(store, "d", tmp_path / "hf")
    store.create_dataset("again", ["PER", "LOC", "ORG"], read_hf(tmp_path / "hf"))
    assert store.final_spans("again") == {i: s for i, (_, s) in enumerate(SAMPLE)}


def test_an_upload_error_names_the_file_not_the_folder_it_is_kept_in(tmp_path):
    folder = tmp_path / "server" / "uploads"
    folder.mkdir(parents=True)
    path = _write(folder, "t.jsonl", "[1, 2]\n")
    with pytest.raises(DataFormatError) as caught:
        read_examples(path)
    assert str(caught.value).startswith("t.jsonl, line 1:") and str(folder) not in str(caught.value)


def test_span_offsets_must_be_integers(tmp_path):
    path = _write(tmp_path, "t.jsonl", '{"text": "Paris", "spans": [{"start": true, "end": 5, "label": "LOC"}]}\n')
    with pytest.raises(DataFormatError, match="line 1: .*offsets must be integers"):
        read_examples(path)


def test_an_upload_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(b"Paris \xff\xfe\xfa\n")
    with pytest.raises(DataFormatError, match="t.txt, line 1: is not valid UTF-8"):
        read_examples(path)


def test_a_conll_line_without_a_tag_is_named_with_file_and_line(tmp_path):
    path = _write(tmp_path, "t.conll", "EU B-ORG\nrejects\n")
    with pytest.raises(DataFormatError, match=r"t.conll, line 2: 'rejects': expected at least 2 columns"):
        read_examples(path)

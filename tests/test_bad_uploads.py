"""Bad data files: each is refused with a message that names the file, the line and the problem.

Every kind of bad file goes through the loaders the app uses (CoNLL for Evaluate, Data and Train;
.txt/.jsonl for batch tagging), then a few through the running app's endpoints, which must answer
with the same message and keep serving afterwards. Files over the upload cap are refused by the
server before any handler runs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from app_harness import TAG_SENTENCE, running_app, train_form, write_conll_file
from http_support import call, upload, upload_status

from ner_demo.app.tag_format import MAX_BATCH_BYTES, read_upload_texts, tag_batch
from ner_demo.app.train_format import DATASET_UPLOAD
from ner_demo.data.sources import load_split
from ner_demo.errors import DataFormatError, InputTooLargeError, NerDemoError, TagSchemeError
from ner_demo.training.data_prep import load_splits_for

GOOD = "John B-PER\nlives O\nin O\nParis B-LOC\n\nMary B-PER\nsmiled O\n"

# name -> (file bytes, line the message must name (None: the whole file), words the message must contain)
BAD_CONLL: dict[str, tuple[bytes, int | None, tuple[str, ...]]] = {
    # a PNG header: its two line breaks put the first NUL on line 3
    "binary.conll": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), 3, ("NUL", "binary")),
    "random_bytes.conll": (GOOD.encode() + bytes(range(0x80, 0x100)), 8, ("not valid UTF-8",)),
    "latin1.conll": ("John B-PER\nvisited O\nZ\u00fcrich B-LOC\n".encode("latin-1"), 3, ("not valid UTF-8",)),
    "utf16.conll": (GOOD.encode("utf-16"), 1, ("UTF-16",)),
    "utf16le_no_bom.conll": (GOOD.encode("utf-16-le"), 1, ("UTF-16",)),
    "missing_column.conll": (b"John NNP B-PER\nlives VBZ O\nParis B-LOC\n", 3, ("2 columns", "earlier lines have 3")),
    "one_column.conll": (b"John B-PER\nlives\n", 2, ("at least 2 columns",)),
    "extra_column.conll": (b"John B-PER\nlives VBZ O\n", 2, ("3 columns", "earlier lines have 2")),
    "unknown_tag.conll": (b"John B-PER\nlives O\nParis LOCATION\n", 3, ("'LOCATION'", "not a tag")),
    "underscore_tag.conll": (b"John B_PER\n", 1, ("'B_PER'", "not a tag")),
    "bare_prefix.conll": (b"John O\nParis B-\n", 2, ("'B-'", "not a tag")),
    "iob1_mixed_iob2.conll": (b"John I-PER\nmet O\nMary B-PER\n\nin O\nParis I-LOC\n", 1, ("IOB1", "IOB2", "line 3")),
    "empty.conll": (b"", None, ("no sentences",)),
    "blank_lines.conll": (b"\n \n\t\n\n", None, ("no sentences",)),
    "docstart_only.conll": (b"-DOCSTART- -X- O\n\n", None, ("no sentences",)),
}


def write(folder: Path, name: str, content: bytes) -> Path:
    path = folder / name
    path.write_bytes(content)
    return path


def assert_names_file_line_problem(message: str, name: str, line: int | None, words: tuple[str, ...]) -> None:
    assert name in message, message
    if line is not None:
        assert re.search(rf"\bline {line}\b", message), message
    for word in words:
        assert word in message, message


# ---- the loaders ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BAD_CONLL))
def test_bad_conll_is_refused_by_the_evaluation_loader(tmp_path, name):
    content, line, words = BAD_CONLL[name]
    path = write(tmp_path, name, content)
    with pytest.raises((DataFormatError, TagSchemeError)) as caught:
        load_split(path, "test")
    assert_names_file_line_problem(str(caught.value), name, line, words)


def test_a_good_file_still_loads(tmp_path):
    corpus = load_split(write(tmp_path, "good.conll", ("\ufeff" + GOOD.replace("\n", "\r\n")).encode()), "test")
    assert [s.words for s in corpus] == [("John", "lives", "in", "Paris"), ("Mary", "smiled")]


@pytest.mark.parametrize("name", ["latin1.conll", "utf16.conll", "missing_column.conll", "iob1_mixed_iob2.conll"])
def test_bad_train_file_is_refused_before_a_run_starts(tmp_path, name):
    from training_support import tiny_config

    content, line, words = BAD_CONLL[name]
    config = tiny_config(tmp_path / "model", tmp_path / "runs", train_file=str(write(tmp_path, name, content)))
    with pytest.raises(NerDemoError) as caught:
        load_splits_for(config)
    assert_names_file_line_problem(str(caught.value), name, line, words)


BAD_TEXTS: dict[str, tuple[bytes, int | None, tuple[str, ...]]] = {
    "binary.txt": (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", 1, ("NUL", "binary")),
    "latin1.txt": ("first line\nna\u00efve caf\u00e9\n".encode("latin-1"), 2, ("not valid UTF-8",)),
    "utf16.txt": ("John met Mary.\n".encode("utf-16"), 1, ("UTF-16",)),
    "empty.txt": (b"", None, ("empty",)),
    "blank.txt": (b"  \n\n\t\n", None, ("empty",)),
    "not_json.jsonl": (b'{"text": "fine"}\n{"text": oops}\n', 2, ("not JSON",)),
    "no_text_field.jsonl": (b'{"text": "fine"}\n{"body": "x"}\n', 2, ("'text'",)),
    "text_not_string.jsonl": (b'{"text": 3}\n', 1, ("'text'",)),
}


@pytest.mark.parametrize("name", sorted(BAD_TEXTS))
def test_bad_batch_file_is_refused_by_the_text_loader(tmp_path, name):
    content, line, words = BAD_TEXTS[name]
    with pytest.raises(DataFormatError) as caught:
        read_upload_texts(write(tmp_path, name, content))
    assert_names_file_line_problem(str(caught.value), name, line, words)


def test_batch_file_over_the_cap_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as fh:
        fh.truncate(MAX_BATCH_BYTES + 1)  # sparse: no disk used, and never read
    with pytest.raises(InputTooLargeError, match=r"huge\.txt: 5,242,881 bytes; .* at most 5,242,880 bytes"):
        tag_batch(tagger=None, path=path, out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ---- through the app -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("bad_uploads_app")


@pytest.fixture(scope="module")
def app_url(app_root, trained_tiny_dir):
    with running_app(app_root, str(trained_tiny_dir), app_root / "home") as url:
        yield url


def _error(event: str, payload) -> str:
    assert event == "error", f"expected an error, got {event}: {str(payload)[:300]}"
    return payload["error"]


@pytest.mark.parametrize("name", ["binary.conll", "latin1.conll", "utf16.conll", "missing_column.conll",
                                  "unknown_tag.conll", "iob1_mixed_iob2.conll", "empty.conll"])
def test_app_evaluate_reports_the_file_line_and_problem(app_url, tmp_path, name):
    content, line, words = BAD_CONLL[name]
    file_data = upload(app_url, write(tmp_path, name, content))
    message = _error(*call(app_url, "evaluate", ["(default)", "uploaded file", file_data]))
    assert_names_file_line_problem(message, name, line, words)
    assert_no_server_path(message, name)


def assert_no_server_path(message: str, name: str) -> None:
    """The upload is named as the user picked it: not the server's cache folder and hash before it."""
    assert f"/{name}" not in message and "gradio" not in message, message


@pytest.mark.parametrize("name", ["binary.txt", "latin1.txt", "utf16.txt", "empty.txt", "not_json.jsonl"])
def test_app_tag_file_reports_the_file_line_and_problem(app_url, tmp_path, name):
    content, line, words = BAD_TEXTS[name]
    file_data = upload(app_url, write(tmp_path, name, content))
    message = _error(*call(app_url, "tag_file", [file_data, "(default)", "first", 0.0, True]))
    assert_names_file_line_problem(message, name, line, words)
    assert_no_server_path(message, name)


def test_user_mistakes_leave_no_traceback_in_the_server_log(app_url, tmp_path, capfd):
    content, _, _ = BAD_CONLL["unknown_tag.conll"]
    bad = upload(app_url, write(tmp_path, "unknown_tag.conll", content))
    mistakes = {  # api -> (inputs, words of the message)
        "evaluate": (["(default)", "uploaded file", bad], "not a tag"),
        "tag": (["   ", "(default)", "first", 0.0], "no text to tag"),
        "tag_file": ([None, "(default)", "first", 0.0, True], "Upload a .txt"),
        "compare": ([None, "(default)", "uploaded file", None, 1000, 0], "Evaluate a model first"),
    }
    capfd.readouterr()  # only what these calls print
    for api, (inputs, words) in mistakes.items():
        assert words in _error(*call(app_url, api, inputs))
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err, (out + err)[-2000:]


def test_app_data_tab_refuses_a_bad_file(app_url, tmp_path):
    content, line, words = BAD_CONLL["iob1_mixed_iob2.conll"]
    bad = upload(app_url, write(tmp_path, "iob1_mixed_iob2.conll", content))
    message = _error(*call(app_url, "load_data", ["uploaded file", bad]))
    assert_names_file_line_problem(message, "iob1_mixed_iob2.conll", line, words)
    assert_no_server_path(message, "iob1_mixed_iob2.conll")


def test_app_training_refuses_a_bad_file_before_making_a_run(app_url, app_root, tmp_path, trained_tiny_dir):
    from ner_demo.training.runs import list_runs

    content, line, words = BAD_CONLL["latin1.conll"]
    bad_train = upload(app_url, write(tmp_path, "latin1.conll", content))
    good_dev = upload(app_url, write_conll_file(tmp_path / "dev.conll", n=5))
    form = train_form(backbone=str(trained_tiny_dir), dataset=DATASET_UPLOAD, train_file=bad_train, dev_file=good_dev,
                      name="bad", batch_size=4, epochs=1, max_steps=2, max_length=64, warmup_ratio=0.0,
                      weight_decay=0.0, seed=1, precision="fp32")
    message = _error(*call(app_url, "start_training", form))
    assert_names_file_line_problem(message, "latin1.conll", line, words)
    assert list_runs(app_root / "runs") == []  # refused up front: no run folder, nothing queued


def test_uploads_over_the_cap_are_refused_and_the_app_keeps_serving(app_url):
    status, body = upload_status(app_url, "huge.conll", b"x" * (20 * 1024 * 1024 + 1))
    assert status == 413, (status, body[:200])
    assert "20" in body or "size" in body.lower()
    status, _ = upload_status(app_url, "small.conll", GOOD.encode())
    assert status == 200
    event, outputs = call(app_url, "tag", [TAG_SENTENCE, "(default)", "first", 0.0])
    assert event == "complete" and ["John", "PER", 0, 4] in [row[:4] for row in outputs[1]["data"]]


def test_app_reads_a_good_upload_after_all_the_bad_ones(app_url, tmp_path):
    file_data = upload(app_url, write_conll_file(tmp_path / "fine.conll", n=10))
    event, outputs = call(app_url, "evaluate", ["(default)", "uploaded file", file_data])
    assert event == "complete" and "Strict IOB2 F1" in outputs[0]
    assert json.dumps(outputs)  # plain JSON all the way

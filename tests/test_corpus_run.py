"""tag-corpus end to end: shards and manifest, resuming after kill -9, refusing to resume another run,
and the local engine's output independent of its number of workers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from training_support import subprocess_env

from ner_demo.corpus.job import CorpusJob, model_identity
from ner_demo.corpus.local import run_local
from ner_demo.corpus.records import Reject
from ner_demo.corpus.shards import MANIFEST, ResumeError, open_output, write_shard
from ner_demo.errors import NerDemoError

ROOT = Path(__file__).resolve().parent.parent
NAMES = ["John", "Mary", "Angela", "Pedro", "Li"]
PLACES = ["Paris", "Berlin", "Tokyo", "Lagos", "Lima"]


@pytest.fixture(scope="module")
def onnx_model(trained_tiny_dir, tmp_path_factory):
    """The trained tiny model exported to ONNX (fp32): what the workers load, without PyTorch weights."""
    from ner_demo.export import export_onnx

    return str(export_onnx(trained_tiny_dir, tmp_path_factory.mktemp("corpus") / "tiny-onnx"))


def _corpus(folder: Path, lines: int, bad_every: int = 0) -> Path:
    """A .jsonl corpus with ids; every ``bad_every``-th line is not JSON."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "corpus.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for i in range(lines):
            if bad_every and i % bad_every == bad_every - 1:
                f.write('{"text": broken\n')
            else:
                f.write(json.dumps({"id": f"doc{i}", "text": f"{NAMES[i % 5]} lives in {PLACES[i % 3]} ."}) + "\n")
    return path


def _rows(output: Path) -> list[dict]:
    return [json.loads(line) for part in sorted(output.glob("part-*.jsonl")) for line in part.open(encoding="utf-8")]


def _job(corpus: Path, output: Path, model: str, **kwargs) -> CorpusJob:
    return CorpusJob(str(corpus), str(output), model, id_field="id", **kwargs)


# ---- the manifest, without workers ---------------------------------------------------------------


def test_a_new_output_gets_a_manifest_with_the_input_model_and_options(tmp_path, tiny_model_dir):
    corpus = _corpus(tmp_path / "in", 3)
    name, version = model_identity(str(tiny_model_dir))
    open_output(_job(corpus, tmp_path / "out", str(tiny_model_dir), shard_size=2), name, version)
    saved = json.loads((tmp_path / "out" / MANIFEST).read_text(encoding="utf-8"))
    assert (saved["model"]["name"], list(saved["input"]), saved["options"]["shard_size"], saved["shards"]) == (
        "model", ["corpus.jsonl"], 2, [])


def test_resuming_with_another_model_is_refused_naming_the_model(tmp_path, tiny_model_dir):
    corpus = _corpus(tmp_path / "in", 3)
    job = _job(corpus, tmp_path / "out", str(tiny_model_dir))
    open_output(job, "model", "sha256:aaaa")
    with pytest.raises(ResumeError, match=r"out: holds another run: the model differs \(model sha256:aaaa, now model sha256:bbbb\)"):
        open_output(job, "model", "sha256:bbbb")


def test_resuming_on_a_changed_input_is_refused_naming_the_file(tmp_path, tiny_model_dir):
    corpus = _corpus(tmp_path / "in", 3)
    job = _job(corpus, tmp_path / "out", str(tiny_model_dir))
    open_output(job, "model", "v1")
    with open(corpus, "a", encoding="utf-8") as f:
        f.write('{"id": "new", "text": "Li"}\n')
    with pytest.raises(ResumeError, match=r"the input differs \(corpus.jsonl changed\)"):
        open_output(job, "model", "v1")


def test_resuming_with_other_options_is_refused_naming_each(tmp_path, tiny_model_dir):
    corpus = _corpus(tmp_path / "in", 3)
    open_output(_job(corpus, tmp_path / "out", str(tiny_model_dir)), "model", "v1")
    changed = _job(corpus, tmp_path / "out", str(tiny_model_dir), text_field="body", tagger_options={"aggregation": "max"})
    with pytest.raises(ResumeError, match=r"the options differ \(aggregation: None, now 'max', text_field: 'text', now 'body'\)"):
        open_output(changed, "model", "v1")


def test_an_output_folder_of_other_files_is_refused(tmp_path, tiny_model_dir):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "thesis.tex").write_text("x", encoding="utf-8")
    with pytest.raises(ResumeError, match="out: a folder with other files and no manifest.json"):
        open_output(_job(_corpus(tmp_path / "in", 1), tmp_path / "out", str(tiny_model_dir)), "model", "v1")


def test_a_second_run_on_the_same_output_is_refused_while_the_first_writes(tmp_path, tiny_model_dir):
    job = _job(_corpus(tmp_path / "in", 1), tmp_path / "out", str(tiny_model_dir))
    first = open_output(job, "model", "v1")
    with pytest.raises(ResumeError, match="out: another tag-corpus run is writing there now"):
        open_output(job, "model", "v1")
    assert first.shards == {}


def test_resuming_removes_the_temporary_files_of_a_killed_run(tmp_path, tiny_model_dir):
    job = _job(_corpus(tmp_path / "in", 1), tmp_path / "out", str(tiny_model_dir))
    open_output(job, "model", "v1")
    (tmp_path / "out" / ".part-00000.jsonl.abc.tmp").write_text("half", encoding="utf-8")
    open_output(job, "model", "v1")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".lock", "manifest.json"]


def test_a_shard_is_written_whole_with_no_temporary_file_left(tmp_path):
    row = {"id": "a", "entities": [{"label": "PER", "start": 0, "end": 4, "text": "John", "score": 0.9}],
           "model": "m", "model_version": "v"}
    write_shard(tmp_path, 3, [row], [Reject("a.txt", 2, "not UTF-8")], "parquet")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "part-00003.parquet", "rejects", "rejects/part-00003.jsonl"]
    assert pq.read_table(tmp_path / "part-00003.parquet").to_pylist() == [row]


def test_the_model_version_is_the_same_for_a_copy_of_the_folder(tmp_path, tiny_model_dir):
    import shutil

    copy = shutil.copytree(tiny_model_dir, tmp_path / "model")
    assert model_identity(str(copy)) == model_identity(str(tiny_model_dir))


# ---- the local engine ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def one_worker_run(onnx_model, tmp_path_factory):
    """A corpus of 40 lines (4 of them bad) tagged in shards of 7 by 1 worker: (corpus, output, summary)."""
    folder = tmp_path_factory.mktemp("one")
    corpus = _corpus(folder / "in", 40, bad_every=10)
    summary = run_local(_job(corpus, folder / "out", onnx_model, shard_size=7), workers=1, quiet=True)
    return corpus, folder / "out", summary


def test_the_output_has_each_record_once_in_input_order(one_worker_run):
    _, output, summary = one_worker_run
    assert [r["id"] for r in _rows(output)] == [f"doc{i}" for i in range(40) if i % 10 != 9]
    assert (summary["records"], summary["rejects"], summary["shards"]) == (36, 4, 6)


def test_entities_are_character_spans_of_the_text(one_worker_run):
    corpus, output, _ = one_worker_run
    texts = {}
    for line in open(corpus, encoding="utf-8"):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        texts[record["id"]] = record["text"]
    spans = [(texts[r["id"]][e["start"]:e["end"]], e["text"]) for r in _rows(output) for e in r["entities"]]
    assert spans and all(a == b for a, b in spans)


def test_rejects_are_gathered_in_input_order_with_file_and_line(one_worker_run):
    _, output, _ = one_worker_run
    rejects = [json.loads(x) for x in (output / "rejects.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["source"], r["line"]) for r in rejects] == [("corpus.jsonl", n) for n in (10, 20, 30, 40)]


def test_a_completed_output_is_left_as_it_is(one_worker_run, onnx_model):
    corpus, output, summary = one_worker_run
    before = {p: p.stat().st_mtime_ns for p in output.rglob("*")}
    again = run_local(_job(corpus, output, onnx_model, shard_size=7), workers=1, quiet=True, log=lambda m: None)
    assert again == summary
    assert {p: p.stat().st_mtime_ns for p in output.rglob("*")} == before


def test_no_workers_is_refused(tmp_path, tiny_model_dir):
    from ner_demo.errors import ConfigError

    with pytest.raises(ConfigError, match="workers must be at least 1, got 0"):
        run_local(_job(_corpus(tmp_path / "in", 1), tmp_path / "out", str(tiny_model_dir)), workers=0)


def test_a_model_that_does_not_load_stops_the_run_with_loadings_message(tmp_path):
    (tmp_path / "not-a-model").mkdir()
    (tmp_path / "not-a-model" / "notes.txt").write_text("x", encoding="utf-8")
    job = _job(_corpus(tmp_path / "in", 2), tmp_path / "out", str(tmp_path / "not-a-model"))
    with pytest.raises(NerDemoError, match="not-a-model: not a model folder"):
        run_local(job, workers=1, quiet=True)


def test_two_workers_write_the_same_output_as_one(one_worker_run, onnx_model, tmp_path):
    corpus, output, summary = one_worker_run
    two = run_local(_job(corpus, tmp_path / "out", onnx_model, shard_size=7), workers=2, quiet=True)
    for part in sorted(output.glob("part-*.jsonl")) + [output / "rejects.jsonl"]:
        assert (tmp_path / "out" / part.name).read_bytes() == part.read_bytes(), part.name
    assert {k: two[k] for k in ("records", "rejects", "entities", "words")} == {
        k: summary[k] for k in ("records", "rejects", "entities", "words")}


# ---- kill -9 and the same command again -----------------------------------------------------------


def _command(corpus: Path, output: Path, model: str) -> list[str]:
    return ["tag-corpus", str(corpus), str(output), "--model", model, "--id-field", "id", "--shard-size", "5",
            "--workers", "1", "--quiet"]


def _shards_listed(output: Path) -> int:
    try:
        return len(json.loads((output / MANIFEST).read_text(encoding="utf-8"))["shards"])
    except (OSError, ValueError):  # not written yet (it is replaced atomically, so never half-written)
        return 0


def test_kill_9_in_the_middle_then_the_same_command_resumes_with_each_record_once(onnx_model, tmp_path):
    corpus = _corpus(tmp_path / "in", 60, bad_every=7)  # rejects in shards before and after the kill
    output = tmp_path / "out"
    held = subprocess.Popen([sys.executable, str(ROOT / "tests" / "corpus_hooks.py"), "hold-after-shards", "3", "--",
                             *_command(corpus, output, onnx_model)],
                            cwd=ROOT, env=subprocess_env(), start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180  # a safety net only: the loop ends when the state is reached
        while _shards_listed(output) < 3 and held.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _shards_listed(output) == 3, held.stdout.read().decode() if held.poll() is not None else "timed out"
    finally:
        os.killpg(held.pid, signal.SIGKILL)  # the main process and its workers, as kill -9 of the group
        held.wait()
    assert json.loads((output / MANIFEST).read_text(encoding="utf-8"))["summary"] is None
    done = subprocess.run([sys.executable, "-m", "ner_demo", *_command(corpus, output, onnx_model)], cwd=ROOT,
                          env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "resuming: 3 shard(s) done" in done.stderr
    assert done.stdout.splitlines()[1:3] == [
        "8 bad record(s) skipped: see out/rejects.jsonl (file, line, reason)",
        "  corpus.jsonl, line 7: not JSON (Expecting value at column 10)"]
    assert [r["id"] for r in _rows(output)] == [f"doc{i}" for i in range(60) if i % 7 != 6]
    rejects = (output / "rejects.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(r)["line"] for r in rejects] == [7, 14, 21, 28, 35, 42, 49, 56]
    assert list(output.glob(".*.tmp")) == []


# ---- the command line (checked before any model loads) --------------------------------------------


def _main(capsys, *argv):
    from ner_demo.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_missing_input_is_a_usage_error_naming_it(capsys, tmp_path):
    code, _, err = _main(capsys, "tag-corpus", str(tmp_path / "nope.jsonl"), str(tmp_path / "out"))
    assert (code, err) == (2, "error: nope.jsonl: no such file or folder\n")


def test_a_shard_size_of_0_is_a_usage_error(capsys, tmp_path):
    corpus = _corpus(tmp_path / "in", 1)
    code, _, err = _main(capsys, "tag-corpus", str(corpus), str(tmp_path / "out"), "--shard-size", "0")
    assert (code, err) == (2, "error: --shard-size 0: give a number of records, 1 or more\n")


def test_an_address_without_the_ray_engine_is_a_usage_error(capsys, tmp_path):
    corpus = _corpus(tmp_path / "in", 1)
    code, _, err = _main(capsys, "tag-corpus", str(corpus), str(tmp_path / "out"), "--address", "auto")
    assert (code, err) == (2, "error: --address is for --engine ray\n")


def test_the_format_follows_an_output_ending_in_parquet(tmp_path):
    from ner_demo.cli import build_parser
    from ner_demo.cli.corpus import job_from_args

    corpus = _corpus(tmp_path / "in", 1)
    args = build_parser().parse_args(["tag-corpus", str(corpus), str(tmp_path / "tags.parquet"), "--model", "m"])
    assert job_from_args(args).format == "parquet"


def test_resuming_another_run_from_the_command_line_says_what_changed(capsys, tmp_path, tiny_model_dir):
    from ner_demo.cli import build_parser
    from ner_demo.cli.corpus import job_from_args

    corpus = _corpus(tmp_path / "in", 2)
    argv = ["tag-corpus", str(corpus), str(tmp_path / "out"), "--model", str(tiny_model_dir)]
    first = job_from_args(build_parser().parse_args(argv + ["--text-field", "body"]))
    open_output(first, *model_identity(str(tiny_model_dir)))
    code, _, err = _main(capsys, *argv)
    assert (code, err) == (1, "error: out: holds another run: the options differ (text_field: 'body', now 'text'). "
                              "Resume with what it was started with, or give a new output folder\n")

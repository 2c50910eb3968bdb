"""The CLI in-process: what a user types, what they read."""

import json
from pathlib import Path

import pytest

from ner_demo.cli import main

DATA = Path(__file__).parent / "data"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert all(cmd in out for cmd in ("fetch-data", "stats", "predict", "evaluate"))


def test_stats_prints_counts_per_split(capsys):
    code, out, _ = run(capsys, "stats", str(DATA / "tiny_splits"), "--json")
    data = json.loads(out)
    assert code == 0 and set(data["splits"]) == {"train", "dev", "test"}


def test_stats_of_missing_conll2003_says_how_to_fetch(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("NER_DEMO_HOME", str(tmp_path))
    code, _, err = run(capsys, "stats", "conll2003")
    assert code == 1 and "fetch-data conll2003" in err


def test_predict_prints_entities_as_json(capsys, trained_tiny_dir):
    code, out, _ = run(capsys, "predict", "--model", str(trained_tiny_dir), "--precision", "fp32", "--json",
                       "John lives in Paris .")
    entities = json.loads(out)[0]["entities"]
    assert code == 0 and [(e["label"], e["text"], e["start"], e["end"]) for e in entities] == [
        ("PER", "John", 0, 4), ("LOC", "Paris", 14, 19)]


def test_predict_says_which_backend_runs_on_stderr(capsys, trained_tiny_dir):
    code, out, err = run(capsys, "predict", "--model", str(trained_tiny_dir), "--backend", "torch-int8", "John")
    assert code == 0 and "torch-int8" in err and "torch-int8" not in out


def test_predict_jsonl_file_with_a_bad_line_names_it(capsys, trained_tiny_dir, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"text": "John"}\n{"txt": 1}\n', encoding="utf-8")
    code, _, err = run(capsys, "predict", "--model", str(trained_tiny_dir), "--file", str(path))
    assert code == 1 and f"{path}, line 2" in err and "'text'" in err


def test_predict_conll_file_writes_tags(capsys, trained_tiny_dir, tmp_path):
    src = tmp_path / "in.conll"
    src.write_text("Mary O\nmet O\nJohn O\n", encoding="utf-8")
    code, out, _ = run(capsys, "predict", "--model", str(trained_tiny_dir), "--precision", "fp32", "--file", str(src))
    assert code == 0 and out.splitlines()[-4:-1] == ["Mary B-PER", "met O", "John B-PER"]


def test_evaluate_prints_strict_and_conlleval(capsys, trained_tiny_dir, tmp_path):
    gold = tmp_path / "gold.conll"
    gold.write_text("John B-PER\nlives O\nin O\nParis B-LOC\n\nMary B-PER\nmet O\nAcme B-ORG\nCorp I-ORG\n", encoding="utf-8")
    code, out, _ = run(capsys, "evaluate", "--model", str(trained_tiny_dir), "--precision", "fp32", "--data", str(gold))
    assert code == 0 and "strict IOB2" in out and "conlleval" in out
    assert out.strip().endswith("strict IOB2 micro F1: 1.0000")


def test_evaluate_json_has_per_type_scores(capsys, trained_tiny_dir, tmp_path):
    gold = tmp_path / "gold.conll"
    gold.write_text("John B-PER\nlives O\nin O\nParis B-LOC\n", encoding="utf-8")
    code, out, _ = run(capsys, "evaluate", "--model", str(trained_tiny_dir), "--precision", "fp32", "--data", str(gold), "--json")
    data = json.loads(out)
    assert sorted(data["strict"]["per_type"]) == ["LOC", "PER"] and data["strict"]["micro"]["f1"] == 1.0


def test_evaluate_malformed_file_names_file_and_line(capsys, trained_tiny_dir, tmp_path):
    gold = tmp_path / "bad.conll"
    gold.write_text("John B-PER\nlives\n", encoding="utf-8")
    code, _, err = run(capsys, "evaluate", "--model", str(trained_tiny_dir), "--data", str(gold))
    assert code == 1 and f"{gold}, line 2" in err

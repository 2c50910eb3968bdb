"""The CLI in-process: what a user types, what they read."""

import json
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fuzz_corpus import big_text

from ner_demo.cli import build_parser, main
from ner_demo.inference import AGGREGATIONS

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parent.parent


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
    assert out.strip().endswith("strict IOB2 micro F1: 1.0000 (95% CI 1.0000\u20131.0000, 1,000 sentence resamples)")


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


# ---- predict: inputs are checked before the model loads ------------------------------------------


@pytest.fixture
def no_model_load(monkeypatch):
    """Fail the test if predict starts loading a model (what took ~5 s before an input error showed)."""
    def refuse(args):
        raise AssertionError("the model was loaded before the input was checked")

    monkeypatch.setattr("ner_demo.cli.infer.load_tagger", refuse)


def test_predict_missing_file_is_an_error_naming_it_before_the_model_loads(capsys, no_model_load, tmp_path):
    missing = tmp_path / "missing.txt"
    code, out, err = run(capsys, "predict", "--file", str(missing))
    assert (code, out, err) == (2, "", f"error: {missing}: no such file\n")


def test_predict_folder_given_as_file_is_an_error(capsys, no_model_load, tmp_path):
    code, _, err = run(capsys, "predict", "--file", str(tmp_path))
    assert code == 2 and err == f"error: {tmp_path}: is a folder; give a .txt, .jsonl or .conll file\n"


@pytest.mark.parametrize("suffix", [".conll", ".jsonl"])
def test_predict_missing_conll_or_jsonl_file_is_an_error_too(capsys, no_model_load, tmp_path, suffix):
    code, _, err = run(capsys, "predict", "--file", str(tmp_path / f"x{suffix}"))
    assert code == 2 and err.endswith(f"x{suffix}: no such file\n")


@pytest.mark.parametrize("text, what", [("", "empty"), ("  \n\t ", "only whitespace")])
def test_predict_empty_text_is_an_error(capsys, no_model_load, text, what):
    code, out, err = run(capsys, "predict", text)
    assert code == 2 and out == "" and err.startswith(f"error: the text is {what}: there is nothing to tag")


def test_predict_names_which_of_several_texts_is_empty(capsys, no_model_load):
    code, _, err = run(capsys, "predict", "John", "")
    assert code == 2 and err.startswith("error: text 2 is empty")


def test_predict_bad_jsonl_line_is_reported_before_the_model_loads(capsys, no_model_load, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"text": "John"}\n[1]\n', encoding="utf-8")
    code, _, err = run(capsys, "predict", "--file", str(path))
    assert code == 1 and f"{path}, line 2" in err


def _stdin(monkeypatch, data: bytes) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def test_predict_dash_reads_all_of_standard_input_as_one_text(capsys, monkeypatch, trained_tiny_dir):
    _stdin(monkeypatch, b"John lives in Paris .\nMary\n")
    code, out, _ = run(capsys, "predict", "--model", str(trained_tiny_dir), "-", "--json")
    assert code == 0 and [item["text"] for item in json.loads(out)] == ["John lives in Paris .\nMary\n"]


def test_predict_dash_with_lines_tags_each_line_of_standard_input(capsys, monkeypatch, trained_tiny_dir):
    _stdin(monkeypatch, b"John lives in Paris .\n\nMary\n")
    code, out, _ = run(capsys, "predict", "--model", str(trained_tiny_dir), "-", "--lines", "--json")
    assert code == 0 and [(item["line"], item["text"]) for item in json.loads(out)] == \
           [(1, "John lives in Paris ."), (3, "Mary")]


def test_predict_dash_of_empty_standard_input_is_an_error_before_the_model_loads(capsys, monkeypatch, no_model_load):
    _stdin(monkeypatch, b" \n")
    code, out, err = run(capsys, "predict", "-")
    assert (code, out) == (2, "") and err.startswith("error: standard input is empty: there is nothing to tag")


def test_predict_dash_of_bytes_that_are_not_utf8_names_standard_input(capsys, monkeypatch, no_model_load):
    _stdin(monkeypatch, b"John\n\xff\xfe Paris\n")
    code, _, err = run(capsys, "predict", "-")
    assert code == 1 and "standard input" in err and "line 2" in err and "not valid UTF-8" in err


def test_predict_dash_given_twice_is_a_usage_error(capsys, no_model_load):
    code, _, err = run(capsys, "predict", "-", "-")
    assert (code, err) == (2, "error: - is given 2 times: standard input can be read once\n")


def test_the_annotate_parsers_copies_of_formats_and_db_default_are_the_annotation_packages():
    from ner_demo.annotation.formats import FORMATS
    from ner_demo.annotation.store import DEFAULT_DB
    from ner_demo.cli import annotate

    assert (annotate.FORMATS, annotate.DEFAULT_DB) == (FORMATS, DEFAULT_DB)


def test_predict_missing_file_in_a_process_exits_2_without_a_traceback(tmp_path):
    missing = tmp_path / "missing.txt"
    done = subprocess.run([sys.executable, "-m", "ner_demo", "predict", "--file", str(missing)],
                          capture_output=True, text=True, timeout=120, cwd=REPO)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"error: {missing}: no such file\n")


# ---- predict: every aggregation, batches of mixed window lengths -------------------------------


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
def test_predict_txt_lines_with_every_aggregation(capsys, trained_tiny_dir, tmp_path, aggregation):
    path = tmp_path / "x.txt"
    path.write_text("John lives in Paris .\n\nMary\nPedro met Li at Acme Corp today in Lagos .\n", encoding="utf-8")
    code, out, err = run(capsys, "predict", "--model", str(trained_tiny_dir), "--precision", "fp32",
                         "--aggregation", aggregation, "--file", str(path), "--lines")
    rows = [line.split("\t") for line in out.splitlines()]
    shown = [row[0] if len(row) == 1 else (row[0], row[1], row[2], row[4]) for row in rows]  # all but the score
    assert code == 0, err
    assert shown[:6] == ["# line 1", ("PER", "0", "4", "John"), ("LOC", "14", "19", "Paris"),
                         "# line 3", ("PER", "0", "4", "Mary"), "# line 4"]
    assert f"# {path}: skipped 1 blank line(s) (2); each result is headed by the number of its line" in err


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
def test_predict_texts_of_mixed_lengths_with_every_aggregation(capsys, trained_tiny_dir, aggregation):
    code, out, _ = run(capsys, "predict", "--model", str(trained_tiny_dir), "--precision", "fp32", "--json",
                       "--aggregation", aggregation, "Mary", "John lives in Paris .", "Lima")
    found = [[(e["label"], e["text"]) for e in r["entities"]] for r in json.loads(out)]
    assert code == 0 and found == [[("PER", "Mary")], [("PER", "John"), ("LOC", "Paris")], [("LOC", "Lima")]]


def test_predict_file_json_gives_each_text_its_line(capsys, trained_tiny_dir, tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("\nJohn\n   \nLima\n", encoding="utf-8")
    code, out, _ = run(capsys, "predict", "--model", str(trained_tiny_dir), "--json", "--file", str(path), "--lines")
    assert code == 0 and [(r["line"], r["text"]) for r in json.loads(out)] == [(2, "John"), (4, "Lima")]


def test_predict_txt_lines_break_only_at_newlines(capsys, trained_tiny_dir, tmp_path):
    path = tmp_path / "x.txt"
    path.write_bytes("John\x0cmet\u2028Mary\r\nLima\n".encode("utf-8"))  # form feed, LINE SEPARATOR inside line 1
    code, out, _ = run(capsys, "predict", "--model", str(trained_tiny_dir), "--json", "--file", str(path), "--lines")
    assert code == 0 and [(r["line"], r["text"]) for r in json.loads(out)] == [(1, "John\x0cmet\u2028Mary"), (2, "Lima")]


# ---- predict: hostile text through every input path, every aggregation ----------------------------

HOSTILE = [
    "John lives in Paris .", "Mary", "👩‍👩‍👧‍👦 John met Mary\u0301 in 東京 .", "\u202eJohn met Mary in Paris\u202c",
    "\x00John\x00 met\x1b[31m Mary", "x" * 50_000, "\ud800 Pedro \udc00 met Li", "Владимир Путин посетил Москву.",
    "Acme\tCorp\nmet Li", "e\u0301\u0308\u0327" * 50 + " Lagos", "",
]


def hostile_texts() -> list[str]:
    return HOSTILE + [big_text(random.Random(3))]  # 200,000 characters, every family laced in


def span_problems(text: str, entities: list[dict]) -> list[str]:
    return [f"{text[:30]!r}: {e}" for e in entities
            if not (0 <= e["start"] < e["end"] <= len(text) and text[e["start"]:e["end"]] == e["text"])]


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
def test_predict_jsonl_of_hostile_texts_keeps_exact_spans(capsys, trained_tiny_dir, tmp_path, aggregation):
    # As the file holds them: JSON cannot keep a lone high surrogate beside a lone low one apart ("\ud83d\ude00"
    # is the pair, one code point), so the expected texts are the ones read back from their JSON.
    texts = [json.loads(json.dumps(t)) for t in hostile_texts()]
    path = tmp_path / "hostile.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    code, out, err = run(capsys, "predict", "--model", str(trained_tiny_dir), "--aggregation", aggregation,
                         "--json", "--file", str(path))
    records = json.loads(out)  # lone surrogates come back as the \ud800 escapes they went in as
    assert code == 0, err
    assert [(r["line"], r["text"]) for r in records] == list(enumerate(texts, start=1))
    assert [p for t, r in zip(texts, records) for p in span_problems(t, r["entities"])] == []
    assert sum(len(r["entities"]) for r in records) > 100
    assert "# warning (line 8): Most letters of this text (100%) are Cyrillic" in err


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
def test_predict_txt_lines_of_hostile_texts_keeps_exact_spans(capsys, trained_tiny_dir, tmp_path, aggregation):
    # A UTF-8 text file holds no lone surrogates, and a NUL marks it as binary (refused): the rest, a line each.
    texts = [re.sub(r"[\x00\ud800-\udfff]", "", re.sub(r"[\r\n]", " ", t)) for t in hostile_texts()]
    path = tmp_path / "hostile.txt"
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "predict", "--model", str(trained_tiny_dir), "--aggregation", aggregation,
                         "--json", "--file", str(path), "--lines")
    records = json.loads(out)
    kept = [(n, t) for n, t in enumerate(texts, start=1) if t.strip()]
    assert code == 0, err
    assert [(r["line"], r["text"]) for r in records] == kept
    assert [p for (_, t), r in zip(kept, records) for p in span_problems(t, r["entities"])] == []
    assert f"skipped 1 blank line(s) ({len(HOSTILE)})" in err


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
def test_predict_conll_of_hostile_words_tags_every_word(capsys, trained_tiny_dir, tmp_path, aggregation):
    words = ["John", "👩‍👩‍👧‍👦", "東京", "\u202eParis", "e\u0301\u0308", "\x1b[31m", "x" * 50_000, "Москву", "Mary"]
    src = tmp_path / "in.conll"
    src.write_text("".join(f"{w} O\n" for w in words) + "\nLima O\n", encoding="utf-8")
    code, out, err = run(capsys, "predict", "--model", str(trained_tiny_dir), "--aggregation", aggregation,
                         "--file", str(src))
    rows = [line.split(" ") for line in out.splitlines() if line and not line.startswith("-DOCSTART-")]
    assert code == 0, err
    assert [r[0] for r in rows] == words + ["Lima"] and all(r[-1] == "O" or r[-1][:2] in ("B-", "I-") for r in rows)


def test_predict_text_output_keeps_one_entity_per_line(capsys, trained_tiny_dir):
    code, out, _ = run(capsys, "predict", "--model", str(trained_tiny_dir), "--precision", "fp32",
                       "Acme\nCorp met Li", "\ud800 Pedro\udc00")
    lines = [line for line in out.splitlines() if not line.startswith("#")]
    assert code == 0 and all(len(line.split("\t")) == 5 for line in lines)
    assert any(line.startswith("ORG\t0\t9\t") and line.endswith("\tAcme\\nCorp") for line in lines)


def test_predict_prints_the_script_warning_on_stderr_only(capsys, trained_tiny_dir):
    code, out, err = run(capsys, "predict", "--model", str(trained_tiny_dir), "Владимир Путин посетил Москву.")
    assert code == 0 and "# warning (text 1): Most letters of this text (100%) are Cyrillic" in err
    assert "warning" not in out


def test_predict_conll_in_another_script_is_warned_about(capsys, trained_tiny_dir, tmp_path):
    src = tmp_path / "ru.conll"
    src.write_text("Владимир O\nПутин O\n", encoding="utf-8")
    code, _, err = run(capsys, "predict", "--model", str(trained_tiny_dir), "--file", str(src))
    assert code == 0 and "# warning: Most letters of this text (100%) are Cyrillic" in err


def test_predict_aggregation_average_in_a_process_tags_a_three_line_file(trained_tiny_dir, tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("John lives in Paris .\nMary\nPedro met Li at Acme Corp today in Lagos .\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "ner_demo", "predict", "--aggregation", "average", "--model",
                           str(trained_tiny_dir), "--precision", "fp32", "--file", str(path), "--lines"],
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert [line.split("\t")[-1] for line in done.stdout.splitlines()][:5] == ["# line 1", "John", "Paris", "# line 2", "Mary"]


# ---- cancel / resume of a run that does not exist -------------------------------------------------


@pytest.fixture
def runs_dir(tmp_path):
    from ner_demo.training.config import TrainConfig
    from ner_demo.training.runs import Run

    root = tmp_path / "runs"
    Run.create(TrainConfig(name="known"), root)
    return root


@pytest.mark.parametrize("command", [["cancel"], ["resume"], ["resume", "--background"]])
def test_unknown_run_id_is_named_with_the_known_ones(capsys, runs_dir, command):
    from ner_demo.training.runs import list_runs

    known = list_runs(runs_dir)[0].run_id
    code, out, err = run(capsys, *command, "nosuchrun", "--runs-dir", str(runs_dir))
    assert (code, out) == (1, "")
    assert err == (f"error: no run 'nosuchrun' in {runs_dir}/ (recent runs: {known}); "
                   "see `python -m ner_demo runs`\n")


def test_the_console_script_names_itself_in_the_usage(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["/venv/bin/ner-demo", "--help"])
    assert build_parser().format_usage().startswith("usage: ner-demo ")
    monkeypatch.setattr(sys, "argv", ["/repo/ner_demo/__main__.py", "--help"])
    assert build_parser().format_usage().startswith("usage: python -m ner_demo ")

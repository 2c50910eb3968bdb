"""evaluate --suspicious (the review list) and --report (HTML and JSON), in-process on the tiny trained model."""

import json
import re

from ner_demo.cli import main
from ner_demo.evaluation.suspicious import read_review_list


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _data(folder):
    """Test has "Paris" as LOC four times and once as ORG: the planted inconsistency."""
    folder.mkdir()
    (folder / "train.conll").write_text("John B-PER\nlives O\nin O\nParis B-LOC\n", encoding="utf-8")
    test = "".join("-DOCSTART- O\n\nJohn B-PER\nlives O\nin O\nParis B-LOC\n\n" for _ in range(4))
    test += "-DOCSTART- O\n\nMary B-PER\nloves O\nParis B-ORG\n"
    (folder / "test.conll").write_text(test, encoding="utf-8")
    return folder


def _evaluate(capsys, tmp_path, model, *extra):
    data = _data(tmp_path / "data")
    return run(capsys, "evaluate", "--model", str(model), "--precision", "fp32", "--data", str(data),
               "--bootstrap", "20", *extra)


def test_suspicious_writes_a_review_list_led_by_the_planted_label(capsys, trained_tiny_dir, tmp_path):
    review = tmp_path / "review.jsonl"
    code, out, _ = _evaluate(capsys, tmp_path, trained_tiny_dir, "--suspicious", str(review))
    first = read_review_list(review)[0]
    assert code == 0 and "wrote the review list" in out
    assert (first["rank"], first["sentence"], first["span_text"], first["gold_label"], first["suggested_label"]) == \
        (1, 4, "Paris", "ORG", "LOC")


def test_evaluate_prints_the_top_suspicious_items(capsys, trained_tiny_dir, tmp_path):
    code, out, _ = _evaluate(capsys, tmp_path, trained_tiny_dir, "--top", "1")
    assert code == 0 and re.search(r"suspicious gold: \d+ items, top 1:\n +1\. [01]\.\d{3}  sentence 4  'Paris'  "
                                   r"gold ORG -> LOC", out)


def test_report_writes_html_and_json_beside_it(capsys, trained_tiny_dir, tmp_path):
    code, out, _ = _evaluate(capsys, tmp_path, trained_tiny_dir, "--report", str(tmp_path / "report.html"))
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert code == 0 and "wrote the report to report.html and its figures to report.json" in out
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.I)
    assert all(f'id="{f["id"]}"' in html for f in data["figures"]) and len(data["figures"]) >= 10


def test_report_json_can_be_named(capsys, trained_tiny_dir, tmp_path):
    code, _, _ = _evaluate(capsys, tmp_path, trained_tiny_dir, "--report", str(tmp_path / "r.html"), "--report-json",
                           str(tmp_path / "figures.json"))
    assert code == 0 and json.loads((tmp_path / "figures.json").read_text(encoding="utf-8"))["version"] == 1


def test_report_into_a_missing_folder_is_a_usage_error_before_tagging(capsys, tmp_path):
    code, _, err = run(capsys, "evaluate", "--report", str(tmp_path / "nowhere" / "r.html"))
    assert code == 2 and "--report" in err and "the folder nowhere does not exist" in err


def test_report_json_without_report_is_a_usage_error(capsys, tmp_path):
    code, _, err = run(capsys, "evaluate", "--report-json", str(tmp_path / "r.json"))
    assert code == 2 and "--report-json goes with --report" in err


def test_suspicious_onto_a_folder_is_a_usage_error(capsys, tmp_path):
    code, _, err = run(capsys, "evaluate", "--suspicious", str(tmp_path))
    assert code == 2 and "is a folder; give a file name" in err


def test_evaluate_json_lists_the_suspicious_items(capsys, trained_tiny_dir, tmp_path):
    code, out, _ = _evaluate(capsys, tmp_path, trained_tiny_dir, "--json", "--top", "2")
    result = json.loads(out)
    assert code == 0 and len(result["suspicious"]) <= 2 and result["suspicious"][0]["span_text"] == "Paris"

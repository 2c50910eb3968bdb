"""The CLI's evaluate (intervals, scoring schemes, seen/unseen and length buckets) and compare (paired
bootstrap, disagreements), in-process on the tiny trained model."""

import json

from ner_demo.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _gold_splits(folder):
    """A dataset folder: train has John (PER) and Paris (LOC); test repeats John and adds Mary and Acme Corp."""
    folder.mkdir()
    (folder / "train.conll").write_text("John B-PER\nlives O\nin O\nParis B-LOC\n", encoding="utf-8")
    (folder / "test.conll").write_text("-DOCSTART- O\n\nJohn B-PER\nlives O\nin O\nParis B-LOC\n\n-DOCSTART- O\n\n"
                                       "Mary B-PER\nmet O\nAcme B-ORG\nCorp I-ORG\n", encoding="utf-8")
    return folder


def test_evaluate_without_bootstrap_prints_the_plain_headline(capsys, trained_tiny_dir, tmp_path):
    data = _gold_splits(tmp_path / "data")
    code, out, _ = run(capsys, "evaluate", "--model", str(trained_tiny_dir), "--precision", "fp32", "--data", str(data),
                       "--bootstrap", "0")
    assert code == 0 and out.strip().endswith("strict IOB2 micro F1: 1.0000")


def test_evaluate_prints_the_schemes_and_the_seen_unseen_table(capsys, trained_tiny_dir, tmp_path):
    data = _gold_splits(tmp_path / "data")
    code, out, _ = run(capsys, "evaluate", "--model", str(trained_tiny_dir), "--precision", "fp32", "--data", str(data))
    assert code == 0 and "1,000 document resamples" in out
    assert "semeval partial" in out and "by seen in training:" in out and "by entity length:" in out
    assert "train-test overlap: 2 of 4 gold mentions (50.0%) have a surface form seen in training" in out


def test_evaluate_json_has_the_intervals_and_buckets(capsys, trained_tiny_dir, tmp_path):
    data = _gold_splits(tmp_path / "data")
    code, out, _ = run(capsys, "evaluate", "--model", str(trained_tiny_dir), "--precision", "fp32", "--data", str(data),
                       "--json", "--bootstrap", "50", "--seed", "3")
    result = json.loads(out)
    bootstrap = result["bootstrap"]
    assert (bootstrap["replicates"], bootstrap["seed"], bootstrap["unit"]) == (50, 3, "document")
    assert [t["name"] for t in result["buckets"]] == ["seen in training", "entity length", "sentence length",
                                                      "subword-split words"]
    assert result["overlap"]["seen_any_type"] == 2


def test_evaluate_of_a_single_file_says_why_there_is_no_seen_unseen_table(capsys, trained_tiny_dir, tmp_path):
    gold = tmp_path / "gold.conll"
    gold.write_text("John B-PER\nlives O\n", encoding="utf-8")
    code, out, _ = run(capsys, "evaluate", "--model", str(trained_tiny_dir), "--precision", "fp32", "--data", str(gold))
    assert code == 0 and "seen/unseen: skipped: --data is a single file; give --train-data" in out


def test_evaluate_negative_bootstrap_is_a_usage_error(capsys, tmp_path):
    code, _, err = run(capsys, "evaluate", "--bootstrap", "-1")
    assert code == 2 and "--bootstrap -1: give a number of resamples, or 0 for none" in err


def test_compare_a_model_with_itself_has_p_one_and_no_disagreements(capsys, trained_tiny_dir, tmp_path):
    data = _gold_splits(tmp_path / "data")
    model = str(trained_tiny_dir)
    code, out, _ = run(capsys, "compare", "--model-a", model, "--model-b", model, "--precision", "fp32",
                       "--data", str(data), "--bootstrap", "100")
    assert code == 0 and "paired bootstrap, 100 document resamples of 2, seed 0" in out
    micro = next(line for line in out.splitlines() if line.startswith("micro"))
    assert micro.split()[-4:] == ["+0.0000", "[+0.0000,", "+0.0000]", "1.000"]
    assert "sentences where A and B differ: 0 (A matches gold: 0, B: 0, neither: 0)" in out


def test_evaluate_of_a_single_file_takes_the_training_mentions_from_train_data(capsys, trained_tiny_dir, tmp_path):
    data = _gold_splits(tmp_path / "data")
    code, out, _ = run(capsys, "evaluate", "--model", str(trained_tiny_dir), "--precision", "fp32",
                       "--data", str(data / "test.conll"), "--train-data", str(data / "train.conll"))
    assert code == 0 and "train-test overlap: 2 of 4 gold mentions (50.0%)" in out

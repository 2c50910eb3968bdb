"""ship: a run's best/ becomes an fp16 folder whose card reports the scores of exactly what ships."""

import json
import shutil

import pytest
from safetensors import safe_open

from conftest import synthetic_sentences
from ner_demo.data.conll import Sentence, write_conll
from ner_demo.errors import ModelLoadError
from ner_demo.inference import Tagger
from ner_demo.training.ship import ship_model


@pytest.fixture(scope="module")
def shipped(trained_tiny_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("ship")
    run = root / "run"
    shutil.copytree(trained_tiny_dir, run / "best")
    (run / "config.json").write_text(json.dumps({"backbone": "tiny", "learning_rate": 0.003, "max_length": 64,
                                                         "average_from": 0.5, "average_every": 10}), encoding="utf-8")
    (run / "status.json").write_text(json.dumps({"state": "finished", "elapsed_s": 120, "total_steps": 100,
                                                         "best": {"step": 80}}), encoding="utf-8")
    data = root / "data"
    data.mkdir()
    for split, seed in (("dev", 5), ("test", 6)):
        write_conll([Sentence(tuple(w), tuple(t)) for w, t in synthetic_sentences(30, seed)], data / f"{split}.txt")
    summary = ship_model(run, root / "shipped", data=str(data), command="make model", recipe="training/tiny.yaml")
    return root / "shipped", summary


def test_shipped_weights_are_fp16(shipped):
    folder, _ = shipped
    with safe_open(str(folder / "model.safetensors"), "pt") as f:
        assert {str(f.get_tensor(k).dtype) for k in f.keys()} == {"torch.float16"}


def test_card_reports_dev_and_test_of_what_ships(shipped):
    folder, summary = shipped
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert f"| dev | {summary['dev']['strict_f1']:.4f}" in card and f"| test | {summary['test']['strict_f1']:.4f}" in card
    assert "make model" in card and "2 minutes" in card


def test_card_says_the_weights_are_an_average(shipped):
    card = (shipped[0] / "README.md").read_text(encoding="utf-8")
    assert "the mean of 3 snapshots of the weights, one every 10 steps from step 50 to step 80 of 100" in card


def test_decoding_is_chosen_on_dev_and_saved(shipped):
    folder, summary = shipped
    scores = summary["dev_strict_f1_by_decoding"]
    assert summary["decoding"] == max(scores, key=scores.get)
    assert json.loads((folder / "ner_demo.json").read_text())["input_features"]["decoding"] == summary["decoding"]


def test_shipped_folder_tags_text(shipped):
    folder, _ = shipped
    tagger = Tagger.from_pretrained(str(folder), precision="fp32")
    assert [(e.label, e.text) for e in tagger.predict("Mary visited Tokyo .")] == [("PER", "Mary"), ("LOC", "Tokyo")]


def test_run_without_best_is_refused(tmp_path):
    with pytest.raises(ModelLoadError, match="no best/ model yet"):
        ship_model(tmp_path, tmp_path / "out")


def test_card_names_the_folder_and_the_recipe(shipped):
    folder, _ = shipped
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert card.count("# shipped: a shipped offline NER model of ner_demo") == 1
    assert f"`--model {folder}` on the CLI" in card and "- Config: `training/tiny.yaml`; the run's own config" in card


def test_chunk_share_outside_0_to_1_is_refused_before_any_work(tmp_path):
    from ner_demo.errors import ConfigError

    with pytest.raises(ConfigError, match="chunk_share must be above 0 and at most 1 .*, got 1.5"):
        ship_model(tmp_path, tmp_path / "out", chunk_share=1.5)


def _context_run(trained_tiny_dir, tmp_path):
    """A run of a tiny context model, and dev/test files of 4 documents of 3 sentences each."""
    from ner_demo.encoding import InputFeatures

    run = tmp_path / "run"
    shutil.copytree(trained_tiny_dir, run / "best")
    InputFeatures(context_words=8).save(run / "best")
    (run / "config.json").write_text(json.dumps({"backbone": "tiny", "context_words": 8}), encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    for split, seed in (("dev", 5), ("test", 6)):
        write_conll([Sentence(tuple(w), tuple(t), doc_id=i // 3) for i, (w, t) in enumerate(synthetic_sentences(12, seed))],
                    data / f"{split}.txt")
    return run, data


def test_card_of_a_context_model_reports_scores_without_context(trained_tiny_dir, tmp_path):
    run, data = _context_run(trained_tiny_dir, tmp_path)
    summary = ship_model(run, tmp_path / "shipped", data=str(data))
    card = (tmp_path / "shipped" / "README.md").read_text(encoding="utf-8")
    alone = summary["without_context"]
    assert f"dev {alone['dev']['strict_f1']:.4f}, test {alone['test']['strict_f1']:.4f}" in card


def test_shipped_folder_records_the_run_window_length(shipped):
    folder, _ = shipped
    assert json.loads((folder / "ner_demo.json").read_text())["input_features"]["max_length"] == 64


def test_chunk_share_is_recorded_and_the_card_gives_dev_at_a_half(trained_tiny_dir, tmp_path):
    run, data = _context_run(trained_tiny_dir, tmp_path)
    summary = ship_model(run, tmp_path / "shipped", data=str(data), chunk_share=0.9)
    card = (tmp_path / "shipped" / "README.md").read_text(encoding="utf-8")
    assert json.loads((tmp_path / "shipped" / "ner_demo.json").read_text())["input_features"]["chunk_share"] == 0.9
    assert summary["chunk_share"]["value"] == 0.9
    assert "predicts 0.9 of its window by default (`chunk_share: 0.9`" in card
    assert (f"Read with `--chunk-share 0.5` (more context around each chunk, slower), dev strict F1 is "
            f"{summary['chunk_share']['dev_strict_f1_at_0.5']:.4f}.") in card
    assert ("Dev, measured\nwhen it shipped, read as documents (document context, `chunk_share` 0.9, as the Tagger "
            "reads them by\ndefault); each words/s goes with the strict F1 of the same run:") in card


def test_the_card_of_a_model_without_context_says_its_speeds_read_sentences_alone(shipped):
    folder, _ = shipped
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert "when it shipped, each sentence read alone (the model has no document context); each words/s" in card


def test_a_new_card_gives_the_intervals_and_calibration(shipped):
    folder, summary = shipped
    card = (folder / "README.md").read_text(encoding="utf-8")
    micro = summary["evaluation"]["bootstrap"]["test"]["strict_f1"]
    assert "| micro | " in card and f"{micro['point']:.4f} [{micro['low']:.4f}, {micro['high']:.4f}] |" in card
    assert "ECE at temperature 1" in card
    assert json.loads((folder / "scores.json").read_text())["evaluation"]["calibration"]["fitted_on"] == "dev"


def test_a_new_card_says_why_there_are_no_seen_unseen_figures(shipped):
    card = (shipped[0] / "README.md").read_text(encoding="utf-8")
    assert "Seen and unseen mentions: skipped, no train split to tell seen mentions from" in card


def test_the_card_says_the_pipeline_loads_the_fp16_weights_as_fp32(shipped):
    folder, _ = shipped
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert "The weights are stored as fp16, but `config.json` says `\"dtype\": \"float32\"`" in card

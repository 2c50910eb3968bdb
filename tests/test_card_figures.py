"""A shipped card's figures (intervals, seen/unseen, ECE before/after temperature): computed on a tiny
model, written into README.md and scores.json without touching the weights or ner_demo.json."""

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from conftest import synthetic_sentences
from ner_demo.cli import main
from ner_demo.data.conll import Sentence, write_conll
from ner_demo.evaluation.card_figures import load_card_figures
from ner_demo.training.cards import FIGURES_END, FIGURES_START, figures_section, with_figures, write_figures

CARD = "# tiny\n\n## Scores of this folder\n\nscores\n\n## Serving backend\n`torch-fp32`\n"

FIGURES = {
    "version": 1, "replicates": 1000, "seed": 0, "confidence": 0.95,
    "bootstrap": {
        "dev": {"strict_f1": {"point": 0.9, "low": 0.85, "high": 0.95}, "unit": "document", "n_units": 10,
                "per_type": {"PER": {"point": 0.8, "low": 0.7, "high": 0.9}}},
        "test": {"strict_f1": {"point": 0.88, "low": 0.8, "high": 0.93}, "unit": "document", "n_units": 12,
                 "per_type": {"PER": {"point": 0.75, "low": 0.6, "high": 0.85}}},
    },
    "seen_unseen": {
        "split": "test",
        "overlap": {"n_mentions": 10, "seen_any_type": 6, "seen_same_type": 5, "share_seen": 0.6,
                    "share_seen_same_type": 0.5},
        "overall": {"seen, same type": {"n_gold": 5, "n_pred": 5, "tp": 5, "recall": 1.0, "precision": 1.0, "f1": 1.0},
                    "seen, other type only": {"n_gold": 1, "n_pred": 0, "tp": 0, "recall": 0.0, "precision": None,
                                              "f1": None},
                    "unseen": {"n_gold": 4, "n_pred": 4, "tp": 2, "recall": 0.5, "precision": 0.5, "f1": 0.5}},
        "per_type": {},
    },
    "calibration": {"temperature": 1.25, "fitted_on": "dev", "saved": False,
                    "dev": {"ece_before": 0.05, "ece_after": 0.02, "n_entities": 100, "argmax_unchanged": True},
                    "test": {"ece_before": 0.07, "ece_after": 0.04, "n_entities": 120, "argmax_unchanged": True}},
}


def test_the_section_gives_each_interval():
    section = figures_section(FIGURES, "models/tiny")
    assert "| PER | 0.8000 [0.7000, 0.9000] | 0.7500 [0.6000, 0.8500] |" in section
    assert "| micro | 0.9000 [0.8500, 0.9500] | 0.8800 [0.8000, 0.9300] |" in section


def test_the_section_gives_the_seen_unseen_rows_with_undefined_scores_as_dashes():
    section = figures_section(FIGURES, "models/tiny")
    assert "| seen in train, other type only | 1 | 0.0000 | - | - |" in section
    assert "| unseen | 4 | 0.5000 | 0.5000 | 0.5000 |" in section
    assert "6 of 10 test mentions (60.0%) are seen, 5 (50.0%) with the same type" in section


def test_the_section_gives_the_ece_before_and_after_temperature():
    section = figures_section(FIGURES, "models/tiny")
    assert "| dev | 0.0500 | 0.0200 | 100 |" in section and "| test | 0.0700 | 0.0400 | 120 |" in section
    assert "fitted on dev (1.2500" in section and "changes no argmax entity" in section


def test_the_section_names_the_folder_in_its_commands():
    section = figures_section(FIGURES, "models/tiny")
    assert "`python -m ner_demo card-stats models/tiny`" in section
    assert "`python -m ner_demo calibrate --model models/tiny --write`" in section


def test_a_card_without_the_section_gets_it_before_the_serving_backend():
    card = with_figures(CARD, FIGURES)
    assert card.index(FIGURES_START) > card.index("## Scores of this folder")
    assert card.index(FIGURES_END) < card.index("## Serving backend")


def test_the_section_is_replaced_not_repeated():
    once = with_figures(CARD, FIGURES)
    changed = json.loads(json.dumps(FIGURES))
    changed["calibration"]["temperature"] = 2.0
    twice = with_figures(once, changed)
    assert twice.count(FIGURES_START) == 1 and "fitted on dev (2.0000" in twice and "1.2500" not in twice
    assert twice == with_figures(CARD, changed)


def test_a_skipped_seen_unseen_is_said():
    figures = {k: v for k, v in FIGURES.items() if k != "seen_unseen"}
    figures["seen_unseen_skipped"] = "no train split"
    assert "Seen and unseen mentions: skipped, no train split." in figures_section(figures)


def _data(root):
    data = root / "data"
    data.mkdir()
    for split, seed, n in (("train", 4, 60), ("dev", 5, 30), ("test", 6, 30)):
        sentences = [Sentence(tuple(w), tuple(t), doc_id=k // 5) for k, (w, t) in enumerate(synthetic_sentences(n, seed))]
        write_conll(sentences, data / f"{split}.txt")
    return data


@pytest.fixture(scope="module")
def shipped_tiny(trained_tiny_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("card")
    folder = root / "tiny"
    shutil.copytree(trained_tiny_dir, folder)
    (folder / "README.md").write_text(CARD, encoding="utf-8")
    (folder / "scores.json").write_text(json.dumps({"decoding": "argmax"}), encoding="utf-8")
    return folder, _data(root)


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_figures_of_a_tiny_model_hold_every_part(shipped_tiny):
    folder, data = shipped_tiny
    figures = load_card_figures(folder, str(data), replicates=50)
    assert set(figures) == {"version", "replicates", "seed", "confidence", "bootstrap", "seen_unseen", "calibration"}
    micro = figures["bootstrap"]["test"]["strict_f1"]
    assert micro["low"] <= micro["point"] <= micro["high"]
    assert figures["calibration"]["dev"]["argmax_unchanged"] is True


def test_card_stats_writes_the_card_and_scores_but_not_the_weights(shipped_tiny, capsys):
    folder, data = shipped_tiny
    weights, features = _digest(folder / "model.safetensors"), _digest(folder / "ner_demo.json")
    code = main(["card-stats", str(folder), "--data", str(data), "--bootstrap", "50"])
    out = capsys.readouterr().out
    assert code == 0 and f"wrote {folder.name}/README.md and {folder.name}/scores.json" in out
    card = (folder / "README.md").read_text(encoding="utf-8")
    scores = json.loads((folder / "scores.json").read_text(encoding="utf-8"))
    assert FIGURES_START in card and scores["decoding"] == "argmax" and scores["evaluation"]["replicates"] == 50
    assert (_digest(folder / "model.safetensors"), _digest(folder / "ner_demo.json")) == (weights, features)


def test_card_stats_of_a_folder_without_a_card_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")
    code = main(["card-stats", str(tmp_path)])
    assert code == 2 and "not a shipped model folder (it needs config.json and README.md)" in capsys.readouterr().err


def test_write_figures_needs_a_readme(tmp_path):
    from ner_demo.errors import ModelLoadError

    with pytest.raises(ModelLoadError, match="no README.md to add the figures to"):
        write_figures(tmp_path, FIGURES)


@pytest.mark.parametrize("name", ["minilm-conll2003", "minilm3-conll2003-fast"])
def test_each_shipped_card_section_is_its_scores_json_rendered(name):
    folder = Path(__file__).resolve().parent.parent / "models" / name
    card = (folder / "README.md").read_text(encoding="utf-8")
    figures = json.loads((folder / "scores.json").read_text(encoding="utf-8"))["evaluation"]
    assert with_figures(card, figures, f"models/{name}") == card


@pytest.mark.parametrize("name", ["minilm-conll2003", "minilm3-conll2003-fast"])
def test_each_shipped_model_scores_unseen_test_mentions_below_seen_ones(name):
    folder = Path(__file__).resolve().parent.parent / "models" / name
    buckets = json.loads((folder / "scores.json").read_text(encoding="utf-8"))["evaluation"]["seen_unseen"]["overall"]
    assert buckets["unseen"]["f1"] < buckets["seen, same type"]["f1"]

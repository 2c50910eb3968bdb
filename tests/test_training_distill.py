"""Distillation (``teacher``): the loss on literal tensors, soft labels aligned with the student's first
subwords, computed once and cached, the teacher's labels checked, and short runs in both engines."""

from __future__ import annotations

import json
import math

import pytest
import torch
from tiny_models import build_tiny_model
from training_support import build_model, fixture_labels, tiny_config

from ner_demo.data import read_conll
from ner_demo.errors import ConfigError
from ner_demo.labels import IGNORE_INDEX, LabelSet
from ner_demo.training import Run, list_runs, resume, train
from ner_demo.training import distill
from ner_demo.training.callbacks import CrashAt
from ner_demo.training.common import prepare
from ner_demo.training.data_prep import collate
from ner_demo.training.loss import distillation_kl, distillation_loss, token_loss

torch.set_num_threads(1)


# ---- the loss on literal tensors ---------------------------------------------------------------------


def _batch():
    """One sentence of three positions, the middle one a special token (-100)."""
    logits = torch.tensor([[[2.0, 0.0, -1.0], [0.5, 0.5, 0.5], [0.0, 1.0, 3.0]]])  # (1, 3, 3)
    labels = torch.tensor([[0, IGNORE_INDEX, 2]])
    mask = labels != IGNORE_INDEX
    return logits, labels, mask


def test_distillation_loss_with_alpha_0_is_the_cross_entropy():
    logits, labels, mask = _batch()
    teacher = torch.tensor([[[9.0, -9.0, 0.0]] * 3])
    loss = distillation_loss(logits, labels, teacher, mask, None, "batch-mean", 1.0, alpha=0.0, temperature=2.0)
    assert loss.item() == token_loss(logits, labels, None, "batch-mean", 1.0).item()


def test_identical_logits_give_zero_kl():
    logits, _, mask = _batch()
    assert distillation_kl(logits, logits.clone(), mask, 3.0, "batch-mean", 1.0).item() == pytest.approx(0.0, abs=1e-7)


def test_the_kl_of_a_known_small_case():
    # Teacher (0.75, 0.25), student uniform. T=1: 0.75 ln(0.75/0.5) + 0.25 ln(0.25/0.5) = 0.130812.
    # T=2: the teacher softens to (sqrt .75, sqrt .25) / (sqrt .75 + sqrt .25) = (0.633975, 0.366025),
    # and 0.633975 ln(0.633975/0.5) + 0.366025 ln(0.366025/0.5) = 0.036341.
    student = torch.zeros(1, 2)
    teacher = torch.log(torch.tensor([[0.75, 0.25]]))
    mask = torch.tensor([True])
    assert distillation_kl(student, teacher, mask, 1.0, "batch-mean", 1.0).item() == pytest.approx(0.130812, abs=1e-6)
    assert distillation_kl(student, teacher, mask, 2.0, "batch-mean", 1.0).item() == pytest.approx(0.036341, abs=1e-6)


def test_the_loss_is_one_minus_alpha_ce_plus_alpha_t_squared_kl():
    student = torch.zeros(1, 2)
    teacher = torch.log(torch.tensor([[0.75, 0.25]]))
    labels, mask = torch.tensor([0]), torch.tensor([True])
    loss = distillation_loss(student, labels, teacher, mask, None, "batch-mean", 1.0, alpha=0.25, temperature=2.0)
    assert loss.item() == pytest.approx(0.75 * math.log(2) + 0.25 * 4 * 0.036341, abs=1e-5)  # CE of uniform: ln 2


def test_the_kl_is_read_only_at_masked_positions_and_fixed_divides_by_the_normalizer():
    student = torch.zeros(2, 2)
    teacher = torch.log(torch.tensor([[0.75, 0.25], [0.01, 0.99]]))
    first_only = torch.tensor([True, False])
    mean = distillation_kl(student, teacher, first_only, 1.0, "batch-mean", 1.0).item()
    fixed = distillation_kl(student, teacher, first_only, 1.0, "fixed", 4.0).item()
    assert (mean, fixed) == (pytest.approx(0.130812, abs=1e-6), pytest.approx(0.130812 / 4, abs=1e-6))
    assert distillation_kl(student, teacher, torch.tensor([False, False]), 1.0, "batch-mean", 1.0).item() == 0.0


# ---- the config --------------------------------------------------------------------------------------


@pytest.mark.parametrize("key, value, message", [
    ("distill_weight", 1.5, "distill_weight=1.5: must be in [0, 1]"),
    ("distill_weight", -0.1, "distill_weight=-0.1: must be in [0, 1]"),
    ("distill_temperature", 0.0, "distill_temperature=0.0: must be above 0"),
])
def test_a_bad_distillation_setting_is_refused_naming_it(key, value, message):
    from ner_demo.training import TrainConfig

    with pytest.raises(ConfigError) as caught:
        TrainConfig(**{key: value})
    assert str(caught.value).startswith(message)


# ---- runs on tiny models -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return build_model(tmp_path_factory.mktemp("student") / "model")


@pytest.fixture(scope="module")
def teacher_dir(tmp_path_factory):
    """A random tiny model with the fixture's labels; as a teacher it only has to be another model."""
    from training_support import DEV, TRAIN

    words = sorted({w for path in (TRAIN, DEV) for s in read_conll(path) for w in s.words})
    return build_tiny_model(tmp_path_factory.mktemp("teacher") / "model", fixture_labels(), words, arch="bert", seed=3)


@pytest.fixture
def teacher_calls(monkeypatch):
    """How many times a teacher tagged the train split in this test (each call runs the teacher over it)."""
    calls = []
    original = distill.tag_corpus

    def counting(tagger, corpus):
        calls.append(len(corpus))
        return original(tagger, corpus)

    monkeypatch.setattr(distill, "tag_corpus", counting)
    return calls


def _reordered_copy(folder, destination):
    """The same model with its labels (head rows and id2label) in another order: O, then PER, LOC, ORG."""
    from ner_demo.models import load_trained, save_model

    model, tokenizer, features = load_trained(str(folder))
    names = [model.config.id2label[i] for i in range(model.config.num_labels)]
    order = [names.index(n) for n in ("O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG")]
    with torch.no_grad():
        model.classifier.weight.copy_(model.classifier.weight[order].clone())
        model.classifier.bias.copy_(model.classifier.bias[order].clone())
    model.config.id2label = {k: names[i] for k, i in enumerate(order)}
    model.config.label2id = {name: k for k, name in model.config.id2label.items()}
    return save_model(model, tokenizer, destination, features)


def test_the_teacher_distribution_sits_at_the_students_first_subword_of_each_word(tmp_path):
    # A vocabulary of characters only: every fixture word is several pieces, so a position off by one
    # (a later piece, or the next word) would read another distribution. Teacher = the student's own
    # starting weights with its labels in another order, so at the right positions, with the columns put
    # back in the student's order, the student's eval-mode log-probabilities are the teacher's.
    folder = build_tiny_model(tmp_path / "chars", fixture_labels(), (), arch="bert", seed=5)
    teacher = _reordered_copy(folder, tmp_path / "reordered")
    config = tiny_config(folder, tmp_path / "runs", teacher=str(teacher))
    run = Run.create(config, tmp_path / "runs")
    setup = prepare(config, run)
    examples = setup.train_examples[:6]
    assert all(sum(w >= 0 for w in e["teacher_word"]) == sum(lab != IGNORE_INDEX for lab in e["labels"])
               for e in examples)  # one teacher word per labelled first piece
    batch = collate(examples, setup.tokenizer.pad_token_id or 0, setup.token_types)
    words, labels = batch.pop("teacher_word"), batch.pop("labels")
    with torch.no_grad():
        student = torch.log_softmax(setup.model.eval()(**batch).logits, -1)  # (B, T, C)
    at = words >= 0
    assert at.any() and bool((at == (labels != IGNORE_INDEX)).all())
    assert torch.allclose(student[at], setup.teacher.log_probs[words[at]], atol=1e-5)
    assert len(setup.teacher.log_probs) == sum(len(s.words) for s in read_conll(config.train_file))


def test_with_all_subwords_the_teacher_word_still_sits_on_first_pieces_only(tmp_path):
    from transformers import AutoTokenizer

    from ner_demo.data.conll import Corpus, Sentence
    from ner_demo.training import TrainConfig
    from ner_demo.training.data_prep import encode, features_for

    folder = build_tiny_model(tmp_path / "chars", LabelSet.from_types(["PER"]), ())
    corpus = Corpus([Sentence(("Ann", "ran"), ("B-PER", "O")), Sentence(("Bo", "sat", "up"), ("B-PER", "O", "O"))])
    config = TrainConfig(all_subwords=True, max_length=48)
    (one, two) = encode(AutoTokenizer.from_pretrained(str(folder)), corpus, LabelSet.from_types(["PER"]),
                        features_for(config), config, teacher_words=True)
    # [CLS] A ##n ##n r ##a ##n [SEP]: labels on every piece (B-PER's later pieces as I-PER), the teacher's
    # word on each word's first piece; the second sentence's words are words 2, 3 and 4 of the corpus.
    assert one["labels"] == [IGNORE_INDEX, 1, 2, 2, 0, 0, 0, IGNORE_INDEX]
    assert one["teacher_word"] == [-1, 0, -1, -1, 1, -1, -1, -1]
    assert two["teacher_word"] == [-1, 2, -1, 3, -1, -1, 4, -1, -1]


def test_a_two_step_distillation_run_completes_in_the_custom_engine(model_dir, teacher_dir, tmp_path, teacher_calls,
                                                                      capsys):
    run = train(tiny_config(model_dir, tmp_path, teacher=str(teacher_dir), max_steps=2, epochs=1))
    assert run.read_status()["state"] == "finished" and run.read_status()["step"] == 2
    assert json.loads((run.path / "config.json").read_text())["teacher"] == str(teacher_dir)
    record = json.loads((run.path / "teacher.json").read_text())
    assert len(record["fingerprint"]) == 64 and record["words"] == 133
    assert json.loads((run.best_dir / "ner_demo.json").read_text())["distilled_from"] == record
    assert "distilled from" in (run.best_dir / "README.md").read_text()
    assert teacher_calls == [20]
    out = capsys.readouterr().out  # the log says which teacher, and how often it agrees with the gold tags
    assert "soft labels for 133 words (computed); its most likely tag is the gold one for " in out


def test_a_two_step_distillation_run_completes_in_the_trainer_engine(model_dir, teacher_dir, tmp_path, teacher_calls):
    run = train(tiny_config(model_dir, tmp_path, teacher=str(teacher_dir), max_steps=2, epochs=1, engine="trainer"))
    assert run.read_status()["state"] == "finished" and run.read_status()["step"] == 2
    assert json.loads((run.path / "config.json").read_text())["teacher"] == str(teacher_dir)
    assert (run.path / "teacher.json").is_file() and teacher_calls == [20]


def test_the_status_says_while_the_teacher_tags(model_dir, teacher_dir, tmp_path, monkeypatch):
    seen = []
    original = distill.tag_corpus

    def watched(tagger, corpus):
        seen.append(Run(list_runs(tmp_path)[0].path).read_status()["phase"])
        return original(tagger, corpus)

    monkeypatch.setattr(distill, "tag_corpus", watched)
    train(tiny_config(model_dir, tmp_path, teacher=str(teacher_dir), max_steps=1, epochs=1))
    assert seen == ["the teacher tags the train split (20 sentences; once, then cached)"]


def test_a_distillation_run_with_a_frozen_encoder_trains_the_head(model_dir, teacher_dir, tmp_path):
    run = train(tiny_config(model_dir, tmp_path, teacher=str(teacher_dir), freeze_encoder=True, max_steps=2, epochs=1))
    assert run.read_status()["state"] == "finished" and run.read_status()["step"] == 2


def test_the_kl_term_is_part_of_the_trained_loss(model_dir, teacher_dir, tmp_path):
    def first_loss(weight: float, where: str) -> float:
        run = train(tiny_config(model_dir, tmp_path / where, teacher=str(teacher_dir), max_steps=1, epochs=1,
                                log_every=1, distill_weight=weight))
        return run.metrics("train")[0]["loss"]

    gold = train(tiny_config(model_dir, tmp_path / "plain", max_steps=1, epochs=1, log_every=1))
    assert first_loss(0.0, "w0") == pytest.approx(gold.metrics("train")[0]["loss"], abs=1e-6)  # alpha 0: CE
    assert first_loss(1.0, "w1") != pytest.approx(gold.metrics("train")[0]["loss"], abs=1e-3)


def test_teacher_soft_labels_are_computed_once_for_a_resume_and_a_second_run(model_dir, teacher_dir, tmp_path,
                                                                                teacher_calls):
    config = tiny_config(model_dir, tmp_path, teacher=str(teacher_dir), max_steps=4, epochs=1, checkpoint_every=2)
    with pytest.raises(RuntimeError, match="simulated crash after step 3"):
        train(config, callbacks=[CrashAt(3)])
    entries = list((tmp_path / distill.CACHE_FOLDER).glob("*.npz"))
    assert teacher_calls == [20] and len(entries) == 1
    mtime = entries[0].stat().st_mtime_ns
    crashed = Run(list_runs(tmp_path)[0].path)
    resume(crashed.path)
    assert crashed.read_status()["state"] == "finished"
    second = train(config)
    assert second.read_status()["state"] == "finished"
    assert teacher_calls == [20]  # neither the resume nor the second run ran the teacher again
    assert entries[0].stat().st_mtime_ns == mtime
    records = [json.loads((run.path / "teacher.json").read_text()) for run in (crashed, second)]
    assert records[0] == records[1]


def test_a_trainer_engine_distillation_run_resumes_without_running_the_teacher_again(model_dir, teacher_dir, tmp_path,
                                                                                       teacher_calls):
    config = tiny_config(model_dir, tmp_path, teacher=str(teacher_dir), max_steps=4, epochs=1, checkpoint_every=2,
                         engine="trainer")
    with pytest.raises(RuntimeError, match="simulated crash after step 3"):
        train(config, callbacks=[CrashAt(3)])
    run = Run(list_runs(tmp_path)[0].path)
    resume(run.path)
    status = run.read_status()
    assert (status["state"], status["step"], status["resumed_from"]) == ("finished", 4, "checkpoint-2")
    assert teacher_calls == [20]


def test_a_resume_whose_teacher_has_changed_is_refused(model_dir, tmp_path):
    teacher = build_tiny_model(tmp_path / "teacher", fixture_labels(), (), arch="bert", seed=7)
    config = tiny_config(model_dir, tmp_path / "runs", teacher=str(teacher), max_steps=4, epochs=1, checkpoint_every=2)
    with pytest.raises(RuntimeError):
        train(config, callbacks=[CrashAt(3)])
    build_tiny_model(teacher, fixture_labels(), (), arch="bert", seed=8)  # retrained in place, in between
    run = Run(list_runs(tmp_path / "runs")[0].path)
    with pytest.raises(ConfigError, match=r"has changed since this run started \(weights fingerprint"):
        resume(run.path)
    assert run.read_status()["state"] == "failed"


def test_a_teacher_with_other_labels_is_refused_naming_both_label_lists(model_dir, tmp_path):
    teacher = build_tiny_model(tmp_path / "per-only", LabelSet.from_types(["PER"]), (), seed=2)
    with pytest.raises(ConfigError) as caught:
        train(tiny_config(model_dir, tmp_path / "runs", teacher=str(teacher), max_steps=2, epochs=1))
    message = str(caught.value)
    assert "its labels are not the data's: the teacher has 3 (O, B-PER, I-PER), the data 7 (" in message
    assert ", ".join(fixture_labels().names) in message and str(tmp_path) not in message.replace(str(teacher), "")


def test_the_offline_encoder_as_teacher_is_refused_as_no_ner_model(model_dir, tmp_path):
    with pytest.raises(ConfigError, match=r"^teacher='offline-minilm': the offline encoder is an encoder, not a "
                                          r"trained NER model; a teacher must be one, e.g. minilm-conll2003$"):
        train(tiny_config(model_dir, tmp_path, teacher="offline-minilm"))
    assert list_runs(tmp_path) == []


def test_a_damaged_soft_label_cache_entry_is_computed_again(model_dir, teacher_dir, tmp_path, teacher_calls):
    config = tiny_config(model_dir, tmp_path, teacher=str(teacher_dir), max_steps=1, epochs=1)
    train(config)
    (entry,) = (tmp_path / distill.CACHE_FOLDER).glob("*.npz")
    entry.write_bytes(b"PK\x03\x04 not a zip")  # truncated or edited by hand
    second = train(config)
    assert second.read_status()["state"] == "finished" and teacher_calls == [20, 20]
    assert entry.stat().st_size > 100  # rewritten whole


def test_an_unknown_teacher_is_refused_before_a_run_folder_exists(model_dir, tmp_path):
    with pytest.raises(ConfigError, match=r"^teacher='no-such-model': not a shipped model .*leave it empty to train "
                                          "without a teacher"):
        train(tiny_config(model_dir, tmp_path, teacher="no-such-model"))
    assert list_runs(tmp_path) == []


def test_a_cleared_teacher_dropdown_means_no_teacher():
    from ner_demo.app.train_format import DATASET_CONLL, config_from_form

    values = {"backbone": "offline-minilm", "dataset": DATASET_CONLL, "teacher": None}
    assert config_from_form(values, "runs").teacher == ""


def test_a_teacher_typed_in_the_form_is_stripped():
    from ner_demo.app.train_format import DATASET_CONLL, config_from_form

    values = {"backbone": "offline-minilm", "dataset": DATASET_CONLL, "teacher": " minilm-conll2003 "}
    assert config_from_form(values, "runs").teacher == "minilm-conll2003"


def test_the_train_form_offers_the_shipped_models_as_teachers():
    import gradio as gr

    import ner_demo.app.train_format as tr
    from ner_demo.app.train import _input

    (field,) = [f for f in tr.form_fields() if f.name == "teacher"]
    with gr.Blocks():
        box = _input(field)
    assert isinstance(box, gr.Dropdown) and ("minilm-conll2003", "minilm-conll2003") in box.choices

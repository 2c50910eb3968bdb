"""The app's *_format modules (and its messages, model cache): what the app shows, computed without Gradio."""

from __future__ import annotations

import ast
import csv
import json

import pytest
from app_harness import write_conll_file, write_fake_conll2003

from ner_demo.app import data_format as ds
from ner_demo.app import evaluate_format as ev
from ner_demo.app import messages as msg
from ner_demo.app import model_cache as am
from ner_demo.app import tag_format as tg
from ner_demo.app import train_format as tr
from ner_demo.data.conll import parse_conll
from ner_demo.errors import ConfigError, DataFormatError, DatasetUnavailableError, ModelLoadError, NerDemoError
from ner_demo.evaluation import evaluate
from ner_demo.plots import data as data_plots
from ner_demo.plots.training import curves_figure
from ner_demo.spans import Entity
from ner_demo.training.config import TrainConfig
from ner_demo.training.runs import Run, list_runs

JOHN = Entity("PER", 0, 4, "John", 0.9)
PARIS = Entity("LOC", 17, 22, "Paris", 0.4)


def test_the_format_modules_do_not_import_gradio():
    for module in (ds, ev, am, msg, tg, tr):
        tree = ast.parse(open(module.__file__, encoding="utf-8").read())
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert [n for n in names if n.split(".")[0] == "gradio"] == [], module.__name__


# ---- tagging ----------------------------------------------------------------------------------------


def test_highlight_uses_character_spans_with_scores():
    assert tg.highlight("John met Mary in Paris .", [JOHN, PARIS]) == {
        "text": "John met Mary in Paris .",
        "entities": [{"entity": "PER", "start": 0, "end": 4, "score": 0.9},
                     {"entity": "LOC", "start": 17, "end": 22, "score": 0.4}],
    }


def test_highlight_html_labels_each_span_and_titles_its_score():
    markup = tg.highlight_html(tg.highlight("John met Mary in Paris .", [JOHN, PARIS]), tg.color_map(["PER", "LOC"]))
    assert ('<mark class="ner-ent" data-label="PER" title="PER 0.90" style="background: #56B4E9">'
            'John<span class="ner-label">PER</span></mark> met Mary in ') in markup
    assert 'title="LOC 0.40"' in markup and '<span class="ner-label">LOC</span></mark> .</div>' in markup
    assert tg.highlighted_text(markup) == "John met Mary in Paris ."


def test_highlight_html_escapes_the_text():
    text = "<b>x</b> & {{y}} ${z} \"q\""
    markup = tg.highlight_html(tg.highlight(text, [Entity("ORG", 0, 8, "<b>x</b>", 0.5)]), {})
    assert "<b>" not in markup and "{" not in markup and "$" not in markup
    assert tg.highlighted_text(markup) == text


def test_empty_or_blank_text_is_refused():
    for text in ("", "  \n\t ", None):
        with pytest.raises(NerDemoError, match="no text to tag"):
            tg.require_text(text)
    assert tg.require_text(" a ") == " a "


def test_status_markdown_puts_each_warning_under_the_latency():
    assert tg.status_markdown("**0 entities**", ["w1", "w2"]) == "**0 entities**\n\n⚠️ w1\n\n⚠️ w2"
    assert tg.status_markdown("**0 entities**") == "**0 entities**"


def test_upload_paths_become_their_file_names_in_messages():
    upload = "/tmp/gradio/4c1d2f9e/bad file.conll"
    message = f"{upload}, line 3: last column 'X' is not a tag"
    assert msg.upload_paths(["text", upload, 3, None, "relative.conll"]) == [upload]
    assert msg.user_message(message, [upload]) == "bad file.conll, line 3: last column 'X' is not a tag"


def test_threshold_keeps_entities_at_or_above_it():
    assert tg.above_threshold([JOHN, PARIS], 0.4) == [JOHN, PARIS]
    assert tg.above_threshold([JOHN, PARIS], 0.5) == [JOHN]


def test_colours_are_fixed_for_conll_types_and_distinct_for_others():
    colours = tg.color_map(["PER", "LOC", "ORG", "MISC", "ANIM", "DIS"])
    assert colours["PER"] == tg.color_map(["PER"])["PER"]
    assert len(set(colours.values())) == 6


def test_entity_files_hold_the_table(tmp_path):
    json_path, csv_path = tg.write_entity_files("John met Mary in Paris .", [JOHN], tmp_path, "m")
    assert json.loads(json_path.read_text(encoding="utf-8"))["entities"] == [JOHN.to_dict()]
    with csv_path.open(encoding="utf-8") as fh:
        assert list(csv.reader(fh)) == [tg.ENTITY_HEADERS, ["John", "PER", "0", "4", "0.9"]]


def test_read_upload_texts_by_line_whole_file_and_jsonl(tmp_path):
    txt = tmp_path / "a.txt"
    txt.write_text("first text\n\nsecond text\n", encoding="utf-8")
    assert tg.read_upload_texts(txt) == ["first text", "second text"]
    assert tg.read_upload_texts(txt, lines=False) == ["first text\n\nsecond text\n"]
    jsonl = tmp_path / "b.jsonl"
    jsonl.write_text('{"text": "ok"}\n{"txt": "no"}\n', encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"b.jsonl, line 2: .*needs a string field 'text'"):
        tg.read_upload_texts(jsonl)


def test_read_upload_texts_rejects_binary_files(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes(b"abc\x00def")
    with pytest.raises(DataFormatError, match="NUL bytes"):
        tg.read_upload_texts(path)


@pytest.fixture(scope="module")
def tagger(trained_tiny_dir):
    from ner_demo.inference import Tagger

    return Tagger.from_pretrained(str(trained_tiny_dir))


def test_batch_conll_keeps_columns_and_adds_predictions(tagger, tmp_path):
    source = write_conll_file(tmp_path / "in.conll", n=5)
    result = tg.tag_batch(tagger, source, tmp_path / "out")
    assert result.output.name == "in.tagged.conll" and result.n_items == 5 and len(result.rows) == 5
    assert parse_conll(result.output.read_text(encoding="utf-8")).sentences[0].words == \
        parse_conll(source.read_text(encoding="utf-8")).sentences[0].words


def test_batch_texts_apply_the_threshold(tagger, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("John met Mary in Paris .\nnothing here\n", encoding="utf-8")
    result = tg.tag_batch(tagger, source, tmp_path / "out", threshold=1.01)
    lines = [json.loads(line) for line in result.output.read_text(encoding="utf-8").splitlines()]
    assert [line["entities"] for line in lines] == [[], []] and result.n_entities == 0


def test_batch_rejects_other_file_types(tagger, tmp_path):
    path = tmp_path / "x.pdf"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(DataFormatError, match="unsupported file type"):
        tg.tag_batch(tagger, path, tmp_path)


def test_decoding_rows_for_one_window(tagger):
    rows, summary = tg.decoding_rows(tagger, "John met Mary in Paris .")
    assert [row[2] for row in rows] == ["[CLS]", "John", "met", "Mary", "in", "Paris", ".", "[SEP]"]
    assert [row[4] for row in rows] == ["special"] + ["target"] * 6 + ["special"]
    assert [row[7] for row in rows[1:-1]] == tagger.tag_texts(["John met Mary in Paris ."])[0].tags
    assert "fits one window" in summary


def test_decoding_rows_mark_windows_and_their_context(tagger):
    words = ("John lives in Paris . " * 60).split()
    rows, summary = tg.decoding_rows(tagger, " ".join(words))
    windows = {row[0] for row in rows}
    assert len(windows) > 1 and f"{len(windows)} windows" in summary
    targets = [row[3] for row in rows if row[4] == "target" and row[7]]
    assert targets == [f"{i}: {w}" for i, w in enumerate(words)]  # every word predicted once, in order
    for row in rows:
        if row[4] == "context":  # context pieces name the word they come from
            index, word = row[3].split(": ")
            assert words[int(index)] == word == row[2]


def test_fresh_output_dirs_replace_old_ones(tmp_path):
    import os

    old = tg.fresh_output_dir(tmp_path)
    os.utime(old, (0, 0))
    new = tg.fresh_output_dir(tmp_path, sweep_every_s=0)
    assert new.is_dir() and not old.exists()


def test_old_output_dirs_are_swept_at_most_once_a_minute(tmp_path):
    import os

    tg.fresh_output_dir(tmp_path)  # sweeps (first call for this root)
    old = tg.fresh_output_dir(tmp_path)
    os.utime(old, (0, 0))
    tg.fresh_output_dir(tmp_path)  # within the minute: no listing of the folder
    assert old.exists()


def test_latency_line_counts():
    assert tg.latency_line(1, 1, 0.5, 2, "x").startswith("**1 entity** in 1 words · 500.0 ms (2 windows)")


# ---- models ----------------------------------------------------------------------------------------


def _finished_run(runs_dir, name: str, f1: float | None = 0.9, with_best: bool = True) -> Run:
    run = Run.create(TrainConfig(name=name, backbone="offline-minilm"), runs_dir)
    run.write_status(state="finished", best={"strict_f1": f1} if f1 is not None else None)
    if with_best:
        (run.best_dir).mkdir()
        (run.best_dir / "config.json").write_text("{}", encoding="utf-8")
    return run


def test_finished_runs_with_a_best_model_are_offered(tmp_path):
    done = _finished_run(tmp_path, "done")
    _finished_run(tmp_path, "nobest", with_best=False)
    assert am.finished_run_models(tmp_path) == [(f"run {done.id}, dev F1 0.900", str(done.best_dir))]


def test_missing_shipped_model_is_explained_and_not_offered(tmp_path, monkeypatch, ship_from):
    monkeypatch.delenv("NER_DEMO_MODEL", raising=False)
    ship_from(tmp_path / "missing")
    assert "shipped model is not installed" in am.default_model_problem()
    assert am.model_choices(tmp_path / "runs") == []
    assert am.initial_choice(tmp_path / "runs") is None
    with pytest.raises(ModelLoadError, match="no shipped model"):
        am.resolve_choice(am.DEFAULT_CHOICE)
    with pytest.raises(ModelLoadError, match="no model chosen"):
        am.resolve_choice("  ")


def test_default_from_the_environment_comes_first(tmp_path, monkeypatch, tiny_model_dir, ship_from):
    monkeypatch.setenv("NER_DEMO_MODEL", str(tiny_model_dir))
    ship_from(tmp_path / "models" / "default")
    run = _finished_run(tmp_path, "r")
    assert am.default_model_problem() is None
    assert [value for _, value in am.model_choices(tmp_path)] == [am.DEFAULT_CHOICE, str(run.best_dir)]
    assert am.resolve_choice(am.DEFAULT_CHOICE) == str(tiny_model_dir)


def test_other_shipped_models_follow_the_default(tmp_path, monkeypatch, ship_from):
    monkeypatch.delenv("NER_DEMO_MODEL", raising=False)
    for name in ("default", "fast", "not-a-model"):
        (tmp_path / "models" / name).mkdir(parents=True)
    for name in ("default", "fast"):
        (tmp_path / "models" / name / "config.json").write_text("{}", encoding="utf-8")
    ship_from(tmp_path / "models" / "default")
    run = _finished_run(tmp_path / "runs", "r")
    assert am.model_choices(tmp_path / "runs") == [
        ("shipped default: default", am.DEFAULT_CHOICE),
        ("shipped: fast", str(tmp_path / "models" / "fast")),
        (f"run {run.id}, dev F1 0.900", str(run.best_dir)),
    ]


def test_model_cache_loads_once_and_reloads_a_rewritten_folder(tiny_model_dir, tmp_path):
    import shutil

    folder = tmp_path / "m"
    shutil.copytree(tiny_model_dir, folder)
    cache = am.ModelCache(size=2)
    first = cache.load(str(folder))
    assert cache.load(str(folder)) is first
    assert cache.tagger(str(folder), "max").aggregation == "max"
    (folder / "config.json").touch()  # a run swapped in a better best/
    import os

    stat = (folder / "config.json").stat()
    os.utime(folder / "config.json", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert cache.load(str(folder)) is not first


# ---- evaluating ------------------------------------------------------------------------------------


def _run(gold, pred, words=None) -> ev.EvalRun:
    words = words or [tuple(f"w{i}" for i in range(len(g))) for g in gold]
    return ev.EvalRun("model", "data", words, gold, pred, evaluate(gold, pred, words), 0.1)


GOLD = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
PRED = [["B-PER", "O", "O", "B-LOC"], ["O", "B-LOC"]]


def test_metric_cards_show_strict_conlleval_and_token_accuracy():
    cards = ev.metric_cards_html(_run(GOLD, PRED))
    assert cards.index("Strict IOB2 F1") < cards.index("conlleval F1") < cards.index("Token accuracy")
    assert "0.3333" in cards  # strict micro F1: LOC is the one exact match of 3 gold and 3 predicted
    assert "3 entity errors" in cards


def test_per_type_rows_end_with_averages():
    rows = ev.per_type_rows(_run(GOLD, PRED).result)
    assert [row[0] for row in rows] == ["LOC", "ORG", "PER", "micro avg", "macro avg"]
    assert rows[0][:5] == ["LOC", 1, 0.5, 1.0, 0.6667]


def test_error_browser_filters_and_details():
    run = _run(GOLD, PRED, [("John", "Smith", "in", "Paris"), ("Acme", "rocks")])
    assert [row[:2] for row in ev.error_rows(run)] == [[1, "wrong_boundary"], [2, "false_negative"],
                                                       [3, "false_positive"]]  # numbered from 1, for people
    assert [row[2] for row in ev.error_rows(run, entity_type="ORG")] == ["ORG: Acme"]
    assert ev.error_rows(run, kind="wrong_type") == []
    gold, pred, caption = ev.error_detail(run, 0)
    assert tg.highlighted_text(gold) == tg.highlighted_text(pred) == "John Smith in Paris"
    assert 'data-label="PER" title="PER" style="background: #56B4E9">John Smith<span' in gold
    assert 'data-label="PER" title="PER" style="background: #56B4E9">John<span' in pred
    assert caption.startswith("Error #1 of 3: **wrong boundary**")
    with pytest.raises(IndexError, match="error #10 does not exist"):
        ev.error_detail(run, 9)


def test_error_sentence_is_one_block_without_breaks():
    run = _run(GOLD, PRED, [("John", "Smith", "in", "Paris"), ("Acme", "rocks")])
    gold, _, _ = ev.error_detail(run, 0)
    assert gold.count("<div") == 1 and "<br" not in gold and "\n" not in gold


def test_comparison_rows_are_b_minus_a():
    a, b = _run(GOLD, PRED).result, _run(GOLD, GOLD).result
    rows = {row[0]: row for row in ev.comparison_rows(a, b)}
    assert rows["ORG"][2:5] == [0.0, 1.0, 1.0]
    assert rows["micro avg"][3] == 1.0


# ---- datasets ----------------------------------------------------------------------------------------


def test_eval_choices_follow_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NER_DEMO_HOME", str(tmp_path))
    assert [value for _, value in ds.eval_data_choices()] == [ds.UPLOAD]
    write_fake_conll2003(tmp_path)
    assert [value for _, value in ds.eval_data_choices()] == ["conll2003:dev", "conll2003:test", ds.UPLOAD]
    corpus, name = ds.eval_corpus("conll2003:dev", None)
    assert name == "CoNLL-2003 dev" and len(corpus) == 40


def test_eval_corpus_from_an_upload(tmp_path):
    path = write_conll_file(tmp_path / "u.conll", n=4)
    corpus, name = ds.eval_corpus(ds.UPLOAD, str(path))
    assert name == "u.conll" and len(corpus) == 4
    with pytest.raises(DatasetUnavailableError, match="no CoNLL file uploaded"):
        ds.eval_corpus(ds.UPLOAD, None)


def test_sentence_view_clamps_and_captions():
    corpus = parse_conll("John B-PER\nruns O\n\nParis B-LOC\n")
    highlight, caption, number = ds.sentence_view(corpus, 99)
    assert highlight == {"text": "Paris", "entities": [{"entity": "LOC", "start": 0, "end": 5}]}
    assert caption.startswith("Sentence 2 of 2") and number == 2


def test_distribution_figure_has_a_bar_group_per_split():
    stats = ds.split_stats({"train": parse_conll("John B-PER\n"), "dev": parse_conll("Paris B-LOC\n")})
    fig = data_plots.entity_distribution_figure(stats)
    assert [trace.name for trace in fig.data] == ["train", "dev"]
    assert list(fig.data[0].x) == ["LOC", "PER"] and list(fig.data[0].y) == [0, 1]


# ---- training ----------------------------------------------------------------------------------------


def test_config_from_form_maps_the_uploads_and_empty_inputs(tmp_path):
    values = {"backbone": " offline-minilm ", "dataset": tr.DATASET_UPLOAD, "train_file": "t.conll",
              "dev_file": "d.conll", "epochs": 2, "max_steps": 0, "limit_train_sentences": None, "name": ""}
    cfg = tr.config_from_form(values, tmp_path)
    assert (cfg.backbone, cfg.train_file, cfg.dev_file, cfg.max_steps, cfg.limit_train_sentences) == \
        ("offline-minilm", "t.conll", "d.conll", None, None)
    assert cfg.runs_dir == str(tmp_path) and cfg.name == "app"


def test_config_from_form_needs_both_uploads():
    with pytest.raises(ConfigError, match="upload both a train and a dev"):
        tr.config_from_form({"backbone": "offline-minilm", "dataset": tr.DATASET_UPLOAD, "train_file": "t.conll"}, "runs")


def test_config_from_form_says_what_the_cli_says():
    with pytest.raises(ConfigError, match=r"^learning_rate=2.0: must be between 0 and 1"):
        tr.config_from_form({"backbone": "offline-minilm", "dataset": tr.DATASET_CONLL, "learning_rate": 2.0}, "runs")
    with pytest.raises(ConfigError, match=r"^the Train form: epochs=1.5: expected int"):
        tr.config_from_form({"backbone": "offline-minilm", "dataset": tr.DATASET_CONLL, "epochs": 1.5}, "runs")


def test_multinerd_is_offered_only_with_the_hub():
    assert tr.DATASET_MULTINERD_FIVE not in [v for _, v in tr.dataset_choices(False)]
    assert tr.DATASET_MULTINERD_FIVE in [v for _, v in tr.dataset_choices(True)]


def test_backbone_problem_names_the_offline_encoder():
    problem = tr.backbone_problem("someone/not-cached", hub=False)
    assert "cannot reach the Hub" in problem and "offline-minilm" in problem
    assert tr.backbone_problem("someone/not-cached", hub=True) is None
    assert tr.backbone_problem("offline-minilm", hub=False) is None
    assert "neither an existing folder" in tr.backbone_problem("not a model!", hub=False)
    assert "not a model folder" in tr.backbone_problem("./no/such/folder", hub=False)


def test_progress_html_shows_progress_eta_and_errors():
    running = tr.progress_html({"run_id": "r", "state": "running", "step": 5, "total_steps": 20, "eta_s": 75,
                                "epoch": 0.5, "best": {"strict_f1": 0.5}})
    assert "aria-valuenow='25'" in running and "step 5/20 (25%)" in running and "ETA 1 min 15 s" in running
    assert "best dev F1 0.5000" in running
    failed = tr.progress_html({"run_id": "r", "state": "failed", "error": "bad <value>"})
    assert "error: bad &lt;value&gt;" in failed


def test_curves_and_runs_table(tmp_path):
    fig = curves_figure([{"step": 1, "loss": 2.0}], [{"epoch": 1, "strict_f1": 0.5, "conlleval_f1": 0.6}])
    assert [t.name for t in fig.data] == ["loss", "strict F1", "conlleval F1"]
    # Ids start with the creation time; within one second the name orders them.
    old, new = _finished_run(tmp_path, "a-old", f1=0.5), _finished_run(tmp_path, "b-new", f1=None)
    rows = tr.runs_rows(list_runs(tmp_path))
    assert [row[0] for row in rows] == [new.id, old.id] and rows[1][6] == 0.5 and rows[0][6] is None

"""The app through its HTTP API (gradio_client), launched once for this module on tiny models and data."""

from __future__ import annotations

import html
import json
import re
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from app_harness import TAG_SENTENCE, running_app, train_form, write_conll_file, write_fake_conll2003

gradio_client = pytest.importorskip("gradio_client")
DEFAULT = "(default)"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, trained_tiny_dir):
    root = tmp_path_factory.mktemp("app_api")
    write_fake_conll2003(root / "home")
    with running_app(root, str(trained_tiny_dir), root / "home") as url:
        yield url


@pytest.fixture(scope="module")
def client(app_url):
    return gradio_client.Client(app_url, verbose=False)


@pytest.fixture(scope="module")
def conll_file(tmp_path_factory) -> Path:
    return write_conll_file(tmp_path_factory.mktemp("upload") / "sample.conll")


def _table(value) -> list[list]:
    """Rows of a Dataframe output (a plain value, or an update that carries one)."""
    if isinstance(value, dict) and "value" in value:
        value = value["value"]
    return value["data"] if isinstance(value, dict) else value


def _highlight_types(value) -> dict[str, str]:
    """token -> type of a HighlightedText value as the API returns it, or of the HTML the Tag tab draws."""
    if isinstance(value, str):  # tagging.highlight_html: <mark data-label="PER" ...>John<span ...>PER</span></mark>
        marks = re.findall(r'<mark [^>]*data-label="([^"]+)"[^>]*>([^<]*)<', value)
        return {html.unescape(text): label for label, text in marks}
    tokens = value["value"] if isinstance(value, dict) and "value" in value else value
    return {t["token"]: t["class_or_confidence"] for t in tokens if t["class_or_confidence"]}


# ---- serving --------------------------------------------------------------------------------------


def test_every_event_has_an_api_name():
    import ner_demo.app as app

    dependencies = app.build().config["dependencies"]
    assert dependencies and all(d.get("api_name") for d in dependencies)


def test_missing_shipped_model_is_announced_in_the_tag_tab(tmp_path, monkeypatch, ship_from):
    import ner_demo.app as app

    monkeypatch.delenv("NER_DEMO_MODEL", raising=False)
    monkeypatch.setenv("NER_DEMO_RUNS", str(tmp_path / "runs"))
    ship_from(tmp_path / "missing")
    components = {c.get("props", {}).get("elem_id"): c["props"] for c in app.build().config["components"]}
    assert components["model-notice"]["visible"] is True
    assert "shipped model is not installed" in components["model-notice"]["value"]
    assert components["tag-model"]["choices"] == [] and components["tag-model"].get("value") in (None, "", [])


def test_files_outside_the_app_folders_are_not_served(app_url):
    for target in (Path(__file__).resolve().parent.parent / "app.py", Path("/etc/passwd")):
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"{app_url}gradio_api/file={target}", timeout=10)
        assert caught.value.code in (403, 404)


def test_upload_size_is_capped(app_url):
    with urllib.request.urlopen(f"{app_url}config", timeout=10) as response:
        config = json.load(response)
    assert config["max_file_size"] == 20 * 1024 * 1024  # "20mb" in launch()


# ---- Tag ------------------------------------------------------------------------------------------


def test_entities_api_returns_character_spans(app_url):
    from http_support import call

    event, payload = call(app_url, "entities", [TAG_SENTENCE])
    assert event == "complete"
    assert [(e["label"], e["start"], e["end"], e["text"]) for e in payload[0]] == [
        ("PER", 0, 4, "John"), ("PER", 9, 13, "Mary"), ("LOC", 17, 22, "Paris")]


def test_entities_is_one_text_per_request_for_gradio_client(client, app_url):
    with urllib.request.urlopen(f"{app_url}gradio_api/info", timeout=10) as response:
        (parameter,) = json.load(response)["named_endpoints"]["/entities"]["parameters"]
    assert parameter["type"] == {"type": "string"} and parameter["python_type"]["type"] == "str"
    found = client.predict(TAG_SENTENCE, api_name="/entities")
    assert [(e["label"], e["text"]) for e in found] == [("PER", "John"), ("PER", "Mary"), ("LOC", "Paris")]


BAD_ENTITY_REQUESTS = {  # request -> the words its own error must say
    "number": (42, "got int: '42'"),
    "list": (["John", "Paris"], "got list"),
    "null": (None, "got null"),
    "over the cap": ("a" * 1_000_001, "1,000,001 characters; /entities takes at most 1,000,000"),
}


def test_entities_requests_sent_together_each_get_their_own_answer(app_url):
    from http_support import call

    requests = [TAG_SENTENCE] * 12
    for k, (value, _) in enumerate(BAD_ENTITY_REQUESTS.values()):
        requests.insert(3 * k + 1, value)  # bad ones between good ones, as clients happen to send them
    ready = threading.Barrier(len(requests))

    def send(value):
        ready.wait(60)  # all at once, so that they queue up and meet in batches
        return call(app_url, "entities", [value])

    with ThreadPoolExecutor(len(requests)) as pool:
        answers = list(pool.map(send, requests))
    expected = [("PER", 0, 4, "John"), ("PER", 9, 13, "Mary"), ("LOC", 17, 22, "Paris")]
    for value, (event, payload) in zip(requests, answers):
        if value == TAG_SENTENCE:
            assert event == "complete" and [(e["label"], e["start"], e["end"], e["text"]) for e in payload[0]] == expected
    bad = [(event, payload) for value, (event, payload) in zip(requests, answers) if value != TAG_SENTENCE]
    assert [event for event, _ in bad] == ["complete"] * 4  # answered, in the documented error shape:
    for (_, payload), (_, words) in zip(bad, BAD_ENTITY_REQUESTS.values()):
        (answer,) = payload
        assert list(answer) == ["error"] and words in answer["error"], answer  # its own problem, no one else's


def test_noop_api_echoes_its_input(app_url):
    from http_support import call

    assert call(app_url, "noop", ["ping"]) == ("complete", ["ping"])


def test_tag_finds_people_and_places(client):
    highlight, table, latency, json_path, csv_path = client.predict(
        TAG_SENTENCE, DEFAULT, "first", 0.0, api_name="/tag")
    rows = _table(table)
    assert ["John", "PER", 0, 4] in [row[:4] for row in rows]
    assert ["Paris", "LOC", 17, 22] in [row[:4] for row in rows]
    assert _highlight_types(highlight)["Paris"] == "LOC"
    assert "ms" in latency and "entities" in latency
    saved = json.loads(Path(json_path).read_text(encoding="utf-8"))
    assert saved["text"] == TAG_SENTENCE and {"label": "PER", "text": "John"}.items() <= saved["entities"][0].items()
    assert Path(csv_path).read_text(encoding="utf-8").splitlines()[0] == "text,type,start,end,score"


def test_threshold_hides_unsure_entities(client):
    _, table, latency, _, _ = client.predict(TAG_SENTENCE, DEFAULT, "average", 1.0, api_name="/tag")
    assert _table(table) == [] and latency.startswith("**0 entities**")


def test_unknown_model_is_reported_plainly(client):
    with pytest.raises(Exception, match="neither an existing folder nor a valid Hub id"):
        client.predict(TAG_SENTENCE, "not a model!", "first", 0.0, api_name="/tag")


def test_decoding_view_shows_subwords_and_windows(client):
    long_text = " ".join(["John lives in Paris ."] * 60)  # 300 words: more than one 128-piece window
    table, summary = client.predict(long_text, DEFAULT, "first", api_name="/decode")
    rows = _table(table)
    assert rows[0][2] == "[CLS]" and rows[1][2:5] == ["John", "0: John", "target"]
    assert "windows" in summary and max(row[0] for row in rows) > 1
    assert {"context", "target", "special"} <= {row[4] for row in rows}


def test_batch_tagging_of_a_jsonl_file(client, tmp_path):
    source = tmp_path / "texts.jsonl"
    source.write_text('{"text": "Mary visited Berlin ."}\n{"text": "the end"}\n', encoding="utf-8")
    summary, table, output = client.predict(gradio_client.handle_file(str(source)), DEFAULT, "first", 0.0, True,
                                             api_name="/tag_file")
    lines = [json.loads(line) for line in Path(output).read_text(encoding="utf-8").splitlines()]
    assert [line["text"] for line in lines] == ["Mary visited Berlin .", "the end"]
    assert {(e["label"], e["text"]) for e in lines[0]["entities"]} >= {("PER", "Mary"), ("LOC", "Berlin")}
    assert "2 items" in summary and len(_table(table)) == 2


def test_batch_tagging_of_a_conll_file(client, conll_file):
    summary, _, output = client.predict(gradio_client.handle_file(str(conll_file)), DEFAULT, "first", 0.0, True,
                                        api_name="/tag_file")
    assert Path(output).name == "sample.tagged.conll" and "30 items" in summary
    assert any(line.endswith("B-PER") for line in Path(output).read_text(encoding="utf-8").splitlines())


# ---- Evaluate -------------------------------------------------------------------------------------


def test_evaluate_an_uploaded_file_and_browse_errors(client, conll_file):
    (cards, per_type_plot, per_type, confusion, _, types, errors, counts, index, gold, pred, caption) = client.predict(
        DEFAULT, "uploaded file", gradio_client.handle_file(str(conll_file)), api_name="/evaluate")
    assert "Strict IOB2 F1" in cards and "Token accuracy" in cards
    assert per_type_plot["type"] == "plotly" and confusion["type"] == "plotly"
    assert [row[0] for row in _table(per_type)] == ["LOC", "ORG", "PER", "micro avg", "macro avg"]
    assert "false positive" in counts
    rows = _table(errors)
    if rows:  # the tiny model is good but not perfect on unseen sentences: browse its errors
        assert index == rows[0][0] and caption.startswith(f"Error #{index}")
        filtered, first, *_ = client.predict(rows[0][1], "all", api_name="/filter_errors_by_kind")
        assert {row[1] for row in _table(filtered)} == {rows[0][1]}
        gold, pred, caption = client.predict(first, api_name="/error_detail")
        assert gold and pred and "Error #" in caption


def test_evaluate_conll2003_dev_and_compare(client):
    outputs = client.predict(DEFAULT, "conll2003:dev", None, api_name="/evaluate")
    micro = [row for row in _table(outputs[2]) if row[0] == "micro avg"][0]
    assert micro[4] > 0.5  # strict F1 of the tiny trained model on its own kind of sentences
    plot, table, caption = client.predict(DEFAULT, "conll2003:dev", None, api_name="/compare")
    rows = _table(table)
    assert rows[-1][0] == "micro avg" and all(row[4] == 0 for row in rows)  # the same model: no change
    assert "A = A:" in caption and plot["type"] == "plotly"


# ---- Data -----------------------------------------------------------------------------------------


def test_data_statistics_and_sentence_browser(client):
    stats, chart, sentence_lengths, entity_lengths, note, split, number, sentence, caption = client.predict(
        "conll2003", None, api_name="/load_data")
    rows = {row[0]: row[1:] for row in _table(stats)}
    assert rows["sentences"] == [120, 40, 40] and chart["type"] == "plotly"
    assert note.startswith("CoNLL-2003 · train: 120 sentences")
    assert number == 1 and caption.startswith("Sentence 1 of 120")  # box and caption count alike, from 1
    highlight, caption, number = client.predict("train", 1, api_name="/next_sentence")
    assert number == 2 and caption.startswith("Sentence 2 of 120")
    highlight, caption, number = client.predict("train", 1, api_name="/previous_sentence")
    assert number == 1 and caption.startswith("Sentence 1 of 120")
    highlight, caption, number = client.predict("train", 1, "Paris", api_name="/find_sentence")
    assert "Paris" in _highlight_types(highlight) and caption.startswith(f"Sentence {number} of 120")


def test_data_length_distributions(client):
    _, _, sentence_lengths, entity_lengths, *_ = client.predict("conll2003", None, api_name="/load_data")
    lines = json.loads(sentence_lengths["plot"])["data"]
    assert [line["name"].split(" (")[0] for line in lines] == ["train", "dev", "test"]
    assert all(abs(sum(line["y"]) - 100) < 1e-6 for line in lines)  # shares of each split's sentences
    bars = json.loads(entity_lengths["plot"])["data"]
    assert [bar["name"].split(" (")[0] for bar in bars] == ["LOC", "ORG", "PER"]
    org = next(bar for bar in bars if bar["name"].startswith("ORG"))
    assert org["x"][:2] == [1, 2] and org["y"][0] == 0 and org["y"][1] == 100  # "Acme Corp": 2 words, always


def test_an_uploaded_file_is_labelled_uploaded_not_test(client, conll_file):
    stats, *_, note, split, number, sentence, caption = client.predict(
        "uploaded file", gradio_client.handle_file(str(conll_file)), api_name="/load_data")
    assert stats["headers"] == ["", "uploaded"] and note == "sample.conll · uploaded: 30 sentences (IOB2 in the file)"
    assert caption.startswith("Sentence 1 of 30") and caption.endswith("sample.conll, line 3")
    highlight, caption, number = client.predict("uploaded", 30, api_name="/next_sentence")
    assert number == 30 and caption.startswith("Sentence 30 of 30")


def test_data_errors_name_the_upload_never_its_server_path(app_url, tmp_path):
    from http_support import call, upload

    bad = tmp_path / "broken.conll"
    bad.write_text("John B-PER\nParis LOCATION\n", encoding="utf-8")
    file_data = upload(app_url, bad)
    event, payload = call(app_url, "load_data", ["uploaded file", file_data])
    assert event == "error" and payload["error"].startswith("broken.conll, line 2: 'Paris LOCATION'")
    assert str(Path(file_data["path"]).parent) not in payload["error"]


def test_a_failed_load_clears_the_previous_dataset():
    import ner_demo.app as app

    config = app.build().config
    load = next(d for d in config["dependencies"] if d["api_name"] == "load_data")
    clear = next(d for d in config["dependencies"] if d["api_name"] == "clear_data")
    assert clear["trigger_only_on_failure"] and clear["trigger_after"] == load["id"]
    assert clear["outputs"] == load["outputs"]  # every output of the load: stats, charts, key, sentence
    assert app.data.clear_data()[:6] == (None, None, None, None, "", None)


# ---- Train ----------------------------------------------------------------------------------------


def _form(backbone: str, max_steps: int, name: str) -> list:
    """The Train form's inputs for a short run on CoNLL-2003 (the fake one of the fixture)."""
    return train_form(backbone=backbone, name=name, learning_rate=3e-3, batch_size=8, epochs=1, max_steps=max_steps,
                      max_length=64, warmup_ratio=0.0, precision="fp32")


def _wait(client, run_id: str, done, timeout: float = 120.0) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        progress, *_ = client.predict(run_id, api_name="/poll_run")
        if done(progress):
            return progress
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} did not get there in {timeout:.0f} s; last progress: {progress}")


def test_hub_backbone_without_the_hub_offers_the_offline_encoder(client):
    warning = client.predict("someone/not-in-any-cache", api_name="/check_backbone")  # the button is not an output
    assert warning["visible"] is True
    assert "cannot reach the Hub" in warning["value"] and "offline-minilm" in warning["value"]
    assert client.predict("offline-minilm", api_name="/check_backbone")["visible"] is False
    with pytest.raises(Exception, match="cannot reach the Hub"):
        client.predict(*_form("someone/not-in-any-cache", 5, "hub"), api_name="/start_training")


def test_runs_are_named_by_id_never_by_path(client, tmp_path):
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")  # looks like a run folder
    progress, *_ = client.predict(str(tmp_path), api_name="/poll_run")
    assert "no run" in progress
    with pytest.raises(Exception, match="no run"):
        client.predict(str(tmp_path), api_name="/cancel_training")
    assert not (tmp_path / "CANCEL").exists()


def test_train_watch_and_use_a_finished_run(client, tiny_model_dir):
    watched, _, progress, _, _ = client.predict(*_form(str(tiny_model_dir), 16, "done"), api_name="/start_training")
    run_id = watched["value"]
    assert run_id.endswith("-done") and "ner-progress" in progress
    final = _wait(client, run_id, lambda p: "finished" in p or "failed" in p)
    assert "finished" in final and "best dev F1" in final
    _, curves, runs, timer = client.predict(run_id, api_name="/poll_run")
    assert timer["active"] is False and curves["type"] == "plotly"
    assert [row[1] for row in _table(runs) if row[0] == run_id] == ["finished"]
    choices = [value for _, value in client.predict(api_name="/refresh_tag_models")["choices"]]
    best = [c for c in choices if run_id in c]
    assert best and best[0].endswith("best")
    _, table, *_ = client.predict(TAG_SENTENCE, best[0], "first", 0.0, api_name="/tag")  # usable at once


def test_cancel_and_resume_a_run(client, tiny_model_dir):
    watched, *_ = client.predict(*_form(str(tiny_model_dir), 5000, "long"), api_name="/start_training")
    run_id = watched["value"]
    _wait(client, run_id, lambda p: "step " in p and "running" in p)
    client.predict(run_id, api_name="/cancel_training")
    cancelled = _wait(client, run_id, lambda p: "cancelled" in p or "failed" in p or "finished" in p)
    assert "cancelled" in cancelled
    client.predict(run_id, api_name="/resume_training")
    _wait(client, run_id, lambda p: "running" in p and "step " in p)
    client.predict(run_id, api_name="/cancel_training")
    assert "cancelled" in _wait(client, run_id, lambda p: "running" not in p and "queued" not in p)

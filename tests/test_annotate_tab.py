"""The Annotate tab's handlers (ner_demo.app.annotate_actions, and the editor's server functions in
ner_demo.app.annotate_editor), called as the page calls them: create, pre-annotate, the editor's edits
and decisions, export, review. The database is a SQLite file in
``tmp_path`` ($NER_DEMO_ANNOTATION_DB); the page's event data is built as the editor's JavaScript sends it."""

from __future__ import annotations

import re
from types import SimpleNamespace

import gradio as gr
import pytest

import ner_demo.app.annotate_actions as act
import ner_demo.app.annotate_editor as ed
from ner_demo.annotation.source import DB_ENV

TEXTS = ["John met Mary in Paris .", "Mary flew to Berlin .", "John stayed in Paris ."]
NOBODY = SimpleNamespace(username=None)


@pytest.fixture(autouse=True)
def database(tmp_path, monkeypatch):
    monkeypatch.setenv(DB_ENV, str(tmp_path / "annotations.sqlite3"))
    act._STORES.clear()
    yield tmp_path / "annotations.sqlite3"
    for store in act._STORES.values():
        store.close()
    act._STORES.clear()


def _create(tmp_path, name="news", labels="PER\nLOC"):
    upload = tmp_path / "texts.txt"
    upload.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    return act.create(name, "upload", str(upload), "", "dev", None, "custom", None, labels, False)


def _state(html: str) -> dict:
    import html as html_lib
    import json

    found = re.search(r'data-state="([^"]*)"', html)
    return json.loads(html_lib.unescape(found.group(1)))


def _start(name="news", order="order", annotator="ana") -> str:
    return ed.start(name, order, False, None, None, None, annotator, NOBODY)


def _edit(state: dict, **data) -> str:
    """As the page sends an edit: the spans it was last answered with, the next sequence number."""
    return ed.editor_edit({**state, "seq": state["seq"] + 1, **data})["html"]


def _decide(state: dict, action: str) -> str:
    return ed.editor_decide({**state, "seq": state["seq"] + 1, "action": action})["html"]


def test_create_from_an_uploaded_txt_with_custom_types(tmp_path):
    note, _, table = _create(tmp_path)
    assert note == "Created **news**: 3 examples, labels PER, LOC."
    assert [row[:4] for row in table] == [["news", 3, 0, "PER, LOC"]]


def test_a_custom_type_with_an_action_key_is_refused(tmp_path):
    with pytest.raises(gr.Error, match="key 'x' is taken by an action"):
        _create(tmp_path, labels="PER x")


def test_delete_needs_the_confirmation(tmp_path):
    _create(tmp_path)
    with pytest.raises(gr.Error, match="Tick 'Yes, delete it'"):
        act.delete("news", False)
    note, _, table, _ = act.delete("news", True)
    assert (note, table) == ("Deleted **news** and its decisions.", [])


def test_the_first_item_comes_from_the_start(tmp_path):
    _create(tmp_path)
    html = _start()
    state = _state(html)
    assert (state["position"], state["spans"], len(state["words"])) == (0, [], 6)
    assert "0 of 3 done" in html


def test_an_add_snaps_to_whole_words(tmp_path):
    _create(tmp_path)
    html = _edit(_state(_start()), op="add", start=1, end=3, label="PER")
    assert _state(html)["spans"] == [{"start": 0, "end": 4, "label": "PER"}]
    assert "added &#x27;John&#x27; as PER" in html


def test_an_overlapping_add_is_refused_with_the_reason_and_the_spans_kept(tmp_path):
    _create(tmp_path)
    state = _state(_edit(_state(_start()), op="add", start=0, end=4, label="PER"))
    html = _edit(state, op="add", start=2, end=8, label="LOC")
    assert _state(html)["spans"] == [{"start": 0, "end": 4, "label": "PER"}]
    assert 'role="alert"' in html and "spans overlap" in html


def test_offsets_that_are_not_numbers_are_refused(tmp_path):
    _create(tmp_path)
    html = _edit(_state(_start()), op="add", start="0; DROP TABLE decisions", end=4, label="PER")
    assert "not a whole number" in html and _state(html)["spans"] == []


def test_accepting_an_edited_item_commits_an_edit_and_shows_the_next(tmp_path):
    _create(tmp_path)
    state = _state(_edit(_state(_start()), op="add", start=0, end=4, label="PER"))
    html = _decide(state, "accept")
    assert _state(html)["position"] == 1 and "saved: edit of item 0." in html and "1 of 3 done" in html
    decision = act.store().latest("news", "ana")[0]
    assert (decision.action, [s.to_dict() for s in decision.spans]) == ("edit", [{"start": 0, "end": 4, "label": "PER"}])


def test_relabel_resize_and_remove(tmp_path):
    _create(tmp_path)
    state = _state(_edit(_state(_start()), op="add", start=9, end=13, label="PER"))
    target = {"start": 9, "end": 13, "label": "PER"}
    state = _state(_edit(state, op="relabel", target=target, label="LOC"))
    assert state["spans"] == [{"start": 9, "end": 13, "label": "LOC"}]
    state = _state(_edit(state, op="resize", target=state["spans"][0], start=9, end=17))
    assert state["spans"] == [{"start": 9, "end": 16, "label": "LOC"}]  # "Mary in", snapped to its words
    assert _state(_edit(state, op="remove", target=state["spans"][0]))["spans"] == []


def test_label_every_occurrence_in_the_dataset(tmp_path):
    _create(tmp_path)
    state = _state(_edit(_state(_start()), op="add", start=17, end=22, label="LOC"))
    html = _edit(state, op="all", target={"start": 17, "end": 22, "label": "LOC"})
    assert "labelled &#x27;Paris&#x27; as LOC in 1 other stored examples" in html  # item 0: its draft has it
    assert [s.to_dict() for s in act.store().latest("news", "ana")[2].spans] == [{"start": 15, "end": 20, "label": "LOC"}]


def test_reject_skip_undo_and_back(tmp_path):
    _create(tmp_path)
    state = _state(_start())
    state = _state(_decide(state, "reject"))
    state = _state(_decide(state, "skip"))
    assert state["position"] == 2
    back = _state(_decide(state, "back"))
    assert back["position"] == 1
    html = _decide(back, "undo")
    assert _state(html)["position"] == 1 and "undid your skip of item 1" in html
    assert {p: d.action for p, d in act.store().latest("news", "ana").items()} == {0: "reject"}


def test_the_last_item_answered_says_the_queue_is_done(tmp_path):
    _create(tmp_path)
    state = _state(_start())
    for _ in range(3):
        html = _decide(state, "skip")
        state = _state(html)
    assert "All 3 items of &#x27;news&#x27; are answered" in html and state["position"] is None
    assert _state(_decide(state, "back"))["position"] == 2


def test_no_annotator_name_is_refused(tmp_path):
    _create(tmp_path)
    with pytest.raises(gr.Error, match="type your name in the Annotator box"):
        ed.start("news", "order", False, None, None, None, "  ", NOBODY)


def test_the_login_user_is_the_annotator(tmp_path):
    _create(tmp_path)
    html = ed.start("news", "order", False, None, None, None, "", SimpleNamespace(username="bo"))
    _decide(_state(html), "skip")
    assert act.store().annotators("news") == ["bo"]


def test_preannotation_shows_suggestions_and_the_decision_keeps_the_model(tmp_path, trained_tiny_dir):
    _create(tmp_path)
    note = act.run_preannotate("news", str(trained_tiny_dir), progress=lambda *a, **k: None)
    assert note.endswith("suggested spans for 3 examples of **news** (marked as suggestions).")
    html = _start()
    state = _state(html)
    assert state["spans"] == state["base"] != [] and "ann-suggested" in html and "suggested by" in html
    _decide(state, "accept")
    decision = act.store().latest("news", "ana")[0]
    assert decision.action == "accept" and decision.suggested_by and len(decision.model_version) == 12


def test_an_uncertainty_queue_needs_suggestions_first(tmp_path):
    _create(tmp_path)
    with pytest.raises(gr.Error, match="pre-annotate it first"):
        _start(order="margin")


def test_export_conll_writes_the_accepted_spans(tmp_path):
    _create(tmp_path)
    state = _state(_edit(_state(_start()), op="add", start=0, end=4, label="PER"))
    _decide(state, "accept")
    path, note = act.export("news", "conll", False)
    assert note == "Exported 1 annotated examples of 3 (conll)."
    lines = [line.split() for line in open(path, encoding="utf-8").read().splitlines() if line and "DOCSTART" not in line]
    assert [(w[0], w[-1]) for w in lines] == [("John", "B-PER"), ("met", "O"), ("Mary", "O"), ("in", "O"),
                                              ("Paris", "O"), (".", "O")]


def test_compare_two_annotators_and_resolve(tmp_path):
    _create(tmp_path)
    for who, label in (("ana", "PER"), ("bo", "LOC")):
        state = _state(_edit(_state(_start(annotator=who)), op="add", start=0, end=4, label=label))
        _decide(state, "accept")
    rows, diff = act.compare("news", "ana", "bo")
    assert rows == [["LOC", 0, 0, 1, 0.0], ["PER", 0, 1, 0, 0.0], ["all", 0, 1, 1, 0.0]]
    assert "1 examples differ." in diff
    assert act.resolve("news", "ana", "bo", "b").startswith("Resolved 1 examples")
    assert [s.label for s in act.store().final_spans("news")[0]] == ["LOC"]


def test_the_train_form_trains_on_an_annotation_dataset(tmp_path):
    from ner_demo.app.train_format import config_from_form
    from ner_demo.training.data_prep import load_splits_for

    _create(tmp_path)
    state = _state(_start())
    for start, end in ((0, 4), (0, 4)):
        state = _state(_decide(_state(_edit(state, op="add", start=start, end=end, label="PER")), "accept"))
    assert act.annotation_choices() == [("annotation dataset news (Annotate tab)", "annotation:news")]
    config = config_from_form({"dataset": "annotation:news"}, tmp_path / "runs")
    data = load_splits_for(config)
    assert config.dataset == "annotation:news"
    assert sorted(len(s.words) for s in data.train.sentences + data.dev.sentences) == [5, 6]


def test_markup_in_a_text_is_shown_as_text(tmp_path):
    upload = tmp_path / "hostile.txt"
    upload.write_text('<img src=x onerror="alert(1)"> met "Mary" in Paris\n', encoding="utf-8")
    act.create("hostile", "upload", str(upload), "", "dev", None, "custom", None, "PER", False)
    html = _start("hostile")
    assert "<img" not in html and ">&lt;</span>" in html  # the words, each escaped, none a tag
    assert _state(html)["position"] == 0


def test_an_edit_is_saved_as_a_draft_that_the_next_start_shows(tmp_path):
    _create(tmp_path)
    _edit(_state(_start()), op="add", start=0, end=4, label="PER")
    state = _state(_start())  # a new session: the same item, with the edit
    assert (state["position"], state["spans"], state["base"]) == (0, [{"start": 0, "end": 4, "label": "PER"}], [])
    assert act.store().decided_positions("news", "ana") == set()


def test_a_refused_edit_answers_not_ok_with_the_spans_as_saved(tmp_path):
    _create(tmp_path)
    state = _state(_start())
    answer = ed.editor_edit({**state, "seq": 1, "op": "add", "start": 0, "end": 4, "label": "DRUG"})
    assert answer["ok"] is False and "not saved: label &#x27;DRUG&#x27; is not in" in answer["html"]
    assert (_state(answer["html"])["spans"], act.store().draft("news", 0, "ana")) == ([], None)


def test_an_action_out_of_order_is_refused_and_not_applied(tmp_path):
    _create(tmp_path)
    state = _state(_edit(_state(_start()), op="add", start=0, end=4, label="PER"))  # seq 1
    answer = ed.editor_edit({**state, "seq": 1, "op": "add", "start": 9, "end": 13, "label": "PER"})
    assert answer["ok"] is False and "arrived out of order (number 1 after 1)" in answer["html"]
    assert act.store().draft("news", 0, "ana").spans[0].to_dict() == {"start": 0, "end": 4, "label": "PER"}
    assert len(act.store().draft("news", 0, "ana").spans) == 1


def test_an_unknown_session_is_told_to_press_start(tmp_path):
    _create(tmp_path)
    state = _state(_start())
    answer = ed.editor_decide({**state, "token": "not-a-session", "seq": 1, "action": "accept"})
    assert answer["ok"] is False and "press Start again" in answer["html"]
    assert act.store().decided_positions("news", "ana") == set()


def test_the_next_item_ahead_is_the_one_accept_shows(tmp_path):
    _create(tmp_path)
    state = _state(_start())
    ahead = ed.editor_next({"token": state["token"], "position": 0})["html"]
    shown = _decide(state, "accept")
    assert (_state(ahead)["position"], "1 of 3 done" in ahead) == (_state(shown)["position"], True)


def test_two_sessions_on_one_item_both_decide_and_the_latest_counts(tmp_path):
    _create(tmp_path)
    first, second = _state(_start()), _state(_start())  # two tabs of one annotator, both on item 0
    _decide(_state(_edit(first, op="add", start=0, end=4, label="PER")), "accept")
    _decide(_state(_edit(second, op="add", start=17, end=22, label="LOC")), "accept")
    assert [[s.label for s in d.spans] for d in act.store().decisions("news", "ana")] == [["PER"], ["LOC"]]
    assert [s.label for s in act.store().latest("news", "ana")[0].spans] == ["LOC"]

from pathlib import Path

import datasets
import pytest

from ner_demo.data import hub
from ner_demo.data.multinerd import (
    MULTINERD_LABELS, MULTINERD_TYPES, hf_multinerd_to_corpus, load_multinerd, multinerd_label_names,
    parse_multinerd_jsonl, read_multinerd_jsonl, select_types,
)
from ner_demo.errors import ConfigError, DataFormatError, DatasetUnavailableError

TINY = Path(__file__).parent / "data" / "multinerd_tiny.jsonl"


def test_label_ids_follow_the_dataset_card():
    assert (len(MULTINERD_LABELS), MULTINERD_LABELS[5], MULTINERD_LABELS[23], MULTINERD_LABELS[25]) == (
        31, "B-LOC", "B-MYTH", "B-PLANT",
    )


def test_fifteen_types():
    assert MULTINERD_TYPES == (
        "PER", "ORG", "LOC", "ANIM", "BIO", "CEL", "DIS", "EVE", "FOOD", "INST", "MEDIA", "MYTH", "PLANT", "TIME", "VEHI",
    )


def test_non_english_lines_are_skipped():
    corpus = read_multinerd_jsonl(TINY)
    assert [s.words[0] for s in corpus] == ["Marta", "Quillfeather", "Odile", "The"]


def test_lang_none_keeps_every_language():
    assert len(read_multinerd_jsonl(TINY, lang=None)) == 5


def test_all_subset_keeps_every_type():
    corpus = read_multinerd_jsonl(TINY)
    assert corpus.sentences[2].tags == ("B-PER", "O", "B-FOOD", "I-FOOD", "O", "O", "B-EVE", "I-EVE", "O")


def test_five_subset_maps_other_types_to_o():
    corpus = read_multinerd_jsonl(TINY, subset="five")
    assert corpus.sentences[2].tags == ("B-PER", "O", "O", "O", "O", "O", "O", "O", "O")


def test_five_subset_keeps_dis_and_anim():
    corpus = read_multinerd_jsonl(TINY, subset="five")
    assert corpus.sentences[0].tags[4] == "B-ANIM" and corpus.sentences[1].tags[3:5] == ("B-DIS", "I-DIS")


def test_explicit_subset_is_case_insensitive():
    corpus = read_multinerd_jsonl(TINY, subset=["cel"])
    assert corpus.sentences[3].tags == ("O", "B-CEL", "I-CEL", "O", "O", "B-CEL", "O")


def test_five_label_names_in_multinerd_order():
    assert multinerd_label_names("five") == [
        "O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-ANIM", "I-ANIM", "B-DIS", "I-DIS",
    ]


def test_unknown_type_in_subset_is_named():
    with pytest.raises(ConfigError, match=r"unknown entity type\(s\) \['MISC'\]"):
        select_types(["PER", "MISC"])


def test_unknown_subset_name_is_refused():
    with pytest.raises(ConfigError, match="subset 'four' is not 'all', 'five'"):
        select_types("four")


def test_sentence_line_points_at_the_jsonl_line():
    corpus = read_multinerd_jsonl(TINY)
    assert [s.line for s in corpus] == [1, 2, 3, 5]


def test_invalid_json_names_file_and_line():
    with pytest.raises(DataFormatError) as info:
        parse_multinerd_jsonl(['{"tokens": ["a"], "ner_tags": [0]}', "{tokens"], source="m.jsonl")
    assert (info.value.source, info.value.line_no, info.value.content) == ("m.jsonl", 2, "{tokens")
    assert "is not valid JSON" in str(info.value)


def test_tag_id_out_of_range_names_the_value():
    with pytest.raises(DataFormatError, match=r"m.jsonl, line 1: .*ner_tags value 31 is not a tag id 0..30"):
        parse_multinerd_jsonl(['{"tokens": ["a"], "ner_tags": [31]}'], source="m.jsonl")


def test_string_tag_is_refused_naming_it():
    with pytest.raises(DataFormatError, match="ner_tags value 'B-PER' is not a tag id"):
        parse_multinerd_jsonl(['{"tokens": ["a"], "ner_tags": ["B-PER"]}'])


def test_length_mismatch_is_refused():
    with pytest.raises(DataFormatError, match="2 tokens but 1 ner_tags"):
        parse_multinerd_jsonl(['{"tokens": ["a", "b"], "ner_tags": [0]}'])


def test_missing_tokens_is_refused():
    with pytest.raises(DataFormatError, match="'tokens' must be a list of strings, got None"):
        parse_multinerd_jsonl(['{"ner_tags": [0]}'])


def test_non_object_line_is_refused():
    with pytest.raises(DataFormatError, match="expected a JSON object, got list"):
        parse_multinerd_jsonl(["[1, 2]"])


def test_blank_lines_and_empty_sentences_are_skipped():
    corpus = parse_multinerd_jsonl(["", '{"tokens": [], "ner_tags": []}', '{"tokens": ["a"], "ner_tags": [0]}'])
    assert [s.line for s in corpus] == [3]


def test_invalid_utf8_file_names_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"tokens": ["a"], "ner_tags": [0]}\n{"tokens": ["S\xe3o"]}\n')
    with pytest.raises(DataFormatError) as info:
        read_multinerd_jsonl(path)
    assert (info.value.source, info.value.line_no) == (str(path), 2)


def test_hub_split_conversion_filters_language_and_maps_subset():
    split = datasets.Dataset.from_dict(
        {"tokens": [["Rex", "bit", "Ann"], ["Ina"]], "ner_tags": [[7, 0, 1], [1]], "lang": ["en", "de"]}
    )
    corpus = hf_multinerd_to_corpus(split, subset=["PER"], name="hub/train")
    assert [(s.tags, s.source, s.line) for s in corpus] == [(("O", "O", "B-PER"), "hub/train", 1)]


def test_hub_load_offline_raises_dataset_unavailable(monkeypatch):
    monkeypatch.setattr(hub, "hub_reachable", lambda timeout=3.0: False)
    with pytest.raises(DatasetUnavailableError, match="Hub is unreachable .* Babelscape/multinerd"):
        load_multinerd("five")


def test_hub_load_checks_subset_before_network(monkeypatch):
    monkeypatch.setattr(hub, "hub_reachable", lambda timeout=3.0: pytest.fail("no network for a bad subset"))
    with pytest.raises(ConfigError):
        load_multinerd(["MISC"])

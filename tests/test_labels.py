import pytest

from ner_demo.errors import DataFormatError
from ner_demo.labels import IGNORE_INDEX, LabelSet, align_labels


def test_label_set_orders_o_then_sorted_types():
    assert LabelSet.from_types(["PER", "LOC"]).names == ("O", "B-LOC", "I-LOC", "B-PER", "I-PER")


def test_label_set_from_tags_collects_types():
    assert LabelSet.from_tags([["B-ORG", "O"], ["I-MISC"]]).types == ("MISC", "ORG")


def test_label_set_from_config_id2label_with_string_keys():
    assert LabelSet.from_id2label({"1": "B-PER", "0": "O", "2": "I-PER"}).names == ("O", "B-PER", "I-PER")


def test_encode_unknown_tag_names_line_and_tag():
    labels = LabelSet.from_types(["PER"])
    with pytest.raises(DataFormatError, match=r"train\.txt, line 12: 'B-LOC'"):
        labels.encode(["O", "B-LOC"], source="train.txt", line=11)


def test_inside_ids_map_b_to_i():
    labels = LabelSet.from_types(["PER"])
    assert labels.inside_ids() == [0, 2, 2]


def test_first_subword_alignment_masks_specials_and_later_pieces():
    assert align_labels([None, 0, 1, 1, 1, 2, None], [1, 3, 0]) == [
        IGNORE_INDEX, 1, 3, IGNORE_INDEX, IGNORE_INDEX, 0, IGNORE_INDEX,
    ]


def test_all_subword_alignment_turns_b_into_i_on_later_pieces():
    labels = LabelSet.from_types(["PER"])
    assert align_labels([None, 0, 0, 1, None], [1, 0], all_subwords=True, inside_ids=labels.inside_ids()) == [
        IGNORE_INDEX, 1, 2, 0, IGNORE_INDEX,
    ]

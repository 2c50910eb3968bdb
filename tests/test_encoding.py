import pytest
from transformers import AutoTokenizer

from ner_demo.encoding import (
    InputFeatures, add_context, casing_flags, chunk_targets, plan_sequence, sequences_for, training_examples,
    word_pieces,
)


def test_casing_flags_mark_capitalised_words():
    assert casing_flags(["EU", "rejects", "German", "1996"]) == [1, 0, 1, 0]


def test_chunk_targets_never_leaves_a_word_out():
    assert chunk_targets([3, 1, 1, 3], 0, 4, 3) == [(0, 1), (1, 3), (3, 4)]


def test_add_context_stops_at_bounds():
    assert add_context([1] * 5, (0, 1), budget=10, max_words=2, bounds=(0, 5)) == (0, 3)


def test_sequences_for_groups_documents_only_with_context():
    sents, docs = [["a"], ["b", "c"], ["d"]], [0, 0, 1]
    assert sequences_for(sents, docs, 0) == ([["a"], ["b", "c"], ["d"]], [[(0, 1)], [(0, 2)], [(0, 1)]])
    assert sequences_for(sents, docs, 8) == ([["a", "b", "c"], ["d"]], [[(0, 1), (1, 3)], [(0, 1)]])


def test_plan_sequence_covers_every_word_exactly_once():
    pieces = [[7]] * 100
    windows = plan_sequence(0, pieces, None, max_length=22, context_words=0, cls_id=1, sep_id=2)
    covered = [w for win in windows for w in range(*win.target)]
    assert covered == list(range(100))
    assert max(len(w.input_ids) for w in windows) <= 22


@pytest.mark.parametrize("share, n_windows", [(0.5, 10), (0.9, 6)])
def test_chunk_share_sets_how_much_of_each_window_a_long_sequence_predicts(share, n_windows):
    # 100 one-piece words, 20 pieces per window: chunks of 10 (share 0.5) or 18 (0.9) words.
    windows = plan_sequence(0, [[7]] * 100, None, max_length=22, context_words=0, cls_id=1, sep_id=2, chunk_share=share)
    assert len(windows) == n_windows
    assert [w for win in windows for w in range(*win.target)] == list(range(100))


def test_long_sequence_windows_read_context_on_both_sides():
    windows = plan_sequence(0, [[7]] * 100, None, max_length=22, context_words=0, cls_id=1, sep_id=2)
    middle = windows[len(windows) // 2]
    assert middle.piece_word[1] == -1 and middle.piece_word[-2] == -1  # context before and after the target


def test_word_pieces_gives_unk_to_words_the_tokenizer_drops(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    assert word_pieces(tokenizer, [["John", "\u200b"]]) == [[[tokenizer.convert_tokens_to_ids("John")], [tokenizer.unk_token_id]]]


def test_word_pieces_accepts_lone_surrogates(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    assert len(word_pieces(tokenizer, [["a\ud800b"]])[0]) == 1



def test_word_pieces_keeps_every_word_after_a_truncating_tokenizer_call(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    tokenizer(["a b c d e f"], truncation=True, max_length=3)  # leaves truncation set on the backend
    assert len(word_pieces(tokenizer, [["John"] * 40])[0]) == 40


def test_word_pieces_of_an_empty_sequence_is_empty(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    assert word_pieces(tokenizer, [[], ["John"]]) == [[], [[tokenizer.convert_tokens_to_ids("John")]]]

def test_training_examples_label_only_centre_sentence_with_context(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    examples = training_examples(tokenizer, [["John"], ["Paris"]], [[3], [1]], InputFeatures(context_words=4), 32, doc_ids=[0, 0])
    john, paris = tokenizer.convert_tokens_to_ids(["John", "Paris"])
    assert examples[1]["input_ids"] == [tokenizer.cls_token_id, john, paris, tokenizer.sep_token_id]
    assert examples[1]["labels"] == [-100, -100, 1, -100]


def test_training_examples_casing_goes_to_token_types(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    examples = training_examples(tokenizer, [["John", "lives"]], [[3, 0]], InputFeatures(casing=True), 32)
    assert examples[0]["token_type_ids"][:3] == [0, 1, 0]


def test_features_round_trip_through_the_folder(tmp_path):
    InputFeatures(casing=True, context_words=64).save(tmp_path)
    assert InputFeatures.load(tmp_path) == InputFeatures(casing=True, context_words=64)


def test_features_default_for_plain_folders(tmp_path):
    assert InputFeatures.load(tmp_path) == InputFeatures()

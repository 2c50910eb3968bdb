"""FileTokenizer (tokenizer.json through the tokenizers library) against transformers' AutoTokenizer on the
shipped models: the same pieces, ids and offsets, so a graph served without transformers reads the same input."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from ner_demo.encoding import word_pieces
from ner_demo.errors import ModelLoadError
from ner_demo.fast_tokenizer import FileTokenizer, TokenizerFilesMissing
from ner_demo.models import CHECKOUT_MODELS, load_folder_tokenizer
from ner_demo.spans import split_words

SHIPPED = ["minilm-conll2003", "minilm3-conll2003-fast"]
TRICKY = [
    "Angela Merkel visited Paris.",
    "Café Müller in Zürich, Ångström, São Paulo, naïve ÉCOLE SUPÉRIEURE",  # accents (the model is uncased)
    "Donaudampfschifffahrtsgesellschaftskapitän " + "x" * 300,  # long words: more pieces than the cap, then [UNK]
    "北京是中国的首都。東京 서울 ภาษาไทย",  # CJK characters are split one by one
    "emoji 😀, a zero\u200bwidth space, a soft\u00adhyphen, tab\tand\nnewline",
    "",
]


@pytest.fixture(scope="module", params=SHIPPED)
def pair(request):
    folder = CHECKOUT_MODELS / request.param
    return AutoTokenizer.from_pretrained(folder), FileTokenizer.from_folder(folder)


def test_special_token_ids_are_transformers_ones(pair):
    hf, plain = pair
    assert [plain.cls_token_id, plain.sep_token_id, plain.pad_token_id, plain.unk_token_id] == \
           [hf.cls_token_id, hf.sep_token_id, hf.pad_token_id, hf.unk_token_id]


def test_word_pieces_are_transformers_ones(pair):
    hf, plain = pair
    sequences = [[w.text for w in split_words(t)] for t in TRICKY] + [["\ud800", "lone", "surrogate"]]
    assert word_pieces(plain, sequences) == word_pieces(hf, sequences)


@pytest.mark.parametrize("text", TRICKY)
def test_raw_text_ids_and_offsets_are_transformers_ones(pair, text):
    hf, plain = pair
    expected = hf(text, return_offsets_mapping=True)
    encoding = plain.backend_tokenizer.encode(text)
    assert (encoding.ids, encoding.offsets) == (expected["input_ids"], [tuple(o) for o in expected["offset_mapping"]])


def test_tokens_of_a_word_are_transformers_ones(pair):
    hf, plain = pair
    assert plain.tokenize("Merkel's Zürich") == hf.tokenize("Merkel's Zürich")
    assert plain.convert_ids_to_tokens([101, 102]) == hf.convert_ids_to_tokens([101, 102])


def test_a_folder_without_tokenizer_json_is_refused_by_name(tmp_path):
    with pytest.raises(TokenizerFilesMissing, match=r"^model: has no tokenizer.json$"):
        FileTokenizer.from_folder(tmp_path / "model")


def test_a_special_token_missing_from_the_vocabulary_is_named(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "tokenizer.json").write_bytes((CHECKOUT_MODELS / SHIPPED[0] / "tokenizer.json").read_bytes())
    (folder / "tokenizer_config.json").write_text('{"cls_token": "<s>"}', encoding="utf-8")
    with pytest.raises(ModelLoadError, match=r"names cls_token '<s>', which is not in tokenizer.json's vocabulary"):
        FileTokenizer.from_folder(folder)


def test_without_tokenizer_json_the_loader_says_why_it_uses_transformers(tmp_path, caplog):
    folder = tmp_path / "model"
    AutoTokenizer.from_pretrained(CHECKOUT_MODELS / SHIPPED[0]).save_pretrained(folder)
    (folder / "tokenizer.json").unlink()
    vocab = AutoTokenizer.from_pretrained(CHECKOUT_MODELS / SHIPPED[0]).get_vocab()
    (folder / "vocab.txt").write_text("\n".join(sorted(vocab, key=vocab.get)) + "\n", encoding="utf-8")
    (folder / "config.json").write_text('{"model_type": "bert"}', encoding="utf-8")
    with caplog.at_level("WARNING", logger="ner_demo.models"):
        tokenizer = load_folder_tokenizer(folder)
    assert not isinstance(tokenizer, FileTokenizer) and tokenizer.tokenize("Merkel") == ["mer", "##kel"]
    assert "model: has no tokenizer.json: loading the tokenizer with transformers instead" in caplog.text

import copy

import numpy as np
import pytest

from ner_demo.encoding import InputFeatures, Window
from ner_demo.errors import ConfigError, InputTooLargeError
from ner_demo.inference import AGGREGATIONS, MAX_TEXT_CHARS, Tagger
from ner_demo.models import load_trained
from ner_demo.spans import split_words


@pytest.fixture(scope="module")
def tagger(trained_tiny_dir):
    return Tagger.from_pretrained(str(trained_tiny_dir), precision="fp32")


def spans(entities):
    return [(e.label, e.start, e.end, e.text) for e in entities]


def test_finds_people_places_and_organisations(tagger):
    text = "John visited Berlin and met Mary at Siemens Corp ."
    assert spans(tagger.predict(text)) == [
        ("PER", 0, 4, "John"), ("LOC", 13, 19, "Berlin"), ("PER", 28, 32, "Mary"), ("ORG", 36, 48, "Siemens Corp"),
    ]


def test_empty_and_whitespace_text_give_no_entities(tagger):
    assert tagger.predict_many(["", "  \n\t "]) == [[], []]


def test_scores_are_probabilities(tagger):
    assert all(0.5 < e.score <= 1.0 for e in tagger.predict("Mary lives in Tokyo ."))


def test_predict_words_returns_one_tag_per_word(tagger):
    assert tagger.predict_words([["Mary", "met", "John"], ["Lima"]]) == [["B-PER", "O", "B-PER"], ["B-LOC"]]


@pytest.mark.parametrize("aggregation", ["first", "average", "max"])
def test_every_aggregation_finds_the_entity(trained_tiny_dir, aggregation):
    tagger = Tagger.from_pretrained(str(trained_tiny_dir), precision="fp32", aggregation=aggregation)
    assert spans(tagger.predict("Pedro lives in Lagos")) == [("PER", 0, 5, "Pedro"), ("LOC", 15, 20, "Lagos")]


def test_unknown_aggregation_is_refused(trained_tiny_dir):
    model, tokenizer, features = load_trained(str(trained_tiny_dir))
    with pytest.raises(ConfigError, match="'mean'"):
        Tagger(model, tokenizer, features, aggregation="mean")


def test_offsets_survive_emoji_cjk_and_combining_marks(tagger):
    text = "\U0001F469\u200d\U0001F469\u200d\U0001F467 東京 Cafe\u0301 John lives in Paris"
    entities = tagger.predict(text)
    assert all(text[e.start:e.end] == e.text for e in entities)
    assert ("PER", "John") in [(e.label, e.text) for e in entities]


def test_text_longer_than_the_model_limit_is_windowed(tagger):
    text = " ".join(["Mary lives in Paris ."] * 200)  # 1,000 words, far over 128 positions
    result = tagger.tag_texts([text])[0]
    assert result.windows > 1
    assert len(result.tags) == len(result.words) == 1000
    assert [e.text for e in result.entities].count("Paris") == 200


def test_twenty_thousand_word_text_has_entities_to_the_end(tagger):
    text = " ".join(["John met Mary in Lima ."] * 3334)[: -2]  # 20,003 words
    entities = tagger.predict(text)
    assert len(entities) == 3 * 3334
    assert entities[-1].text == "Lima" and entities[-1].end == len(text)


def test_over_long_text_is_refused_with_the_limit(tagger):
    with pytest.raises(InputTooLargeError, match=f"{MAX_TEXT_CHARS:,}"):
        tagger.predict("a" * (MAX_TEXT_CHARS + 1))


def test_bf16_agrees_with_fp32_on_the_trained_model(trained_tiny_dir, tagger):
    bf16 = Tagger.from_pretrained(str(trained_tiny_dir), precision="bf16")
    text = "John visited Berlin and met Mary at Siemens Corp in Lima ."
    assert spans(bf16.predict(text)) == spans(tagger.predict(text))


def test_context_model_reads_neighbouring_sentences(trained_tiny_dir):
    model, tokenizer, _ = load_trained(str(trained_tiny_dir))
    tagger = Tagger(model, tokenizer, InputFeatures(context_words=8), precision="fp32")
    windows = tagger.plan([["John", "lives", "Mary", "met"]], [[(0, 2), (2, 4)]])
    assert [w.target for w in windows] == [(0, 2), (2, 4)]
    assert len(windows[1].input_ids) == 6  # [CLS] + 2 context words + 2 target words + [SEP]


def test_context_can_be_turned_off_at_inference(trained_tiny_dir):
    model, tokenizer, _ = load_trained(str(trained_tiny_dir))
    tagger = Tagger(model, tokenizer, InputFeatures(context_words=8), precision="fp32", context_words=0)
    windows = tagger.plan([["John", "lives", "Mary", "met"]], [[(0, 2), (2, 4)]])
    assert len(windows[1].input_ids) == 4 and "context_words=0" in tagger.describe()


@pytest.mark.parametrize("share", [0, 1.5])
def test_chunk_share_outside_0_to_1_is_refused(trained_tiny_dir, share):
    model, tokenizer, _ = load_trained(str(trained_tiny_dir))
    with pytest.raises(ConfigError, match=f"chunk_share must be above 0 and at most 1 .*, got {share}"):
        Tagger(model, tokenizer, InputFeatures(context_words=8), precision="fp32", chunk_share=share)


def test_chunk_share_comes_from_the_model_folder(trained_tiny_dir):
    model, tokenizer, _ = load_trained(str(trained_tiny_dir))
    tagger = Tagger(model, tokenizer, InputFeatures(chunk_share=0.9), precision="fp32")
    assert tagger.chunk_share == 0.9 and "chunk_share=0.9" in tagger.describe()


def test_chunk_share_argument_overrides_the_model_folder(trained_tiny_dir):
    model, tokenizer, _ = load_trained(str(trained_tiny_dir))
    tagger = Tagger(model, tokenizer, InputFeatures(chunk_share=0.9), precision="fp32", chunk_share=0.5)
    assert tagger.chunk_share == 0.5


def test_bio_decoding_gives_valid_iob2(trained_tiny_dir):
    tagger = Tagger.from_pretrained(str(trained_tiny_dir), precision="fp32", decoding="bio")
    tags = tagger.predict_words([["Siemens", "Corp", "met", "Corp", "Corp"]])[0]
    assert all(not t.startswith("I-") or prev[2:] == t[2:] for prev, t in zip(["O"] + tags, tags))


def test_decoding_comes_from_the_model_folder(trained_tiny_dir):
    model, tokenizer, _ = load_trained(str(trained_tiny_dir))
    tagger = Tagger(model, tokenizer, InputFeatures(decoding="bio"), precision="fp32")
    assert tagger.decoding == "bio" and "decoding=bio" in tagger.describe()


def test_windows_default_to_the_length_the_model_was_trained_with(trained_tiny_dir):
    model, tokenizer, _ = load_trained(str(trained_tiny_dir))
    assert Tagger(model, tokenizer, InputFeatures(max_length=40), precision="fp32").max_length == 40
    assert Tagger(model, tokenizer, InputFeatures(max_length=40), precision="fp32", max_length=48).max_length == 48


@pytest.mark.parametrize("cpuinfo, pays", [
    ("vendor_id : GenuineIntel flags : avx512_bf16 amx_bf16 amx_tile", True),
    ("vendor_id : GenuineIntel flags : avx512f avx512_bf16 avx512_vnni", False),
    ("vendor_id : AuthenticAMD flags : avx512f avx512_bf16 avx512_vnni", True),
    ("vendor_id : AuthenticAMD flags : avx2 fma", False),
])
def test_bf16_is_chosen_only_on_cpus_where_it_measured_faster(cpuinfo, pays):
    from ner_demo.inference import cpu_bf16_pays

    assert cpu_bf16_pays(cpuinfo) is pays


# ---- aggregation over batches of windows of different lengths (padding) -----------------------------

MIXED = ["John lives in Paris .", "Mary", "Pedro met Li at Acme Corp today in Lagos ."]


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
def test_every_aggregation_tags_a_batch_of_mixed_window_lengths(trained_tiny_dir, aggregation):
    tagger = Tagger.from_pretrained(str(trained_tiny_dir), precision="fp32", aggregation=aggregation)
    lengths = {len(w.input_ids) for w in tagger.plan([[w.text for w in split_words(t)] for t in MIXED])}
    assert len(lengths) == 3 and tagger.batch_size >= 3  # one batch, padded to the longest window
    together = [spans(e) for e in tagger.predict_many(MIXED)]
    assert together == [spans(tagger.predict(t)) for t in MIXED]  # alone: no padding at all
    assert together[0] == [("PER", 0, 4, "John"), ("LOC", 14, 19, "Paris")]


@pytest.mark.parametrize("aggregation", ["average", "max"])
def test_document_context_windows_of_mixed_lengths_aggregate(trained_tiny_dir, aggregation):
    model, tokenizer, _ = load_trained(str(trained_tiny_dir))
    tagger = Tagger(model, tokenizer, InputFeatures(context_words=2), precision="fp32", aggregation=aggregation)
    sentences = [["Mary"], ["John", "lives", "in", "Paris", "."], ["Lima"], ["Acme", "Corp"]]
    tags = tagger.predict_words(sentences, doc_ids=[0, 0, 1, 1])
    assert tags == [["B-PER"], ["B-PER", "O", "O", "B-LOC", "O"], ["B-LOC"], ["B-ORG", "I-ORG"]]


def _aggregated(tagger, aggregation: str) -> np.ndarray:
    """Two target words (pieces at positions 2-3 and 4) after a context piece, in a row padded to 8
    positions whose padding holds NaN: any padding read would show."""
    window = Window(0, (0, 2), [2, 50, 51, 52, 53, 3], [0] * 6, word_index=[2, 4], piece_word=[-1, -1, 0, 0, 1, -1])
    probs = np.full((8, 2), np.nan, dtype=np.float32)
    probs[:6] = [[0.5, 0.5], [0.9, 0.1], [0.6, 0.4], [0.0, 1.0], [0.3, 0.7], [0.5, 0.5]]
    dest = np.zeros((2, 2), dtype=np.float32)
    tagger = copy.copy(tagger)  # the module's tagger keeps its own aggregation
    tagger.aggregation = aggregation
    tagger._aggregate(window, probs, dest)
    return dest


def test_average_is_the_mean_of_a_words_own_pieces(tagger):
    assert _aggregated(tagger, "average") == pytest.approx(np.array([[0.3, 0.7], [0.3, 0.7]]))


def test_max_is_the_distribution_of_the_surest_piece(tagger):
    assert _aggregated(tagger, "max") == pytest.approx(np.array([[0.0, 1.0], [0.3, 0.7]]))


def test_first_is_the_distribution_of_the_first_piece(tagger):
    assert _aggregated(tagger, "first") == pytest.approx(np.array([[0.6, 0.4], [0.3, 0.7]]))


# ---- warnings on the result -----------------------------------------------------------------------


def test_cyrillic_text_comes_with_a_script_warning(tagger):
    (result,) = tagger.tag_texts(["Владимир Путин посетил Москву."])
    assert len(result.warnings) == 1 and "Cyrillic" in result.warnings[0] and "unreliable" in result.warnings[0]


def test_english_text_comes_without_warnings(tagger):
    assert [r.warnings for r in tagger.tag_texts(["John met Mary in 東京 .", ""])] == [[], []]

"""Training examples with document context dropped for a seeded share of sentences."""

from transformers import AutoTokenizer

from ner_demo.data.conll import Corpus, Sentence
from ner_demo.labels import LabelSet
from ner_demo.training.config import TrainConfig
from ner_demo.training.data_prep import encode, features_for

LABELS = LabelSet(("O", "B-PER", "I-PER", "B-LOC", "I-LOC"))


def _corpus() -> Corpus:
    return Corpus([Sentence(("John",), ("B-PER",), doc_id=0), Sentence(("Paris",), ("B-LOC",), doc_id=0)], "tiny")


def _encode(tiny_model_dir, dropout: float, seed: int) -> list[dict]:
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    config = TrainConfig(context_words=4, context_dropout=dropout, seed=seed)
    return encode(tokenizer, _corpus(), LABELS, features_for(config), config)


def test_without_dropout_every_sentence_reads_its_neighbours(tiny_model_dir):
    assert [len(ex["input_ids"]) for ex in _encode(tiny_model_dir, 0.0, 0)] == [4, 4]


def test_dropped_sentences_are_read_alone_and_labelled_once(tiny_model_dir):
    # seed 1 draws 0.134..., 0.847...: with a 0.5 share, "John" is read alone, "Paris" with "John" as context
    examples = _encode(tiny_model_dir, 0.5, 1)
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    john, paris = tokenizer.convert_tokens_to_ids(["John", "Paris"])
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    assert [(ex["input_ids"], ex["labels"]) for ex in examples] == [
        ([cls, john, paris, sep], [-100, -100, 3, -100]),
        ([cls, john, sep], [-100, 1, -100]),
    ]


def test_features_record_the_training_window_length():
    assert features_for(TrainConfig(max_length=96)).max_length == 96

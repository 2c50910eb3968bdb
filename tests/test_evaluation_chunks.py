"""Entity chunking done once per corpus of tags: seqeval's entities, remembered by content."""

import random

import pytest
from seqeval.metrics import classification_report
from seqeval.metrics.sequence_labeling import get_entities
from seqeval.scheme import IOB2, Entities

from ner_demo.evaluation import chunks, evaluate
from ner_demo.evaluation.chunks import chunk, sentence_entities
from ner_demo.spans import WordSpan

TAGS = ["O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "I-MISC", "B-ORG"]


def random_corpus(seed: int, n: int = 600, longest: int = 12) -> list[list[str]]:
    rng = random.Random(seed)
    return [[rng.choice(TAGS) for _ in range(rng.randint(0, longest))] for _ in range(n)]


def test_strict_entities_are_seqevals_iob2_entities():
    corpus = random_corpus(1)
    expected = [{WordSpan(e.tag, e.start, e.end) for e in sentence} for sentence in Entities(corpus, IOB2).entities]
    assert list(chunk(corpus).strict) == expected


def test_conlleval_entities_are_seqevals_get_entities():
    corpus = random_corpus(2)
    expected = [[WordSpan(t, s, e + 1) for t, s, e in get_entities(tags)] for tags in corpus]
    assert [list(c) for c in chunk(corpus).conlleval] == expected


@pytest.mark.parametrize("seed", [3, 4])
def test_evaluate_gives_classification_reports_figures(seed):
    gold, rng = random_corpus(seed), random.Random(seed + 100)
    pred = [[rng.choice(TAGS) for _ in tags] for tags in gold]
    result = evaluate(gold, pred)
    for scores, kwargs in ((result.strict, {"mode": "strict", "scheme": IOB2}), (result.conlleval, {})):
        report = classification_report(gold, pred, output_dict=True, zero_division=0, **kwargs)
        for name in ("micro", "macro", "weighted"):
            row, ours = report.pop(f"{name} avg"), getattr(scores, name)
            assert (ours.precision, ours.recall, ours.f1, ours.support) == (
                row["precision"], row["recall"], row["f1-score"], row["support"])
        for label, row in report.items():
            ours = scores.per_type[label]
            assert (ours.precision, ours.recall, ours.f1, ours.support) == (
                row["precision"], row["recall"], row["f1-score"], row["support"])


def test_a_stray_i_run_is_a_conlleval_entity_only():
    conll, strict = sentence_entities(["O", "I-LOC", "I-LOC", "B-PER"])
    assert conll == (WordSpan("LOC", 1, 3), WordSpan("PER", 3, 4))
    assert strict == frozenset({WordSpan("PER", 3, 4)})


def test_equal_tags_in_new_lists_are_chunked_once():
    chunks.clear_memo()
    first = chunk([["B-PER", "O"], ["B-LOC"]])
    assert chunk([("B-PER", "O"), ("B-LOC",)]) is first


def test_tags_changed_in_place_are_chunked_again():
    chunks.clear_memo()
    corpus = [["B-PER", "O"]]
    assert chunk(corpus).strict == (frozenset({WordSpan("PER", 0, 1)}),)
    corpus[0][1] = "B-LOC"
    assert chunk(corpus).strict == (frozenset({WordSpan("PER", 0, 1), WordSpan("LOC", 1, 2)}),)


def test_the_memo_keeps_only_the_last_corpora():
    chunks.clear_memo()
    for k in range(chunks.MEMO_SIZE + 1):
        chunk([["O"] * (k + 1)])
    assert len(chunks._MEMO) == chunks.MEMO_SIZE
    assert (("O",),) not in chunks._MEMO


@pytest.mark.parametrize("tag", ["E-PER", "B-", "I-", "PER", ""])
def test_a_tag_that_is_not_iob2_is_refused_by_name(tag):
    with pytest.raises(ValueError, match=f"not a B-/I- tag or O: {tag!r}"):
        sentence_entities(["O", tag])

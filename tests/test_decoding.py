import numpy as np

from ner_demo.decoding import allowed_transitions, viterbi_bio

LABELS = ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]


def test_inside_tag_may_only_follow_its_own_type():
    allowed = allowed_transitions(LABELS)
    assert (allowed[3, 4], allowed[1, 4], allowed[0, 4]) == (True, False, False)


def test_viterbi_repairs_a_sequence_that_starts_inside():
    # argmax: O I-PER (invalid). Best valid: B-PER I-PER (0.1 * 0.9) beats O O (0.5 * 0.1).
    probs = np.array([[0.5, 0.0, 0.0, 0.1, 0.4], [0.1, 0.0, 0.0, 0.0, 0.9]])
    assert [LABELS[i] for i in viterbi_bio(probs, LABELS)] == ["B-PER", "I-PER"]


def test_viterbi_keeps_a_valid_argmax_sequence():
    probs = np.array([[0.1, 0.0, 0.0, 0.8, 0.1], [0.1, 0.0, 0.0, 0.1, 0.8], [0.9, 0.0, 0.0, 0.05, 0.05]])
    assert [LABELS[i] for i in viterbi_bio(probs, LABELS)] == ["B-PER", "I-PER", "O"]


def test_viterbi_never_continues_across_types():
    probs = np.array([[0.0, 0.0, 0.0, 0.9, 0.1], [0.1, 0.3, 0.6, 0.0, 0.0]])  # argmax: B-PER I-LOC
    assert [LABELS[i] for i in viterbi_bio(probs, LABELS)] == ["B-PER", "B-LOC"]


def test_viterbi_of_no_words_is_empty():
    assert viterbi_bio(np.zeros((0, 5)), LABELS).tolist() == []



def _is_iob2(tags: list[str]) -> bool:
    return all(not t.startswith("I-") or prev[2:] == t[2:] for prev, t in zip(["O", *tags], tags))


def test_viterbi_finds_the_best_valid_path_found_by_brute_force():
    import itertools

    rng = np.random.default_rng(0)
    for _ in range(40):
        probs = rng.dirichlet(np.ones(len(LABELS)) * 0.3, size=3)
        valid = [p for p in itertools.product(range(len(LABELS)), repeat=3) if _is_iob2([LABELS[i] for i in p])]
        best = max(valid, key=lambda p: np.prod(probs[np.arange(3), p]))
        assert tuple(viterbi_bio(probs, LABELS).tolist()) == best

"""Calibration on synthetic cases with known answers: entity scores and correctness, reliability bins
and ECE, the fitted temperature, threshold curves and the F1-optimal threshold per type."""

import numpy as np
import pytest

from ner_demo.backends import apply_temperature, softmax
from ner_demo.evaluation.calibration import (
    apply_thresholds,
    best_thresholds,
    calibration_report,
    fit_temperature,
    nll,
    reliability,
    scored_entities,
    threshold_curves,
    word_labels,
)

GOLD = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O", "B-PER"]]
PRED = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "O", "B-PER"]]
SCORES = [[0.9, 0.7, 0.99, 0.6], [0.95, 0.99, 0.3]]


def test_scored_entities_are_strict_and_scored_by_the_mean_of_their_words():
    found = [(e.sentence, e.span.label, e.span.start, e.span.end, round(e.score, 4), e.correct)
             for e in scored_entities(GOLD, PRED, SCORES)]
    assert found == [(0, "PER", 0, 2, 0.8, True), (0, "ORG", 3, 4, 0.6, False),
                     (1, "ORG", 0, 1, 0.95, True), (1, "PER", 2, 3, 0.3, True)]


def test_scored_entities_reject_scores_that_do_not_match_the_tags():
    with pytest.raises(ValueError, match="one value per predicted tag"):
        scored_entities(GOLD, PRED, [[0.9], [0.1, 0.2, 0.3]])


def test_reliability_bins_and_ece_of_known_scores():
    # bin [0.3, 0.4): 0.3 right (gap 0.7); [0.6, 0.7): 0.6 wrong (0.6); [0.8, 0.9): 0.8 right (0.2);
    # [0.9, 1]: 0.95 right (0.05). ECE = (0.7 + 0.6 + 0.2 + 0.05) / 4
    r = reliability([0.8, 0.6, 0.95, 0.3], [True, False, True, True])
    assert r.ece == pytest.approx(0.3875)
    assert [(b.low, b.count, b.accuracy) for b in r.bins if b.count] == [(0.3, 1, 1.0), (0.6, 1, 0.0),
                                                                          (0.8, 1, 1.0), (0.9, 1, 1.0)]
    assert (r.n, r.accuracy) == (4, 0.75)


def test_a_score_of_one_falls_in_the_last_bin():
    r = reliability([1.0, 1.0], [True, True], n_bins=4)
    assert [b.count for b in r.bins] == [0, 0, 0, 2] and r.ece == 0.0


def test_perfectly_calibrated_bins_have_zero_ece():
    scores = [0.75] * 4 + [0.25] * 4
    correct = [True, True, True, False, True, False, False, False]
    assert reliability(scores, correct).ece == pytest.approx(0.0)


def test_calibration_report_is_per_predicted_type():
    report = calibration_report(scored_entities(GOLD, PRED, SCORES))
    assert sorted(report.types) == ["ORG", "PER"]
    assert report.types["ORG"].n == 2 and report.types["ORG"].accuracy == 0.5
    # PER: 0.8 right (0.2) and 0.3 right (0.7), each half: 0.45
    assert report.types["PER"].ece == pytest.approx(0.45)
    assert report.overall.n == 4


def test_empty_reliability_has_zero_ece():
    assert reliability([], []).ece == 0.0


def test_fit_temperature_recovers_the_temperature_that_made_the_labels():
    # logits drawn, labels sampled from softmax(logits / 3): the fit of softmax(logits) must find about 3
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 4, size=(20000, 5))
    truth = softmax(logits / 3.0)
    labels = np.array([rng.choice(5, p=p) for p in truth])
    assert fit_temperature(softmax(logits), labels) == pytest.approx(3.0, rel=0.05)


def test_fit_temperature_sharpens_an_underconfident_model():
    probs = np.array([[0.6, 0.4]] * 10)
    labels = [0] * 10  # always right at 60 %: a lower temperature raises the likelihood
    assert fit_temperature(probs, labels) < 0.1


def test_nll_at_the_fitted_temperature_is_lower_than_at_one():
    probs = np.array([[0.99, 0.01]] * 3 + [[0.99, 0.01]])
    labels = [0, 0, 0, 1]
    t = fit_temperature(probs, labels)
    assert nll(probs, labels, t) < nll(probs, labels, 1.0)


def test_temperature_keeps_the_argmax():
    rng = np.random.default_rng(1)
    probs = softmax(rng.normal(0, 3, size=(50, 9)))
    for t in (0.3, 1.7, 8.0):
        assert (apply_temperature(probs, t).argmax(axis=1) == probs.argmax(axis=1)).all()


def test_word_labels_skip_gold_tags_the_model_does_not_know():
    probs = [np.array([[0.9, 0.1], [0.2, 0.8]])]
    rows, ids = word_labels(probs, [["O", "B-MISC"]], ["O", "B-PER"])
    assert rows.tolist() == [[0.9, 0.1]] and ids.tolist() == [0]


def test_threshold_curves_drop_entities_below_the_threshold():
    curves = threshold_curves(scored_entities(GOLD, PRED, SCORES), GOLD, grid=[0.0, 0.5, 0.9])
    assert curves["PER"].n_gold == 2
    assert curves["PER"].recall == (1.0, 0.5, 0.0)
    assert curves["PER"].precision == (1.0, 1.0, 0.0)
    assert curves["ORG"].precision == (0.5, 0.5, 1.0)
    assert curves["LOC"].f1 == (0.0, 0.0, 0.0)  # gold only: never predicted


def test_best_threshold_drops_the_wrong_low_scored_entity():
    choices = best_thresholds(scored_entities(GOLD, PRED, SCORES), GOLD)
    org = choices["ORG"]  # ORG 0.6 is wrong, ORG 0.95 right: keep only >= 0.95
    assert (org.threshold, org.precision, org.recall, org.f1) == (0.95, 1.0, 1.0, 1.0)
    assert org.f1_without == pytest.approx(2 / 3)
    assert choices["PER"].threshold == 0.0  # both PER right: no threshold beats keeping all


def test_apply_thresholds_keeps_types_without_one():
    kept = apply_thresholds(scored_entities(GOLD, PRED, SCORES), {"ORG": 0.9})
    assert [(e.span.label, round(e.score, 2)) for e in kept] == [("PER", 0.8), ("ORG", 0.95), ("PER", 0.3)]


def test_a_global_temperature_keeps_the_best_valid_bio_path():
    from ner_demo.decoding import viterbi_bio

    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    rng = np.random.default_rng(2)
    for _ in range(20):
        probs = softmax(rng.normal(0, 2, size=(8, 5))).astype(np.float32)
        best = list(viterbi_bio(probs, labels))
        for t in (0.5, 1.2, 3.0):
            assert list(viterbi_bio(apply_temperature(probs, t), labels)) == best

"""Temperature scaling, the calibration error and the refusal threshold (pure numpy)."""

from __future__ import annotations

import numpy as np
import pytest

from digit_recognizer.calibration import (MIN_THRESHOLD, THRESHOLD_DECIMALS, decide,
                                          expected_calibration_error, fit_temperature,
                                          mostly_several_digits, refusal_threshold, refused,
                                          rescale)


def overconfident(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities of a model that is right 80% of the time but always ~99% sure."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 11, n)
    predicted = np.where(rng.random(n) < 0.8, labels, (labels + 1) % 11)
    logits = rng.normal(0, 0.5, (n, 11))
    logits[np.arange(n), predicted] += 6.0
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return probabilities.astype(np.float32), labels


def test_rescale_keeps_the_ranking_and_sums_to_one():
    probabilities, _ = overconfident(50)
    for temperature in (0.5, 1.0, 3.0):
        scaled = rescale(probabilities, temperature)
        np.testing.assert_allclose(scaled.sum(axis=1), 1.0, rtol=1e-5)
        np.testing.assert_array_equal(scaled.argmax(axis=1), probabilities.argmax(axis=1))
    np.testing.assert_allclose(rescale(probabilities, 1.0), probabilities, atol=1e-6)


def test_fitted_temperature_makes_an_overconfident_model_honest():
    probabilities, labels = overconfident()
    before = expected_calibration_error(probabilities, labels)
    temperature = fit_temperature(probabilities, labels)
    after = expected_calibration_error(rescale(probabilities, temperature), labels)
    assert temperature > 1.5  # softer: it was too sure
    assert before > 0.15 and after < 0.05  # (one number cannot fix every bin)


def test_calibration_error_of_a_perfectly_calibrated_model_is_small():
    rng = np.random.default_rng(1)
    confidence = rng.uniform(0.5, 1.0, 20000)
    correct = rng.random(20000) < confidence
    probabilities = np.zeros((20000, 2), np.float32)
    probabilities[:, 0], probabilities[:, 1] = confidence, 1 - confidence
    labels = np.where(correct, 0, 1)
    assert expected_calibration_error(probabilities, labels) < 0.01
    # and one that is always sure but right half the time is off by half
    sure = np.tile([[1.0, 0.0]], (1000, 1)).astype(np.float32)
    assert expected_calibration_error(sure, np.arange(1000) % 2) == pytest.approx(0.5)


def test_threshold_refuses_at_most_the_allowed_share_of_digits():
    scores = np.random.default_rng(2).beta(0.5, 20, 10000)  # digits: "not a digit" mostly ~0
    scores[:3] = [0.97, 0.95, 0.9]  # a few digits the model doubts
    threshold = refusal_threshold(scores, max_false_refusals=0.001)
    assert (scores >= threshold).mean() <= 0.001
    assert threshold >= MIN_THRESHOLD


def test_threshold_refuses_at_most_the_allowed_share_of_float32_scores():
    # the model's scores are float32: the threshold must sit above the quantile in float32 too,
    # and stay above it as stored (rounded up to THRESHOLD_DECIMALS)
    scores = np.random.default_rng(3).beta(0.5, 20, 5546).astype(np.float32)
    scores[:10] = np.linspace(0.8, 0.99, 10)  # digits the model doubts, above MIN_THRESHOLD
    threshold = refusal_threshold(scores, max_false_refusals=0.001)
    assert (scores >= threshold).sum() <= 0.001 * len(scores)
    assert (scores >= np.float32(threshold)).sum() == (scores >= threshold).sum()
    assert round(threshold, THRESHOLD_DECIMALS) == threshold


def test_threshold_is_never_below_one_half():
    assert refusal_threshold(np.zeros(1000)) == MIN_THRESHOLD


def test_several_digits_counts_toward_a_refusal_and_answers_not_a_digit():
    # 12 outputs: digits, "not a digit", "several digits"
    probabilities = np.zeros((3, 12))
    probabilities[0, [10, 11]] = 0.5, 0.5  # refused: 1.0 is not one digit
    probabilities[1, [3, 10, 11]] = 0.4, 0.2, 0.4  # refused at 0.6
    probabilities[2, [3, 11]] = 0.6, 0.4  # read as 3
    np.testing.assert_array_equal(refused(probabilities, 0.6), [True, True, False])
    np.testing.assert_array_equal(decide(probabilities, 0.6), [10, 10, 3])
    # whether a refusal is mostly "several digits" (digits that touch) rather than a letter
    np.testing.assert_array_equal(mostly_several_digits(probabilities), [False, True, True])
    assert not mostly_several_digits(probabilities[:, :11]).any()  # 11 outputs cannot say

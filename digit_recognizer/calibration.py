"""Confidences that mean what they say, and when to answer "not a digit".

    from digit_recognizer.calibration import fit_temperature, refusal_threshold
    temperature = fit_temperature(val_probabilities, val_labels)    # on the validation split
    calibrated = rescale(val_probabilities, temperature)
    threshold = refusal_threshold(calibrated[val_labels < 10, NOT_A_DIGIT])

Temperature scaling divides the logits by one number T before the softmax: it keeps every
argmax and makes the probabilities match how often the model is right (a network trained
with cross-entropy is usually over- or under-confident). It is fitted by minimising the
negative log-likelihood on held-out images, never on the test set. Softmax probabilities are
enough to apply it: log p is the logits up to a per-row constant, which softmax ignores.

The refusal threshold is a calibrated "not a digit" probability: the app refuses a picture
when that output reaches it. It is set from the validation digits so that almost none of them
(``MAX_FALSE_REFUSALS``) would be refused, and never below 0.5, so that a picture is refused
only when "not a digit" is likelier than all the digits together.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize_scalar

from digit_recognizer.model import NOT_A_DIGIT, NUM_DIGITS, SEVERAL_DIGITS

ECE_BINS = 15  # equal-width confidence bins, the usual choice in the calibration literature
MAX_FALSE_REFUSALS = 0.001  # share of validation digits the threshold may refuse: at 0.0005
# (about the 3rd highest score of 5,546) the threshold was a noisy extreme, and on validation it
# refused 6-10 percentage points fewer letters (of trained and untrained styles) to spare 0.05%
# more digits
MIN_THRESHOLD = 0.5
PAIR_SHARE = 0.5  # a refusal with more than this share on "several digits" (a 12th output)
# is rather digits touching one another than a letter or a mark
THRESHOLD_DECIMALS = 6  # as metrics.json stores it
_EPSILON = 1e-12


def rescale(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax probabilities (N, C) as the same model would give them at ``temperature``."""
    logits = np.log(np.clip(probabilities.astype(np.float64), _EPSILON, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    scaled = np.exp(logits)
    return (scaled / scaled.sum(axis=1, keepdims=True)).astype(np.float32)


def negative_log_likelihood(probabilities: np.ndarray, labels: np.ndarray) -> float:
    true = probabilities[np.arange(len(labels)), labels].astype(np.float64)
    return float(-np.log(np.clip(true, _EPSILON, 1.0)).mean())


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The temperature in [0.05, 20] that minimises the negative log-likelihood of ``labels``."""
    labels = np.asarray(labels).astype(np.int64)
    result = minimize_scalar(
        lambda log_t: negative_log_likelihood(rescale(probabilities, np.exp(log_t)),
                                              labels),
        bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(result.x))


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray,
                               bins: int = ECE_BINS) -> float:
    """ECE: the gap between confidence (top probability) and accuracy, averaged over
    equal-width confidence bins weighted by how many predictions fall in each."""
    labels = np.asarray(labels)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    gap = 0.0
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            gap += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(gap)


def refused(probabilities: np.ndarray, not_a_digit_threshold: float | None) -> np.ndarray:
    """Per row of (N, 10, 11 or 12) probabilities: is it refused as "not a digit" (that output,
    plus "several digits" where there is a 12th, reaches the threshold)? Never for 10 columns
    (a model from before "not a digit") or no threshold. The one refusal rule of the app,
    segmentation and evaluation."""
    if probabilities.shape[1] <= NOT_A_DIGIT or not_a_digit_threshold is None:
        return np.zeros(len(probabilities), bool)
    return not_one_digit(probabilities) >= not_a_digit_threshold


def not_one_digit(probabilities: np.ndarray) -> np.ndarray:
    """Per row of (N, 11 or 12) probabilities: the share that is not one digit ("not a
    digit", plus "several digits" where a model has that 12th output)."""
    return probabilities[:, NOT_A_DIGIT:].sum(axis=1)


def mostly_several_digits(probabilities: np.ndarray) -> np.ndarray:
    """Per row of (N, 10, 11 or 12) probabilities: is its refusal mostly "several digits"
    (more than PAIR_SHARE of it), rather than a letter or a mark? Only a model with the 12th
    output can say so; the segmenter splits such a group, and a refusal says how to write it."""
    if probabilities.shape[1] <= SEVERAL_DIGITS:
        return np.zeros(len(probabilities), bool)
    return probabilities[:, SEVERAL_DIGITS] > PAIR_SHARE * not_one_digit(probabilities)


def over_digits(probabilities: np.ndarray) -> np.ndarray:
    """(N, 10 or 11) probabilities -> (N, 10): the digits' shares renormalised to sum to 1,
    as a picture read as digits is shown (any "not a digit" share dropped)."""
    digits = probabilities[:, :NUM_DIGITS]
    return digits / np.maximum(digits.sum(axis=1, keepdims=True), _EPSILON)


def as_answered(probabilities: np.ndarray, not_a_digit_threshold: float | None) -> np.ndarray:
    """(N, 10, 11 or 12) probabilities as the app answers them: a row refused is kept, its
    "several digits" share (a 12th output) added to "not a digit", so that a digit's share
    cannot outweigh the refusal; any other row is read as a digit, so its shares past the
    digits are set to 0 and the digits renormalised (the app's label shows them so). The
    argmax of each row is then the app's answer: a digit, or NOT_A_DIGIT."""
    if probabilities.shape[1] <= NUM_DIGITS:
        return probabilities
    kept = np.zeros_like(probabilities)
    kept[:, :NUM_DIGITS] = probabilities[:, :NUM_DIGITS]
    kept[:, NOT_A_DIGIT] = not_one_digit(probabilities)
    read = np.zeros_like(probabilities)
    read[:, :NUM_DIGITS] = over_digits(probabilities)
    return np.where(refused(probabilities, not_a_digit_threshold)[:, None], kept,
                    read).astype(probabilities.dtype)


def decide(probabilities: np.ndarray, not_a_digit_threshold: float | None) -> np.ndarray:
    """What the app answers for each row of (N, 10, 11 or 12) probabilities: the likeliest
    digit, or NOT_A_DIGIT (10) where the "not a digit" probability reaches the threshold (never
    for 10 columns or no threshold)."""
    return as_answered(probabilities, not_a_digit_threshold).argmax(axis=1)


def refusal_threshold(digit_scores: np.ndarray, max_false_refusals: float = MAX_FALSE_REFUSALS
                      ) -> float:
    """The lowest "not a digit" probability at which at most ``max_false_refusals`` of these
    (digits') scores would be refused, and at least MIN_THRESHOLD."""
    scores = np.asarray(digit_scores)
    quantile = np.quantile(scores, 1.0 - max_false_refusals, method="higher").astype(scores.dtype)
    # the next value above it in the scores' own type (a float64 step would round back to the
    # quantile when compared with float32 scores, refusing that digit too), rounded up to
    # THRESHOLD_DECIMALS so that the stored threshold stays above it
    above = float(np.nextafter(quantile, scores.dtype.type(np.inf)))
    step = 10 ** THRESHOLD_DECIMALS
    return max(MIN_THRESHOLD, math.ceil(above * step) / step)

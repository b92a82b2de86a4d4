"""Digits redrawn with a pen for training: MNIST's form, the same digit, varied pens."""

from __future__ import annotations

import numpy as np

from digit_recognizer.preprocess import find_digit, normalize_digit
from digit_recognizer.redraw import redraw_with_pen


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two images' strokes (over half the peak)."""
    a, b = a > 127, b > 127
    return float((a & b).sum() / max((a | b).sum(), 1))


def test_redrawn_digits_keep_shape_order_and_blanks(mnist_test):
    x, _ = mnist_test
    images = np.concatenate([x[:20], np.zeros((1, 28, 28), np.uint8)])
    redrawn = redraw_with_pen(images, np.random.default_rng(0))
    assert redrawn.dtype == np.uint8 and redrawn.shape == images.shape
    assert not redrawn[-1].any()  # a blank stays blank
    np.testing.assert_array_equal(redrawn, redraw_with_pen(images, np.random.default_rng(0)))


def test_redrawn_digit_is_the_same_digit_in_the_apps_form(mnist_test):
    x, _ = mnist_test
    redrawn = redraw_with_pen(x[:50], np.random.default_rng(1))
    for original, pen in zip(x[:50], redrawn):
        as_app = (normalize_digit(find_digit(original / 255.0)) * 255).astype(np.uint8)
        assert overlap(pen, as_app) > 0.4  # the same strokes, drawn with another pen
        rows, cols = np.nonzero(pen > 0)
        assert max(np.ptp(rows), np.ptp(cols)) + 1 in (19, 20, 21)  # MNIST's 20 px box


def test_pens_differ_from_draw_to_draw(mnist_test):
    x, _ = mnist_test
    a = redraw_with_pen(x[:50], np.random.default_rng(2))
    b = redraw_with_pen(x[:50], np.random.default_rng(3))
    # the pen's width and the hand's weight change the strokes (within MNIST's range of
    # stroke widths, where normalize_digit brings them): tens of stroke pixels of 784
    changed = ((a > 127) != (b > 127)).sum(axis=(1, 2))
    assert np.median(changed) >= 15

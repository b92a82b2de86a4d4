"""Digits redrawn with a pen for training: MNIST's form, the same digit, varied pens."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from digit_recognizer.preprocess import (change_stroke_width, find_digit, normalize_digit,
                                         stroke_width)
from digit_recognizer.redraw import even_pen, redraw_with_pen


def coverage(a: np.ndarray, b: np.ndarray, reach: int = 2) -> float:
    """The smaller of: the share of a's strokes (over half the peak) within ``reach`` pixels of
    b's, and the other way round. Another pen moves a stroke's edges by a pixel or two."""
    a, b = a > 127, b > 127

    def near(x, y):
        return (x & ndimage.binary_dilation(y, iterations=reach)).sum() / max(x.sum(), 1)

    return float(min(near(a, b), near(b, a)))


def test_redrawn_digits_keep_shape_order_and_blanks(mnist_test):
    x, _ = mnist_test
    images = np.concatenate([x[:20], np.zeros((1, 28, 28), np.uint8)])
    redrawn = redraw_with_pen(images, np.random.default_rng(0))
    assert redrawn.dtype == np.uint8 and redrawn.shape == images.shape
    assert not redrawn[-1].any()  # a blank stays blank
    np.testing.assert_array_equal(redrawn, redraw_with_pen(images, np.random.default_rng(0)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_redrawn_digit_is_the_same_digit_in_the_apps_form(mnist_test, seed):
    x, _ = mnist_test
    as_app = [(normalize_digit(find_digit(o / 255.0)) * 255).astype(np.uint8) for o in x[:50]]
    redrawn = redraw_with_pen(x[:50], np.random.default_rng(seed))
    same = [coverage(pen, app) for pen, app in zip(redrawn, as_app)]
    other = [coverage(pen, app) for pen, app in zip(redrawn, as_app[1:] + as_app[:1])]
    assert np.median(same) >= 0.98 and np.mean(np.array(same) >= 0.9) >= 0.95
    assert np.median(other) < 0.8  # the measure tells one digit from another


def test_pens_differ_from_draw_to_draw(mnist_test):
    x, _ = mnist_test
    a = redraw_with_pen(x[:50], np.random.default_rng(2))
    b = redraw_with_pen(x[:50], np.random.default_rng(3))
    # the pen's width and the hand's weight change the strokes (within MNIST's range of
    # stroke widths, where normalize_digit brings them): tens of stroke pixels of 784
    changed = ((a > 127) != (b > 127)).sum(axis=(1, 2))
    assert np.median(changed) >= 15


def test_even_pen_draws_thin_and_fat_strokes_at_one_width(mnist_test):
    """MNIST's pen pressure (a stroke fat in one place, thin in another) is gone: the same
    digit cut thin or fat comes out at the pen's width, on every stroke."""
    x, _ = mnist_test
    big = np.kron(x[0], np.ones((4, 4), np.uint8)) > 127  # a 7, strokes ~8-12 px wide
    for mask in (change_stroke_width(big, -2.0), change_stroke_width(big, 3.0)):
        drawn = even_pen(mask, 4.0)
        assert 8.0 <= stroke_width(drawn) <= 10.0  # a 9 px wide round pen
        inside = ndimage.distance_transform_edt(drawn)  # the pen's radius at its centre line
        assert np.percentile(inside[inside > 0], 99) <= 5.5
        assert coverage(drawn.astype(np.uint8) * 255, mask.astype(np.uint8) * 255, 6) >= 0.95

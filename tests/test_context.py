"""Digits cut out of numbers (training images): the digit stays, its neighbours mostly go."""

from __future__ import annotations

import numpy as np

from digit_recognizer.context import KEPT, _ink, cut_from_number, cut_from_numbers


def test_a_digit_without_neighbours_is_itself(mnist_test):
    x, _ = mnist_test
    crop = cut_from_number(x[0], [None, None], np.random.default_rng(0))
    np.testing.assert_array_equal(crop, _ink(x[0]))


def test_cut_out_digits_keep_their_ink_and_little_of_their_neighbours(mnist_test):
    x, _ = mnist_test
    rng = np.random.default_rng(0)
    extra = []
    for k in range(40):
        digit = x[k]
        own = _ink(digit)
        neighbours = [x[100 + k], x[200 + k]]
        crop = cut_from_number(digit, neighbours, rng)
        assert crop.sum() >= KEPT * own.sum() * 0.9  # (soft edges along the cut)
        assert crop.shape[1] < own.shape[1] + 0.6 * own.shape[0]  # no whole neighbour
        extra.append((crop.sum() - own.sum()) / np.mean([_ink(n).sum() for n in neighbours]))
    assert np.median(extra) < 0.1  # mostly stubs where the strokes crossed


def test_cut_out_digits_are_in_mnist_form(mnist_test):
    x, _ = mnist_test
    out = cut_from_numbers(x[:20], x[20:200], np.random.default_rng(0))
    assert out.dtype == np.uint8 and out.shape == (20, 28, 28)
    assert (out.max(axis=(1, 2)) == 255).all()
    rows, cols = np.nonzero(out.sum(axis=0))
    assert rows.min() >= 2 and cols.min() >= 2  # a 20 px box, centred, as MNIST's

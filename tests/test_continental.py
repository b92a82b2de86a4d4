"""Continental variants of MNIST digits: shape and labels, and that each edit does what it says.

The properties are measured on the 28x28 results (strokes at half the peak, as MNIST's ink)
against the original digits, for the first few training digits of each kind an edit accepts.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from digit_recognizer.continental import (EDITS, continental_variants, cross_seven, flag_one,
                                          open_four, straight_nine)
from digit_recognizer.data import load_mnist

PER_DIGIT = 8  # edited examples of each kind per property test


@pytest.fixture(scope="module")
def mnist_train():
    (x_train, y_train), _ = load_mnist()  # via MNIST_DIR or the cache, as conftest.py
    return x_train, y_train


def edited_pairs(mnist_train, label, edit, n=PER_DIGIT, seed=0):
    """(original, edited) for the first n digits of ``label`` the edit accepts."""
    x, y = mnist_train
    rng = np.random.default_rng(seed)
    pairs = []
    for image in x[y == label][:4 * n]:
        edited = edit(image, rng)
        if edited is not None:
            pairs.append((image, edited))
        if len(pairs) == n:
            return pairs
    pytest.fail(f"{edit.__name__} accepted only {len(pairs)} of {4 * n} digits")


def strokes(image):
    return image > 127


def box(mask):
    return ndimage.find_objects(mask.astype(np.int8))[0]


def row_runs(row):
    edges = np.flatnonzero(np.diff(np.concatenate(([0], row.astype(np.int8), [0]))))
    return edges.reshape(-1, 2)


def hole_size(mask):
    return int((ndimage.binary_fill_holes(mask) & ~mask).sum())


# --------------------------------------------------------------------------------- API
def test_variants_shape_dtype_and_labels(mnist_train):
    x, y = mnist_train[0][:60], mnist_train[1][:60]
    out, labels = continental_variants(x, y, np.random.default_rng(0))
    assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[1:] == (28, 28)
    assert len(out) == len(labels) and labels.dtype == y.dtype
    assert set(labels.tolist()) <= {1, 4, 7, 9}
    wanted = y[np.isin(y, [1, 4, 7, 9])]
    # in input order, each label at most as often as given; few edits refused
    assert len(labels) >= 0.8 * len(wanted)
    for digit in (1, 4, 7, 9):
        assert (labels == digit).sum() <= (wanted == digit).sum()
    assert all(image.max() == 255 for image in out)  # MNIST's form: peak ink is full


def test_other_digits_are_skipped(mnist_train):
    x, y = mnist_train
    others = np.isin(y, [0, 2, 3, 5, 6, 8])
    out, labels = continental_variants(x[others][:30], y[others][:30], np.random.default_rng(0))
    assert out.shape == (0, 28, 28) and out.dtype == np.uint8 and labels.shape == (0,)


def test_deterministic_for_a_seed(mnist_train):
    x, y = mnist_train[0][:40], mnist_train[1][:40]
    first = continental_variants(x, y, np.random.default_rng(7))
    again = continental_variants(x, y, np.random.default_rng(7))
    other = continental_variants(x, y, np.random.default_rng(8))
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])  # the randomness is real


@pytest.mark.parametrize("edit", list(EDITS.values()), ids=lambda f: f.__name__)
def test_each_edit_returns_mnist_form_or_none(edit, mnist_train):
    rng = np.random.default_rng(0)
    assert edit(np.zeros((28, 28), np.uint8), rng) is None  # a blank: nothing to edit
    x, y = mnist_train
    label = next(k for k, f in EDITS.items() if f is edit)
    for image in x[y == label][:5]:
        before = image.copy()
        out = edit(image, rng)
        np.testing.assert_array_equal(image, before)  # the input is not touched
        if out is not None:
            assert out.shape == (28, 28) and out.dtype == np.uint8
            rows, cols = box(out > 0)
            assert max(rows.stop - rows.start, cols.stop - cols.start) <= 22  # a 20 px box


# ------------------------------------------------------------------------- the edits
def widest_middle_run(image, lo=0.35, hi=0.7):
    """The longest horizontal stroke in the digit's middle rows (a crossbar's length)."""
    mask = strokes(image)
    rows, _ = box(mask)
    height = rows.stop - rows.start
    best = 0
    for y in range(rows.start + int(lo * height), rows.start + int(hi * height)):
        runs = row_runs(mask[y])
        if len(runs):
            best = max(best, int((runs[:, 1] - runs[:, 0]).max()))
    return best


def test_crossed_seven_has_a_bar_across_the_stem(mnist_train):
    for original, crossed in edited_pairs(mnist_train, 7, cross_seven):
        # a bar at least 4 px longer than the stem is wide (MNIST's strokes: 2-4 px)
        assert widest_middle_run(crossed) >= widest_middle_run(original) + 4
        assert strokes(crossed)[9:19].sum() > strokes(original)[9:19].sum()


def test_flagged_one_is_wider_with_ink_left_at_the_top(mnist_train):
    def width(image):
        cols = box(strokes(image))[1]
        return cols.stop - cols.start

    x, y = mnist_train
    upright = [im for im in x[y == 1][:80] if width(im) <= 6]  # (a leaning 1 is wide already)
    rng = np.random.default_rng(0)
    pairs = [(im, e) for im in upright for e in [flag_one(im, rng)] if e is not None][:PER_DIGIT]
    assert len(pairs) == PER_DIGIT
    for original, flagged in pairs:
        assert width(flagged) >= width(original) + 3
        mask = strokes(flagged)
        rows, _ = box(mask)
        height = rows.stop - rows.start
        stem = np.median(np.nonzero(mask[rows.start + height // 2:rows.stop])[1])
        top = mask[rows.start:rows.start + height // 2]
        assert top[:, :int(stem) - 2].sum() >= 3  # the flag, left of the stem, up top


def arm_ink_at_top(image, share=0.4):
    """Ink left of the stem (each row's rightmost run) in the top rows of a 4."""
    mask = strokes(image)
    rows, _ = box(mask)
    total = 0
    for y in range(rows.start, rows.start + int(share * (rows.stop - rows.start))):
        runs = row_runs(mask[y])
        total += int((runs[:-1, 1] - runs[:-1, 0]).sum()) if len(runs) > 1 else 0
    return total


def test_open_four_has_less_arm_at_the_top(mnist_train):
    pairs = edited_pairs(mnist_train, 4, open_four, n=12)
    less = [arm_ink_at_top(edited) < arm_ink_at_top(original) for original, edited in pairs]
    assert sum(less) >= 0.75 * len(pairs)  # (renormalising the size can add back a pixel)
    before = sum(arm_ink_at_top(original) for original, _ in pairs)
    assert sum(arm_ink_at_top(edited) for _, edited in pairs) < 0.8 * before


def test_open_four_opens_a_closed_four(mnist_train):
    x, y = mnist_train
    closed = [im for im in x[y == 4][:400] if hole_size(strokes(im)) > 1]
    rng = np.random.default_rng(0)
    opened = [e for im in closed for e in [open_four(im, rng)] if e is not None][:PER_DIGIT]
    assert len(opened) == PER_DIGIT
    # the arm no longer meets the stem (a 1 px hole can be a curl at the end of the bar)
    assert sum(hole_size(strokes(e)) > 1 for e in opened) == 0


def loop_share(image):
    """How far down the digit its loop (the hole) reaches, as a share of its height."""
    mask = strokes(image)
    rows, _ = box(mask)
    hole = ndimage.binary_fill_holes(mask) & ~mask
    if not hole.any():
        return None
    return (np.flatnonzero(hole.any(axis=1))[-1] + 1 - rows.start) / (rows.stop - rows.start)


def stem_wobble(image):
    """How far the bottom 40% of a digit's single-stroke rows stray from a straight line."""
    mask = strokes(image)
    rows, _ = box(mask)
    height = rows.stop - rows.start
    ys, xs = [], []
    for y in range(rows.start + int(0.6 * height), rows.stop - 1):
        runs = row_runs(mask[y])
        if len(runs) == 1:
            ys.append(y)
            xs.append(runs[0].mean())
    fit = np.polyfit(ys, xs, 1)
    return float(np.abs(np.polyval(fit, ys) - xs).max())


def test_straight_nine_has_a_small_loop_on_a_straight_stem(mnist_train):
    pairs = edited_pairs(mnist_train, 9, straight_nine)
    shares = [(loop_share(o), loop_share(e)) for o, e in pairs]
    for original, edited in shares:
        assert edited is not None and edited <= 0.5  # the loop survives, in the top half
        if original is not None:
            assert edited <= original + 0.05
    assert np.mean([e for _, e in shares]) < np.mean([o for o, _ in shares if o is not None])
    for _, edited in pairs:
        assert stem_wobble(edited) <= 0.75  # straight, at 28 px

"""The "not a digit" negatives: MNIST's form, every kind, held-out kinds apart, no digit-like
letters."""

from __future__ import annotations

import numpy as np
import pytest

from digit_recognizer.negatives import (_HELD_OUT_MARKS, _TRAIN_MARKS, HELD_OUT_KINDS, LETTERS,
                                        NARROW, SCRIPT_GLYPHS, SYMBOLS, TRAIN_KINDS,
                                        _narrow_digit, _side_by_side, draw_strokes,
                                        hershey_letter_strokes, make_negatives, mark_strokes)

DIGIT_LIKE_LETTERS = set("OoDQIlijJZzSsbGgqBT")  # the judging set leaves these out too


@pytest.fixture(scope="module")
def digits(mnist_test):
    return mnist_test[0][:200]


@pytest.mark.parametrize("kinds", [TRAIN_KINDS, HELD_OUT_KINDS], ids=["train", "held-out"])
def test_negatives_are_in_mnist_form_with_every_kind(kinds, digits):
    images, names = make_negatives(kinds, 60, np.random.default_rng(0), digits=digits)
    assert images.shape == (60, 28, 28) and images.dtype == np.uint8
    assert set(names) == set(kinds)
    for image in images:  # each one normalised like a drawing in the app: ink, 20 px box
        rows, cols = np.flatnonzero(image.max(axis=1) > 0), np.flatnonzero(image.max(axis=0) > 0)
        assert image.max() == 255
        assert 18 <= max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 <= 22


def test_held_out_kinds_are_not_trained_on():
    assert not (set(TRAIN_KINDS) - {"two digits"}) & set(HELD_OUT_KINDS)
    assert not set(_TRAIN_MARKS) & set(_HELD_OUT_MARKS)


def test_letters_that_people_write_as_digits_are_never_negatives():
    assert not DIGIT_LIKE_LETTERS & set(LETTERS + SYMBOLS)


def test_negatives_follow_their_seed(digits):
    first, _ = make_negatives(TRAIN_KINDS, 20, np.random.default_rng(5), digits=digits)
    again, _ = make_negatives(TRAIN_KINDS, 20, np.random.default_rng(5), digits=digits)
    other, _ = make_negatives(TRAIN_KINDS, 20, np.random.default_rng(6), digits=digits)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_a_filled_disc_is_filled_and_a_dash_is_flat():
    rng = np.random.default_rng(0)
    disc = draw_strokes(*mark_strokes("disc", rng)[:1], rng, filled=True)
    assert (disc > 0.5).mean() > 0.6  # most of its box is ink
    dash = draw_strokes(mark_strokes("dash", rng)[0], rng, jitter=False)
    assert dash.shape[1] > 2.5 * dash.shape[0]


def test_other_scripts_glyphs_are_real_glyphs_and_not_the_fonts_digits():
    placeholder = hershey_letter_strokes("japanese", "t")  # drawn for unmapped characters
    assert all(np.array_equal(a, b) for a, b in zip(placeholder,
                                                    hershey_letter_strokes("japanese", "u")))
    for font, chars in SCRIPT_GLYPHS.items():
        for char in chars:
            strokes = hershey_letter_strokes(font, char)
            assert strokes, (font, char)
            assert not (len(strokes) == len(placeholder) and all(
                np.array_equal(a, b) for a, b in zip(strokes, placeholder))), (font, char)
    # these fonts draw "0"-"9" as Latin digits (the Japanese one draws kanji there)
    latin_digit_fonts = ("greek", "cyrillic", "astrology")
    assert not set("0123456789") & set("".join(SCRIPT_GLYPHS[f] for f in latin_digit_fonts))


@pytest.mark.parametrize("kind", _TRAIN_MARKS + _HELD_OUT_MARKS)
def test_every_kind_of_mark_is_drawn(kind):
    rng = np.random.default_rng(0)
    strokes, filled = mark_strokes(kind, rng)
    ink = draw_strokes(strokes, rng, filled=filled)
    assert ink.max() > 0 and min(ink.shape) >= 4  # a mark, not a dot


def test_digit_pairs_with_a_one_put_a_narrow_digit_against_its_neighbour(digits):
    rng = np.random.default_rng(0)
    for side in (0, 1):
        for _ in range(20):
            pair, _ = _side_by_side(digits, rng, (-3, 2), narrow=side)
            columns = np.flatnonzero(pair.max(axis=0) > 0)
            # the two digits touch or overlap (at most one blank column between them)
            assert columns[-1] - columns[0] + 1 - len(columns) <= 1
    one = _narrow_digit(digits, rng)
    assert one.shape[1] < NARROW * one.shape[0]

"""Segmentation of numbers and assembling the reading: fast, with stub classifiers (no model)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from digit_recognizer.model import NOT_A_DIGIT, SEVERAL_DIGITS
from digit_recognizer.preprocess import ImageInputError, find_digit, ink_map, load_image
from digit_recognizer.reading import NotADigitError, assemble, read_picture, top_readings
from digit_recognizer.segment import (SeparatorError, SeveralLinesError, TooManyDigitsError,
                                      segment)

H = 160  # digit height on the test canvases
PEN = 14


# ----------------------------------------------------------------------------- drawing kit
def strokes(name: str) -> list[list[tuple[float, float]]]:
    """Pen paths of a digit in a unit box (x right, y down), as lists of (x, y) points."""
    return {
        "0": [[(0.5, 0), (0.9, 0.2), (0.95, 0.5), (0.9, 0.8), (0.5, 1), (0.1, 0.8), (0.05, 0.5),
               (0.1, 0.2), (0.5, 0)]],
        "1": [[(0.3, 0.15), (0.55, 0), (0.55, 1)]],
        "2": [[(0.1, 0.2), (0.5, 0), (0.9, 0.25), (0.1, 1), (0.95, 1)]],
        "3": [[(0.1, 0.1), (0.8, 0.05), (0.4, 0.45), (0.9, 0.7), (0.5, 1), (0.1, 0.9)]],
        "4": [[(0.6, 0), (0.05, 0.65), (0.95, 0.65)], [(0.7, 0.3), (0.7, 1)]],
        # a 5 in two strokes: the body, and its flag lifted off the stem
        "5": [[(0.15, 0.05), (0.1, 0.45), (0.7, 0.45), (0.9, 0.75), (0.5, 1), (0.1, 0.9)],
              [(0.32, 0.0), (0.95, 0.0)]],
        # a crossed 7 whose bar is a separate stroke left of the stem
        "7x": [[(0.05, 0), (0.95, 0), (0.45, 1)], [(0.1, 0.5), (0.52, 0.5)]],
        "7": [[(0.05, 0), (0.95, 0), (0.45, 1)]],
        # an open 4 in two strokes that do not meet: the stem lifted off right of the arm
        "4o": [[(0.45, 0), (0.05, 0.65), (0.5, 0.65)], [(0.72, 0.1), (0.72, 1)]],
        "-": [[(0, 0.5), (1, 0.5)]],
        # an 8 drawn as two loops that do not meet: a small gap between them
        "8o": [[(0.5, 0), (0.8, 0.2), (0.5, 0.4), (0.2, 0.2), (0.5, 0)],
               [(0.5, 0.55), (0.9, 0.77), (0.5, 1), (0.1, 0.77), (0.5, 0.55)]],
    }[name]


def canvas_with(items, width=None, height=400, pen=PEN, slant=0.0) -> np.ndarray:
    """RGBA sketch: items are (name, x, y, w, h) digits, written with ``slant`` (columns
    right per row up), or ("dot", x, y, r) marks."""
    width = width or max(int(i[1] + (i[3] if i[0] != "dot" else i[3]) + 60) for i in items)
    mask = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    for item in items:
        if item[0] == "dot":
            _, x, y, r = item
            draw.ellipse([x - r, y - r, x + r, y + r], fill=255)
            continue
        name, x, y, w, h = item
        for path in strokes(name):
            points = [(x + px * w + slant * (1 - py) * h, y + py * h) for px, py in path]
            draw.line(points, fill=255, width=pen, joint="curve")
            for px, py in points:
                draw.ellipse([px - pen / 2, py - pen / 2, px + pen / 2, py + pen / 2], fill=255)
    rgba = np.zeros((height, width, 4), np.uint8)
    rgba[..., 3] = np.asarray(mask)
    return rgba


def number(text: str, gap: float = 0.35, **kw) -> np.ndarray:
    items, x = [], 40
    for ch in text:
        w = 0.3 * H if ch == "1" else 0.6 * H
        items.append((ch, x, 120, w, H))
        x += w + gap * H
    return canvas_with(items, **kw)


def ink(rgba: np.ndarray) -> np.ndarray:
    return ink_map(load_image(rgba))


def uniform(batch: np.ndarray) -> np.ndarray:
    """A 10-class stub that reads nothing in particular (equal probabilities)."""
    return np.full((len(batch), 10), 0.1, np.float32)


def ink_span(image: np.ndarray) -> tuple[int, int]:
    """Rows and columns spanned by the ink of a 28x28 input: (height, width), 0 if blank."""
    rows = np.flatnonzero(image.max(axis=1) > 0.3)
    cols = np.flatnonzero(image.max(axis=0) > 0.3)
    return (np.ptp(rows) + 1, np.ptp(cols) + 1) if rows.size and cols.size else (0, 0)


def shape_judge(batch: np.ndarray) -> np.ndarray:
    """A 10-class stub that is sure of crops shaped like one digit (ink in a 28x28 input
    covering a moderate share of its 20 px box) and unsure of slivers or two-digit crops: a
    stand-in for a model's confidence, enough to score candidate splits."""
    out = np.full((len(batch), 10), 0.02, np.float32)
    for k, image in enumerate(batch[..., 0]):
        height, width = ink_span(image)
        aspect = width / height if height else 0
        sure = 0.97 if 0.35 <= aspect <= 0.8 else 0.2
        out[k, 0] = sure
        out[k, 1:] = (1 - sure) / 9
    return out


# ------------------------------------------------------------------------------ segmentation
def test_separate_digits_come_in_reading_order():
    pieces = segment(ink(number("42")), uniform)
    assert len(pieces) == 2
    assert pieces[0].box[1] < pieces[1].box[1]  # left to right
    assert all(p.pixels.shape == (28, 28) for p in pieces)
    crops = [piece.crop for piece in segment(ink(number("42")), uniform)]
    assert [c.shape for c in crops] == [p.crop.shape for p in pieces]


def test_touching_pair_is_split():
    picture = number("00", gap=-0.08)  # the two rings overlap: one connected component
    pieces = segment(ink(picture), shape_judge)
    assert len(pieces) == 2
    assert pieces[0].box[1] < pieces[1].box[1]


def test_letter_wide_group_refused_whole_is_not_read_as_sure_ones():
    # a 4, then two wide-flagged 1s touching, as a letter's strokes look (a "V", an "n"):
    # the pair is read whole as "not a digit", and each narrow part as a sure 1
    picture = canvas_with([("4", 40, 120, 0.6 * H, H), ("1", 200, 120, 1.2 * H, H),
                           ("1", 245, 120, 1.2 * H, H)], width=600)
    calls = []

    def judge(batch):
        calls.append(len(batch))
        out = np.zeros((len(batch), 11), np.float32)
        if len(calls) == 1:  # the groups read whole: the 4, and the pair refused
            out[0, 4] = out[1:, 10] = 1.0
            return out
        for k, image in enumerate(batch[..., 0]):  # the parts: a sure 1 if taller than wide
            height, width = ink_span(image)
            out[k, 1 if height > width else 10] = 1.0
        return out

    with pytest.raises(NotADigitError, match="^Not a digit at position 2 of 2"):
        read_picture(ink(picture), judge, 0.9)  # refused, not read as "411"
    assert len(calls) == 2  # the split was tried, and its narrow parts were not taken


def test_letter_wide_group_refused_whole_is_split_into_sure_digit_wide_parts():
    # two touching rings: one group about as wide as a letter, refused whole
    picture = number("00", gap=-0.02)

    def judge(sure, whole=NOT_A_DIGIT, outputs=11):
        def classify(batch):
            out = np.zeros((len(batch), outputs), np.float32)
            one = shape_judge(batch)[:, 0] > 0.9  # shaped like one digit
            out[one, 0], out[one, 7] = sure, 1 - sure
            out[~one, whole] = 1.0
            return out
        return classify

    assert read_picture(ink(picture), judge(0.98), 0.9).text == "00"
    with pytest.raises(NotADigitError):  # parts read only fairly surely, as a letter's are
        read_picture(ink(picture), judge(0.9), 0.9)
    # a model with a 12th output that refuses the group whole as several digits, not as a
    # letter: the letter rule is lifted, and fairly sure parts are taken
    assert read_picture(ink(picture), judge(0.9, SEVERAL_DIGITS, 12), 0.9).text == "00"
    with pytest.raises(NotADigitError):  # refused as a letter by that model: the rule holds
        read_picture(ink(picture), judge(0.9, NOT_A_DIGIT, 12), 0.9)


def fairly_sure_zeros(refusal: int = NOT_A_DIGIT, outputs: int = 11):
    """A classifier that reads a ring shaped like one digit as a 0, only fairly surely (as
    cut-out digits with stubs of their neighbours are), and refuses anything else wholly as
    ``refusal`` (NOT_A_DIGIT, or SEVERAL_DIGITS for a 12-output model)."""
    def classify(batch):
        out = np.zeros((len(batch), outputs), np.float32)
        sure = shape_judge(batch)[:, 0] > 0.9  # shaped like one digit
        out[sure, 0], out[sure, 7] = 0.8, 0.2
        out[~sure, refusal] = 1.0
        return out
    return classify


def test_wide_group_refused_whole_is_split_into_fairly_sure_digits():
    # a 0, then three touching rings: one group wider than a letter, refused whole; each
    # part is read only fairly surely
    picture = canvas_with([("0", 40, 120, 0.6 * H, H)] +
                          [("0", 200 + k * 0.58 * H, 120, 0.6 * H, H) for k in range(3)])
    judge = fairly_sure_zeros()

    assert read_picture(ink(picture), judge, 0.9).text == "0000"
    # the same group alone in the picture: more than two digits in one unbroken line are
    # rather a wave or a scribble, refused whole
    with pytest.raises(NotADigitError, match="^Not a digit:"):
        read_picture(ink(number("000", gap=-0.02)), judge, 0.9)


def test_lone_group_refused_as_several_digits_is_read_as_all_its_digits():
    # a whole number whose digits all touch: a model with a 12th output refuses the group
    # whole as "several digits", not as a letter or a scribble, so the limit of two digits
    # for a lone refused group does not hold
    picture = ink(number("000", gap=-0.02))
    assert read_picture(picture, fairly_sure_zeros(SEVERAL_DIGITS, 12), 0.9).text == "000"
    with pytest.raises(NotADigitError, match="^Not a digit:"):  # as a scribble: refused
        read_picture(picture, fairly_sure_zeros(NOT_A_DIGIT, 12), 0.9)


def test_group_refused_whole_and_cut_into_nothing_but_ones_stays_refused():
    # a 0, then a zigzag three letters wide: refused whole; each of its strokes cut from it
    # is a sure 1
    picture = canvas_with([("0", 40, 120, 0.6 * H, H)], width=700)
    mask = Image.fromarray(picture[..., 3])
    points = [(220 + k * 0.4 * H, 120 + (H if k % 2 else 0)) for k in range(7)]
    ImageDraw.Draw(mask).line(points, fill=255, width=PEN, joint="curve")
    picture[..., 3] = np.asarray(mask)

    def judge(part_digit):
        def classify(batch):  # a sure digit if taller than wide, else "not a digit"
            out = np.zeros((len(batch), 11), np.float32)
            for k, image in enumerate(batch[..., 0]):
                height, width = ink_span(image)
                out[k, part_digit if height > width else 10] = 1.0
            return out
        return classify

    with pytest.raises(NotADigitError, match="^Not a digit at position 2 of 2"):  # not "1111111"
        read_picture(ink(picture), judge(1), 0.9)
    # the same cuts read as other digits are taken: the rule is about 1s alone
    text = read_picture(ink(picture), judge(7), 0.9).text
    assert len(text) > 2 and set(text) == {"7"}


@pytest.mark.parametrize("digit", ["5", "7x", "4"])
def test_digit_in_two_strokes_stays_one(digit):
    picture = canvas_with([(digit, 60, 100, 0.6 * H, H)], width=400)
    assert len(segment(ink(picture), shape_judge)) == 1


def test_two_stroke_digits_inside_a_number():
    picture = canvas_with([("1", 40, 100, 0.3 * H, H), ("5", 150, 100, 0.6 * H, H),
                           ("7x", 300, 100, 0.6 * H, H)], width=520)
    assert len(segment(ink(picture), shape_judge)) == 3


def test_digit_broken_by_a_pen_lift_is_joined_when_read_as_one():
    """The arm and the stem of an open 4 do not meet (nor overlap by half a width): two
    pieces a stroke apart, joined because the model reads them together as one digit."""
    picture = canvas_with([("4o", 60, 100, 0.6 * H, H)], width=400)
    assert len(segment(ink(picture), shape_judge)) == 1
    assert len(segment(ink(picture), uniform)) == 2  # read unsure joined: left apart


def test_stroke_beside_a_digit_is_a_sign_unless_read_as_part_of_it():
    """A short stroke just left of a 3's foot, lower than a digit: a sign (refused: signs
    are not read yet), unless the model reads the two together surely as one digit (the 3's
    tail, broken off by a pen lift). Further off, it is never the digit's."""
    def three_and_stroke(gap):
        return canvas_with([("-", 40, 100 + 0.8 * H, 0.25 * H, 0.2 * H),
                            ("3", 40 + 0.25 * H + gap, 100, 0.6 * H, H)], width=400)

    close = three_and_stroke(PEN * 1.5)
    with pytest.raises(SeparatorError, match="separators"):
        segment(ink(close), uniform)
    assert len(segment(ink(close), eleven_sure)) == 1
    with pytest.raises(SeparatorError, match="separators"):
        segment(ink(three_and_stroke(PEN * 4)), eleven_sure)


def test_separator_between_digits_is_refused():
    picture = canvas_with([("3", 40, 100, 0.6 * H, H), ("dot", 175, 100 + H - 8, 9),
                           ("5", 215, 100, 0.6 * H, H), ("0", 350, 100, 0.6 * H, H)])
    with pytest.raises(SeparatorError, match="separators"):
        segment(ink(picture), uniform)


def test_thirteen_digits_are_refused():
    picture = number("1234570123457", gap=0.3, pen=6)
    with pytest.raises(TooManyDigitsError, match="12 digits"):
        segment(ink(picture), uniform)


def test_twelve_digits_are_read():
    picture = number("123457012345", gap=0.3, pen=6)
    assert len(segment(ink(picture), shape_judge)) == 12


def test_several_lines_are_refused():
    top = number("42", height=400)
    both = np.zeros((800, top.shape[1], 4), np.uint8)
    both[:400], both[400:] = top, top
    with pytest.raises(SeveralLinesError, match="one line"):
        segment(ink(both), uniform)


@pytest.mark.parametrize("gap", [0.1, 0.25])
def test_lines_close_together_are_refused_but_a_digit_in_pieces_is_read(gap):
    # two lines of "42" a tenth or a quarter of a line's height apart: still two lines
    gap = round(gap * (H + PEN))
    rows = [(name, x, y, 100, H) for y in (40, 40 + H + PEN + gap) for name, x in
            (("4", 60), ("2", 220))]
    with pytest.raises(SeveralLinesError, match="one line"):
        segment(ink(canvas_with(rows, height=2 * (H + PEN) + gap + 80)), uniform)
    # an 8's loops a few pixels apart (a 20th of its height) are one digit, not two lines
    eight = canvas_with([("8o", 60, 40, 100, H)], height=H + 80)
    assert _band_gaps(eight) == 1
    assert len(segment(ink(eight), uniform)) == 1


def _band_gaps(picture: np.ndarray) -> int:
    """Runs of empty rows between the ink's first and last rows."""
    rows = picture[..., 3].any(axis=1)
    inside = rows[np.argmax(rows):len(rows) - np.argmax(rows[::-1])]
    return int(np.sum(np.diff(inside.astype(int)) == 1))


def test_specks_are_dropped():
    picture = number("7", width=500)
    rng = np.random.default_rng(0)
    for y, x in zip(rng.integers(0, 400, 30), rng.integers(0, 500, 30)):
        picture[y:y + 2, x:x + 2, 3] = 255  # dust: far smaller than a pen tip
    pieces = segment(ink(picture), uniform)
    assert len(pieces) == 1


def test_refusals_are_image_input_errors():
    for error in (SeparatorError, TooManyDigitsError, SeveralLinesError, NotADigitError):
        assert issubclass(error, ImageInputError)
    with pytest.raises(ImageInputError, match="empty"):
        segment(np.zeros((100, 300), np.float32), uniform)


def test_one_classify_call_for_separate_digits_two_for_touching():
    calls = []

    def counting(batch):
        calls.append(len(batch))
        return shape_judge(batch)

    segment(ink(number("4200")), counting)
    assert calls == [4]  # every group read whole, no candidates
    calls.clear()
    segment(ink(number("4200", gap=-0.05)), counting)
    assert len(calls) == 2  # the groups whole, then the candidate parts of the wide ones


@pytest.mark.parametrize("aspect", [1.4, 1.75])
def test_wide_lone_digit_stays_one_piece(aspect):
    """A confidently read single digit, however wide, is never cut into confident pieces:
    a lone group may only be split at a cost the pieces' confidence cannot pay (flat 2s, 5s
    and 7s are half as wide again as they are tall)."""
    picture = canvas_with([("0", 40, 100, aspect * H, H)], width=400)
    pieces = segment(ink(picture), eleven_sure)
    assert len(pieces) == 1


def test_wide_digit_in_a_line_stays_one_piece():
    items = [("4", 40, 100, 0.6 * H, H), ("0", 200, 100, 1.3 * H, H), ("7", 460, 100, 0.6 * H, H)]
    assert len(segment(ink(canvas_with(items)), eleven_sure)) == 3


def test_dot_beside_a_lone_digit_is_dust_not_a_separator():
    picture = canvas_with([("7", 60, 100, 0.6 * H, H), ("dot", 200, 100 + H - 8, 8)], width=320)
    assert len(segment(ink(picture), uniform)) == 1


def eleven_sure(batch: np.ndarray) -> np.ndarray:
    """An 11-class stub sure that every crop is a 0 (a model reading pieces confidently)."""
    out = np.full((len(batch), 11), 0.001, np.float32)
    out[:, 0] = 0.99
    return out


# ----------------------------------------------------------------------------------- reading
def eleven(digit_of: list[int], outputs: int = 11):
    """An 11-class (or ``outputs``) stub answering the given classes for the first call's
    crops in order (the groups read whole), and "not a digit" for any other crop (the parts
    of a split)."""
    calls = []

    def classify(batch):
        out = np.full((len(batch), outputs), 0.001, np.float32)
        for k in range(len(batch)):
            out[k, digit_of[k] if not calls and k < len(digit_of) else 10] = 0.99
        calls.append(len(batch))
        return out
    return classify


def test_reading_of_a_number():
    reading = read_picture(ink(number("42")), eleven([4, 2]))
    assert reading.text == "42"
    assert list(reading.top_readings)[0] == "42"
    assert len(reading.digits) == 2 and list(reading.digits[0])[0] == "4"
    assert all(p.dtype == np.uint8 and p.shape == (28, 28) for p in reading.pixels)
    assert reading.doubtful == [False, False]


def test_not_a_digit_position_is_named():
    with pytest.raises(NotADigitError, match="^Not a digit at position 2 of 3"):
        read_picture(ink(number("424")), eleven([4, 10, 4]))
    with pytest.raises(NotADigitError, match="^Not a digit"):
        read_picture(ink(number("4")), eleven([10]))


def test_a_refused_part_as_wide_as_touching_digits_says_how_to_write_them():
    with pytest.raises(NotADigitError, match="^Not a digit at position 2 of 3") as narrow:
        read_picture(ink(number("424")), eleven([4, 10, 4]))
    assert "space between" not in str(narrow.value)
    picture = canvas_with([("4", 40, 120, 0.6 * H, H), ("0", 180, 120, 1.3 * H, H)])
    with pytest.raises(NotADigitError, match="^Not a digit at position 2 of 2.*touching one "
                                             "another, leave a little space between them"):
        read_picture(ink(picture), eleven([4, 10]))
    # a model with a 12th output that refuses it mostly as "several digits" says they touch,
    # however wide the part
    touching = "it looks like digits touching one another, which could not be told apart"
    with pytest.raises(NotADigitError, match=f"^Not a digit at position 2 of 2: {touching}"):
        read_picture(ink(picture), eleven([4, SEVERAL_DIGITS], 12))
    with pytest.raises(NotADigitError, match=f"^Not a digit: {touching}"):
        read_picture(ink(number("4")), eleven([SEVERAL_DIGITS], 12))
    with pytest.raises(NotADigitError, match="^Not a digit: the picture does not look like"):
        read_picture(ink(number("4")), eleven([NOT_A_DIGIT], 12))  # refused as a letter


def test_refusal_threshold_is_a_parameter():
    def unsure(batch):  # "not a digit" at 0.4 everywhere, a 4 at 0.6
        out = np.zeros((len(batch), 11), np.float32)
        out[:, 4], out[:, 10] = 0.6, 0.4
        return out

    assert read_picture(ink(number("4")), unsure).text == "4"  # 0.4 < 0.5 by default
    with pytest.raises(NotADigitError, match="^Not a digit"):
        read_picture(ink(number("4")), unsure, not_a_digit_threshold=0.3)


def test_a_digit_half_thought_not_one_is_read_as_doubtful():
    def half(batch):  # "not a digit" at 0.6, under the threshold of 0.9; a 4 at 0.4
        out = np.zeros((len(batch), 11), np.float32)
        out[:, 4], out[:, 10] = 0.4, 0.6
        return out

    reading = read_picture(ink(number("4")), half, not_a_digit_threshold=0.9)
    assert reading.text == "4" and reading.digits[0]["4"] == 1.0  # over the digits only ...
    assert reading.maybe_not_a_digit == [True] and reading.doubtful == [True]  # ... so marked


def test_ten_class_model_never_refuses():
    reading = read_picture(ink(number("42")), uniform)
    assert len(reading.text) == 2 and reading.doubtful == [True, True]


def test_top_readings_change_the_least_certain_digit_first():
    digits = np.full((3, 10), 0.0)
    digits[0, 4], digits[0, 9] = 0.99, 0.01
    digits[1, 2], digits[1, 7] = 0.6, 0.4
    digits[2, 0], digits[2, 6] = 0.9, 0.1
    top = top_readings(digits, 3)
    assert list(top) == ["420", "470", "426"]
    assert top["420"] == pytest.approx(0.99 * 0.6 * 0.9)


def test_assemble_renormalises_over_digits():
    from digit_recognizer.segment import Piece

    p = np.array([0.6] + [0.0] * 9 + [0.4])  # "not a digit" at 0.4: refused at 0.3, not 0.5
    piece = Piece(np.ones((5, 5), np.float32), (0, 0, 5, 5), np.zeros((28, 28), np.float32), p)
    assert assemble([piece]).text == "0"
    with pytest.raises(NotADigitError):
        assemble([piece], not_a_digit_threshold=0.3)
    q = np.array([0.3, 0.1] + [0.0] * 8 + [0.2])
    reading = assemble([Piece(np.ones((5, 5), np.float32), (0, 0, 5, 5),
                              np.zeros((28, 28), np.float32), q)])
    assert reading.digits[0]["0"] == pytest.approx(0.75)


# ------------------------------------------------------------------------- single-digit rules
def test_bold_tightly_cropped_eight_is_not_refused():
    photo = Image.new("L", (200, 260), 230)
    draw = ImageDraw.Draw(photo)
    draw.ellipse([20, 5, 180, 125], outline=20, width=45)
    draw.ellipse([10, 115, 190, 255], outline=20, width=50)
    crop = find_digit(ink_map(load_image(np.asarray(photo))))  # over 35% ink: the model judges
    assert crop.shape[0] > 200


def test_digits_are_cropped_as_written_not_deskewed():
    """The slant is taken out to find and cut digits, not from what the model reads: whole-pixel
    row shifts turned a small picture's slanted 1 into a jagged staircase, refused."""
    picture = Image.new("L", (28, 28))
    ImageDraw.Draw(picture).line([(18, 4), (10, 24)], fill=255, width=2)
    ink_of_one = ink(np.asarray(picture))
    (piece,) = segment(ink_of_one, uniform)
    np.testing.assert_allclose(piece.crop, find_digit(ink_of_one))


def test_a_comma_below_a_slanted_1_is_a_separator_not_its_foot():
    """As written, a forward-slanted 1 spans the columns right of its foot, where a comma
    hangs: it is not on top of the comma, which stays a separator."""
    picture = canvas_with([("1", 40, 120, 0.3 * H, H), ("5", 150, 120, 0.6 * H, H)],
                          width=600, slant=0.5)
    comma = Image.new("L", (600, 400))
    ImageDraw.Draw(comma).line([(100, 136 + H), (90, 180 + H)], fill=255, width=PEN)
    picture[..., 3] = np.maximum(picture[..., 3], np.asarray(comma))
    with pytest.raises(SeparatorError):
        segment(ink(picture), uniform)


def test_an_eight_of_two_slanted_loops_stays_one():
    """Each loop alone is slanted hard, so the upright frame shears them apart; as written,
    one sits on the other: one digit, not "00"."""
    picture = Image.new("L", (400, 400))
    draw = ImageDraw.Draw(picture)
    t = np.linspace(0, 2 * np.pi, 60)
    for cx, cy in ((200, 150), (200, 250)):
        x = cx + 30 * np.cos(t) - 0.6 * 48 * np.sin(t)  # an ellipse slanted like a /
        y = cy + 48 * np.sin(t)
        draw.line(list(zip(x, y)), fill=255, width=10, joint="curve")
    assert len(segment(ink(np.asarray(picture)), uniform)) == 1

"""The line reader: the strip, decoding, when its reading wins, its model file and training."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from benchmarks.drawings import photo
from benchmarks.numbers import render_number
from digit_recognizer import model_folder, reading
from digit_recognizer.line import (BLANK, FRAME, INK_HEIGHT, MARGIN, NOT_A_DIGIT_MARK,
                                   NOT_A_DIGIT_TEXT, STRIP_HEIGHT, LineReading, Strip, decode, line_strip,
                                   padded_batch, log_softmax, text_log_probability)
from digit_recognizer.model import NOT_A_DIGIT, build_line_model
from digit_recognizer.model_folder import ModelLoadError
from digit_recognizer.preprocess import ImageInputError, ink_map, stroke_width
from digit_recognizer.reading import (NotADigitError, levelled, prefer_line, read_picture,
                                      within_pieces)
from digit_recognizer.segment import Piece
from digit_recognizer.train_line import (WRITE_HEIGHT, LineTrainConfig, _pen_glyph,
                                         _scaled_glyph, batches, train_line_model, write_lines,
                                         write_number)
from test_segment import H, canvas_with

REPO = Path(__file__).resolve().parents[1]


def two_bars() -> np.ndarray:
    """An ink map of two upright bars, 40 rows tall, at columns 20-29 and 60-69."""
    ink = np.zeros((80, 100), np.float32)
    ink[20:60, 20:30] = 1.0
    ink[20:60, 60:70] = 1.0
    return ink


def logits_of(frames: str, sure: float = 8.0) -> np.ndarray:
    """Line model logits whose likeliest output per frame is given: a digit, "x" (not a
    digit) or "-" (blank)."""
    logits = np.zeros((len(frames), BLANK + 1))
    for t, c in enumerate(frames):
        logits[t, {"-": BLANK, "x": NOT_A_DIGIT_MARK}[c] if c in "-x" else int(c)] = sure
    return logits


def reading_of(logits: np.ndarray) -> LineReading:
    """The line reading of these logits (frames, 12), on a strip FRAME columns a frame."""
    strip = Strip(np.zeros((STRIP_HEIGHT, FRAME * len(logits))), left=0, scale=1.0,
                  rows=slice(0, 1))
    return decode(logits, strip)


def line_reading(frames: str, sure: float = 8.0) -> LineReading:
    """The line reading of logits whose likeliest output per frame is given (``logits_of``)."""
    return reading_of(logits_of(frames, sure))


# ----------------------------------------------------------------------------- the strip
def test_the_strip_holds_the_lines_ink_at_a_fixed_height_and_maps_back_to_the_picture():
    strip = line_strip(two_bars())
    rows = np.flatnonzero(strip.pixels.max(axis=1) > 0.5)
    assert strip.pixels.shape[0] == STRIP_HEIGHT and strip.pixels.dtype == np.float32
    top = (STRIP_HEIGHT - INK_HEIGHT) // 2
    assert rows[0] >= top and rows[-1] < top + INK_HEIGHT  # the ink box fills INK_HEIGHT rows
    assert strip.rows == slice(20, 60)
    # the two bars stay apart, in place: strip columns map back to the ink map's
    columns = np.flatnonzero(strip.pixels.max(axis=0) > 0.5)
    gap = columns[np.argmax(np.diff(columns))] + 1  # the first bar's last inked column + 1
    assert 25 < strip.ink_column(gap) < 60  # between the bars (thinned to the line's width)
    assert 20 <= strip.ink_column(MARGIN) < 25 and 65 < strip.ink_column(columns[-1]) <= 70
    assert strip.batch().shape == (1, STRIP_HEIGHT, strip.pixels.shape[1], 1)


def test_a_picture_without_ink_has_no_strip():
    with pytest.raises(ImageInputError, match="empty"):
        line_strip(np.zeros((50, 50), np.float32))


def test_strips_of_different_widths_batch_padded_to_a_multiple_of_eight():
    batch = padded_batch([np.ones((STRIP_HEIGHT, 10), np.float32),
                          np.ones((STRIP_HEIGHT, 21), np.float32)])
    assert batch.shape == (2, STRIP_HEIGHT, 24, 1)
    assert batch[0, :, :10].all() and not batch[0, :, 10:].any() and not batch[1, :, 21:].any()


# ----------------------------------------------------------------------------- decoding
def test_decoding_merges_repeats_drops_blanks_and_keeps_a_doubled_digit():
    line = line_reading("-44-2-11-1")
    assert line.text == "4211"
    assert line.probabilities.shape == (4, 10)
    assert np.allclose(line.probabilities.sum(axis=1), 1)  # over the digits alone
    # each digit's columns reach halfway to its neighbours' frames (FRAME columns each)
    starts = [start for start, _ in line.columns]
    assert starts[0] == -MARGIN and starts[1] == round(FRAME * (3 + 4) / 2) - MARGIN
    assert [stop for _, stop in line.columns][:-1] == starts[1:]
    assert line.digits_only and line.log_probability("4211") > np.log(0.9)
    assert line.log_probability("421") < np.log(0.01)


@pytest.mark.parametrize("text", ["", "4", "44", "42", "x", "4x4"])
def test_a_texts_probability_sums_every_path_of_frames_that_writes_it(text):
    logits = np.random.default_rng(len(text)).normal(size=(4, BLANK + 1))
    log_probabilities = log_softmax(logits)
    total = 0.0
    for path in itertools.product(range(BLANK + 1), repeat=4):
        merged = [label for k, label in enumerate(path) if k == 0 or label != path[k - 1]]
        written = "".join(NOT_A_DIGIT_TEXT if label == NOT_A_DIGIT_MARK else str(label)
                          for label in merged if label != BLANK)
        if written == text:
            total += np.exp(log_probabilities[np.arange(4), path].sum())
    assert reading_of(logits).log_probability(text) == pytest.approx(np.log(total))


def test_a_text_longer_than_its_frames_can_write_is_impossible():
    log_probabilities = log_softmax(np.zeros((4, BLANK + 1)))
    assert text_log_probability(log_probabilities, "4444") == -np.inf  # needs 7 frames
    assert text_log_probability(log_probabilities, "4242") > -np.inf


def test_a_letter_in_the_line_reads_as_x():
    line = line_reading("4-xx-2")
    assert line.text == "4x2" and not line.digits_only


def test_the_not_a_digit_probability_is_that_of_the_frame_surest_of_it():
    assert line_reading("4-xx-2").not_a_digit_probability > 0.99
    assert line_reading("4-2").not_a_digit_probability < 0.001


def test_a_line_of_blanks_reads_nothing():
    line = line_reading("----")
    assert line.text == "" and line.columns == [] and not line.digits_only


# ----------------------------------------------------------------------------- which reading
def doubting_2_and_7(doubt: float) -> LineReading:
    """A line read "47" whose second digit's frame is a 2 at ``doubt`` of the 7's logit."""
    logits = logits_of("4-7")
    logits[2, 2] = doubt * logits[2, 7]
    return reading_of(logits)


def unsure_7_surer_than_2() -> LineReading:
    """A line read "47" whose 7 is its frame's likeliest output but only 14% likely, and a 2
    there is 600 times less likely still."""
    logits = np.vstack([logits_of("4-"), np.zeros(BLANK + 1)])
    logits[2, 7], logits[2, 2] = 0.5, -6.0
    return reading_of(logits)


WIDE = [(0, 0, 100, 200)]  # one refused part twice as wide as tall


@pytest.mark.parametrize("segmented, line, part_boxes, wins", [
    ("42", line_reading("4-2"), (), False),  # the same reading: nothing to choose
    ("42", line_reading("4-7"), (), True),  # a number read otherwise, surely
    ("42", line_reading("4-7", sure=2.0), (), False),  # ... neither likely nor far likelier
    ("42", unsure_7_surer_than_2(), (), False),  # ... far likelier, but not likely enough
    ("42", doubting_2_and_7(0.95), (), False),  # ... the segmenter's reading almost as likely
    ("4", line_reading("4-2"), (), True),  # digits merged by the segmenter
    ("7", line_reading("-2-"), (), False),  # a lone digit is the digit model's (continental 7s)
    (None, line_reading("4-2"), WIDE, True),  # refused as digits that may touch
    (None, line_reading("4-2", sure=3.5), WIDE, False),  # ... by a reading not sure enough
    (None, line_reading("4-2-7", sure=4.5), WIDE, True),  # ... 59% sure of three digits in
    # one wide part: digits run together
    (None, line_reading("4-2-7", sure=4.5), [(0, 0, 100, 100), (0, 100, 100, 200)], False),
    # ... in two parts, not sure enough
    (None, line_reading("4-2-7", sure=4.5), [(0, 0, 100, 110)], False),  # ... in a part too
    # narrow for three digits (a letter read "111")
    (None, line_reading("4-2-7", sure=3.5), WIDE, False),  # ... 27% sure: not even then
    ("412", line_reading("4-x-2"), (), False),  # a letter inside
    ("42", line_reading("---"), (), False),
])
def test_the_line_readers_reading_wins_for_a_number_it_finds_far_likelier(
        segmented, line, part_boxes, wins):
    assert prefer_line(segmented, line, part_boxes) is wins


def line_reader_of(frames: str, sure: float = 8.0):
    """A stand-in line reader whose likeliest output per frame is ``frames`` (``logits_of``),
    stretched over the strip of whatever it is shown."""
    def read_line(ink_map_: np.ndarray) -> LineReading:
        strip = line_strip(ink_map_)
        count = strip.pixels.shape[1] // FRAME
        stretched = "".join(frames[i * len(frames) // count] for i in range(count))
        return decode(logits_of(stretched, sure), strip)
    return read_line


def classify_tall_as_sure_digit(batch: np.ndarray) -> np.ndarray:
    """A stand-in digit model: a 3 for anything, sure, and "not a digit" for a wide crop."""
    out = np.zeros((len(batch), NOT_A_DIGIT + 1), np.float32)
    for i, image in enumerate(batch[..., 0]):
        rows, cols = np.nonzero(image > 0.3)
        wide = np.ptp(cols) + 1 > 1.3 * (np.ptp(rows) + 1)
        out[i, NOT_A_DIGIT if wide else 3] = 1.0
    return out


def test_a_number_read_otherwise_by_the_line_reader_is_read_its_way_with_its_digits_crops():
    ink = ink_map(canvas_with([("1", 40, 100, 90, 160), ("7", 200, 100, 90, 160)]))
    seen = []

    def read_line(ink_map_: np.ndarray) -> LineReading:
        seen.append(ink_map_.shape)
        return line_reader_of("17")(ink_map_)  # a 1 over the strip's left half, a 7 right

    assert read_picture(ink, classify_tall_as_sure_digit).text == "33"
    reading = read_picture(ink, classify_tall_as_sure_digit, read_line=read_line)
    assert seen == [ink.shape] and reading.text == "17"
    assert len(reading.pixels) == 2 and all(p.shape == (28, 28) and p.max() > 0
                                            for p in reading.pixels)
    left, right = reading.boxes  # each digit's crop is its own part of the line
    assert left[3] <= right[1] + 1 and left[1] < right[1]


def test_one_sure_digit_no_wider_than_tall_is_the_digit_models_alone():
    ink = ink_map(canvas_with([("7", 40, 100, 90, 160)]))

    def read_line(ink_map_: np.ndarray) -> LineReading:
        raise AssertionError("not asked: it could only split one narrow digit")

    assert read_picture(ink, classify_tall_as_sure_digit, read_line=read_line).text == "3"


def classify_as_doubtful_3(batch: np.ndarray) -> np.ndarray:
    """A stand-in digit model: a 3, 90% sure (a 7 the rest), whatever it is shown."""
    out = np.zeros((len(batch), NOT_A_DIGIT + 1), np.float32)
    out[:, 3], out[:, 7] = 0.9, 0.1
    return out


def test_a_doubtful_lone_digit_the_line_reader_finds_not_a_digit_is_refused():
    ink = ink_map(canvas_with([("7", 40, 100, 90, 160)]))
    with pytest.raises(NotADigitError, match="^Not a digit: ") as refusal:
        read_picture(ink, classify_as_doubtful_3, read_line=line_reader_of("-xx-"))
    assert (refusal.value.position, refusal.value.count) == (1, 1)
    # read as two digits by the line reader, it stays the digit model's unless the line
    # reader is sure of them (two 1s touching make one narrow piece): 91% is not enough
    assert read_picture(ink, classify_as_doubtful_3, read_line=line_reader_of("-4-2-", 7.0)
                        ).text == "3"
    split = read_picture(ink, classify_as_doubtful_3, read_line=line_reader_of("-4-2-"))
    assert split.text == "42" and len(split.pixels) == 2


def test_a_doubtful_lone_digit_is_read_by_both_models_together():
    ink = ink_map(canvas_with([("7", 40, 100, 90, 160)]))
    # 90% a 3 to the digit model; the line reader sure of a 7 outweighs it, and of a 3 agrees
    reading = read_picture(ink, classify_as_doubtful_3, read_line=line_reader_of("-7-"))
    assert reading.text == "7" and list(reading.digits[0])[:2] == ["7", "3"]
    assert sum(reading.digits[0].values()) == pytest.approx(1.0)
    agreed = read_picture(ink, classify_as_doubtful_3, read_line=line_reader_of("-3-"))
    assert agreed.text == "3" and agreed.digits[0]["3"] > 0.99
    # a digit the digit model gives no chance stays out, however sure the line reader is
    assert read_picture(ink, classify_as_doubtful_3, read_line=line_reader_of("-5-")
                        ).text == "3"
    # ... and a line too small for a faithful strip is the digit model's alone
    small = ink_map(canvas_with([("7", 4, 4, 12, 20)], width=28, height=28, pen=2))
    assert read_picture(small, classify_as_doubtful_3, read_line=line_reader_of("-7-")
                        ).text == "3"


def test_the_line_read_as_one_digit_gives_each_digit_a_probability():
    sure_7 = reading_of(logits_of("--7-", sure=4.0)).one_digit_probabilities()
    assert sure_7.shape == (10,) and sure_7.sum() == pytest.approx(1.0)
    assert sure_7.argmax() == 7 and sure_7[7] > 0.8
    two_digits = reading_of(logits_of("4--2", sure=4.0)).one_digit_probabilities()
    assert two_digits.sum() == pytest.approx(1.0) and set(np.argsort(two_digits)[-2:]) == {2, 4}


def test_a_line_too_small_for_the_line_readers_strip_is_not_refused_by_it():
    # a digit 20 rows tall, as in a 28x28 MNIST file: too coarse for the strip to be faithful
    small = ink_map(canvas_with([("7", 4, 4, 12, 20)], width=28, height=28, pen=2))
    assert read_picture(small, classify_as_doubtful_3, read_line=line_reader_of("-xx-")
                        ).text == "3"


def test_a_number_with_a_part_the_line_reader_finds_not_a_digit_is_refused_there():
    ink = ink_map(canvas_with([("1", 40, 100, 90, 160), ("7", 200, 100, 90, 160)]))
    with pytest.raises(NotADigitError, match="^Not a digit at position 2 of 2: ") as refusal:
        read_picture(ink, classify_tall_as_sure_digit, read_line=line_reader_of("-1--xx-"))
    assert not refusal.value.may_be_digits


def nothing_is_a_digit(batch: np.ndarray) -> np.ndarray:
    """A stand-in digit model: "not a digit" for anything (letters, as the model sees them)."""
    out = np.zeros((len(batch), NOT_A_DIGIT + 1), np.float32)
    out[:, NOT_A_DIGIT] = 1.0
    return out


def test_a_refusal_of_parts_no_wider_than_a_digit_stands_whatever_the_line_reader_reads():
    ink = ink_map(canvas_with([("1", 40, 100, 90, 160), ("7", 200, 100, 90, 160)]))

    def read_line(ink_map_: np.ndarray) -> LineReading:
        raise AssertionError("not asked: a refusal that is no digits touching stands")

    with pytest.raises(NotADigitError, match="Not a digit") as refusal:
        read_picture(ink, nothing_is_a_digit, read_line=read_line)
    assert not refusal.value.may_be_digits


# ----------------------------------------------------------------------------- the model
def test_the_line_model_gives_a_frame_per_two_columns_and_loads_in_safe_mode(tmp_path):
    model = build_line_model()
    logits = np.asarray(model(np.zeros((2, STRIP_HEIGHT, 40, 1), np.float32)))
    assert logits.shape == (2, 40 // FRAME, BLANK + 1)
    assert model_folder.load_line_model(tmp_path) is None  # none: numbers by segmentation
    path = model_folder.save_line_model(model, tmp_path, {"command": "python x.py"})
    assert path == tmp_path / model_folder.LINE_MODEL_PATH
    loaded = model_folder.load_line_model(tmp_path)
    assert np.allclose(np.asarray(loaded(np.ones((1, STRIP_HEIGHT, 16, 1), np.float32))),
                       np.asarray(model(np.ones((1, STRIP_HEIGHT, 16, 1), np.float32))), atol=1e-5)
    assert json.loads((tmp_path / model_folder.LINE_RECORD_PATH).read_text()) == {
        "command": "python x.py"}
    # the folder's one *.keras file is still the digit model's place
    assert not list(tmp_path.glob("*.keras"))


def test_a_broken_line_model_file_is_a_load_error_that_says_what_to_do(tmp_path):
    path = tmp_path / model_folder.LINE_MODEL_PATH
    path.parent.mkdir()
    path.write_bytes(b"not a model")
    with pytest.raises(ModelLoadError, match="train_line.py"):
        model_folder.load_line_model(tmp_path)


# ----------------------------------------------------------------------------- training
def test_training_numbers_are_strips_labelled_with_their_digits(mnist_test):
    x, y = mnist_test
    lines = write_lines(x[:200], y[:200], 12, seed=0, letters=x[200:210], letter_share=0.5)
    assert len(lines.strips) == len(lines.texts) == 12
    assert any(NOT_A_DIGIT_TEXT in t for t in lines.texts)  # a "letter" in place of a digit
    assert all(s.shape[0] == STRIP_HEIGHT and s.dtype == np.uint8 for s in lines.strips)
    assert all(set(t) <= set("0123456789" + NOT_A_DIGIT_TEXT) and 1 <= len(t) <= 8
               for t in lines.texts)
    batch = list(batches(lines, 5, np.random.default_rng(0)))
    assert sum(len(b[0]) for b in batch) == len(lines.texts)
    strips, labels, label_lengths, frames = batch[0]
    assert strips.shape[2] % 8 == 0 and (frames == strips.shape[2] // FRAME).all()
    assert labels.shape == (len(strips), label_lengths.max())


def test_a_number_is_written_as_one_line_of_ink_longer_for_more_digits(mnist_test):
    x, _ = mnist_test
    rng = np.random.default_rng(0)
    widths = []
    for count in (1, 4, 8):
        ink = write_number(x[:count], rng)
        assert ink.dtype == np.float32 and 0 < ink.max() <= 1 and ink.shape[0] == 3 * WRITE_HEIGHT
        rows = np.flatnonzero(ink.max(axis=1) > 0.5)
        assert rows[-1] - rows[0] < 1.5 * WRITE_HEIGHT  # one line: digits share a baseline
        widths.append(np.ptp(np.flatnonzero(ink.max(axis=0) > 0.5)))
    assert widths[0] < widths[1] < widths[2]


def test_a_digit_written_with_a_pen_keeps_its_height_and_has_the_pens_width(mnist_test):
    x, _ = mnist_test
    rng = np.random.default_rng(0)
    for image in x[:5]:
        for pen in (4.0, 7.0):
            glyph = _pen_glyph(image, 40.0, pen, rng)
            assert abs(glyph.shape[0] - 40) <= 1 and set(np.unique(glyph)) == {0.0, 1.0}
            assert pen - 1 < stroke_width(glyph > 0) < pen + 1.5


def test_a_fine_pen_on_a_much_enlarged_digit_leaves_no_gaps():
    # a flat stroke (a dash 3 rows tall) blown up to a digit's height spreads its centre line's
    # points far apart: a 1-px pen must still draw one unbroken stroke
    dash = np.zeros((28, 28), np.uint8)
    dash[12:15, 4:24] = 255
    glyph = _pen_glyph(dash, 40.0, 1.0, np.random.default_rng(0))
    assert ndimage.label(glyph)[1] == 1


def test_a_mark_in_a_line_fits_a_digits_box_by_its_longer_side(mnist_test):
    # a dash blown up to a digit's height would be a block, not a dash
    dash = np.zeros((28, 28), np.uint8)
    dash[12:15, 4:24] = 255
    rng = np.random.default_rng(0)
    for glyph in (_scaled_glyph(dash, 40.0, boxed=True),
                  _pen_glyph(dash, 40.0, 3.0, rng, boxed=True)):
        assert abs(glyph.shape[1] - 40) <= 4 and glyph.shape[0] < 12
    assert abs(_scaled_glyph(dash, 40.0).shape[0] - 40) <= 1  # a digit: its height
    x, _ = mnist_test
    ink = write_number(np.stack([x[0], dash, x[1]]), rng, boxed=np.array([False, True, False]))
    rows = np.flatnonzero(ink.max(axis=1) > 0.5)
    assert rows[-1] - rows[0] < 1.5 * WRITE_HEIGHT  # the dash sits within the digits' line


def test_a_mark_is_also_written_alone_as_a_line_of_one_not_a_digit(mnist_test):
    x, y = mnist_test
    lines = write_lines(x[:200], y[:200], 40, seed=0, letters=x[200:210], letter_share=1.0)
    assert NOT_A_DIGIT_TEXT in lines.texts  # a lone "x"
    assert all(t.count(NOT_A_DIGIT_TEXT) == 1 for t in lines.texts)


def test_a_tiny_line_training_run_learns_and_reports_its_validation_figure(mnist_test):
    x, y = mnist_test
    config = LineTrainConfig(numbers=64, validation_numbers=8, letters=10, epochs=2,
                             batch_size=16)
    result = train_line_model(config, (x[:300], y[:300]), (x[300:400], y[300:400]),
                              log=lambda _: None)
    assert result.history["loss"][-1] < result.history["loss"][0]
    assert 0.0 <= result.validation_exact <= 1.0 and result.wall_time_s > 0


def test_the_line_training_command_writes_the_reader_and_its_record(tmp_path):
    command = [sys.executable, "scripts/train_line.py", "--numbers", "24",
               "--validation-numbers", "4", "--letters", "5", "--epochs", "1", "--limit", "200",
               "--output-dir", str(tmp_path)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "validation numbers read exactly" in done.stdout
    record = json.loads((tmp_path / model_folder.LINE_RECORD_PATH).read_text())
    assert record["command"].startswith("python scripts/train_line.py --numbers 24")
    assert record["fit_digits"] == 200 and record["config"]["epochs"] == 1
    assert model_folder.load_line_model(tmp_path) is not None


def test_digits_run_together_into_one_refused_part_are_read_by_a_less_sure_line_reader():
    # three digits overlapping into one wide blob, which the digit model refuses
    ink = ink_map(canvas_with([("4", 40, 100, 90, 160), ("2", 100, 100, 90, 160),
                               ("7", 160, 100, 90, 160)]))
    with pytest.raises(NotADigitError) as refusal:
        read_picture(ink, nothing_is_a_digit)
    assert refusal.value.count == 1 and refusal.value.may_be_digits
    read_line = line_reader_of("-4-2-7-", sure=6.0)
    line = read_line(ink)
    assert line.text == "427" and 0.4 <= np.exp(line.log_probability("427")) < 0.7
    assert read_picture(ink, nothing_is_a_digit, read_line=read_line).text == "427"


def squares_along(slope: float, count: int) -> tuple[np.ndarray, list[Piece]]:
    """An ink map of ``count`` squares 20 px wide, 50 columns apart, whose row falls by
    ``slope`` per column, and the segmenter's pieces for them (their boxes)."""
    ink = np.zeros((120, 60 + 50 * count), np.float32)
    pieces = []
    for k in range(count):
        top, left = 30 + round(slope * 50 * k), 30 + 50 * k
        ink[top:top + 20, left:left + 20] = 1.0
        pieces.append(Piece(None, (top, left, top + 20, left + 20), None, None))
    return ink, pieces


@pytest.mark.parametrize("slope", [0.15, -0.15])
def test_a_line_of_digits_climbing_or_falling_is_turned_level_for_the_line_reader(slope):
    ink, pieces = squares_along(slope, 5)
    labels, count = ndimage.label(levelled(ink, pieces) > 0.5)
    rows = [ndimage.center_of_mass(labels == k + 1)[0] for k in range(count)]
    assert count == 5 and np.ptp(rows) < 1.5


@pytest.mark.parametrize("slope, count", [(0.05, 5), (0.15, 2), (0.5, 5)])
def test_a_nearly_level_line_two_digits_or_a_steep_stack_are_left_as_they_are(slope, count):
    # (two digits: one set higher is no tilt; a slope steeper than 20 degrees is no line)
    ink, pieces = squares_along(slope, count)
    assert levelled(ink, pieces) is ink
    assert levelled(*squares_along(0.07, 5)) is not ink  # (just past the tilt that counts)


def test_the_line_reader_is_given_only_the_ink_round_the_segmenters_pieces():
    ink, pieces = squares_along(0.0, 3)
    ink[110:114, 200:204] = 1.0  # a speck far off the line, which the segmenter dropped
    ink[36:40, 60:64] = 1.0  # and one between two pieces, inside their box
    kept = within_pieces(ink, pieces)
    assert kept[110:114, 200:204].max() == 0
    assert np.array_equal(kept[:100, :190], ink[:100, :190])


def test_a_mark_far_off_in_a_corner_does_not_make_a_number_not_a_digit(reader, monkeypatch):
    picture = canvas_with([("4", 40, 120, 0.6 * H, H), ("2", 180, 120, 0.6 * H, H),
                           ("dot", 600, 390, 12)], width=640)
    assert reader.read(picture).text == "42"
    # seen by the line reader, the dot stretched its strip: "x", a refusal
    monkeypatch.setattr(reading, "within_pieces", lambda ink, pieces: ink)
    with pytest.raises(NotADigitError):
        reader.read(picture)


def test_reads_a_number_photographed_askew(reader, mnist_test, monkeypatch):
    x, y = mnist_test
    rng = np.random.default_rng(0)
    chosen = rng.choice(1000, 5, replace=False)
    number = render_number(x[chosen], y[chosen], rng)
    photos = [photo(np.asarray(Image.fromarray(number.picture[..., 3]).rotate(
        angle, resample=Image.Resampling.BILINEAR, expand=True)), np.random.default_rng(0))
        for angle in (8, -8)]
    assert [reader.read(p).text for p in photos] == [number.label] * 2
    # the line reader, trained on level lines, finds "not a digit" in the line as it lies
    monkeypatch.setattr(reading, "levelled", lambda ink, pieces: ink)
    for p in photos:
        with pytest.raises(NotADigitError):
            reader.read(p)

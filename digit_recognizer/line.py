"""The line reader: a whole number read at once, the second opinion where digits touch.

    from digit_recognizer.line import line_strip, decode
    strip = line_strip(ink)                       # ink: preprocess.ink_map(...)
    logits = line_model(strip.batch())[0]         # model.build_line_model's (frames, 12)
    line = decode(np.asarray(logits), strip)      # LineReading: "2026", per-digit probabilities

The segmenter (``digit_recognizer.segment``) cuts a picture into digits and reads each one;
it cannot cut apart strokes that cross (a 5's bar through the 3 beside it), and digits that
touch are its commonest failure. The line reader is a small CRNN trained with CTC on whole
synthetic numbers (``digit_recognizer.train_line``): it reads the line of ink as a sequence of
frames, two strip columns each, and never cuts. ``reading.prefer_line`` decides between
the two readings; a lone digit the digit model doubts is read by both
(``reading.with_line_opinion``).

The strip is the line's ink in the form MNIST gives a digit, for a whole line: cropped to the
ink, strokes redrawn at a usual width for the line's height, the ink box scaled to INK_HEIGHT
rows in a STRIP_HEIGHT strip, as wide as the line needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from digit_recognizer.preprocess import (bounding_box, change_stroke_width, ink_mask,
                                         normalize_digit, soft_crop, stroke_width,
                                         without_specks)
from digit_recognizer.segment import Piece

STRIP_HEIGHT = 32  # rows of the strip the line model reads
INK_HEIGHT = 24  # ... of which the line's ink box fills this many (MNIST: 20 of 28)
STROKE_RATIO = 0.10  # strokes redrawn at this share of the ink box's height (~2.4 px)
MARGIN = 4  # empty columns either side of the ink
MAX_WIDTH = 1024  # strip columns at most (12 digits with wide gaps need about 450)
FRAME = 2  # strip columns per output frame (the model halves the width once)
NOT_A_DIGIT_MARK = 10  # the output for a letter or sign inside the line ...
NOT_A_DIGIT_TEXT = "x"  # ... and how a reading's text writes it
BLANK = 11  # the CTC blank: outputs 0-9 are the digits


@dataclass
class Strip:
    pixels: np.ndarray  # float32 (STRIP_HEIGHT, width), ink 1 on 0
    left: int  # the ink map's column at the strip's column MARGIN
    scale: float  # strip columns per ink map column
    rows: slice  # the ink's rows in the ink map

    def batch(self) -> np.ndarray:
        """The strip as a model input: float32 (1, STRIP_HEIGHT, width, 1)."""
        return self.pixels[None, :, :, None]

    def ink_column(self, column: float) -> int:
        return int(round(self.left + (column - MARGIN) / self.scale))


@dataclass
class LineReading:
    text: str  # what was read, left to right: digits, and "x" for anything not a digit
    probabilities: np.ndarray  # (symbols, 10): each one's surest frame, over the digits
    columns: list[tuple[int, int]]  # each symbol's span of ink map columns [start, stop)
    rows: slice  # the line's rows in the ink map
    log_probabilities: np.ndarray  # (frames, 12): each frame's, over all outputs

    @property
    def not_a_digit_probability(self) -> float:
        """The "not a digit" output's probability in the frame where it is highest."""
        return float(np.exp(self.log_probabilities[:, NOT_A_DIGIT_MARK].max(initial=-np.inf)))

    @property
    def digits_only(self) -> bool:
        return bool(self.text) and NOT_A_DIGIT_TEXT not in self.text

    def log_probability(self, text: str) -> float:
        """log P(``text``) as the line model reads this line: its CTC probability, summed
        over every path of frames that writes ``text`` (``text_log_probability``)."""
        return text_log_probability(self.log_probabilities, text)

    def one_digit_probabilities(self) -> np.ndarray:
        """(10,): each digit's probability as the line's one and only symbol, renormalised
        over the ten (``log_probability`` of "0" .. "9"; a strip has frames enough for one)."""
        logp = np.array([self.log_probability(str(digit)) for digit in range(10)])
        return np.exp(logp - np.logaddexp.reduce(logp))


def line_strip(ink: np.ndarray) -> Strip:
    """A picture's ink map (``preprocess.ink_map``) -> the line model's strip. Refuses what
    ``preprocess.ink_mask`` refuses (empty pictures, noise)."""
    ink, mask = ink_mask(ink)
    mask, _ = without_specks(mask)
    rows, cols = bounding_box(mask)
    line = mask[rows, cols]
    height = line.shape[0]
    # Strokes at one width for the line's height, as normalize_digit does for one digit:
    # growing by c moves the ink's edges out by c (room is padded for it), so the box is
    # found again after
    change = (STROKE_RATIO * height - stroke_width(line)) / 2
    pad = 1 + int(np.ceil(max(change, 0.0)))
    grown = change_stroke_width(np.pad(line, pad), change)
    grown_rows, grown_cols = bounding_box(grown)
    grown = grown[grown_rows, grown_cols].astype(np.float32)
    scale = INK_HEIGHT / grown.shape[0]
    width = int(np.clip(round(grown.shape[1] * scale), 1, MAX_WIDTH - 2 * MARGIN))
    resized = Image.fromarray(grown, "F").resize((width, INK_HEIGHT), Image.Resampling.BOX)
    pixels = np.zeros((STRIP_HEIGHT, width + 2 * MARGIN), np.float32)
    top = (STRIP_HEIGHT - INK_HEIGHT) // 2
    pixels[top:top + INK_HEIGHT, MARGIN:MARGIN + width] = np.clip(np.asarray(resized), 0, 1)
    return Strip(pixels, cols.start + grown_cols.start - pad, width / grown.shape[1], rows)


def padded_batch(strips: list[np.ndarray]) -> np.ndarray:
    """Strips of any widths -> one float32 batch (N, STRIP_HEIGHT, width, 1), zero-padded on
    the right to the widest, rounded up to a multiple of 8 (so that few shapes are traced)."""
    width = int(np.ceil(max(s.shape[1] for s in strips) / 8) * 8)
    batch = np.zeros((len(strips), STRIP_HEIGHT, width, 1), np.float32)
    for i, s in enumerate(strips):
        batch[i, :, :s.shape[1], 0] = s
    return batch


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Log-probabilities of each row's logits, computed without taking the log of a
    probability that underflows to 0."""
    shifted = logits.astype(np.float64) - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def text_log_probability(log_probabilities: np.ndarray, text: str) -> float:
    """The CTC forward algorithm: log P(``text``: digits and "x") given each frame's
    log-probabilities (frames >= 1, 12), summed over all paths that write ``text`` once
    repeats are merged and blanks dropped (the quantity the model was trained to raise for
    the right text). -inf when the frames are too few to write it."""
    symbols = [NOT_A_DIGIT_MARK if c == NOT_A_DIGIT_TEXT else int(c) for c in text]
    states = np.full(2 * len(symbols) + 1, BLANK)  # blank, symbol, blank, symbol, ..., blank
    states[1::2] = symbols
    # a path may skip the blank between two symbols unless they are the same symbol
    skip = np.zeros(len(states), bool)
    skip[3::2] = states[3::2] != states[1:-2:2]
    alpha = np.full(len(states), -np.inf)
    alpha[:2] = log_probabilities[0, states[:2]]
    for frame in log_probabilities[1:]:
        before = np.r_[-np.inf, -np.inf, alpha]  # from the same state, the one before, two before
        alpha = np.logaddexp(np.logaddexp(before[2:], before[1:-1]),
                             np.where(skip, before[:-2], -np.inf)) + frame[states]
    return float(np.logaddexp(alpha[-1], alpha[-2]) if len(states) > 1 else alpha[-1])


def decode(logits: np.ndarray, strip: Strip) -> LineReading:
    """The line model's output for one strip, (frames, 12) logits -> its best-path reading:
    the likeliest output of each frame, repeats merged and blanks dropped. Each symbol's
    probabilities are those of its surest frame; its columns reach halfway to its
    neighbours' frames."""
    log_probabilities = log_softmax(logits)
    probabilities = np.exp(log_probabilities)
    best = probabilities.argmax(axis=1)
    runs: list[tuple[int, int, int]] = []  # (digit, first frame, last frame)
    for frame, label in enumerate(best):
        if label == BLANK:
            continue
        if runs and runs[-1][0] == label and runs[-1][2] == frame - 1:
            runs[-1] = (label, runs[-1][1], frame)
        else:
            runs.append((int(label), frame, frame))
    digits = np.zeros((len(runs), NOT_A_DIGIT_MARK))
    for i, (label, first, last) in enumerate(runs):
        frame = first + int(np.argmax(probabilities[first:last + 1, label]))
        digits[i] = probabilities[frame, :NOT_A_DIGIT_MARK] / probabilities[frame, :NOT_A_DIGIT_MARK].sum()
    # between neighbours, halfway from one's last frame to the next one's first
    cuts = [FRAME * (a[2] + 1 + b[1]) / 2 for a, b in zip(runs, runs[1:])]
    starts, stops = [0.0, *cuts], [*cuts, float(strip.pixels.shape[1])]
    columns = [(strip.ink_column(start), strip.ink_column(stop))
               for start, stop in zip(starts, stops)][:len(runs)]  # (none when nothing is read)
    text = "".join(NOT_A_DIGIT_TEXT if r[0] == NOT_A_DIGIT_MARK else str(r[0]) for r in runs)
    return LineReading(text, digits, columns, strip.rows, log_probabilities)


def line_pieces(ink: np.ndarray, line: LineReading, classes: int) -> list[Piece]:
    """A line reading as the segmenter's pieces (for ``reading.assemble``): each digit's ink is
    its columns' ink (a neighbour's crossing stroke included), normalised as the digit model's
    input would be, with the line model's probabilities (none for "not a digit": ``classes``
    outputs in all, as the digit model has)."""
    ink, mask = ink_mask(ink)
    pieces = []
    for (start, stop), digits in zip(line.columns, line.probabilities):
        start, stop = max(start, 0), max(stop, start + 1)
        own = np.zeros_like(mask)
        own[line.rows, start:stop] = mask[line.rows, start:stop]
        if not own.any():  # a digit read where the strokes were thinned away: take the span
            own[line.rows, start:stop] = True
        box_rows, box_cols = bounding_box(own)
        crop = soft_crop(ink, own, (box_rows, box_cols))
        probabilities = np.zeros(classes, np.float32)
        probabilities[:NOT_A_DIGIT_MARK] = digits
        pieces.append(Piece(crop, (box_rows.start, box_cols.start, box_rows.stop, box_cols.stop),
                            normalize_digit(crop), probabilities))
    return pieces

"""The last stage: per-digit probabilities -> the reading of a whole number (or a refusal).

    from digit_recognizer.reading import read_picture
    reading = read_picture(ink_map(load_image(picture)), reader.probabilities)
    reading.text           # "2026"
    reading.top_readings   # {"2026": 0.93, "2028": 0.04, "2020": 0.01}  (gr.Label's form)
    reading.digits         # per digit: top 3 {"2": 0.99, ...}, renormalised over the 10 digits
    reading.pixels         # each digit's 28x28 uint8 as the model saw it, left to right
    reading.doubtful       # per digit: True where the top digit is under DOUBT_BELOW, or
                           # the "not a digit" probability reaches MAYBE_NOT_A_DIGIT

A classifier with an 11th output ("not a digit", index 10, calibrated) refuses a picture where
that probability (plus a 12th output's, "several digits") reaches ``not_a_digit_threshold``
(0.5 by default) at any position: NotADigitError, whose message starts "Not a digit" and says
which position (and, for a refusal mostly as several digits, that they touch). A 10-output
classifier reads whatever it is given (best effort, no refusals). With a line reader, a
picture is also refused where it finds "not a digit" in the line (``refuse_line_not_a_digit``),
and a lone digit the digit model doubts is read by both models (``with_line_opinion``), or
as two digits or more where the line reader is sure of them (``splits_lone_digit``).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import ndimage

from digit_recognizer.calibration import mostly_several_digits, over_digits, refused
from digit_recognizer.line import INK_HEIGHT, NOT_A_DIGIT_TEXT, LineReading, line_pieces
from digit_recognizer.preprocess import ImageInputError
from digit_recognizer.segment import Classify, Piece, segment

ReadLine = Callable[[np.ndarray], LineReading]

NOT_A_DIGIT_THRESHOLD = 0.5  # refuse a position whose calibrated p(not a digit) reaches this
DOUBT_BELOW = 0.8  # a digit whose top probability (over the digits) is under this is doubtful
MAYBE_NOT_A_DIGIT = 0.5  # ... and so is one read though its "not a digit" probability reaches
# this (under the refusal threshold): the percentages over the digits alone would hide it
TOP_READINGS = 3
# The line reader's reading replaces the segmenter's where the line model finds it at least
# LINE_LIKELY probable and LINE_ODDS times likelier than the segmenter's reading, and replaces
# a refusal of digits that may touch where it finds it LINE_SURE probable. Chosen on numbers
# built from training digits as the number benchmark builds them (benchmarks.numbers, split
# "train": 350 of 2-6 digits gap by gap, 250 spaced as people space them, 200 with a letter
# inside), each rule tried on the same readings of the line reader of commit 56555aa: against
# the rule before (its best path's probability at 0.9), 82.0% of the numbers read exactly
# against 79.1%, 94.8% of those spaced as people against 93.6%, letters inside refused 96.0%
# either way (the segmenter alone: 96.5%); a refusal replaced at 0.5 instead: 84.0%, 95.6%,
# but letters 94.5%; odds of 10: 82.9%, 94.8%, 96.0% (but with the reader trained 8 epochs,
# 1 in 30 fewer numbers of normal gaps read right than at 100). Kept for the readers after
# the same trial on numbers built from validation digits: the one after (60,000 training
# numbers, commit 9f26f6c) 85.4% / 93.6% / 95.5%, the one before (40,000) 83.7% / 93.2% /
# 93.5% (a refusal replaced at 0.5: 85.7% / 93.2% / 92.0%; the line model's probability of
# its reading of a refused group does not tell numbers from letters between 0.5 and 0.95).
# Tried again with the shipped reader (its readings cached): odds of 10 read 89.2% of the 2-6
# digit numbers from training digits against 88.0%, 95.2% of those spaced as people (94.8%),
# but 86.0% / 93.2% of the validation ones against 86.8% / 94.0%; and every digit of a number
# read by both models, as LINE_OPINION does a lone digit's (where both read as many digits),
# +0.4 on the training ones, -0.4 / -0.4 on validation: neither kept
LINE_LIKELY = 0.2
LINE_ODDS = 100.0
LINE_SURE = 0.7
# A refusal of parts that may be digits touching is replaced at LINE_RUN_TOGETHER_SURE where
# the line reader reads at least LINE_RUN_TOGETHER_EXTRA_DIGITS digits more than there are
# parts, in ink (the parts' together) at least LINE_RUN_TOGETHER_WIDTH of its height wide per
# digit read: overlapping neighbours run together into one wide blob, which no cut separates
# and the line reader reads, though seldom 70% sure. Chosen on the same trial's numbers built
# from training digits (the reader of commit 9f26f6c): 88.0% read exactly against 85.7%
# (overlapping ones 74.4% against 67.8%), letters inside refused 97.5% either way; one extra
# digit (a letter read as "11") or 0.2-0.3 lost letters. The width (the narrowest gain: 0.41
# of the height per digit) keeps most lone letters and marks the digit model refuses from
# being read as "111" or "181": of the validation split's 1,050 drawn ones (through the app),
# 1 mark is read so (3 without the width; none without the rule). On numbers built from
# validation digits: 88.3% against 85.1% (the code before the rule; 85.1% rather than the
# 85.4% above because LINE_CHECK_BELOW's check, added since, costs one number), letters 99.0%
# either way. The reader after (80,000 numbers, marks among its "not a digit" glyphs: a
# lone mark wide enough to pass the width is refused by it rather than read "181"), under
# these rules unchanged: 88.9% / 86.6% of the numbers from training / validation digits
# (against 88.0% / 88.3%), 95.2% / 94.0% of those spaced as people (94.4% / 93.6%), letters
# inside refused 99.5% / 99.5% (97.5% / 99.0%). The shipped one (160,000 numbers, seen 4
# times rather than 8), under these rules unchanged, on `scripts/benchmark_numbers.py --split
# validation --n 350`: 86.4% of 2-6 digits against 86.0%, overlapping neighbours 65.9% against
# 58.2%, 94.0% of those spaced as people against 94.4%, letters inside refused 99.5% (99.0%)
LINE_RUN_TOGETHER_SURE = 0.4
LINE_RUN_TOGETHER_EXTRA_DIGITS = 2
LINE_RUN_TOGETHER_WIDTH = 0.4
LINE_NOT_A_DIGIT = 0.5  # a reading is refused where the line reader's "not a digit" output
# reaches this in some frame (likelier than every digit and the blank together), and ...
LINE_CHECK_BELOW = 0.99  # ... a lone digit no wider than tall is put to the line reader
# only when the digit model's top output is under this (most lone digits skip its ~5 ms).
# Chosen on the validation split's drawings through the app's path (1,500 digits drawn
# anywhere, 1,050 letters and marks of the trained kinds): refused 98.1% of Hershey letters
# (94.9% without the check), printed 98.3% (97.2%), other scripts 96.0% (92.7%), marks 92.5%
# (91.3%), the digits read right unchanged (1,470), none more refused; asking every lone
# digit refused no more. On numbers built from validation digits (the rule above's trial):
# letters inside refused 99.0% against 95.5%, numbers read 85.1% against 85.4%
LINE_CHECK_ROWS = 2 * INK_HEIGHT  # ... and only where the line's ink is at least this tall in
# the ink map: a smaller one is scaled up into the strip with strokes too coarse to thin (a
# 28x28 MNIST file's 20 rows), which the line reader often takes for no digit (27 of the
# 5,000 validation digits as pictures refused by the check, 25 of them read right without
# it; drawn digits and numbers are 60 rows tall or more)
LINE_OPINION = 0.5  # A lone digit put to the line reader (as above) is read by both models:
# the digit model's probabilities of the ten digits times the line reader's (the line read as
# one digit) to this power. Chosen on the validation split's drawings through the app's path
# (2,500 digits per style, and 2,061 continental 1s, 4s, 7s and 9s; the models of commit
# 5071452): continental forms 97.77% read right against 96.85% (19 gained, none lost), the
# eight other drawn styles 17 more of 20,000 (37 gained, 20 lost); at a power of 1:
# continental 97.96%, the others 11 more. Between 1 and 7: 15 gained, 2 lost (with the line
# reader of commit 9f26f6c, trained without marks, the product traded as many American 7s
# read 1 for continental 1s read 7). MNIST's own 28x28 pictures would lose 3 of 2,500: their
# line is under LINE_CHECK_ROWS, and left to the digit model
LINE_SPLIT_SURE = 0.95  # A lone digit put to the line reader (as above) is read as the
# digits it reads instead, where that is two digits or more at least this probable and
# LINE_ODDS times likelier than the lone digit: two 1s that touch make one narrow piece, read
# "1" (on numbers spaced as people space them, built from validation digits, 1 of 250 gained
# at 0.95 or 0.7; from training digits, none; none lost on 350 of every gap; none of 9,433
# validation drawings of one digit, in 9 styles, read otherwise)
LEVEL_DIGITS = 3  # the line reader, trained on level lines, reads a line of at least this
LEVEL_TILT = 0.06  # many pieces turned level where their feet climb or fall by this much per
# column or more (Theil-Sen: the median of the slopes between every two; ~3.4 degrees): a note
# photographed askew, a number written uphill; ...
LEVEL_STEEPEST = 0.36  # ... but no more than this (20 degrees): steeper, the pieces are no
# line written askew (digits stacked, or overlapping in their columns)
TOUCHING_WIDE = 1.0  # a refused part at least this wide for its height may be digits that
# touch (the splitter keeps a letter-wide group whole unless its parts are very sure): the
# refusal then says how to write them
TOUCHING_HINT = " If that is digits touching one another, leave a little space between them."
TOUCHING = ("it looks like digits touching one another, which could not be told apart: leave "
            "a little space between them.")  # what a refusal mostly as "several digits" says


class NotADigitError(ImageInputError):
    """The model says some part of the picture is not a digit."""

    def __init__(self, message: str, position: int | None = None, count: int | None = None,
                 may_be_digits: bool = False):
        super().__init__(message)
        self.position, self.count = position, count
        self.may_be_digits = may_be_digits  # a refused part looks like digits that touch


@dataclass
class Reading:
    text: str  # the digits, left to right
    digits: list[dict[str, float]]  # per digit: top 3 {"7": p, ...}, over the 10 digits
    pixels: list[np.ndarray]  # per digit: uint8 (28, 28), what the model saw
    doubtful: list[bool]  # per digit: the top digit is under DOUBT_BELOW, or maybe_not_a_digit
    top_readings: dict[str, float]  # the likeliest whole readings, likeliest first
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)  # in the ink map (as
    # turned level for the line reader, where its reading is given: see ``levelled``)
    maybe_not_a_digit: list[bool] = field(default_factory=list)  # per digit: "not a digit" at
    # MAYBE_NOT_A_DIGIT or more, though not refused

    @property
    def confidence(self) -> float:
        return self.top_readings.get(self.text, 0.0)


def read_picture(ink: np.ndarray, classify: Classify,
                 not_a_digit_threshold: float = NOT_A_DIGIT_THRESHOLD,
                 read_line: ReadLine | None = None) -> Reading:
    """Segment the ink map into digits, classify them (one batched call) and assemble the
    reading. A position whose calibrated "not a digit" probability (an 11-output classifier)
    reaches ``not_a_digit_threshold`` is refused. Raises preprocess.ImageInputError
    (including segment's errors) or NotADigitError.

    With a line reader (``read_line``: ink map -> line.LineReading), a number it reads
    otherwise, and finds far likelier than the segmenter's reading, is read its way (see
    ``prefer_line``), and a picture in which it finds "not a digit" is refused (see
    ``refuse_line_not_a_digit``; a lone digit the digit model is sure of is not asked). A
    lone digit it is asked about is read by both models (``with_line_opinion``), or as the
    digits it reads where it is sure of them (``splits_lone_digit``)."""
    pieces = segment(ink, classify, not_a_digit_threshold)
    line_ink = levelled(within_pieces(ink, pieces), pieces) if read_line is not None else ink
    try:
        reading = assemble(pieces, not_a_digit_threshold)
    except NotADigitError as refusal:
        if read_line is None or not refusal.may_be_digits:
            raise
        line = read_line(line_ink)
        if not prefer_line(None, line, [p.box for p in pieces]):
            raise
    else:
        lone = len(pieces) == 1 and not _wide(pieces[0])  # one digit no wider than tall
        if read_line is None or (lone and pieces[0].probabilities.max() >= LINE_CHECK_BELOW):
            return reading
        line = read_line(line_ink)
        refuse_line_not_a_digit(line)
        if lone and not splits_lone_digit(reading.text, line):
            return assemble([with_line_opinion(pieces[0], line)], not_a_digit_threshold)
        if not lone and not prefer_line(reading.text, line):
            return reading
    return assemble(line_pieces(line_ink, line, len(pieces[0].probabilities)))


def within_pieces(ink: np.ndarray, pieces: Sequence[Piece]) -> np.ndarray:
    """The ink map with only the ink inside the box round the segmenter's ``pieces``: what it
    left out beyond them (dust, a mark off the line: a speck, a shadow's corner in a photo)
    would stretch the line reader's strip round it and be read "not a digit", refusing a
    clear number."""
    top, left, bottom, right = _box_around([p.box for p in pieces])
    kept = np.zeros_like(ink)
    kept[top:bottom, left:right] = ink[top:bottom, left:right]
    return kept


def levelled(ink: np.ndarray, pieces: Sequence[Piece]) -> np.ndarray:
    """The ink map as the line reader should see it: turned level (about its centre, grown to
    hold it all) where the segmenter's ``pieces`` (at least LEVEL_DIGITS) stand on a line that
    climbs or falls by LEVEL_TILT to LEVEL_STEEPEST; otherwise as it is. (A reading the line
    reader gives is then in the levelled map: its boxes too.)"""
    if len(pieces) < LEVEL_DIGITS:
        return ink
    # where they stand: a digit's height varies more than the line it is written on
    rows, cols = np.array([(bottom, (left + right) / 2)
                           for top, left, bottom, right in (p.box for p in pieces)], float).T
    first, second = np.triu_indices(len(pieces), 1)
    apart = cols[second] - cols[first]
    if not (apart > 0).any():
        return ink
    slope = float(np.median((rows[second] - rows[first])[apart > 0] / apart[apart > 0]))
    if not LEVEL_TILT <= abs(slope) <= LEVEL_STEEPEST:
        return ink
    return ndimage.rotate(ink, np.degrees(np.arctan(slope)), order=1, prefilter=False)


def refuse_line_not_a_digit(line: LineReading) -> None:
    """Raise NotADigitError where the line reader finds "not a digit" more likely than not
    (LINE_NOT_A_DIGIT) in some frame of a line at least LINE_CHECK_ROWS tall: a letter or
    mark the digit model took for digits."""
    if (line.not_a_digit_probability < LINE_NOT_A_DIGIT or NOT_A_DIGIT_TEXT not in line.text
            or not _tall_enough(line)):
        return  # (over 0.5 in a frame, "not a digit" is that frame's reading: in the text)
    raise _letters_refusal([line.text.index(NOT_A_DIGIT_TEXT)], len(line.text))


def with_line_opinion(piece: Piece, line: LineReading) -> Piece:
    """A lone digit's ``piece`` with its ten digits' probabilities weighed by the line
    reader's reading of the line as one digit (to the power LINE_OPINION, renormalised to
    the digits' share); its "not a digit" outputs as they were. A line under LINE_CHECK_ROWS
    tall is left to the digit model."""
    if not _tall_enough(line):
        return piece
    own = piece.probabilities.astype(np.float64)
    weighed = own[:10] * line.one_digit_probabilities() ** LINE_OPINION
    if weighed.sum() <= 0:
        return piece
    probabilities = np.concatenate([weighed / weighed.sum() * own[:10].sum(), own[10:]])
    return replace(piece, probabilities=probabilities.astype(piece.probabilities.dtype))


def splits_lone_digit(segmented: str, line: LineReading) -> bool:
    """Whether the line reader reads a lone digit (the segmenter's reading ``segmented``) as
    two digits or more, LINE_SPLIT_SURE probable and LINE_ODDS times likelier, in a line tall
    enough for its strip (LINE_CHECK_ROWS): digits touching in one narrow piece."""
    if len(line.text) < 2 or not line.digits_only or not _tall_enough(line):
        return False
    return _likelier(line, segmented, LINE_SPLIT_SURE)


def _likelier(line: LineReading, segmented: str, least: float) -> bool:
    """Whether the line reader finds its own reading at least ``least`` probable and
    LINE_ODDS times likelier than the segmenter's reading ``segmented``."""
    own = line.log_probability(line.text)
    return bool(own >= np.log(least)
                and own - line.log_probability(segmented) >= np.log(LINE_ODDS))


def _tall_enough(line: LineReading) -> bool:
    """Whether the line's ink is tall enough (LINE_CHECK_ROWS) for its strip to be faithful."""
    return line.rows.stop - line.rows.start >= LINE_CHECK_ROWS


def prefer_line(segmented: str | None, line: LineReading,
                part_boxes: Sequence[tuple[int, int, int, int]] = ()) -> bool:
    """Whether the line reader's reading replaces the segmenter's (None: refused as digits
    that may touch, its parts' boxes ``part_boxes``): a number (two digits or more on
    either side: a lone digit is the digit model's, trained on more kinds of writing, unless
    ``splits_lone_digit``) read otherwise, digits only, that the line model finds at least
    LINE_LIKELY probable and LINE_ODDS times likelier than the segmenter's reading (a
    refusal: LINE_SURE probable, or LINE_RUN_TOGETHER_SURE where the reading may be digits
    run together, ``_run_together``)."""
    if line.text == segmented or not line.digits_only:
        return False
    if max(len(line.text), len(segmented or "")) < 2:
        return False
    if segmented is None:
        sure = LINE_RUN_TOGETHER_SURE if _run_together(line.text, part_boxes) else LINE_SURE
        return bool(line.log_probability(line.text) >= np.log(sure))
    return _likelier(line, segmented, LINE_LIKELY)


def _run_together(text: str, boxes: Sequence[tuple[int, int, int, int]]) -> bool:
    """Whether the digits ``text`` may have run together in the segmenter's parts ``boxes``:
    at least LINE_RUN_TOGETHER_EXTRA_DIGITS digits more than parts, in ink (the parts'
    together) at least LINE_RUN_TOGETHER_WIDTH of its height wide per digit."""
    if not boxes or len(text) < len(boxes) + LINE_RUN_TOGETHER_EXTRA_DIGITS:
        return False
    return _width_for_height(boxes) >= LINE_RUN_TOGETHER_WIDTH * len(text)


def assemble(pieces: list[Piece],
             not_a_digit_threshold: float = NOT_A_DIGIT_THRESHOLD) -> Reading:
    """The reading of classified pieces (left to right); refuses a "not a digit" answer."""
    if not pieces:
        raise NotADigitError("Not a digit: nothing in the picture looks like a digit.")
    probabilities = np.stack([p.probabilities for p in pieces])
    wide = [_wide(p) for p in pieces]
    refuse_not_a_digit(probabilities, not_a_digit_threshold, wide)
    digits = over_digits(probabilities)
    maybe_not = [bool(m) for m in refused(probabilities, MAYBE_NOT_A_DIGIT)]
    return Reading(
        text="".join(str(int(np.argmax(row))) for row in digits),
        digits=[top_readings(row[None]) for row in digits],  # each digit's own top 3
        pixels=[(np.clip(p.pixels, 0, 1) * 255).round().astype(np.uint8) for p in pieces],
        doubtful=[float(row.max()) < DOUBT_BELOW or maybe
                  for row, maybe in zip(digits, maybe_not)],
        top_readings=top_readings(digits, TOP_READINGS),
        boxes=[p.box for p in pieces],
        maybe_not_a_digit=maybe_not,
    )


def _wide(piece: Piece) -> bool:
    """Whether a piece is wide enough for its height to be digits that touch."""
    return _width_for_height([piece.box]) >= TOUCHING_WIDE


def _width_for_height(boxes: Sequence[tuple[int, int, int, int]]) -> float:
    """The width of the box around ``boxes`` over its height."""
    top, left, bottom, right = _box_around(boxes)
    return (right - left) / (bottom - top)


def _box_around(boxes: Sequence[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    """The box (top, left, bottom, right) around ``boxes`` (each top, left, bottom, right)."""
    tops, lefts, bottoms, rights = np.array(boxes).T
    return int(tops.min()), int(lefts.min()), int(bottoms.max()), int(rights.max())


def refuse_not_a_digit(probabilities: np.ndarray, threshold: float = NOT_A_DIGIT_THRESHOLD,
                       wide: list[bool] | None = None) -> None:
    """Raise NotADigitError where the "not a digit" probability (an 11th output) reaches
    ``threshold``. Where every such position is refused mostly as "several digits" (a 12th
    output), the message says they are digits that touch and how to write them; where one is
    ``wide`` (may be digits that touch), it says so as a possibility."""
    count = len(probabilities)
    positions = np.flatnonzero(refused(probabilities, threshold))  # none for 10 outputs
    if not len(positions):
        return
    if mostly_several_digits(probabilities[positions]).all():  # a 12-output model says so
        raise NotADigitError(_refusal_prefix(positions, count) + TOUCHING,
                             int(positions[0]) + 1, count, True)
    raise _letters_refusal(positions, count, bool(wide and any(wide[i] for i in positions)))


def _refusal_prefix(positions: Sequence[int], count: int) -> str:
    """How a refusal of the parts at ``positions`` (from 0) of ``count`` begins."""
    where = ", ".join(str(i + 1) for i in positions)
    plural = "s" if len(positions) > 1 else ""
    return (f"Not a digit at position{plural} {where} of {count}: " if count > 1
            else "Not a digit: ")


def _letters_refusal(positions: Sequence[int], count: int, touching: bool = False
                     ) -> NotADigitError:
    """The refusal of parts that are not digits (letters, signs, marks); ``touching``: one
    of them may be digits that touch, and it says how to write them."""
    hint = TOUCHING_HINT if touching else ""
    if count == 1:
        return NotADigitError(_refusal_prefix(positions, count)
                              + "the picture does not look like a handwritten digit." + hint,
                              1, 1, touching)
    return NotADigitError(_refusal_prefix(positions, count)
                          + "write digits only (letters and signs are not read)." + hint,
                          int(positions[0]) + 1, count, touching)


def top_readings(digits: np.ndarray, k: int = TOP_READINGS) -> dict[str, float]:
    """The ``k`` likeliest whole readings from per-digit probabilities (rows sum to 1), by
    the product of the digits' probabilities (positions independent): a best-first search
    over changes to the digits, so the alternatives change the least certain digits first."""
    n = len(digits)
    order = np.argsort(-digits, axis=1)
    logp = np.log(np.maximum(np.take_along_axis(digits, order, axis=1), 1e-300))
    # state: rank chosen at each position; start at all-best; neighbours bump one rank
    start = (0,) * n
    heap = [(-float(sum(logp[i, 0] for i in range(n))), start)]
    seen = {start}
    out: dict[str, float] = {}
    while heap and len(out) < k:
        neg, ranks = heapq.heappop(heap)
        out["".join(str(int(order[i, r])) for i, r in enumerate(ranks))] = float(np.exp(-neg))
        for i in range(n):
            if ranks[i] + 1 < digits.shape[1]:
                nxt = ranks[:i] + (ranks[i] + 1,) + ranks[i + 1:]
                if nxt not in seen:
                    seen.add(nxt)
                    score = -neg - logp[i, ranks[i]] + logp[i, ranks[i] + 1]
                    heapq.heappush(heap, (-score, nxt))
    return out

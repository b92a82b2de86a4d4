"""Segmentation: the ink of a whole picture -> each digit's crop, in reading order.

    from digit_recognizer.segment import segment
    pieces = segment(ink, classify)     # ink: preprocess.ink_map(...); classify: see below
    [p.crop for p in pieces]            # float ink crops, left to right (find_digit's form)

``classify(batch)`` takes float32 (N, 28, 28, 1) model inputs in MNIST's form and returns
(N, C) probabilities: C = 10 (a model without "not a digit") or 11 (index 10 = not a digit).

Method (one line of 1-12 digits):
  1. ``preprocess.ink_mask``: the strokes (refuses empty pictures and noise, as for one digit).
  2. The writing's slant is taken out (whole-pixel row shifts) to find and cut the digits;
     each digit's crop is then taken from the picture as written, slant and all, as MNIST's
     digits are. Connected components; dust (much smaller than a pen tip) is dropped.
  3. Pieces of one digit are merged: a component that overlaps another horizontally by half
     its width or more (a 5's flag, a 7's bar, a 4 in two strokes, a broken stroke), or that
     sits on top of it as written (an 8's two loops).
  4. The line's height is the median height of the groups. Several lines of writing, more
     than 12 digits, and small marks between digits ('.', ',', '-', ':') are refused with
     messages of their own: separators are not read yet, and dropping one would change the
     number ("3.50" is not 350). A small mark within a digit's span joins that digit; a
     dot-sized one beyond the digits is dust; a larger one there (a sign) is refused
     unless it joins a digit (5).
  5. Every group is read whole (one ``classify`` call), and so is every pair of pieces that
     may be one digit broken by a pen lift (an open 4's stem lifted off its arm, a 3's tail
     left of it): neighbours, or a sign and its digit, whose inks come within JOIN_REACH
     strokes. A pair read joined as one digit, JOIN_SURE-ly, is one digit; a sign that joins
     no digit is refused as above.
  6. A group that may be several digits
     (wider than SPLIT_TYPICAL of the line's typical digit width, or read doubtfully whole:
     "not a digit" at the threshold, or no digit above WHOLE_SURE; not one read CONFIDENT-ly
     as a digit unless wider than CLEAR_WIDE heights; and the parts of one refused whole and
     no wider than a letter, REFUSED_WIDE heights, must be read REFUSED_PART_SURE-ly and be
     REFUSED_PART_WIDE, so that a letter is refused rather than read as digits: its strokes
     cut apart are read as sure 1s; unless a model with a 12th output calls the group
     "several digits" rather than a letter: calibration.mostly_several_digits; such a group
     is also split, alone in the picture, from SPLIT_DOUBTFUL) is split by recognition:
     candidate cuts are the cheapest ink-crossing paths (seams, which follow a slant), the
     best one per stretch of CUT_STEP; every part between two cuts is read in a second call,
     and dynamic programming keeps the split whose parts are read most confidently (the log
     of each part's best digit, so "not a digit" takes its share), with priors: parts of a
     split must be read surely as digits (PART_CONFIDENCE, and under the refusal threshold),
     parts beyond the count the group's width allows cost SPLIT_COST each (a lone group the
     model does not refuse whole is allowed one: a wide single digit stays whole), and parts
     wider than a digit, or narrow ones read as anything but a 1, are penalised. A group
     refused whole stays whole (refused) if its best split is nothing but 1s (a zigzag, a
     letter's strokes), or, when it is the picture's only group, more than ALONE_MOST_PARTS
     digits (a wave, a scribble) unless a 12-output model refuses it whole as several digits
     (a whole number whose digits all touch).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import ndimage

from digit_recognizer.calibration import mostly_several_digits, not_one_digit, refused
from digit_recognizer.preprocess import (ImageInputError, bounding_box, ink_mask,
                                         normalize_digit, soft_crop, stroke_width,
                                         without_specks)

Classify = Callable[[np.ndarray], np.ndarray]

MAX_DIGITS = 12  # the longest number read
MAX_COMPONENTS = 60  # more separate marks (after dust) than this is no line of digits
DOT_SIDE = 1.8  # a mark whose sides are both under this many stroke widths is a dot
DUST_AREA = 0.5  # components under this many squared stroke widths (and under ...
DUST_FRACTION = 0.03  # ... this share of the largest component) are dust
MERGE_OVERLAP = 0.5  # merge components overlapping horizontally by this share of the narrower
STACKED = 0.25  # ... or, as written, one on top of the other (rows shared: at most this share
# of the shorter one's height, and no wider gap): an 8's two loops, which the slant of each
# loop alone would shear apart
STACKED_SIZE = 0.4  # ... and when the shorter is at least this share of the taller's height
MARK_HEIGHT = 0.4  # a group lower than this share of the line's height is a mark, not a digit
FLAG_REACH = 0.2  # a mark above a digit's middle within this share of its height is its flag
LINE_GAP = 0.6  # bands of ink this tall (share of the tallest) one above another: several lines
LINE_SPACE = 0.15  # ... if this share of the taller one's height apart: two bands of one piece
# each closer than this are one digit in pieces (an 8's two loops drawn apart, a 6's top
# stroke lifted off its loop: 0.06-0.13 in drawings that were refused as several lines; in a
# number, its other digits fill the rows between), ...
LINE_NEAR = 0.05  # ... and bands closer than this, however many pieces, one line's strokes
# (a pencil digit broken into grains, a row or two apart: 5 of the validation split's 4,930
# drawings; two lines of "42" a tenth of a line apart stay two lines)
SPLIT_WIDTH = 0.85  # groups wider than this share of the line's height may be several digits
SPLIT_DOUBTFUL = 0.55  # ... or, in a line, this if not read surely as one digit whole
REFUSED_WIDE = 1.6  # a group refused whole and narrower than this share of the line's height
# (a letter's width) is split only into parts read this surely ...
REFUSED_PART_SURE = 0.97
REFUSED_PART_WIDE = 0.45  # ... and at least this wide (share of the height): a letter's strokes
# cut apart are read as sure 1s, and touching "11" is refused with them; wider groups are
# touching digits more often than letters, and split like any doubtful group
SPLIT_TYPICAL = 1.6  # ... and (in a line with a width prior) this many typical digit widths
CONFIDENT = 0.98  # but a group read whole this surely is one digit (no split tried) ...
CLEAR_WIDE = 1.3  # ... unless wider than this share of the line's height
TYPICAL_WIDTH = 0.7  # a digit's usual width (share of height) when the line gives no prior
NARROW_DIGIT = 0.4  # groups narrower than this share of the height (1s) set no width prior
MIN_PART = 0.12  # a split part is at least this wide (share of the line's height) ...
MAX_PART = 1.25  # ... and at most this
CUT_STEP = 0.15  # candidate cuts every this share of the line's height, plus projection minima
CUT_BAND = 0.15  # a cut's path strays at most this far (share of height) from its column
FRAGMENT = 0.25  # pieces of a cut part under this share of its largest are a neighbour's
MAX_CUTS = 8  # at most this many candidate cuts in one group (plus two per typical width)
SPLIT_COST = 0.7  # log-prior against each part beyond the count a group's width allows:
FREE_TYPICAL = 1.3  # its width over this many typical widths (one, for a lone group)
WHOLE_SURE = 0.9  # a wide group read whole less surely than this is tried as several digits
PART_CONFIDENCE = 0.5  # a part of a split must be read as one digit at least this surely
ALONE_MOST_PARTS = 2  # a lone group refused whole is read as at most this many digits,
# unless the refusal is mostly "several digits" (a 12th output): a number whose digits all
# touch (validation-built numbers with overlapping neighbours: 24.2% read against 22.0%;
# letters and marks drawn alone refused as before)
WIDE_PENALTY = 3.0  # log-prior per unit of width (share of height) beyond WIDE_FROM, which
WIDE_FROM = 1.6  # only a group read whole reaches (parts of a split: MAX_PART). Flat 2s, 5s
# and 7s reach 1.5: at 1.2, 0.6% of MNIST's validation digits were cut in two as sure halves
# ("22", "55"), while touching digits that wide, read whole, are seldom sure of one digit
NARROW_FROM = 0.35  # parts narrower than this share of the height are plausible as a 1 only
NARROW_PENALTY = 2.0  # log-prior of a narrow part read as anything but a 1
JOIN_REACH = 2.5  # pieces whose ink comes within this many stroke widths may be one digit ...
JOIN_WIDE = 1.2  # ... if together no wider than this share of their height ...
JOIN_SURE = 0.95  # ... and read joined as one digit at least this surely (a pen lift)
DOT_MARK = 0.25  # a mark beyond the digits with both sides under this share of height is dust
MAX_SLANT = 0.6  # the most slant (columns per row) taken out of the writing
EPS = 1e-6


class SegmentationError(ImageInputError):
    """The picture is not one line of up to 12 digits (its message says what it is instead)."""


class SeveralLinesError(SegmentationError):
    pass


class TooManyDigitsError(SegmentationError):
    pass


class SeparatorError(SegmentationError):
    pass


SEVERAL_LINES = ("Several lines of writing found: write the number on one line "
                 "(up to 12 digits).")
SEPARATOR = ("A small mark between or beside the digits (such as '.', ',', '-' or ':') was "
             "found: separators and signs are not read yet. Write the digits only.")


def too_many_digits(count: int) -> str:
    return (f"Too many digits: about {count} found; numbers of up to {MAX_DIGITS} digits "
            "are read. Write fewer digits.")


@dataclass
class Piece:
    """One digit of the reading: its crop, where it is, what the model saw and answered."""

    crop: np.ndarray  # float32 ink, peak 1, cropped to the digit (find_digit's form)
    box: tuple[int, int, int, int]  # top, left, bottom, right (exclusive) in the ink map
    pixels: np.ndarray  # float32 (28, 28): normalize_digit(crop), the model's input
    probabilities: np.ndarray  # (C,) the classifier's answer for ``pixels``


@dataclass
class _Group:
    labels: list[int]  # component labels
    top: int
    left: int
    bottom: int
    right: int

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left


def segment(ink: np.ndarray, classify: Classify,
            not_a_digit_threshold: float = 0.5) -> list[Piece]:
    """Split the ink map of a picture into its digits, left to right, classifying each.

    ``not_a_digit_threshold``: a part of a split whose "not a digit" probability (an 11th
    output) reaches this is no digit, so that split is not taken.
    Raises preprocess.ImageInputError (empty, too small, noise) or a SegmentationError
    (several lines, more than 12 digits, separators)."""
    written, mask = ink_mask(ink)
    shifts = _slant_shifts(mask)
    mask = _shear(mask, shifts)  # upright: the digits are found and cut in this frame
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    if count == 0:
        raise ImageInputError("No digit found: the canvas or picture is empty. Draw a digit.")
    boxes = ndimage.find_objects(labels)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    stroke = max(stroke_width(mask), 1.0)
    dust = (sizes < DUST_AREA * stroke ** 2) & (sizes < DUST_FRACTION * sizes.max())
    comps = [i for i in range(count) if not dust[i]]
    if len(comps) > MAX_COMPONENTS:
        raise ImageInputError("No clear digit found: too many separate marks. "
                              "Write the digits on a plain background.")
    box = {i: (boxes[i][0].start, boxes[i][1].start, boxes[i][0].stop, boxes[i][1].stop)
           for i in comps}
    tallest = max(box[i][2] - box[i][0] for i in comps)
    if tallest < 0.04 * max(mask.shape) and max(max(box[i][3] - box[i][1] for i in comps),
                                                tallest) < 0.04 * max(mask.shape):
        if len(comps) > MAX_DIGITS:  # a long row of small marks: most likely many digits
            raise TooManyDigitsError(too_many_digits(len(comps)))
        raise ImageInputError("The drawing is too small to read: draw the digits larger.")
    _check_one_line(box, comps)
    groups = _merge(box, comps, stroke, labels, shifts)
    height = float(np.median([g.height for g in groups if g.height >= MARK_HEIGHT * tallest]))
    digits, marks = [], []
    for g in groups:
        (marks if g.height < MARK_HEIGHT * height else digits).append(g)
    digits, strays = _place_marks(digits, marks, height)
    # the number of digits, at least: one per group (a wide one counted by its width)
    least = sum(max(1, int(g.width / (1.6 * height))) for g in digits)
    if least > MAX_DIGITS:
        raise TooManyDigitsError(too_many_digits(least))
    # 1. every group read whole, and every pair of pieces that may be one digit broken in two
    #    (a pen lift) read joined (one classify call)
    joins = _join_candidates(digits, strays, labels, stroke)
    wholes = digits + [joined for _, _, joined in joins]
    owns = [np.isin(labels[g.top:g.bottom, g.left:g.right], [i + 1 for i in g.labels])
            for g in wholes]
    crops = [_crop(written, shifts, own, g.top, g.left) for g, own in zip(wholes, owns)]
    pixels = [normalize_digit(c) for c in crops]
    probabilities = _classify(classify, np.stack(pixels).astype(np.float32))
    keep = _joined(joins, probabilities[len(digits):], len(digits), len(strays))
    digits = [wholes[k] for k in keep]
    owns, crops, pixels = ([items[k] for k in keep] for items in (owns, crops, pixels))
    probabilities = probabilities[keep]
    boxes_out = [(g.top, g.left, g.bottom, g.right) for g in digits]
    typical = _typical_width(digits, height)
    # 2. groups that may be several digits: wide for the line, or wide for a digit and not
    #    read surely as one; their candidate parts are read in a second call
    plans: list[dict | None] = [None] * len(digits)
    if classify is not None:
        for n, (g, own) in enumerate(zip(digits, owns)):
            refused_whole = _refused(probabilities[n], not_a_digit_threshold)
            doubtful = refused_whole or float(probabilities[n][:10].max()) < WHOLE_SURE
            several = refused_whole and _several_digits(probabilities[n])
            least = (SPLIT_WIDTH if (len(digits) == 1 and not several) or not doubtful
                     else SPLIT_DOUBTFUL)
            if g.width <= least * height:
                continue
            if _confident(probabilities[n]) and g.width <= CLEAR_WIDE * height:
                continue  # read surely as one digit, and not clearly too wide for one
            if g.width > SPLIT_TYPICAL * typical or doubtful:
                plans[n] = _candidates(written, shifts, own, g, height, typical, stroke, crops,
                                       boxes_out, n)
                # a lone group is one wide digit unless the model refuses it as one
                plans[n]["alone"] = len(digits) == 1 and not refused_whole
                # a letter-wide group read whole as "not a digit" is split only into sure,
                # digit-wide parts: a letter is rather refused whole than read as digits
                letter_wide = (refused_whole and g.width < REFUSED_WIDE * height
                               and not several)
                plans[n]["sure"] = REFUSED_PART_SURE if letter_wide else PART_CONFIDENCE
                plans[n]["narrowest"] = REFUSED_PART_WIDE if letter_wide else 0.0
        if len(crops) > len(digits):
            more = [normalize_digit(c) for c in crops[len(digits):]]
            pixels += more
            probabilities = np.concatenate(
                [probabilities, _classify(classify, np.stack(more).astype(np.float32))])
    boxes_out = [_unshear_box(b, shifts) for b in boxes_out]
    pieces: list[Piece] = []
    for n, plan in enumerate(plans):
        chosen = [n] if plan is None else _best_split(plan, probabilities, height, typical,
                                                      not_a_digit_threshold)
        if (plan is not None and _refused(probabilities[n], not_a_digit_threshold)
                and _no_digits(probabilities[chosen],
                               len(digits) == 1 and not _several_digits(probabilities[n]))):
            chosen = [n]  # refused whole after all
        pieces += [Piece(crops[k], boxes_out[k], pixels[k], probabilities[k]) for k in chosen]
        if len(pieces) > MAX_DIGITS:
            raise TooManyDigitsError(too_many_digits(len(pieces)))
    return pieces


def _no_digits(parts: np.ndarray, alone: bool) -> bool:
    """The best split of a group the model refuses whole is not digits after all
    (``parts``: the probabilities of its parts; ``alone``: the group is all the picture's
    ink, and not refused whole as several digits): several parts, every one read as a 1 (a
    zigzag, or a letter such as "M", "W" or "n" cut into its strokes, far more often than 1s
    touching one another: a touching "11" is refused with them), or, alone, more than
    ALONE_MOST_PARTS parts (a wave or a scribble read as "5151": three digits or more in one
    unbroken line are rare)."""
    if len(parts) < 2:
        return False
    ones = bool((np.argmax(parts[:, :10], axis=1) == 1).all())
    return ones or (alone and len(parts) > ALONE_MOST_PARTS)


def _confident(p: np.ndarray, least: float = CONFIDENT) -> bool:
    """An answer read as one digit at least ``least`` surely: a whole group's (CONFIDENT) is
    not tried as several digits (unless it is clearly too wide for one)."""
    return float(p[:10].max()) >= least and float(not_one_digit(p[None])[0]) < 1 - least


def _refused(p: np.ndarray, threshold: float) -> bool:
    """The answer would be refused as "not a digit"."""
    return bool(refused(p[None], threshold)[0])


def _several_digits(p: np.ndarray) -> bool:
    """A refusal of this answer would be mostly as "several digits" (a 12-output model)."""
    return bool(mostly_several_digits(p[None])[0])


def _place_marks(digits: list[_Group], marks: list[_Group], height: float
                 ) -> tuple[list[_Group], list[_Group]]:
    """Marks (groups much lower than the line) inside a digit's span, or next to it in its
    upper half, belong to it (a detached flag, bar or dot of that digit); marks between two
    digits are separators, refused; marks beyond the digits are signs unless they are
    dust-sized dots (a slip of the pen before or after a lone digit). Returns the digits and
    those signs ("strays"): each is refused unless the model reads it joined to the digit
    it almost touches as that digit (a 3's tail broken off: see _joined)."""
    if not marks:
        return digits, []
    strays = []
    lo, hi = min(g.left for g in digits), max(g.right for g in digits)
    for m in marks:
        if not _near_line(m, digits, height, lo, hi):
            continue
        centre = (m.left + m.right) / 2
        # inside a digit's span, or next to it above its middle: a 5's flag or a 7's bar drawn
        # apart sticks out sideways; separators sit low or in the middle
        owner = [n for n, g in enumerate(digits) if g.left <= centre < g.right
                 or (m.left < g.right + FLAG_REACH * (g.bottom - g.top)
                     and m.right > g.left - FLAG_REACH * (g.bottom - g.top)
                     and m.bottom <= g.top + 0.45 * (g.bottom - g.top))]
        if owner:
            n = min(owner, key=lambda n: abs((digits[n].left + digits[n].right) / 2 - centre))
            digits[n] = _union(digits[n], m)
            continue
        if lo <= centre <= hi:
            raise SeparatorError(SEPARATOR)
        if max(m.width, m.height) >= DOT_MARK * height:
            strays.append(m)
    return digits, strays


def _union(a: _Group, b: _Group) -> _Group:
    """One group of the components of ``a`` and ``b``, boxed together."""
    return _Group(a.labels + b.labels, min(a.top, b.top), min(a.left, b.left),
                  max(a.bottom, b.bottom), max(a.right, b.right))


def _join_candidates(digits: list[_Group], strays: list[_Group], labels: np.ndarray,
                     stroke: float) -> list[tuple[int, int, _Group]]:
    """Pairs of pieces that may be one digit broken by a pen lift: neighbouring digits, or a
    stray and its nearest digit, whose ink comes within JOIN_REACH strokes (a period or a
    neighbour at the usual spacing stands further off) and which together are no wider than
    JOIN_WIDE of their height. Each as (digit index, other's index: digits, then strays,
    the joined group)."""
    reach = max(1, int(np.ceil(JOIN_REACH * stroke)))
    pairs = [(n, n + 1) for n in range(len(digits) - 1)]
    for k, m in enumerate(strays):
        centre = (m.left + m.right) / 2
        nearest = min(range(len(digits)),
                      key=lambda n: abs((digits[n].left + digits[n].right) / 2 - centre))
        pairs.append((nearest, len(digits) + k))
    pieces = digits + strays
    out = []
    for a, b in pairs:
        if max(pieces[b].left - pieces[a].right, pieces[a].left - pieces[b].right) > reach:
            continue  # boxes further apart than the reach: their inks are too
        joined = _union(pieces[a], pieces[b])
        if joined.width > JOIN_WIDE * joined.height:
            continue
        window = labels[joined.top:joined.bottom, joined.left:joined.right]
        near = ndimage.binary_dilation(np.isin(window, [i + 1 for i in pieces[a].labels]),
                                       iterations=reach)
        if np.isin(window[near], [i + 1 for i in pieces[b].labels]).any():
            out.append((a, b, joined))
    return out


def _joined(joins: list[tuple[int, int, _Group]], probabilities: np.ndarray, n_digits: int,
            n_strays: int) -> list[int]:
    """Which of the wholes read (the digits, then the joined pairs) make up the line: a
    pair read surely (JOIN_SURE) as one digit replaces its two pieces, the surest first.
    Raises SeparatorError for a stray that joined no digit (a sign beside the number)."""
    taken: set[int] = set()
    chosen = []
    for j in sorted(range(len(joins)), key=lambda j: -float(probabilities[j][:10].max())):
        a, b, _ = joins[j]
        if a in taken or b in taken or not _confident(probabilities[j], JOIN_SURE):
            continue
        taken |= {a, b}
        chosen.append(j)
    if any(n_digits + k not in taken for k in range(n_strays)):
        raise SeparatorError(SEPARATOR)
    keep = [(n, n) for n in range(n_digits) if n not in taken]
    keep += [(min(joins[j][0], joins[j][1]), n_digits + j) for j in chosen]
    return [k for _, k in sorted(keep)]


def _typical_width(digits: list[_Group], height: float) -> float:
    """A digit's usual width on this line: the median width of the groups that are neither
    narrow (1s) nor wider than the height (probably several digits), else TYPICAL_WIDTH."""
    widths = [g.width for g in digits if NARROW_DIGIT * height <= g.width <= height]
    if len(widths) < 2:
        return TYPICAL_WIDTH * height
    return float(np.clip(np.median(widths), 0.5 * height, 0.9 * height))


def _classify(classify: Classify | None, pixels: np.ndarray) -> np.ndarray:
    """One classify call for a stack of 28x28 inputs: (N, C) probabilities (float64).
    (Batches are not padded: the reader compiles once for any batch size.)"""
    if classify is None:
        return np.full((len(pixels), 10), 0.1)
    return np.asarray(classify(pixels[..., None].astype(np.float32)), dtype=np.float64)


# ---------------------------------------------------------------------------------- slant
def _slant_shifts(mask: np.ndarray) -> np.ndarray:
    """Per-row column shifts (the least 0) that make the writing upright: the upright frame's
    column of a pixel is its written column plus its row's shift. The slant is MNIST's own deskew
    measure, pooled over the components: the covariance of column and row over the row
    variance, each component about its own centre (so the line's layout does not count)."""
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    ys, xs = np.nonzero(labels)
    if ys.size < 10:
        return np.zeros(mask.shape[0], np.int64)
    which = labels[ys, xs]
    counts = np.bincount(which, minlength=count + 1).astype(np.float64)
    my = np.bincount(which, ys, minlength=count + 1) / np.maximum(counts, 1)
    mx = np.bincount(which, xs, minlength=count + 1) / np.maximum(counts, 1)
    dy, dx = ys - my[which], xs - mx[which]
    slant = float(np.clip(-(dx * dy).sum() / max((dy * dy).sum(), 1e-6), -MAX_SLANT, MAX_SLANT))
    if abs(slant) < 0.05:
        return np.zeros(mask.shape[0], np.int64)
    rows = np.arange(mask.shape[0])
    shifts = np.round(slant * (rows - rows[-1])).astype(np.int64)
    return shifts - shifts.min()


def _shear(image: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Move each row right by its shift, widening the image to fit."""
    if not shifts.any():
        return image
    h, w = image.shape
    out = np.zeros((h, w + int(shifts.max())), image.dtype)
    for y in range(h):
        out[y, shifts[y]:shifts[y] + w] = image[y]
    return out


def _unshear_box(box: tuple[int, int, int, int], shifts: np.ndarray) -> tuple[int, int, int, int]:
    """A box of the upright frame as the box around the same strokes in the picture's frame."""
    top, left, bottom, right = box
    moved = shifts[top:bottom]
    return (top, max(0, int(left - moved.max())), bottom, int(right - moved.min()))


# ------------------------------------------------------------------------------ components
def _check_one_line(box: dict, comps: list[int]) -> None:
    """Refuse ink in several bands one above another, each as tall as a line of digits (two
    bands of one piece each, closer than LINE_SPACE, are one digit in pieces; any two
    closer than LINE_NEAR, one line)."""
    rows = np.zeros(max(box[i][2] for i in comps) + 1, np.int8)
    for i in comps:
        rows[box[i][0]:box[i][2]] = 1
    bands: list[list[int]] = []  # [first row, row after, pieces in it]
    for start, stop in np.flatnonzero(np.diff(rows, prepend=0, append=0)).reshape(-1, 2):
        pieces = sum(start <= box[i][0] and box[i][2] <= stop for i in comps)
        space = np.inf  # between this band and the one above, of the taller one's height
        if bands:
            space = (start - bands[-1][1]) / max(stop - start, bands[-1][1] - bands[-1][0])
        if space < LINE_NEAR or (space < LINE_SPACE and pieces == 1 and bands[-1][2] == 1):
            bands[-1][1] = stop
            bands[-1][2] += pieces
        else:
            bands.append([start, stop, pieces])
    heights = [stop - start for start, stop, _ in bands]
    if sum(height >= LINE_GAP * max(heights) for height in heights) > 1:
        raise SeveralLinesError(SEVERAL_LINES)


def _written_columns(labels: np.ndarray, i: int, box: tuple[int, int, int, int],
                     shifts: np.ndarray) -> tuple[int, int]:
    """Component ``i``'s first and last + 1 column in the picture as written."""
    top, left, bottom, right = box
    ys, xs = np.nonzero(labels[top:bottom, left:right] == i + 1)
    cols = xs + left - shifts[ys + top]
    return int(cols.min()), int(cols.max()) + 1


def _stacked(a: int, b: int, box: dict, written: Callable[[int], tuple[int, int]]) -> bool:
    """Component ``a`` and ``b`` one on top of the other, as written: of like heights (the
    shorter at least STACKED_SIZE of the taller: not a comma under a digit), rows shared (or
    a gap between them) of at most STACKED of the shorter's height, and columns as written
    shared by MERGE_OVERLAP of the narrower (``written``: a component's columns as written)."""
    (ta, _, ba, _), (tb, _, bb, _) = box[a], box[b]
    shorter, taller = sorted((ba - ta, bb - tb))
    if shorter < STACKED_SIZE * taller:
        return False
    rows = min(ba, bb) - max(ta, tb)  # < 0: a gap
    if abs(rows) > STACKED * shorter:
        return False
    (la, ra), (lb, rb) = written(a), written(b)
    return min(ra, rb) - max(la, lb) >= MERGE_OVERLAP * min(ra - la, rb - lb)


def _merge(box: dict, comps: list[int], stroke: float, labels: np.ndarray,
           shifts: np.ndarray) -> list[_Group]:
    """Groups of components that belong to one digit: horizontal overlap of half the
    narrower's width, or one on top of the other as written (``shifts``: the upright frame's
    row shifts); a dot (a broken stroke, a pen's lift) only when it lies inside the other's
    box or within a stroke's width of its ink: a period stands apart."""
    parent = {i: i for i in comps}

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def is_dot(i):
        t, l, b, r = box[i]
        return max(b - t, r - l) < DOT_SIDE * stroke

    order = sorted(comps, key=lambda i: box[i][1])
    for a_pos, a in enumerate(order):
        for b in order[a_pos + 1:]:
            ta, la, ba, ra = box[a]
            tb, lb, bb, rb = box[b]
            if lb >= ra:  # sorted by left: no later component overlaps a either
                break
            overlap = min(ra, rb) - max(la, lb)
            narrow = min(ra - la, rb - lb)
            if overlap < MERGE_OVERLAP * narrow:
                continue
            if is_dot(a) or is_dot(b):  # a dot merges only inside the other's box (a
                small, big = (a, b) if is_dot(a) else (b, a)  # broken stroke), never beside
                ts, ls, bs, rs = box[small]
                tb_, lb_, bb_, rb_ = box[big]
                if not (ts >= tb_ and bs <= bb_ and ls >= lb_ and rs <= rb_):
                    continue
            parent[find(a)] = find(b)
    written = functools.cache(lambda i: _written_columns(labels, i, box[i], shifts))
    for a_pos, a in enumerate(comps):  # however far apart the upright frame puts them
        for b in comps[a_pos + 1:]:
            if not (is_dot(a) or is_dot(b)) and _stacked(a, b, box, written):
                parent[find(a)] = find(b)
    reach = max(1, int(np.ceil(stroke)))
    for d in comps:
        if not is_dot(d) or find(d) != d or sum(find(i) == d for i in comps) > 1:
            continue
        t, l, b, r = box[d]
        t0, l0 = max(0, t - reach), max(0, l - reach)
        window = labels[t0:b + reach, l0:r + reach]
        near = ndimage.binary_dilation(window == d + 1, iterations=reach)
        touched = [int(v) - 1 for v in np.unique(window[near]) if v and v != d + 1]
        touched = [i for i in touched if i in parent and not is_dot(i)]
        if touched:
            parent[find(d)] = find(touched[0])
    members: dict[int, list[int]] = {}
    for i in comps:
        members.setdefault(find(i), []).append(i)
    groups = []
    for labels in members.values():
        groups.append(_Group(labels, min(box[i][0] for i in labels), min(box[i][1] for i in labels),
                             max(box[i][2] for i in labels), max(box[i][3] for i in labels)))
    return sorted(groups, key=lambda g: (g.left + g.right) / 2)


def _near_line(mark: _Group, digits: list[_Group], height: float, lo: int, hi: int) -> bool:
    """A mark counts when it sits along the line of digits (between, before or after them,
    not far off in a corner): within a line's height of the digits' span, horizontally and
    vertically."""
    centre_x = (mark.left + mark.right) / 2
    if centre_x < lo - height or centre_x > hi + height:
        return False
    top = min(g.top for g in digits)
    bottom = max(g.bottom for g in digits)
    centre_y = (mark.top + mark.bottom) / 2
    return top - 0.5 * height <= centre_y <= bottom + 0.5 * height


def _crop(written: np.ndarray, shifts: np.ndarray, own: np.ndarray, top: int, left: int
          ) -> np.ndarray:
    """Soft ink of ``own`` (a mask of a box at top, left of the upright frame, see _shear),
    taken from the picture as ``written`` and cropped to its strokes. The model reads digits
    slanted as they were written (as MNIST's are): the upright frame only finds them, and its
    whole-pixel row shifts would make a small picture's strokes jagged."""
    h, w = own.shape
    moved = shifts[top:top + h, None]
    # the written columns these rows can reach: upright column = written column + moved
    first = max(0, left - int(moved.max()))
    last = min(written.shape[1], left + w - int(moved.min()))
    upright_cols = np.arange(first, last)[None, :] + moved - left
    inside = (upright_cols >= 0) & (upright_cols < w)
    local = inside & own[np.arange(h)[:, None], np.clip(upright_cols, 0, w - 1)]
    rows, cols = bounding_box(local)
    full = np.zeros(written.shape, bool)
    full[top:top + h, first:last] = local
    box = (slice(top + rows.start, top + rows.stop), slice(first + cols.start, first + cols.stop))
    return soft_crop(written, full, box)


# ------------------------------------------------------------------------------ splitting
def _candidates(written, shifts, own, g: _Group, height: float, typical: float, stroke: float,
                crops: list, boxes: list, whole: int) -> dict:
    """Candidate cuts through a wide group and the crop between each pair of them (appended
    to ``crops``/``boxes``); returns the plan ``_best_split`` chooses from."""
    h, w = own.shape
    cost = own.astype(np.float32)
    projection = ndimage.uniform_filter1d(cost.sum(axis=0), size=max(1, int(stroke) | 1))
    margin = int(MIN_PART * height)
    columns = set(range(margin, w - margin, max(1, int(CUT_STEP * height))))
    inner = projection[margin:w - margin] if w > 2 * margin else np.zeros(0)
    if inner.size >= 3:
        minima = np.flatnonzero((inner[1:-1] <= inner[:-2]) & (inner[1:-1] <= inner[2:])) + 1
        columns |= {int(m + margin) for m in minima}
    band = max(1, int(CUT_BAND * height))
    # the cheapest seam of each stretch of CUT_STEP (spread along the group, so that the
    # cheap blank edges do not crowd out the cuts between overlapping digits)
    step = max(1, int(CUT_STEP * height))
    best_in: dict[int, tuple[float, np.ndarray]] = {}
    starts = sorted(columns)
    for x0, (path, crossed) in zip(starts, seams(cost, starts, band)):
        score = crossed + 0.02 * abs(float(path.mean()) - x0)
        window = (x0 - margin) // step
        if window not in best_in or score < best_in[window][0]:
            best_in[window] = (score, path)
    ranked = sorted(best_in.values(), key=lambda s: s[0])
    cuts: list[np.ndarray] = []
    for _, path in ranked:
        if all(np.abs(path - other).mean() > max(2.0, 0.04 * height) for other in cuts):
            cuts.append(path)
        if len(cuts) >= MAX_CUTS + 2 * int(w / typical):
            break
    cuts.sort(key=lambda p: float(p.mean()))
    lines = [np.full(h, -1, np.int64)] + cuts + [np.full(h, w, np.int64)]
    columns_index = np.arange(w)[None, :]
    parts, widths = {(0, len(lines) - 1): whole}, {whole: w}
    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            if i == 0 and j == len(lines) - 1:
                continue  # the whole group, read already
            width = float((lines[j] - lines[i]).mean())
            if width < MIN_PART * height:
                continue
            if width > MAX_PART * height and not (i == 0 and j == len(lines) - 1):
                continue
            part = own & (columns_index > lines[i][:, None]) & (columns_index <= lines[j][:, None])
            if part.sum() < 0.5 * stroke * 0.3 * height:  # a sliver of ink, no digit
                continue
            part = drop_fragments(part)
            crop = _crop(written, shifts, part, g.top, g.left)
            rows, cols = bounding_box(part)
            parts[(i, j)] = len(crops)
            widths[len(crops)] = cols.stop - cols.start  # upright, as the group's own width
            crops.append(crop)
            boxes.append((g.top + rows.start, g.left + cols.start, g.top + rows.stop,
                          g.left + cols.stop))
    return {"parts": parts, "widths": widths, "n": len(lines), "width": w}  # widths: upright


def drop_fragments(part: np.ndarray) -> np.ndarray:
    """A cut part without the small pieces of its neighbours' strokes that the cuts left in
    it (components under FRAGMENT of its largest)."""
    return without_specks(part, FRAGMENT)[0]


def seams(cost: np.ndarray, starts: list[int], band: int) -> list[tuple[np.ndarray, float]]:
    """For each column x0 of ``starts``, the top-to-bottom path (one column a row, moving at
    most one column a row) within ``band`` of x0 that crosses the least ink: the path, and
    the ink it crosses. All seams at once, one pass over the rows."""
    h, w = cost.shape
    if not starts:
        return []
    x0 = np.asarray(starts)[:, None]
    offsets = np.arange(-band, band + 1)[None, :]
    cols = x0 + offsets  # (S, B): each seam's window of columns
    valid = (cols >= 0) & (cols < w)
    safe = np.clip(cols, 0, w - 1)
    # a slight preference for the straight line at x0 breaks ties between empty columns
    tie = 0.001 * np.abs(offsets).astype(np.float32)
    blocked = np.where(valid, 0.0, np.inf).astype(np.float32)
    acc = cost[0][safe] + tie + blocked
    back = np.zeros((h, *cols.shape), np.int8)
    inf = np.full((len(starts), 1), np.inf, np.float32)
    for y in range(1, h):
        left = np.concatenate([inf, acc[:, :-1]], axis=1)
        right = np.concatenate([acc[:, 1:], inf], axis=1)
        step = np.where(left < acc, -1, 0)
        low = np.minimum(left, acc)
        step = np.where(right < low, 1, step)
        low = np.minimum(right, low)
        back[y] = step
        acc = low + cost[y][safe] + tie + blocked
    which = np.arange(len(starts))
    x = np.argmin(acc, axis=1)
    totals = acc[which, x]
    index = np.empty((h, len(starts)), np.int64)
    for y in range(h - 1, -1, -1):
        index[y] = x
        if y > 0:
            x = x + back[y, which, x]
    paths = cols[which[None, :], index]  # (h, S)
    return [(paths[:, k].astype(np.int64), float(totals[k])) for k in range(len(starts))]


def _best_split(plan: dict, probabilities: np.ndarray, height: float, typical: float,
                threshold: float) -> list[int]:
    """The chain of parts from the left edge to the right whose best digits are likeliest,
    given the priors: parts beyond the count the group's width allows (its width over
    FREE_TYPICAL typical digits; one for a lone group) cost SPLIT_COST each, parts wider than
    a digit or narrow ones read as anything but a 1 are penalised, and a part of a split must
    be read surely as a digit (and not as "not a digit") to be taken at all."""
    n, parts = plan["n"], plan["parts"]
    free = 1 if plan["alone"] else max(1, int(plan["width"] / (FREE_TYPICAL * typical)))
    most = min(MAX_DIGITS, n - 1)
    best = np.full((n, most + 1), -np.inf)  # best[j, c]: up to cut j in c parts
    best[0, 0] = 0.0
    back: dict[tuple[int, int], tuple[int, int]] = {}
    whole = parts.get((0, n - 1))
    for (i, j), k in sorted(parts.items(), key=lambda item: item[0][1]):
        score = _part_score(probabilities[k], plan["widths"][k] / height, threshold,
                            k == whole, plan["sure"], plan["narrowest"])
        if score is None:
            continue
        for c in range(most):
            if not np.isfinite(best[i, c]):
                continue
            total = best[i, c] + score - (SPLIT_COST if c + 1 > free else 0.0)
            if total > best[j, c + 1]:
                best[j, c + 1] = total
                back[(j, c + 1)] = (i, k)
    c = int(np.argmax(best[n - 1]))
    if not np.isfinite(best[n - 1, c]):
        return [whole]
    chosen, j = [], n - 1
    while j > 0:
        i, k = back[(j, c)]
        chosen.append(k)
        j, c = i, c - 1
    return chosen[::-1]


def _part_score(p: np.ndarray, aspect: float, threshold: float, whole: bool, least: float,
                narrowest: float) -> float | None:
    """Log-score of one part (None: not acceptable as a part of a split: read less surely
    than ``least``, refused, or narrower than ``narrowest`` heights): its best digit's
    probability (an 11th "not a digit" answer takes its share away), a prior against parts
    wider than a digit and against narrow parts read as anything but a 1."""
    best = int(np.argmax(p[:10]))
    sure = float(p[best])
    if not whole and (sure < least or aspect < narrowest or _refused(p, threshold)):
        return None
    score = np.log(sure + EPS) - WIDE_PENALTY * max(0.0, aspect - WIDE_FROM)
    if aspect < NARROW_FROM and best != 1:
        score -= NARROW_PENALTY
    return score

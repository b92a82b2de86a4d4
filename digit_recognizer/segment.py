"""Segmentation: the ink of a whole picture -> each digit's crop, in reading order.

    from digit_recognizer.segment import segment
    pieces = segment(ink, classify)     # ink: preprocess.ink_map(...); classify: see below
    [p.crop for p in pieces]            # float ink crops, left to right (find_digit's form)

``classify(batch)`` takes float32 (N, 28, 28, 1) model inputs in MNIST's form and returns
(N, C) probabilities: C = 10 (a model without "not a digit") or 11 (index 10 = not a digit).

Method (one line of 1-12 digits):
  1. ``preprocess.ink_mask``: the strokes (refuses empty pictures and noise, as for one digit).
  2. Connected components; dust (much smaller than a pen tip) is dropped.
  3. Pieces of one digit are merged: a component that overlaps another horizontally by half
     its width or more (a 5's flag, a 7's bar, a 4 in two strokes, a broken stroke).
  4. The line's height is the median height of the groups. Several lines of writing, more
     than 12 digits, and small marks between digits ('.', ',', '-', ':') are refused with
     messages of their own: separators are not read yet, and dropping one would change the
     number ("3.50" is not 350).
  5. A group wider than one digit usually is (touching or overlapping neighbours) is split by
     recognition: candidate cuts are the cheapest ink-crossing paths (seams, which follow a
     slant) near the minima of the vertical projection and at regular steps; every crop
     between two cuts is classified, all of the picture's crops in one ``classify`` call, and
     dynamic programming keeps the split whose parts are read most confidently (sum of the
     log-probabilities of each part's best digit, so a "not a digit" answer of an 11-class
     model penalises a bad part), with a prior on each part's width against the line's height.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import ndimage

from digit_recognizer.preprocess import (ImageInputError, ink_mask, normalize_digit,
                                         soft_crop, stroke_width)

Classify = Callable[[np.ndarray], np.ndarray]

MAX_DIGITS = 12  # the longest number read
MAX_COMPONENTS = 60  # more separate marks (after dust) than this is no line of digits
DOT_SIDE = 1.8  # a mark whose sides are both under this many stroke widths is a dot
DUST_AREA = 0.5  # components under this many squared stroke widths (and under ...
DUST_FRACTION = 0.03  # ... this share of the largest component) are dust
MERGE_OVERLAP = 0.5  # merge components overlapping horizontally by this share of the narrower
MARK_HEIGHT = 0.4  # a group lower than this share of the line's height is a mark, not a digit
LINE_GAP = 0.6  # bands of ink this tall (share of the tallest) one above another: several lines
SPLIT_WIDTH = 0.85  # groups wider than this share of the line's height are tried as several
MIN_PART = 0.12  # a split part is at least this wide (share of the line's height) ...
MAX_PART = 1.25  # ... and at most this
CUT_STEP = 0.12  # candidate cuts every this share of the line's height, plus projection minima
CUT_BAND = 0.15  # a cut's path strays at most this far (share of height) from its column
MAX_CUTS = 14  # at most this many candidate cuts in one group
WIDE_PENALTY = 3.0  # log-prior per unit of a part's width (share of height) beyond WIDE_FROM
WIDE_FROM = 0.9
PART_BONUS = -0.3  # log-prior added per part (> 0 favours more parts)
NARROW_FROM = 0.35  # parts narrower than this share of the height are plausible as a 1 only
NARROW_PENALTY = 2.0  # log-prior of a narrow part read as anything but a 1
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


def split_digits(ink: np.ndarray, classify: Classify) -> list[np.ndarray]:
    """The digits' crops (float ink) in reading order; see ``segment``."""
    return [piece.crop for piece in segment(ink, classify)]


def segment(ink: np.ndarray, classify: Classify) -> list[Piece]:
    """Split the ink map of a picture into its digits, left to right, classifying each.

    Raises preprocess.ImageInputError (empty, too small, noise) or a SegmentationError
    (several lines, more than 12 digits, separators)."""
    ink, mask = ink_mask(ink)
    shifts = _slant_shifts(mask)
    ink, mask = _shear(ink, shifts), _shear(mask, shifts)
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
    if tallest < 0.04 * max(ink.shape) and max(max(box[i][3] - box[i][1] for i in comps),
                                               tallest) < 0.04 * max(ink.shape):
        if len(comps) > MAX_DIGITS:  # a long row of small marks: most likely many digits
            raise TooManyDigitsError(too_many_digits(len(comps)))
        raise ImageInputError("The drawing is too small to read: draw the digits larger.")
    _check_one_line(box, comps, tallest)
    groups = _merge(box, comps, stroke, labels)
    height = float(np.median([g.height for g in groups if g.height >= MARK_HEIGHT * tallest]))
    digits, marks = [], []
    for g in groups:
        (marks if g.height < MARK_HEIGHT * height else digits).append(g)
    if marks:
        lo, hi = min(g.left for g in digits), max(g.right for g in digits)
        if any(_near_line(m, digits, height, lo, hi) for m in marks):
            raise SeparatorError(SEPARATOR)
    # the number of digits, at least: one per group (a wide one counted by its width)
    least = sum(max(1, int(g.width / (1.6 * height))) for g in digits)
    if least > MAX_DIGITS:
        raise TooManyDigitsError(too_many_digits(least))
    crops, boxes_out, plans = [], [], []
    for g in digits:
        own = np.isin(labels[g.top:g.bottom, g.left:g.right], [i + 1 for i in g.labels])
        if g.width > SPLIT_WIDTH * height and classify is not None:
            plans.append(_candidates(ink, own, g, height, stroke, crops, boxes_out))
        else:
            plans.append(None)
            crops.append(_crop(ink, own, g.top, g.left))
            boxes_out.append((g.top, g.left, g.bottom, g.right))
    pixels = np.stack([normalize_digit(c) for c in crops]).astype(np.float32)
    probabilities = _classify(classify, pixels)
    boxes_out = [_unshear_box(b, shifts) for b in boxes_out]
    pieces: list[Piece] = []
    index = 0
    for plan in plans:
        if plan is None:
            pieces.append(Piece(crops[index], boxes_out[index], pixels[index],
                                probabilities[index]))
            index += 1
            continue
        chosen = _best_split(plan, probabilities, height)
        pieces += [Piece(crops[k], boxes_out[k], pixels[k], probabilities[k]) for k in chosen]
        index = plan["end"]
        if len(pieces) > MAX_DIGITS:
            raise TooManyDigitsError(too_many_digits(len(pieces)))
    if len(pieces) > MAX_DIGITS:
        raise TooManyDigitsError(too_many_digits(len(pieces)))
    return pieces


def _classify(classify: Classify | None, pixels: np.ndarray) -> np.ndarray:
    """One classify call for all crops, padded to a power-of-two batch (a compiled model
    traces once per batch size, not once per picture)."""
    if classify is None:
        return np.full((len(pixels), 10), 0.1)
    size = 1 << max(0, int(np.ceil(np.log2(len(pixels)))))
    batch = np.zeros((size, *pixels.shape[1:], 1), np.float32)
    batch[:len(pixels), ..., 0] = pixels
    return np.asarray(classify(batch), dtype=np.float64)[:len(pixels)]


# ---------------------------------------------------------------------------------- slant
def _slant_shifts(mask: np.ndarray) -> np.ndarray:
    """Per-row column shifts that make the writing upright. The slant is MNIST's own deskew
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
    return np.round(slant * (rows - rows[-1])).astype(np.int64)


def _shear(image: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Move each row right by its shift (minus the least), widening the image to fit."""
    shifts = shifts - shifts.min()
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
    moved = (shifts - shifts.min())[top:bottom]
    return (top, max(0, int(left - moved.max())), bottom, int(right - moved.min()))


# ------------------------------------------------------------------------------ components
def _check_one_line(box: dict, comps: list[int], tallest: int) -> None:
    """Refuse ink in several bands one above another, each as tall as a line of digits."""
    rows = np.zeros(max(box[i][2] for i in comps) + 1, bool)
    for i in comps:
        rows[box[i][0]:box[i][2]] = True
    bands, start = [], None
    for y, filled in enumerate(rows):
        if filled and start is None:
            start = y
        elif not filled and start is not None:
            bands.append(y - start)
            start = None
    if start is not None:
        bands.append(len(rows) - start)
    lines = [b for b in bands if b >= LINE_GAP * max(bands)]
    if len(lines) > 1:
        raise SeveralLinesError(SEVERAL_LINES)


def _merge(box: dict, comps: list[int], stroke: float, labels: np.ndarray) -> list[_Group]:
    """Groups of components that belong to one digit: horizontal overlap of half the
    narrower's width; a dot (a broken stroke, a pen's lift) only when it lies inside the
    other's box or within a stroke's width of its ink: a period stands apart."""
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


def _crop(ink: np.ndarray, own: np.ndarray, top: int, left: int) -> np.ndarray:
    """Soft ink of ``own`` (a mask of a box at top, left), cropped to its strokes."""
    rows, cols = ndimage.find_objects(own.astype(np.int8))[0]
    full = np.zeros(ink.shape, bool)
    full[top:top + own.shape[0], left:left + own.shape[1]] = own
    box = (slice(top + rows.start, top + rows.stop), slice(left + cols.start, left + cols.stop))
    return soft_crop(ink, full, box)


# ------------------------------------------------------------------------------ splitting
def _candidates(ink, own, g: _Group, height: float, stroke: float, crops: list,
                boxes: list) -> dict:
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
    seams = []
    for x0 in sorted(columns):
        path, crossed = _seam(cost, x0, band)
        seams.append((crossed + 0.02 * abs(float(path.mean()) - x0), path))
    # cheapest first; drop near-duplicates (paths within 2 px on average)
    seams.sort(key=lambda s: s[0])
    cuts: list[np.ndarray] = []
    for _, path in seams:
        if all(np.abs(path - other).mean() > max(2.0, 0.04 * height) for other in cuts):
            cuts.append(path)
        if len(cuts) >= MAX_CUTS:
            break
    cuts.sort(key=lambda p: float(p.mean()))
    lines = [np.full(h, -1, np.int64)] + cuts + [np.full(h, w, np.int64)]
    columns_index = np.arange(w)[None, :]
    start = len(crops)
    parts, widths = {}, {}
    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            width = float((lines[j] - lines[i]).mean())
            if width < MIN_PART * height:
                continue
            if width > MAX_PART * height and not (i == 0 and j == len(lines) - 1):
                continue
            part = own & (columns_index > lines[i][:, None]) & (columns_index <= lines[j][:, None])
            if part.sum() < 0.5 * stroke * 0.3 * height:  # a sliver of ink, no digit
                continue
            crop = _crop(ink, part, g.top, g.left)
            rows, cols = ndimage.find_objects(part.astype(np.int8))[0]
            parts[(i, j)] = len(crops)
            widths[len(crops)] = crop.shape[1]
            crops.append(crop)
            boxes.append((g.top + rows.start, g.left + cols.start, g.top + rows.stop,
                          g.left + cols.stop))
    return {"parts": parts, "widths": widths, "n": len(lines), "start": start,
            "end": len(crops)}


def _seam(cost: np.ndarray, x0: int, band: int) -> tuple[np.ndarray, float]:
    """The top-to-bottom path (one column a row, moving at most one column a row) within
    ``band`` of column ``x0`` that crosses the least ink; the path, and the ink it crosses."""
    h, w = cost.shape
    lo, hi = max(0, x0 - band), min(w, x0 + band + 1)
    sub = cost[:, lo:hi]
    # a slight preference for the straight line at x0 breaks ties between empty columns
    sub = sub + 0.001 * np.abs(np.arange(lo, hi) - x0)[None, :]
    acc = sub.copy()
    back = np.zeros(sub.shape, np.int8)
    for y in range(1, h):
        prev = acc[y - 1]
        left = np.concatenate([[np.inf], prev[:-1]])
        right = np.concatenate([prev[1:], [np.inf]])
        options = np.stack([left, prev, right])
        step = np.argmin(options, axis=0)
        acc[y] += options[step, np.arange(prev.size)]
        back[y] = step - 1
    path = np.zeros(h, np.int64)
    x = int(np.argmin(acc[-1]))
    total = float(acc[-1, x])
    for y in range(h - 1, -1, -1):
        path[y] = x
        x += back[y][x] if y > 0 else 0
    return path + lo, total


def _best_split(plan: dict, probabilities: np.ndarray, height: float) -> list[int]:
    """The chain of parts from the left edge to the right whose best digits are likeliest."""
    n, parts = plan["n"], plan["parts"]
    best = np.full(n, -np.inf)
    best[0] = 0.0
    back: dict[int, tuple[int, int]] = {}
    for j in range(1, n):
        for i in range(j):
            k = parts.get((i, j))
            if k is None or not np.isfinite(best[i]):
                continue
            score = best[i] + _part_score(probabilities[k], plan["widths"][k] / height)
            if score > best[j]:
                best[j] = score
                back[j] = (i, k)
    chosen, j = [], n - 1
    while j > 0:
        i, k = back[j]
        chosen.append(k)
        j = i
    return chosen[::-1]


def _part_score(p: np.ndarray, aspect: float) -> float:
    """Log-score of one part: its best digit's probability (an 11th "not a digit" answer takes
    its share away), a prior against parts wider than a digit, and a per-part bonus."""
    best = int(np.argmax(p[:10]))
    score = np.log(float(p[best]) + EPS) - WIDE_PENALTY * max(0.0, aspect - WIDE_FROM)
    if aspect < NARROW_FROM and best != 1:
        score -= NARROW_PENALTY
    return score + PART_BONUS

"""Continental handwriting made from MNIST's own digits, by editing their strokes.

MNIST is American handwriting. Writers from continental Europe (and much of the world) draw
four digits differently, and a model trained on MNIST alone misreads them:
  * 7 with a crossbar through the stem                      (read as 2)
  * 1 with a long flag from the top down-left, maybe a foot (read as 7)
  * 4 whose left arm does not meet the stem at the top      (read as 6, 5 or 1)
  * 9 with a small loop on a straight stem                  (read as 3 or 7)
Each MNIST 1, 4, 7 and 9 is turned into that form by an edit of its own strokes (so the
writer's texture stays), done on a 4x enlarged stroke mask, and brought back to MNIST's form
with the app's own ``normalize_digit``:

    import numpy as np
    from digit_recognizer.continental import continental_variants, cross_seven
    rng = np.random.default_rng(0)
    x_new, y_new = continental_variants(x_train, y_train, rng)   # uint8 (M, 28, 28), (M,)
    crossed = cross_seven(x_train[0], rng)                       # uint8 (28, 28) or None

Digits of other labels are skipped, and so is any digit an edit cannot be made on sensibly
(its function returns None: no stem found, no loop, a 7 already crossed, ...): on MNIST's
training set about 4% of the 1s and 7s and 10% of the 4s and 9s, so M is a little under the
number of 1s, 4s, 7s and 9s given. ~2 ms a digit on one core (about half of it in
normalize_digit). Only numpy, PIL and scipy are used (no TensorFlow).
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from digit_recognizer.preprocess import bounding_box, stroke_width, strokes_to_mnist

SCALE = 4  # edits happen on a 4x enlarged mask: a 20 px tall digit is 80 px tall
FLAG_PAD = 60  # room beside a 1 for its flag and foot (at most 0.6 of its height each way)

Edit = Callable[[np.ndarray, np.random.Generator], Optional[np.ndarray]]


# ----------------------------------------------------------------------------- helpers
def _work_mask(image: np.ndarray, pad: int = 8) -> Optional[np.ndarray]:
    """uint8 28x28 -> bool stroke mask of its ink's box, enlarged SCALE times (bicubic) and
    padded by ``pad`` for strokes that reach beyond the digit (a 1's flag). Small arrays keep
    every later step cheap. None for a blank image."""
    if image.shape != (28, 28) or not image.any():
        return None
    rows, cols = bounding_box(image > 0)
    rows = slice(max(rows.start - 1, 0), rows.stop + 1)  # bicubic's reach: edges stay smooth
    cols = slice(max(cols.start - 1, 0), cols.stop + 1)
    ink = image[rows, cols].astype(np.float32) / 255.0
    size = (ink.shape[1] * SCALE, ink.shape[0] * SCALE)
    big = np.asarray(Image.fromarray(ink, "F").resize(size, Image.Resampling.BICUBIC))
    # Half the peak: the stroke's full width at half maximum, as preprocess.stroke_mask does.
    mask = big > 0.5 * max(float(big.max()), 1e-6)
    return _pad(mask, pad)


def _measured(image: np.ndarray) -> Optional[tuple[np.ndarray, slice, int, float]]:
    """The digit's enlarged stroke mask, its rows, height and stroke width (None: no ink)."""
    mask = _work_mask(image)
    if mask is None:
        return None
    rows, _ = bounding_box(mask)
    return mask, rows, rows.stop - rows.start, stroke_width(mask)


def _pad(mask: np.ndarray, pad: int) -> np.ndarray:
    """``mask`` with ``pad`` blank pixels on every side (np.pad's overhead is most of the cost
    on arrays this small)."""
    out = np.zeros((mask.shape[0] + 2 * pad, mask.shape[1] + 2 * pad), bool)
    out[pad:pad + mask.shape[0], pad:pad + mask.shape[1]] = mask
    return out


def _holes(mask: np.ndarray) -> np.ndarray:
    """The background enclosed by strokes (as ndimage.binary_fill_holes finds it, 4-connected,
    but by one labelling pass instead of a dilation repeated until it settles)."""
    labels, count = ndimage.label(~mask)
    enclosed = np.ones(count + 1, bool)
    enclosed[labels[0]] = enclosed[labels[-1]] = False
    enclosed[labels[:, 0]] = enclosed[labels[:, -1]] = False
    enclosed[0] = False
    return enclosed[labels]


def _runs(row: np.ndarray) -> np.ndarray:
    """(start, stop) column pairs of the ink runs in one mask row, shape (n, 2)."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], row.view(np.int8), [0]))))
    return edges.reshape(-1, 2)


def _draw(mask: np.ndarray, points: list[tuple[float, float]], width: float) -> np.ndarray:
    """``mask`` with a pen stroke of ``width`` through (x, y) points: round ends and joints,
    like a ballpoint's line."""
    canvas = Image.fromarray(mask.astype(np.uint8) * 255)
    pen = ImageDraw.Draw(canvas)
    pen.line(points, fill=255, width=max(1, round(width)), joint="curve")
    r = width / 2
    for x, y in (points[0], points[-1]):
        pen.ellipse([x - r, y - r, x + r, y + r], fill=255)
    return np.asarray(canvas) > 127


def _curve(start: np.ndarray, end: np.ndarray, bow: float, n: int = 8) -> list[tuple[float, float]]:
    """Points along a gently bowed stroke from start to end (x, y): a hand rarely draws a
    ruler-straight line. ``bow`` is the middle's sideways offset, a share of the length."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    d = end - start
    normal = np.array([-d[1], d[0]])
    points = start + t * d + (4 * t * (1 - t)) * bow * normal
    return [tuple(p) for p in points]


def _run_table(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All ink runs of a mask's rows at once (a Python loop over rows is the slow part):
    (row, start, stop) of each run in reading order, and the number of runs in each row."""
    edges = np.diff(_pad(mask, 1).view(np.int8)[1:-1], axis=1)
    row, start = np.nonzero(edges == 1)
    stop = np.nonzero(edges == -1)[1]  # same reading order: k-th stop closes k-th start
    return row, start, stop, np.bincount(row, minlength=mask.shape[0])


def _stem_line(mask: np.ndarray, lo: int, hi: int) -> Optional[tuple[float, float]]:
    """x = a * y + b through the centres of rows lo..hi that hold one run (a stroke's axis)."""
    row, start, stop, count = _run_table(mask)
    single = (count[row] == 1) & (row >= lo) & (row < hi)
    ys, xs = row[single], (start[single] + stop[single]) / 2 - 0.5
    if len(ys) < 5:
        return None
    a, b = np.polyfit(ys, xs, 1)
    residual = np.abs(np.polyval((a, b), ys) - xs)
    keep = residual <= max(2.0, 2 * np.median(residual))  # a hook or serif does not tilt it
    a, b = np.polyfit(ys[keep], xs[keep], 1)
    return float(a), float(b)


# ------------------------------------------------------------------------------- edits
def cross_seven(image: np.ndarray, rng: np.random.Generator) -> Optional[np.ndarray]:
    """A 7 with a short crossbar through its stem at 45-60% of its height."""
    mask = _work_mask(image)
    if mask is None:
        return None
    rows, cols = bounding_box(mask)
    height, width = rows.stop - rows.start, cols.stop - cols.start
    sw = stroke_width(mask)
    # The stem at the bar's height (a continental 7's crossbar sits about mid-height): of the
    # row's runs about a stroke wide (not a 7 already crossed, nor a blob), the one nearest
    # the line from the top bar's right end to the stem's foot (not a serif hanging from the
    # bar's left end).
    y = rows.start + rng.uniform(0.45, 0.6) * height
    runs = _runs(mask[int(y)])
    runs = runs[(runs[:, 1] - runs[:, 0]) <= 3 * sw]
    if len(runs) == 0:
        return None
    top_right = np.flatnonzero(mask[rows.start:rows.start + int(0.15 * height)].any(axis=0))[-1]
    foot = np.flatnonzero(mask[rows.stop - 1]).mean()
    guess = top_right + (foot - top_right) * (y - rows.start) / height
    centre = runs[np.argmin(np.abs(runs.mean(axis=1) - guess))].mean() - 0.5
    # Length: about half the top bar's; a writer's bar is seldom quite level and rises a
    # little to the right more often than it falls.
    length = max(rng.uniform(0.4, 0.65) * max(width, 0.5 * height), 3 * sw)
    tilt = np.radians(rng.uniform(-5.0, 12.0))
    left = rng.uniform(0.4, 0.6) * length  # roughly centred on the stem
    direction = np.array([np.cos(tilt), -np.sin(tilt)])
    start = np.array([centre, y]) - left * direction
    end = start + length * direction
    return strokes_to_mnist(_draw(mask, _curve(start, end, rng.uniform(-0.04, 0.04)), sw))


def flag_one(image: np.ndarray, rng: np.random.Generator) -> Optional[np.ndarray]:
    """A 1 with a long flag from the top of its stem down to the left, and a foot (~50%)."""
    mask = _work_mask(image, FLAG_PAD)
    if mask is None:
        return None
    rows, _ = bounding_box(mask)
    height = rows.stop - rows.start
    sw = stroke_width(mask)
    line = _stem_line(mask, rows.start + int(0.2 * height), rows.stop - int(0.1 * height))
    if line is None:
        return None
    a, b = line
    if not -0.75 <= a <= 0.45:
        return None  # leaning over too far (37 degrees right, 24 left): a flag makes a 7 or ^
    # The stem's axis, top and bottom ends (half a stroke inside the ink, where a pen's
    # centre was), followed from the straight middle of the stroke rather than the top ink,
    # which may be a small serif already.
    y_top, y_bottom = rows.start + sw / 2, rows.stop - sw / 2
    top = np.array([a * y_top + b, y_top])
    bottom = np.array([a * y_bottom + b, y_bottom])
    # The flag leaves the stem's top at 30-65 degrees from it (25-60 below the horizontal on
    # an upright 1); on a 1 leaning right (x falls as y grows: a < 0) never flatter than 30
    # degrees below the horizontal, where it would read as a 7's bar.
    down = (bottom - top) / np.linalg.norm(bottom - top)
    lean = np.degrees(np.arctan(max(-a, 0.0)))
    angle = np.radians(rng.uniform(30.0, max(min(65.0, 60.0 - lean), 30.0)))
    flag = np.array([down[0] * np.cos(angle) - down[1] * np.sin(angle),
                     down[0] * np.sin(angle) + down[1] * np.cos(angle)])
    length = rng.uniform(0.35, 0.6) * height
    mask = _draw(mask, _curve(top, top + length * flag, rng.uniform(-0.03, 0.08)), sw)
    if rng.random() < 0.5:  # the foot: a short level stroke under the stem
        half = rng.uniform(0.18, 0.32) * height
        tilt = np.radians(rng.uniform(-4.0, 4.0))
        across = np.array([np.cos(tilt), np.sin(tilt)])
        shift = rng.uniform(-0.15, 0.15) * half
        mask = _draw(mask, [tuple(bottom - (half - shift) * across),
                            tuple(bottom + (half + shift) * across)], sw)
    return strokes_to_mnist(mask)


def _bar_row(mask: np.ndarray, rows: slice) -> int:
    """A 4's crossbar: the row with the most ink in the middle of the digit (smoothed)."""
    height = rows.stop - rows.start
    counts = ndimage.uniform_filter1d(mask[rows].sum(axis=1).astype(np.float32), 5)
    lo, hi = int(0.3 * height), int(0.85 * height)
    return rows.start + lo + int(np.argmax(counts[lo:hi]))


def open_four(image: np.ndarray, rng: np.random.Generator) -> Optional[np.ndarray]:
    """A 4 whose left arm stops short of the stem's top: the open, continental 4."""
    measured = _measured(image)
    if measured is None:
        return None
    mask, rows, height, sw = measured
    bar = _bar_row(mask, rows)
    above = np.arange(rows.start, int(bar - sw))
    if len(above) < 0.25 * height:
        return None
    # Above the bar the stem is each row's rightmost run where arm and stem are apart (two
    # runs), and its right edge a line: fitted there, then again with every row whose
    # rightmost run ends near it (the stem above a closed 4's apex, where the merged run's
    # right edge is the stem's), but not the top of an arm reaching higher than the stem.
    row, start, stop, count = _run_table(mask)
    last = np.r_[np.flatnonzero(np.diff(row)), len(row) - 1]  # each row's rightmost run
    last = last[(row[last] >= above[0]) & (row[last] <= above[-1])]
    apart = last[count[row[last]] >= 2]
    if len(apart) < 3:
        return None  # no arm beside the stem: not a 4 we can read
    stem_width = float(np.median(stop[apart] - start[apart]))
    if stem_width > 2.5 * sw:
        return None
    slope, offset = np.polyfit(row[apart], stop[apart], 1) if len(apart) >= 5 else (
        0.0, float(np.median(stop[apart])))
    near = np.abs(slope * row[last] + offset - stop[last]) <= max(2.0, 0.5 * sw)
    if near.sum() < 5:
        return None
    slope, offset = np.polyfit(row[last][near], stop[last][near], 1)
    yy, xx = np.ogrid[0:mask.shape[0], 0:mask.shape[1]]
    arm = mask & (xx < slope * yy + offset - stem_width - 0.25 * sw) & (yy < bar)
    if not arm.any():
        return None
    arm_top = int(np.flatnonzero(arm.any(axis=1))[0])
    # A closed 4 (its arm meets the stem: the space between them is a hole) is opened just
    # below where they meet; an open 4's arm is shortened, so its top stops well below the
    # stem's, as a continental writer's does.
    space = _holes(mask)
    space[int(bar):] = False
    holes = np.flatnonzero(space.any(axis=1))
    arm_bottom = bar - sw / 2  # where the arm meets the crossbar's top edge
    if len(holes):  # open just below where the arm meets the stem
        cut = holes[0] + rng.uniform(0.4, 1.2) * sw
    else:
        cut = arm_top + rng.uniform(0.2, 0.5) * (arm_bottom - arm_top)
    if cut > arm_bottom - 0.5 * sw:
        return None  # the arm would be gone
    # Erase the arm above the cut, and a little further down right beside the stem, so the
    # arm's new end clears the stem by a visible gap at 28 px.
    stem_left = slope * yy + offset - stem_width
    gap = rng.uniform(0.5, 1.0) * sw
    erase = (yy < cut) & (xx < stem_left)
    erase |= (yy < cut + gap) & (xx < stem_left) & (xx >= stem_left - gap)
    # Never the stem itself, wherever a hook or a bend takes it off the fitted line: a row's
    # rightmost run that lies near the line is the stem's; one merged with the arm keeps its
    # stem's width at the right.
    for y, x0, x1 in zip(row[last], start[last], stop[last]):
        left = slope * y + offset - stem_width
        if x0 >= left - 0.75 * sw:  # the stem alone, maybe bent
            erase[y, x0:x1] = False
        elif x1 > left + 0.5 * stem_width:  # arm and stem merged
            erase[y, max(x0, int(x1 - stem_width)):x1] = False
    opened = mask & ~erase
    # Lean the rest of the arm towards the stem (its top moves right, its foot on the bar
    # stays): from the upright arm of an American open 4 towards the "/" of a continental
    # one, never closer to the stem than a stroke's width.
    arm = opened & (xx < stem_left - 0.25 * sw) & (yy < arm_bottom)
    arm_rows = np.flatnonzero(arm.any(axis=1))
    if len(arm_rows) == 0:
        return None
    new_top = int(arm_rows[0])
    room = slope * new_top + offset - stem_width - np.flatnonzero(arm[new_top])[-1] - 1.2 * sw
    lean = max(0.0, room) * rng.uniform(0.0, 0.8)
    if lean >= 1:
        opened &= ~arm
        for y in range(new_top, int(arm_bottom)):
            shift = int(round(lean * (arm_bottom - y) / (arm_bottom - new_top)))
            opened[y, shift:] |= arm[y, :arm.shape[1] - shift]
    # Still closed (an arm that meets a bent stem lower down, or leaned into it)? Then this
    # is not an open 4: skip it rather than call it one. (Checked with the strokes a little
    # fatter: normalize_digit may thicken them, and close a narrow gap.)
    fat = ndimage.binary_dilation(opened, iterations=max(1, round(0.3 * sw)))
    space = _holes(fat) & (yy < bar) & (xx < stem_left + sw)
    if space.sum() > 0.25 * sw * sw:
        return None
    return strokes_to_mnist(opened)


def straight_nine(image: np.ndarray, rng: np.random.Generator) -> Optional[np.ndarray]:
    """A 9 with a small loop (35-50% of its height) on a straight, near vertical stem."""
    measured = _measured(image)
    if measured is None:
        return None
    mask, rows, height, sw = measured
    # The loop: the biggest enclosed background in the top part of the digit. A loop that
    # looks closed at 28 px can have a faint joint that the mask splits, or a small gap: try
    # with the strokes grown a little, then up to a stroke's width, until one closes.
    best = None
    for grow in (0.0, 0.25, 0.6, 1.0):
        closed = ndimage.binary_dilation(mask, iterations=round(grow * sw)) if grow else mask
        holes, count = ndimage.label(_holes(closed))
        if count == 0:
            continue
        boxes = ndimage.find_objects(holes)
        sizes = np.bincount(holes.ravel(), minlength=count + 1)[1:]
        for i in np.argsort(-sizes):
            r, _ = boxes[i]
            if sizes[i] >= 0.5 * sw * sw and (r.start + r.stop) / 2 < rows.start + 0.65 * height:
                best = slice(r.start - round(grow * sw), r.stop + round(grow * sw))
                break
        if best is not None:
            break
    if best is None:
        return None
    loop_bottom = int(min(best.stop + sw, rows.stop))  # the stroke that closes the loop
    loop = mask[rows.start:loop_bottom]
    loop_height = loop.shape[0]
    if loop_height > 0.85 * height:
        return None  # the "loop" is the whole digit: a 0-like 9
    # Shrink the loop to its new share of the height; keep the stroke as wide as the writer's
    # (thicken by what the shrink took) so the loop and the new stem match.
    factor = min(1.0, rng.uniform(0.35, 0.5) * height / loop_height)
    _, lcols = bounding_box(loop)
    loop = loop[:, lcols]
    size = (max(1, round(loop.shape[1] * factor)), max(1, round(loop.shape[0] * factor)))
    small = np.asarray(Image.fromarray(loop.astype(np.float32), "F").resize(
        size, Image.Resampling.BILINEAR)) > 0.5
    thicken = (1.0 - factor) * sw / 2
    if thicken > 0.5:
        small = ndimage.distance_transform_edt(~_pad(small, 4)) <= thicken
    else:
        small = _pad(small, 4)
    out = np.zeros_like(mask)
    # The loop keeps its place: its centre above the original loop's centre, at the top.
    centre_x = (lcols.start + lcols.stop) / 2
    x0 = int(round(centre_x - small.shape[1] / 2))
    y0 = rows.start - 4
    out[y0:y0 + small.shape[0], x0:x0 + small.shape[1]] = small
    # The stem: from the loop's right side, a third to half way down it, straight down to the
    # digit's old bottom, leaning as handwriting leans (bottom a little left), or upright.
    # (Its right edge is the furthest right the loop's middle reaches: a loop can have a gap
    # on its right side that a single row would fall into.)
    sub = small[4:-4, 4:-4]
    band_top = int(0.25 * sub.shape[0])
    band = sub[band_top:max(int(0.65 * sub.shape[0]), band_top + 1)]
    if not band.any():
        return None
    right = int(np.flatnonzero(band.any(axis=0))[-1])
    y_start = rng.uniform(0.3, 0.5) * sub.shape[0]
    start = np.array([x0 + 4 + right - sw / 2 + 1, y0 + 4 + y_start])
    lean = np.tan(np.radians(rng.uniform(-14.0, 3.0)))
    end_y = rows.stop - sw / 2
    end = np.array([start[0] + lean * (end_y - start[1]), end_y])
    out = _draw(out, _curve(start, end, rng.uniform(-0.03, 0.03)), sw)
    return strokes_to_mnist(out)


EDITS: dict[int, Edit] = {1: flag_one, 4: open_four, 7: cross_seven, 9: straight_nine}


def continental_variants(images: np.ndarray, labels: np.ndarray, rng: np.random.Generator
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Continental-form copies of the 1s, 4s, 7s and 9s among ``images`` (uint8 (N, 28, 28)).

    Returns (uint8 (M, 28, 28), labels (M,)) in input order; other labels, and digits an edit
    cannot be made on (see the edit functions), are left out."""
    out, out_labels = [], []
    for image, label in zip(images, labels):
        edit = EDITS.get(int(label))
        if edit is None:
            continue
        edited = edit(image, rng)
        if edited is not None:
            out.append(edited)
            out_labels.append(label)
    if not out:
        return np.zeros((0, 28, 28), np.uint8), np.zeros((0,), np.asarray(labels).dtype)
    return np.stack(out), np.asarray(out_labels, dtype=np.asarray(labels).dtype)

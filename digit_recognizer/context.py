"""Digits cut out of numbers: training images of a digit as the number reader sees it.

    from digit_recognizer.context import cut_from_numbers
    images = cut_from_numbers(x[chosen], x, rng)     # uint8 (n, 28, 28), labels y[chosen]

When neighbouring digits touch or overlap, the number reader (digit_recognizer.segment)
separates them along a cut that crosses the least ink, and each part keeps stubs of its
neighbours' strokes where they crossed. A model trained on clean MNIST digits reads such a
part doubtfully, or refuses it, and the split is lost. So some training digits are written
between random neighbours (overlapping to just apart, uneven baselines), cut out along
segment's own cuts (its seams and its fragment rule, near the true junction) and brought to
MNIST's form by the app's own ``normalize_digit``: the label stays the digit's.
"""

from __future__ import annotations

import numpy as np

from digit_recognizer.preprocess import mnist_pixels
from digit_recognizer.segment import drop_fragments, seams

GAP = (-0.22, 0.05)  # ink-box gap to a neighbour, share of the digit's height (< 0: overlap)
BASELINE = 0.08  # a neighbour's vertical offset, at most this share of the height
CUT_JITTER = 0.08  # the cut starts this far (share of the height) either side of the junction
CUT_BAND = 0.15  # and strays at most this far from its start, as segment's cuts do
BOTH_SIDES = 0.5  # share of digits with a neighbour on both sides (else on one, either)
INK = 0.3  # pixels at least this bright are strokes, for the cuts
KEPT = 0.8  # a cut must keep this share of the digit's own ink (else it is a bad cut: a
# straddle, which negatives covers; the segmenter's cuts between overlapping digits often take
# a tenth or more of one) ...
TRIES = 4  # ... within this many tries, else the digit is taken alone


def _ink(image: np.ndarray) -> np.ndarray:
    """uint8 MNIST image -> float ink cropped to its strokes."""
    ink = image.astype(np.float32) / 255.0
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0), np.flatnonzero(ink.max(axis=0) > 0)
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def cut_from_number(digit: np.ndarray, neighbours: list[np.ndarray | None],
                    rng: np.random.Generator) -> np.ndarray:
    """``digit`` (uint8 28x28) written between ``neighbours`` (left, right; None: no
    neighbour on that side), then cut out of that number: float ink, cropped."""
    centre = _ink(digit)
    height = centre.shape[0]
    pieces = [(centre, 0, 0)]  # (ink, top, left) on a canvas; the centre digit first
    left_edge, right_edge = 0, centre.shape[1]
    junctions = []
    for side, neighbour in zip((-1, 1), neighbours):
        if neighbour is None:
            continue
        ink = _ink(neighbour)
        gap = int(round(rng.uniform(*GAP) * height))
        top = int(round(rng.uniform(-BASELINE, BASELINE) * height)) + height - ink.shape[0]
        left = right_edge + gap if side > 0 else left_edge - gap - ink.shape[1]
        pieces.append((ink, top, left))
        # the junction: midway between the facing edges (inside the overlap when they overlap)
        junctions.append((side, (right_edge + left) / 2 if side > 0
                          else (left + ink.shape[1] + left_edge) / 2))
    top0 = min(t for _, t, _ in pieces)
    left0 = min(x for _, _, x in pieces)
    bottom = max(t + p.shape[0] for p, t, _ in pieces)
    right = max(x + p.shape[1] for p, _, x in pieces)
    canvas = np.zeros((bottom - top0, right - left0), np.float32)
    for ink, top, left in pieces:
        rows = slice(top - top0, top - top0 + ink.shape[0])
        cols = slice(left - left0, left - left0 + ink.shape[1])
        region = canvas[rows, cols]
        np.maximum(region, ink, out=region)
    own = np.zeros(canvas.shape, bool)
    own[-top0:-top0 + height, -left0:-left0 + centre.shape[1]] = centre > 0
    cost = (canvas >= INK).astype(np.float32)
    columns = np.arange(canvas.shape[1])[None, :]
    band = max(1, int(round(CUT_BAND * height)))
    for _ in range(TRIES):
        keep = canvas > 0
        for side, junction in junctions:
            start = int(round(junction - left0 + rng.uniform(-CUT_JITTER, CUT_JITTER) * height))
            start = int(np.clip(start, 0, canvas.shape[1] - 1))
            (path, _), = seams(cost, [start], band)
            keep &= (columns <= path[:, None]) if side > 0 else (columns > path[:, None])
        keep = drop_fragments(keep)
        if (keep & own).sum() >= KEPT * own.sum():
            break
    else:
        return centre
    out = np.where(keep, canvas, 0.0)
    rows, cols = np.flatnonzero(out.max(axis=1) > 0), np.flatnonzero(out.max(axis=0) > 0)
    return out[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def cut_from_numbers(digits: np.ndarray, others: np.ndarray, rng: np.random.Generator
                     ) -> np.ndarray:
    """Each of ``digits`` (uint8 (n, 28, 28)) between random neighbours from ``others``, cut
    out and normalised as the app would: uint8 (n, 28, 28)."""
    out = np.empty_like(digits)
    for k, digit in enumerate(digits):
        pick = lambda: others[rng.integers(len(others))]  # noqa: E731
        if rng.random() < BOTH_SIDES:
            neighbours = [pick(), pick()]
        else:
            neighbours = [pick(), None] if rng.random() < 0.5 else [None, pick()]
        crop = cut_from_number(digit, neighbours, rng)
        out[k] = mnist_pixels(crop)
    return out

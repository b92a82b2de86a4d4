"""Synthetic handwritten numbers from MNIST digits, for the number reader's benchmark.

    from benchmarks.numbers import make_numbers
    for sample in make_numbers(500, split="test", seed=0):   # "train"/"validation" to tune
        sample.picture, sample.label, sample.gap, sample.style

Each number is 2-8 MNIST digits of one split (``"train"`` for tuning the segmenter,
``"validation"`` for choosing a model recipe on digits no training run saw, ``"test"`` for the
report: other writers, never used to choose anything), traced into pen strokes and
redrawn with one brush on one canvas, the way one person writes a number: one slant for the
whole number, each digit's own size (+-12%) and baseline (+-6% of the height), and gaps
between neighbours' ink boxes of one kind a number:
  overlap   -0.20..-0.05 of the height: boxes overlap, strokes often touch or cross
  touching  -0.05..0.04: the ink is about to touch (often does at fat brushes)
  normal    0.04..0.30
  wide      0.30..0.80
  mixed     each pair its own kind, drawn from MIXED: about 1 pair in 9 touches and 3
            numbers in 10 have a touching pair, as issue 11 measured natural handwriting
Styles: "sketch" (black on a transparent canvas, as the sketchpad sends it) and "photo"
(dark ink on uneven paper light, blur, noise, JPEG). Brushes: thin, medium, fat (relative to
the digits' height, as pens and markers are).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from benchmarks.drawings import photo, trace_strokes

GAPS = {"overlap": (-0.20, -0.05), "touching": (-0.05, 0.04), "normal": (0.04, 0.30),
        "wide": (0.30, 0.80)}
# shares of pairs in "mixed": the touching ones set to give issue 11's measured rates (1 pair
# in 9 touching, 3 numbers in 10 with a touching pair); normal against wide is assumed
MIXED = {"overlap": 0.03, "touching": 0.12, "normal": 0.65, "wide": 0.20}
BRUSHES = {"thin": (0.03, 0.06), "medium": (0.07, 0.12), "fat": (0.13, 0.19)}  # of height
STYLES = ("sketch", "photo")
SPLITS = ("train", "validation", "test")
LENGTHS = tuple(range(2, 9))
CANVAS_HEIGHT = 400  # a number-shaped canvas: 400 px high, as wide as the number needs
MIN_CANVAS_WIDTH = 600


@dataclass
class NumberSample:
    picture: object  # RGBA uint8 array (sketch) or JPEG bytes (photo)
    label: str  # the digits, left to right
    gap: str
    style: str
    brush: str
    touching: int  # neighbouring pairs whose ink touches
    digits: np.ndarray  # the MNIST digits written, left to right: uint8 (n, 28, 28)


def make_numbers(n: int, split: str = "test", seed: int = 0, mnist_dir=None,
                 lengths=LENGTHS, gaps=tuple(GAPS), styles=STYLES, brushes=tuple(BRUSHES)):
    """``n`` synthetic numbers from MNIST's ``split`` digits (one of SPLITS), cycling
    through the lengths, gaps, styles and brushes so that each is equally represented."""
    images, labels = split_digits(split, mnist_dir)
    stream = [seed, {"train": 0, "test": 1, "validation": 2}[split]]
    if "mixed" in gaps:  # a stream of its own, so that it never repeats the other set's numbers
        stream.append(1)
    rng = np.random.default_rng(stream)
    for k in range(n):
        length = lengths[k % len(lengths)]
        gap = gaps[(k // len(lengths)) % len(gaps)]
        style = styles[(k // (len(lengths) * len(gaps))) % len(styles)]
        brush = brushes[int(rng.integers(len(brushes)))]
        index = rng.integers(len(images), size=length)
        yield render_number(images[index], labels[index], rng, gap, style, brush)


def split_digits(split: str, mnist_dir=None) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's images and labels of ``split``: "train" (all 60,000 training images),
    "validation" (the ones the full preset holds out of training to calibrate on) or
    "test"."""
    from digit_recognizer.data import load_mnist

    return digits_of_split(split, *load_mnist(mnist_dir))


def digits_of_split(split: str, train: tuple[np.ndarray, np.ndarray],
                    test: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``split_digits`` from MNIST already loaded (``load_mnist``'s train and test pairs)."""
    if split == "test":
        return test
    if split == "validation":
        from digit_recognizer.data import split_validation
        from digit_recognizer.train import PRESETS

        full = PRESETS["full"]
        return split_validation(*train, full.validation_size, full.seed)[1]
    return train


def render_number(digits: np.ndarray, labels: np.ndarray, rng: np.random.Generator,
                  gap: str = "normal", style: str = "sketch", brush: str = "medium"
                  ) -> NumberSample:
    """MNIST digits (uint8 (n, 28, 28)) written as one number on one canvas."""
    n = len(digits)
    strokes = [trace_strokes(d) for d in digits]
    slant = rng.uniform(-0.25, 0.25)  # shear: columns move by slant x rows above the baseline
    width_of = BRUSHES[brush]
    # the digits' height: the number must fit a canvas up to 4x wider than tall at 8 digits
    height = rng.uniform(0.35, 0.7) * CANVAS_HEIGHT
    pen = rng.uniform(*width_of) * height
    placed, x = [], 0.0
    for segments in strokes:
        pts = np.concatenate([np.stack(s) for s in segments]) if segments else np.zeros((1, 2))
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        size = height * rng.uniform(0.88, 1.12)
        scale = size / max(hi[0] - lo[0], 1.0)
        shift = rng.uniform(-0.06, 0.06) * height
        segs = []
        for a, b in segments:
            a, b = (a - lo) * scale, (b - lo) * scale
            segs.append((a, b))
        # shear around the digit's bottom (the baseline): x += slant * (size - row)
        sheared = [(np.array([a[0], a[1] + slant * (size - a[0])]),
                    np.array([b[0], b[1] + slant * (size - b[0])])) for a, b in segs]
        cols = np.concatenate([[a[1], b[1]] for a, b in sheared]) if sheared else np.zeros(1)
        left, right = cols.min(), cols.max()
        placed.append((sheared, size, shift, left, right))
    offsets = []
    for i, (_, size, shift, left, right) in enumerate(placed):
        if i == 0:
            x = -left
        else:
            prev_right = offsets[-1] + placed[i - 1][4]
            kind = gap if gap != "mixed" else str(rng.choice(list(MIXED), p=list(MIXED.values())))
            x = prev_right + rng.uniform(*GAPS[kind]) * height - left
        offsets.append(x)
    total = offsets[-1] + placed[-1][4] - (offsets[0] + placed[0][3])
    margin = rng.uniform(0.1, 0.5, size=2) * height + pen
    width = int(max(MIN_CANVAS_WIDTH, total + margin.sum() + pen))
    top_room = CANVAS_HEIGHT - height * 1.2 - pen
    top = rng.uniform(0.3, 0.7) * max(top_room, 0) + pen / 2 + 0.06 * height
    left0 = margin[0] + (width - total - margin.sum()) * rng.uniform(0, 1)
    masks = []
    for (sheared, size, shift, left, right), off in zip(placed, offsets):
        mask = Image.new("L", (width, CANVAS_HEIGHT), 0)
        draw = ImageDraw.Draw(mask)
        base = top + (height - size) + shift  # digits stand on one baseline
        r = pen / 2
        for a, b in sheared:
            (r0, c0), (r1, c1) = (a[0] + base, a[1] + off + left0), (b[0] + base, b[1] + off + left0)
            draw.line([(c0, r0), (c1, r1)], fill=255, width=max(1, round(pen)))
            draw.ellipse([c1 - r, r1 - r, c1 + r, r1 + r], fill=255)
        masks.append(np.asarray(mask))
    touching = sum(bool(((masks[i] > 0) & (masks[i + 1] > 0)).any()) for i in range(n - 1))
    alpha = np.max(np.stack(masks), axis=0)
    rgba = np.zeros((CANVAS_HEIGHT, width, 4), np.uint8)
    rgba[..., 3] = alpha
    picture = rgba if style == "sketch" else photo(alpha, rng)
    return NumberSample(picture, "".join(str(int(v)) for v in labels), gap, style, brush,
                        touching, digits)

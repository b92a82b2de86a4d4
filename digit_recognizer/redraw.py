"""MNIST digits redrawn with a pen, as the app sees a drawing: for training.

MNIST's strokes are scanned pen-on-paper: grey, anti-aliased, thicker where the pen pressed.
A sketchpad or a photo gives even strokes of one width, which the app binarises and brings
to MNIST's stroke width (``preprocess.normalize_digit``). A model trained on MNIST alone
reads those ~2% worse than MNIST's own images (the model before this: 97.6% of 3,000
validation digits drawn by the benchmark's tracer and seen as the app sees them, 99.6% of
their MNIST images), so a share of the training digits is replaced
by this view of themselves: each digit's strokes are cut out of a 4x enlargement at a random
ink level (a light or heavy hand), then either grown or shrunk at random (a fine or a broad
pen), or, for half of them, traced to their centre line and drawn again at one random width:
a sketchpad's even pen, without MNIST's pen pressure and the blobs where its strokes meet
(chosen on validation, where it was level with the model before or a little ahead on drawn
digits, numbers and refusals). Each is brought to MNIST's form by the app's own
``find_digit`` and ``normalize_digit``:

    import numpy as np
    from digit_recognizer.redraw import redraw_with_pen
    x_pen = redraw_with_pen(x_train[:1000], np.random.default_rng(0))  # uint8 (1000, 28, 28)

This is not the drawn-digit benchmark's generator (benchmarks/drawings.py traces the strokes
and redraws them with a round brush on a canvas): that one stays out of training, so that its
figures measure drawings of a kind the model has not seen (the even pen is drawn from the
mask's skeleton at 28x28 scale x4, the benchmark's from segments traced at 28x28 and drawn on a
large canvas; both are one width, as a sketchpad's strokes are). ~2 ms a digit on one core.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage.morphology import skeletonize

from digit_recognizer.preprocess import change_stroke_width, find_digit, mnist_pixels

SCALE = 4  # strokes are cut out of a 4x (bicubic) enlargement: smooth edges at any level
INK_LEVEL = (0.25, 0.7)  # the share of the peak cut as stroke: heavy hand .. light hand
PEN_CHANGE = (-3.0, 6.0)  # pixels (of the 4x image) the strokes grow (>0) or shrink (<0) by:
# MNIST's strokes are ~8-12 px wide at 4x, so shrinking further would break them
EVEN_PEN_SHARE = 0.5  # redraws traced to their centre line and drawn again at one width
EVEN_PEN_RADIUS = (2.0, 7.0)  # ... its radius, pixels of the 4x image (normalize_digit then
# brings the width into MNIST's range, as it does a drawing's)
KEEP_WHEN_THINNED = 0.3  # a shrink that would leave less of the strokes is not made (stricter
# than normalize_digit's 0.2: a random pen that erases much of a faint digit is not a pen)


def redraw_with_pen(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 (N, 28, 28) MNIST digits -> the same digits redrawn with a pen, in MNIST's form
    as the app makes it (uint8 (N, 28, 28)). Blank images stay blank."""
    out = np.zeros_like(images, dtype=np.uint8)
    for n, image in enumerate(images):
        if image.any():
            out[n] = _redrawn(image, rng)
    return out


def _redrawn(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    mask = _strokes(image, rng.uniform(*INK_LEVEL))
    if rng.random() < EVEN_PEN_SHARE:
        mask = even_pen(mask, rng.uniform(*EVEN_PEN_RADIUS))
    else:
        mask = change_stroke_width(mask, rng.uniform(*PEN_CHANGE), KEEP_WHEN_THINNED)
    return mnist_pixels(find_digit(mask.astype(np.float32)))


def centre_line(image: np.ndarray, ink_level: float) -> np.ndarray:
    """An MNIST digit's strokes (cut at ``ink_level`` of the peak) traced to their centre
    line: float (points, 2) (row, column) in the digit's pixels, 1/SCALE apart; none for a
    blank image."""
    return np.argwhere(skeletonize(_strokes(image, ink_level))) / SCALE


def _strokes(image: np.ndarray, ink_level: float) -> np.ndarray:
    """The mask of a digit's strokes, cut at ``ink_level`` of the peak of its SCALE x
    enlargement."""
    side = image.shape[0] * SCALE
    big = np.asarray(Image.fromarray(image).resize((side, side), Image.Resampling.BICUBIC),
                     np.float32)
    return big > ink_level * max(float(big.max()), 1e-6)


def even_pen(mask: np.ndarray, radius: float) -> np.ndarray:
    """The strokes of ``mask`` drawn again along their centre lines with a round pen of
    ``radius`` pixels: one width everywhere."""
    return round_pen(skeletonize(mask), radius)


def round_pen(centre: np.ndarray, radius: float) -> np.ndarray:
    """A round pen of ``radius`` pixels drawn along the true cells of ``centre``."""
    return ndimage.distance_transform_edt(~centre) <= radius

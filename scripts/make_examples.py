"""Draw the app's example pictures (digit_recognizer/examples/*.png) from MNIST *test* digits.

    python scripts/make_examples.py --data-dir ../shared/mnist

A 7 drawn on the sketchpad's canvas, the number 2026 written with touching digits, and the
letter A drawn with the same brush model (which the app refuses as "not a digit").
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image

from benchmarks.drawings import draw_digit
from benchmarks.numbers import render_number
from digit_recognizer.data import load_mnist
from digit_recognizer.negatives import draw_strokes, hershey_letter_strokes
from digit_recognizer.ui import EXAMPLES_DIR


def on_white(alpha: np.ndarray) -> Image.Image:
    """Black ink (alpha) on white paper, as a person would upload a drawing."""
    return Image.fromarray((255 - alpha).astype(np.uint8))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data-dir", help="the four MNIST files (default: MNIST_DIR or the cache)")
    args = parser.parse_args()
    _, (x_test, y_test) = load_mnist(args.data_dir)
    rng = np.random.default_rng(0)
    EXAMPLES_DIR.mkdir(exist_ok=True)

    seven = x_test[np.flatnonzero(y_test == 7)[0]]
    drawing = draw_digit(seven, rng, canvas=500, height_range=(0.5, 0.6), brush_range=(14, 16))
    on_white(drawing[..., 3]).save(EXAMPLES_DIR / "digit_7.png")

    digits = [np.flatnonzero(y_test == d)[i] for d, i in ((2, 0), (0, 0), (2, 1), (6, 0))]
    number = render_number(x_test[digits], y_test[digits], rng, gap="touching", brush="medium")
    on_white(number.picture[..., 3]).save(EXAMPLES_DIR / "number_2026.png")

    # its own draw: with some jitters the legs come apart and the A is read as "14" (README,
    # Limits); the example shows one the app refuses
    letter = draw_strokes(hershey_letter_strokes("futural", "A"), np.random.default_rng(0))
    alpha = np.pad((letter * 255).astype(np.uint8), 60)
    on_white(alpha).save(EXAMPLES_DIR / "letter_A.png")
    print(f"wrote {', '.join(p.name for p in sorted(EXAMPLES_DIR.glob('*.png')))} in {EXAMPLES_DIR}")


if __name__ == "__main__":
    main()

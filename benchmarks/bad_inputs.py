"""Pictures that are not a readable number, for timing the server's answer to them.

    from benchmarks.bad_inputs import write_bad_inputs
    paths = write_bad_inputs(folder, x_test, y_test, rng)   # {name: PNG path}

The number issue's list: 200 specks, a row of 40 digits, a 20000x100 strip, a number with a
letter inside. Each must get a clear message (or a reading) quickly, and the server must go
on serving.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from benchmarks.numbers import render_number
from digit_recognizer.negatives import hershey_letter


def specks(rng: np.random.Generator, count: int = 200, side: int = 800) -> np.ndarray:
    """``count`` small dark dots scattered over white paper: RGB."""
    image = Image.new("RGB", (side, side), "white")
    draw = ImageDraw.Draw(image)
    for x, y in rng.integers(0, side, size=(count, 2)):
        r = int(rng.integers(1, 4))
        draw.ellipse([x - r, y - r, x + r, y + r], fill="black")
    return np.asarray(image)


def strip(rng: np.random.Generator, width: int = 20000, height: int = 100) -> np.ndarray:
    """A very long, low picture with a wavy pen line along it: RGB."""
    image = Image.new("RGB", (width, height), "white")
    xs = np.arange(0, width, 25)
    ys = height / 2 + 0.3 * height * np.sin(xs / 180.0 + rng.uniform(0, 6))
    ImageDraw.Draw(image).line(list(zip(xs.tolist(), ys.tolist())), fill="black", width=6)
    return np.asarray(image)


def number_with_letter(images: np.ndarray, labels: np.ndarray, rng: np.random.Generator,
                       before: int = 2, after: int = 2, font: str = "futural") -> np.ndarray:
    """``before`` digits, a handwritten letter or sign (of the Hershey ``font``), ``after``
    digits (at least one on each side), on one line: RGBA, as the sketchpad sends it."""
    def ink_columns(alpha: np.ndarray) -> np.ndarray:
        columns = np.flatnonzero(alpha.max(axis=0) > 0)
        return alpha[:, columns[0]:columns[-1] + 1]

    def digits(count: int) -> np.ndarray:
        index = rng.integers(len(images), size=count)
        return ink_columns(render_number(images[index], labels[index], rng, "normal", "sketch",
                                         "medium").picture[..., 3])

    left, right = digits(before), digits(after)
    rows = np.flatnonzero(left.max(axis=1) > 0)
    top, height = rows[0], rows[-1] + 1 - rows[0]
    letter = hershey_letter(font, rng)
    size = (max(1, int(letter.shape[1] * height / letter.shape[0])), height)
    written = np.zeros((left.shape[0], size[0]), np.uint8)
    written[top:top + height] = np.asarray(
        Image.fromarray((letter * 255).astype(np.uint8)).resize(size))
    gap = np.zeros((left.shape[0], int(0.25 * height)), np.uint8)
    margin = np.zeros((left.shape[0], 60), np.uint8)
    alpha = np.concatenate([margin, left, gap, written, gap, right, margin], axis=1)
    rgba = np.zeros((*alpha.shape, 4), np.uint8)
    rgba[..., 3] = alpha
    return rgba


def write_bad_inputs(folder: Path, images: np.ndarray, labels: np.ndarray,
                     rng: np.random.Generator) -> dict[str, Path]:
    """The bad inputs as PNG files in ``folder``: {description: path}."""
    index = rng.integers(len(images), size=40)
    pictures = {
        "200 specks": specks(rng),
        "a row of 40 digits": render_number(images[index], labels[index], rng, "normal",
                                            "sketch", "medium").picture,
        "a 20000x100 strip": strip(rng),
        "a number with a letter inside": number_with_letter(images, labels, rng),
    }
    paths = {}
    for k, (name, picture) in enumerate(pictures.items()):
        paths[name] = folder / f"bad_{k}.png"
        Image.fromarray(picture).save(paths[name])
    return paths

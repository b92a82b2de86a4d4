"""The demo app's event handlers (digit_recognizer.ui lays them out and wires them to Gradio).

    from digit_recognizer.demo import DigitDemo
    handlers = DigitDemo(DigitReader.from_folder("models"))
    label, seen_png, digits = handlers.read_request("drawing.png")  # or gr.Error, clearly worded

``label`` is gr.Label's value: the whole reading ("42") with the top-3 readings and their
probabilities; ``seen_png`` each digit's 28x28 as the model saw it, left to right, enlarged;
``digits`` a Markdown line with each digit's own reading and confidence, doubtful ones marked.

The handlers receive a plain picture (a path, bytes or an array): the input components of
digit_recognizer.components turn Gradio's values into one.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
from pathlib import Path
from typing import Protocol

import gradio as gr
import numpy as np
from gradio.utils import get_upload_folder
from PIL import Image

from digit_recognizer.files import atomic_write_bytes
from digit_recognizer.preprocess import ImageInputError, ImageSource
from digit_recognizer.reading import TOP_READINGS, Reading

TOP_K = TOP_READINGS  # readings in the label (and returned by the API), as reading makes them
PREVIEW_SCALE = 10  # the 28x28 model input and the gallery digits, enlarged with nearest neighbour
PREVIEW_GAP = 1  # grey columns (in 28x28 pixels) between the digits of a number
ERROR_TITLE = "Cannot read this picture"
UNEXPECTED_ERROR = "Something went wrong while reading this picture. Please try another one."

log = logging.getLogger(__name__)


class Reader(Protocol):
    """What the demo needs from a model: predict.DigitReader, or a stand-in in benchmarks."""

    def read(self, source: ImageSource) -> Reading: ...


Outputs = tuple[dict[str, float] | None, str | None, str]  # label, model's view (PNG), digits


class DigitDemo:
    """The app's event handlers. Each returns (the top readings, a PNG of the digits as the
    model saw them, a line about each digit), matching [gr.Label, gr.Image, gr.Markdown]."""

    def __init__(self, reader: Reader, cache_dir: str | os.PathLike | None = None):
        self.reader = reader
        # Gradio's file cache (GRADIO_TEMP_DIR): files in it are served as they are, and the
        # app's delete_cache sweep removes them like Gradio's own.
        self.cache_dir = Path(cache_dir or get_upload_folder())

    def read_request(self, source: ImageSource) -> Outputs:
        """An explicit request (button, upload, API): a picture without a readable digit raises
        gr.Error with a message saying why; never a guess, never a traceback."""
        try:
            reading = self.reader.read(source)
        except ImageInputError as exc:
            raise gr.Error(str(exc), title=ERROR_TITLE, print_exception=False) from None
        except Exception:  # a bug: the log gets the traceback, the person a plain sentence
            log.exception("reading a digit failed")
            raise gr.Error(UNEXPECTED_ERROR, title=ERROR_TITLE, print_exception=False) from None
        preview = save_preview(side_by_side(reading.pixels), self.cache_dir)
        return reading.top_readings, preview, describe(reading)

    def read_while_drawing(self, source: ImageSource) -> Outputs:
        """Live reading as the canvas changes: while it is empty or unreadable (just cleared, a
        first short stroke) the label is cleared and the reason shown as a hint, not a popup."""
        try:
            return self.read_request(source)
        except gr.Error as exc:
            return None, None, str(exc.message)

    @staticmethod
    def clear() -> Outputs:
        return None, None, ""


def describe(reading: Reading) -> str:
    """Each digit's own reading, left to right: "**4** 99% · **2** 62% ⚠ or 7 (30%)", or
    "⚠ may not be a digit" where the model half thinks so (its percentages are over the
    digits only, and would not show it)."""
    parts = []
    maybe_not = reading.maybe_not_a_digit or [False] * len(reading.digits)
    for top, doubtful, unlike in zip(reading.digits, reading.doubtful, maybe_not):
        (digit, probability), *others = top.items()
        part = f"**{digit}** {probability:.0%}"
        if unlike:
            part += " ⚠ may not be a digit"
        elif doubtful and others:
            part += f" ⚠ or {others[0][0]} ({others[0][1]:.0%})"
        parts.append(part)
    if len(parts) == 1:
        return f"Doubtful: {parts[0]}" if reading.doubtful[0] else ""
    return f"{len(parts)} digits, left to right: " + " · ".join(parts)


def side_by_side(digits: list[np.ndarray], gap: int = PREVIEW_GAP) -> np.ndarray:
    """The digits' 28x28 images in a row, a thin grey line between them."""
    if len(digits) == 1:
        return digits[0]
    separator = np.full((digits[0].shape[0], gap), 96, np.uint8)
    row = [digits[0]]
    for digit in digits[1:]:
        row += [separator, digit]
    return np.concatenate(row, axis=1)


def enlarge(pixels: np.ndarray, scale: int = PREVIEW_SCALE) -> np.ndarray:
    """Nearest-neighbour upscaling: each pixel becomes a visible square, nothing is smoothed."""
    return pixels.repeat(scale, axis=0).repeat(scale, axis=1)


def save_preview(pixels: np.ndarray, cache_dir: str | os.PathLike) -> str:
    """The enlarged model input as a PNG in ``cache_dir``, named by its content and written
    atomically; returns its path.

    Why not hand Gradio the array: it writes arrays to a content-named file too, but rewrites
    that file in place on every request, so two simultaneous requests with the same picture
    (an API client retrying, a load test) can download it half-written."""
    buffer = io.BytesIO()
    Image.fromarray(enlarge(pixels)).save(buffer, format="PNG")
    content = buffer.getvalue()
    path = Path(cache_dir) / hashlib.sha256(content).hexdigest() / "model_input.png"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, content)  # readers see no file or the whole file, never a part
    return str(path)

"""The demo app's event handlers (digit_recognizer.ui lays them out and wires them to Gradio).

    from digit_recognizer.demo import DigitDemo
    handlers = DigitDemo(DigitReader.from_file("models/digit_cnn.keras"))
    label, seen_png, hint = handlers.read_request("drawing.png")  # or gr.Error, clearly worded

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

TOP_K = 3  # classes shown in the label (and returned by the API)
PREVIEW_SCALE = 10  # the 28x28 model input and the gallery digits, enlarged with nearest neighbour
ERROR_TITLE = "Cannot read a digit"
UNEXPECTED_ERROR = "Something went wrong while reading this picture. Please try another one."

log = logging.getLogger(__name__)


class Reader(Protocol):
    """What the demo needs from a model: predict.DigitReader, or a stand-in in benchmarks."""

    def read(self, source: ImageSource, k: int = 3) -> tuple[dict[str, float], np.ndarray]: ...


Outputs = tuple[dict[str, float] | None, str | None, str]  # label, model's view (PNG), hint


class DigitDemo:
    """The app's event handlers. Each returns (top-k labels, a PNG of the enlarged 28x28 model
    input, a hint line), matching the outputs [gr.Label, gr.Image, gr.Markdown]."""

    def __init__(self, reader: Reader, cache_dir: str | os.PathLike | None = None):
        self.reader = reader
        # Gradio's file cache (GRADIO_TEMP_DIR): files in it are served as they are, and the
        # app's delete_cache sweep removes them like Gradio's own.
        self.cache_dir = Path(cache_dir or get_upload_folder())

    def read_request(self, source: ImageSource) -> Outputs:
        """An explicit request (button, upload, API): a picture without a readable digit raises
        gr.Error with a message saying why; never a guess, never a traceback."""
        try:
            labels, pixels = self.reader.read(source, k=TOP_K)
        except ImageInputError as exc:
            raise gr.Error(str(exc), title=ERROR_TITLE, print_exception=False) from None
        except Exception:  # a bug: the log gets the traceback, the person a plain sentence
            log.exception("reading a digit failed")
            raise gr.Error(UNEXPECTED_ERROR, title=ERROR_TITLE, print_exception=False) from None
        return labels, save_preview(pixels, self.cache_dir), ""

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

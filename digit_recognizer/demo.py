"""The demo app's logic, apart from its layout (app.py only wires these to Gradio components).

    from digit_recognizer.demo import DigitDemo, locate_model, load_samples, load_metrics
    model_file, assets_dir = locate_model()          # models/*.keras (or a file, or a Hub repo)
    handlers = DigitDemo(DigitReader.from_file(model_file))
    label, seen_png, hint = handlers.read_request(sketch_value)  # or gr.Error, clearly worded

The input components that hand these functions undecoded files are in
digit_recognizer.components.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import gradio as gr
import numpy as np
from gradio.utils import get_upload_folder
from gradio_client import handle_file
from PIL import Image

from digit_recognizer.files import atomic_write_bytes
from digit_recognizer.hub import (METRICS_FILENAME, SAMPLES_DIRNAME, SAMPLES_INDEX, HubError,
                                  download_model)
from digit_recognizer.predict import DEFAULT_MODELS_DIR, find_model_file
from digit_recognizer.preprocess import ImageInputError, ImageSource

SKETCH_ENDPOINT = "/predict"  # the HTTP API: a sketchpad value -> (label, model's view, hint)
UPLOAD_ENDPOINT = "/predict_upload"  # an image file -> the same
TOP_K = 3  # classes shown in the label (and returned by the API)
PREVIEW_SCALE = 10  # the 28x28 model input and the gallery digits, enlarged with nearest neighbour
MAX_UPLOAD_SIZE = "10mb"  # Gradio refuses larger uploads before they reach the app
ERROR_TITLE = "Cannot read a digit"
UNEXPECTED_ERROR = "Something went wrong while reading this picture. Please try another one."

log = logging.getLogger(__name__)


# -------------------------------------------------------------------------------- reading
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


def api_argument(endpoint: str, picture: str | os.PathLike) -> Any:
    """What a gradio_client caller sends to ``endpoint`` for a picture file: a sketchpad value
    with the picture as its composite, or the file itself."""
    file = handle_file(str(picture))
    if endpoint == SKETCH_ENDPOINT:
        return {"background": None, "layers": [], "composite": file}
    return file


# ----------------------------------------------------------------------- model and assets
def locate_model(model_file: str | os.PathLike | None = None, model_repo: str | None = None,
                 models_dir: str | os.PathLike = DEFAULT_MODELS_DIR) -> tuple[Path, Path]:
    """The model to serve and the folder of its metrics.json and samples/: ``model_file`` if
    given, else ``model_repo``'s on the Hugging Face Hub, else the one ``models_dir/*.keras``.

    Raises predict.ModelLoadError (no model) or hub.HubError (download failed)."""
    if model_file is not None:
        path = Path(model_file)
        return path, path.parent
    if model_repo:
        return _download_from_hub(model_repo)
    return find_model_file(models_dir), Path(models_dir)


def _download_from_hub(repo_id: str) -> tuple[Path, Path]:
    """The model and, when the repo has them, its metrics and gallery digits: Hub downloads of
    one repo land side by side in one snapshot folder, laid out as in the repo."""
    model_path = download_model(repo_id)
    snapshot = model_path.parent

    def fetch(filename: str) -> Path | None:
        try:
            return download_model(repo_id, filename)
        except HubError as exc:  # an older or partial repo: serve the model without extras
            print(f"warning: {exc}", file=sys.stderr)
            return None

    fetch(METRICS_FILENAME)
    index = fetch(f"{SAMPLES_DIRNAME}/{SAMPLES_INDEX}")
    if index is not None:
        names = [entry["file"] for entry in _read_sample_entries(index)]
        with ThreadPoolExecutor(max_workers=8) as pool:  # ~40 small files: don't wait on each
            list(pool.map(fetch, [f"{SAMPLES_DIRNAME}/{name}" for name in names]))
    return model_path, snapshot


@dataclass(frozen=True)
class Sample:
    """A test digit with the model's reading of it, as listed in samples/samples.json."""

    pixels: np.ndarray  # uint8 28x28, white on black as in MNIST
    label: int
    prediction: int
    confidence: float

    @property
    def caption(self) -> str:
        if self.prediction == self.label:
            return f"✓ {self.label} ({self.confidence:.0%})"
        return f"✗ pred {self.prediction} / true {self.label} ({self.confidence:.0%})"


def load_samples(assets_dir: str | os.PathLike) -> list[Sample]:
    """The gallery's test digits from ``assets_dir/samples/``; [] when there are none (no
    training run yet) or the list is unreadable. Entries that cannot be shown are skipped."""
    index = Path(assets_dir) / SAMPLES_DIRNAME / SAMPLES_INDEX
    if not index.is_file():
        return []
    samples = []
    for entry in _read_sample_entries(index):
        try:
            with Image.open(index.parent / entry["file"]) as image:
                pixels = np.asarray(image.convert("L"))
            samples.append(Sample(pixels, int(entry["label"]), int(entry["prediction"]),
                                  float(entry["confidence"])))
        except (OSError, ValueError, TypeError):  # a missing or broken PNG, a malformed entry
            continue
    return samples


def _read_sample_entries(index: Path) -> list[dict[str, Any]]:
    """samples.json's entries, keeping only well-formed ones whose "file" is a plain file name
    (a downloaded list must not point the app at files elsewhere)."""
    try:
        entries = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"warning: ignoring {index}: {exc}", file=sys.stderr)
        return []
    if not isinstance(entries, list):
        return []
    keys = {"file", "label", "prediction", "confidence"}
    return [entry for entry in entries
            if isinstance(entry, dict) and keys <= entry.keys()
            and isinstance(entry["file"], str) and Path(entry["file"]).name == entry["file"]]


def gallery_items(samples: list[Sample]) -> list[tuple[np.ndarray, str]]:
    """gr.Gallery's value: enlarged digits (crisp, not browser-smoothed) with their captions,
    the mistakes first, where they are seen without scrolling."""
    ordered = sorted(samples, key=lambda sample: sample.prediction == sample.label)  # stable
    return [(enlarge(sample.pixels), sample.caption) for sample in ordered]


def load_metrics(assets_dir: str | os.PathLike) -> dict[str, Any]:
    """metrics.json next to the model, or {} when it is missing or unreadable."""
    path = Path(assets_dir) / METRICS_FILENAME
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        print(f"warning: ignoring {path}: {exc}", file=sys.stderr)
        return {}
    return metrics if isinstance(metrics, dict) else {}


def describe_model(num_parameters: int, metrics: dict[str, Any]) -> str:
    """A short Markdown description with the measured test accuracy (never typed in by hand)."""
    accuracy = metrics.get("test_accuracy")
    measured = (f"**{accuracy:.2%}** accuracy on the 10,000 MNIST test digits"
                if isinstance(accuracy, (int, float)) else
                "test accuracy not measured yet (no metrics.json next to the model)")
    return (f"A convolutional network ({num_parameters:,} parameters) trained on MNIST; "
            f"{measured}. Your drawing or photo is cropped to the digit, scaled to MNIST's "
            f"20x20 box and centred by mass in 28x28; the reading shows that image too, exactly "
            f"as the model sees it.")

"""Gradio input components that hand the function the uploaded picture *undecoded*.

Gradio's stock gr.Image and gr.ImageEditor/gr.Sketchpad open and convert an upload with PIL
before the event's function runs, so a text file named .png, a truncated file or a
decompression bomb fails inside Gradio, and the person sees its generic error. These subclasses
pass the file on as it came (a path, or the bytes the browser's editor sent), so that
preprocess.load_image is the only decoder and its ImageInputError messages reach the person
(digit_recognizer.demo turns them into gr.Error). Decoding once instead of twice is also faster,
and load_image reads 16-bit, CMYK, palette and animated images correctly, where Gradio's
conversion to a fixed mode would not.

Gradio writes a ``.pyi`` stub next to any module defining a component class (for its event
methods' typing); that is why these live in a module of their own, and why components.pyi is
git-ignored.
"""

from __future__ import annotations

import base64
from typing import Any

import gradio as gr
from gradio.components.image_editor import EditorData
from gradio.data_classes import FileData, ImageData

from digit_recognizer.preprocess import ImageSource


class ImageFileInput(gr.Image):
    """gr.Image whose function receives the uploaded file's path (or a data: URL's bytes)."""

    is_template = True  # Gradio picks the browser widget by the parent class's name: gr.Image's

    def preprocess(self, payload: ImageData | None) -> ImageSource:
        if payload is None:
            return None
        if payload.path is not None:
            return payload.path
        return _data_url_bytes(payload.url)  # an API caller may send a base64 data: URL


class SketchpadInput(gr.ImageEditor):
    """gr.ImageEditor (app.py configures it as a sketchpad) whose function receives
    ``{"background", "layers", "composite"}`` as undecoded paths or bytes."""

    is_template = True  # rendered by gr.ImageEditor's browser widget, as gr.Sketchpad is

    def preprocess(self, payload: EditorData | None) -> dict[str, Any] | None:
        if payload is None:
            return None
        if payload.id is None:  # an API call: files uploaded the usual way
            files = payload
        else:  # the browser sent the canvas ahead through accept_blobs, as bytes under this id
            files = self.blob_storage.pop(payload.id, None)
            if files is None:
                return None
        return {"background": _undecoded(files.background),
                "layers": [_undecoded(layer) for layer in files.layers if layer is not None],
                "composite": _undecoded(files.composite)}


def _undecoded(file: FileData | bytes | None) -> str | bytes | None:
    return file.path if isinstance(file, FileData) else file


def _data_url_bytes(url: str | None) -> bytes | None:
    if url is None or not url.startswith("data:") or "," not in url:
        return None  # nothing to read: the function says "No image"
    try:
        return base64.b64decode(url.split(",", 1)[1], validate=True)
    except ValueError:
        raise gr.Error("The image data is not valid base64.", print_exception=False) from None

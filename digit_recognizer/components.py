"""Gradio input components that hand the function a plain picture, the uploaded file *undecoded*.

Gradio's stock gr.Image and gr.ImageEditor/gr.Sketchpad open and convert an upload with PIL
before the event's function runs, so a text file named .png, a truncated file or a
decompression bomb fails inside Gradio, and the person sees its generic error. These subclasses
pass the file on as it came (a path, or the bytes the browser's editor sent), so that
preprocess.load_image is the only decoder and its ImageInputError messages reach the person
(digit_recognizer.demo turns them into gr.Error). Decoding once instead of twice is also faster,
and load_image reads 16-bit, CMYK, palette and animated images correctly, where Gradio's
conversion to a fixed mode would not.

Gradio's value formats stop here: the sketchpad's ``{"background", "layers", "composite"}``
becomes one picture (a path, bytes or an array), so nothing below the UI knows about them.

Gradio writes a ``.pyi`` stub next to any module defining a component class (for its event
methods' typing); that is why these live in a module of their own, and why components.pyi is
git-ignored.
"""

from __future__ import annotations

import base64

import gradio as gr
import numpy as np
from gradio.components.image_editor import EditorData, EditorDataBlobs
from gradio.data_classes import FileData, ImageData
from PIL import Image

from digit_recognizer.demo import ERROR_TITLE
from digit_recognizer.preprocess import ImageInputError, ImageSource, load_image


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
    """gr.ImageEditor (digit_recognizer.ui configures it as a sketchpad) whose function receives
    the picture the canvas shows: its composite as undecoded path or bytes (what the browser
    sends), else its layers over its background (an API caller may send only those)."""

    is_template = True  # rendered by gr.ImageEditor's browser widget, as gr.Sketchpad is

    def preprocess(self, payload: EditorData | None) -> ImageSource:
        if payload is None:
            return None
        if payload.id is None:  # an API call: files uploaded the usual way
            files = payload
        else:  # the browser sent the canvas ahead through accept_blobs, as bytes under this id
            files = self.blob_storage.pop(payload.id, None)
            if files is None:
                return None
        return sketch_picture(files)


def sketch_picture(files: EditorData | EditorDataBlobs) -> ImageSource:
    """The picture a sketchpad value shows: its composite, undecoded, if there is one; else its
    layers composited over its background (an RGBA array); None for an empty value."""
    if files.composite is not None:
        return _undecoded(files.composite)
    parts = [_undecoded(part) for part in [files.background, *files.layers] if part is not None]
    if not parts:
        return None
    try:
        images = [Image.fromarray(load_image(part)).convert("RGBA") for part in parts]
    except ImageInputError as exc:  # said here, as the event's function would have said it
        raise gr.Error(str(exc), title=ERROR_TITLE, print_exception=False) from None
    if len({image.size for image in images}) > 1:  # alpha_composite needs one size
        raise gr.Error("The sketch's background and layers differ in size.", title=ERROR_TITLE,
                       print_exception=False)
    canvas = images[0]
    for layer in images[1:]:
        canvas = Image.alpha_composite(canvas, layer)
    return np.asarray(canvas)


def _undecoded(file: FileData | bytes | None) -> str | bytes | None:
    return file.path if isinstance(file, FileData) else file


def _data_url_bytes(url: str | None) -> bytes | None:
    if url is None or not url.startswith("data:") or "," not in url:
        return None  # nothing to read: the function says "No image"
    try:
        return base64.b64decode(url.split(",", 1)[1], validate=True)
    except ValueError:
        raise gr.Error("The image data is not valid base64.", print_exception=False) from None

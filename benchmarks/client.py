"""The app's HTTP API from the caller's side (gradio_client), for the load test, the app
benchmark and the tests.

    from benchmarks.client import api_argument
    client.predict(api_argument(SKETCH_ENDPOINT, "seven.png"), api_name=SKETCH_ENDPOINT)
"""

from __future__ import annotations

import os
from typing import Any

from gradio_client import handle_file

from digit_recognizer.ui import SKETCH_ENDPOINT, UPLOAD_ENDPOINT

ENDPOINTS = (SKETCH_ENDPOINT, UPLOAD_ENDPOINT)


def api_argument(endpoint: str, picture: str | os.PathLike) -> Any:
    """What a gradio_client caller sends to ``endpoint`` for a picture file: a sketchpad value
    with the picture as its composite, or the file itself."""
    file = handle_file(str(picture))
    if endpoint == SKETCH_ENDPOINT:
        return {"background": None, "layers": [], "composite": file}
    return file

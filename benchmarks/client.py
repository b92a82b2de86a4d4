"""The app's HTTP API from the caller's side (gradio_client), for the load test, the app
benchmark and the tests.

    from benchmarks.client import api_argument, app_client
    client = app_client("http://127.0.0.1:7860/")
    client.predict(api_argument(SKETCH_ENDPOINT, "seven.png"), api_name=SKETCH_ENDPOINT)
"""

from __future__ import annotations

import os
from typing import Any

from gradio_client import Client, handle_file

from digit_recognizer.ui import SKETCH_ENDPOINT, UPLOAD_ENDPOINT

ENDPOINTS = (SKETCH_ENDPOINT, UPLOAD_ENDPOINT)
REQUEST_TIMEOUT_S = 120  # httpx's limit on each step of a request (connect, each read, ...):
# its default of 5 s broke the number benchmark's latency run (httpx.ReadTimeout) while other
# jobs shared the two cores; a browser waits for the queue, and so do our callers (the queue's
# event stream, unlimited in gradio_client, now too: its heartbeats keep reads well apart)


def app_client(url: str) -> Client:
    """A gradio_client Client of the app at ``url``, quiet, waiting REQUEST_TIMEOUT_S for an
    answer."""
    return Client(url, verbose=False, httpx_kwargs={"timeout": REQUEST_TIMEOUT_S})


def api_argument(endpoint: str, picture: str | os.PathLike) -> Any:
    """What a gradio_client caller sends to ``endpoint`` for a picture file: a sketchpad value
    with the picture as its composite, or the file itself."""
    file = handle_file(str(picture))
    if endpoint == SKETCH_ENDPOINT:
        return {"background": None, "layers": [], "composite": file}
    return file

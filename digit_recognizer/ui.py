"""The Gradio app: its layout, its serving settings and its command line (app.py calls ``main``).

    from digit_recognizer.ui import build_demo, start_serving
    demo = build_demo(reader, load_samples("models"), "About this model")
    url = start_serving(demo, "127.0.0.1", 7860)   # in the background; demo.close() stops it

HTTP API (gradio_client): "/predict" takes a sketchpad value {"background", "layers",
"composite"}, "/predict_upload" an image file; both return the top-3 gr.Label first.
The logic behind the events is digit_recognizer.demo's; its inputs come through
digit_recognizer.components, which hand it plain pictures.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from digit_recognizer import model_folder
from digit_recognizer.components import ImageFileInput, SketchpadInput
from digit_recognizer.demo import TOP_K, DigitDemo, Reader, enlarge
from digit_recognizer.hub import HubError
from digit_recognizer.model_folder import ModelLoadError, Sample

SKETCH_ENDPOINT = "/predict"  # the HTTP API: a sketchpad value -> (label, model's view, hint)
UPLOAD_ENDPOINT = "/predict_upload"  # an image file -> the same
MAX_UPLOAD_SIZE = "10mb"  # Gradio refuses larger uploads before they reach the app
CONCURRENCY = 4  # requests computed at once; TF's model call releases the GIL
QUEUE_SIZE = 64  # waiting requests beyond this are refused rather than left to time out
# Every upload and output image is kept in Gradio's cache: drop files older than an hour,
# hourly, so a long-running public demo doesn't fill its disk.
DELETE_CACHE = (3600, 3600)
CANVAS_SIZE = (1200, 500)  # wider than tall: room for a number on one line
SKETCHPAD_ID = "sketchpad"
SELECT_BRUSH_JS = Path(__file__).with_name("select_brush.js")  # package data
EXAMPLES_DIR = Path(__file__).with_name("examples")  # package data, made by scripts/make_examples.py
EXAMPLES = [str(EXAMPLES_DIR / name) for name in ("digit_7.png", "number_2026.png", "letter_A.png")]


def build_demo(reader: Reader, samples: list[Sample], about: str,
               examples: list[str] | None = None) -> gr.Blocks:
    """The UI: Draw and Upload tabs, the top-3 readings, each digit as the model saw it, and
    a gallery of test digits. ``about`` is Markdown describing the model; ``reader`` is anything
    with predict.DigitReader's ``read`` (the app benchmark passes one returning a constant);
    ``examples`` are pictures to click (EXAMPLES by default)."""
    handlers = DigitDemo(reader)
    examples = EXAMPLES if examples is None else examples
    with gr.Blocks(title="Digit recognizer", delete_cache=DELETE_CACHE) as demo:
        gr.Markdown(f"# Handwritten digits and numbers\n{about}")
        with gr.Row():
            with gr.Column(scale=3):
                with gr.Tab("Draw"):
                    # type="filepath" only documents the API: these inputs never decode
                    sketch = SketchpadInput(
                        label="Write a digit or a number (up to 12 digits, on one line)",
                        type="filepath", sources=(), layers=False, transforms=(),
                        canvas_size=CANVAS_SIZE, height=420,
                        # radius in canvas pixels: about MNIST's stroke-to-height ratio for a
                        # digit a third of the canvas tall; undo and clear are built in
                        brush=gr.Brush(default_size=18, colors=["#000000"], color_mode="fixed"),
                        elem_id=SKETCHPAD_ID, elem_classes=["draw-first"])
                    read_button = gr.Button("Read", variant="primary")
                with gr.Tab("Upload"):
                    upload = ImageFileInput(
                        label="A picture of a digit or a number: PNG, JPEG, WebP, GIF, BMP or "
                              "TIFF", type="filepath", sources=["upload", "clipboard", "webcam"])
            with gr.Column(scale=2):
                label = gr.Label(num_top_classes=TOP_K, label="Reading (top 3)")
                digits = gr.Markdown()
                seen = gr.Image(label="What the model saw: each digit in 28x28",
                                format="png", interactive=False, height=160)
        if examples:
            gr.Examples(examples, inputs=upload, outputs=[label, seen, digits],
                        fn=handlers.read_request, run_on_click=True, cache_examples=False,
                        label="Examples: a digit, a number with touching digits, a letter "
                              "(refused)")
        gr.Markdown("## Test digits the model has never trained on")
        if samples:
            gr.Gallery(gallery_items(samples), format="png", columns=6, height="max-content",
                       label="✓ read right · ✗ mistakes: what it read · the true digit")
        else:
            gr.Markdown("_No sample digits next to this model yet: `python scripts/train.py` "
                        "writes them._")

        outputs = [label, seen, digits]  # the label first: API clients read it as result[0]
        # Explicit requests report an unreadable picture as an error popup (gr.Error).
        # (the error badge goes on the label only, not over the digits line)
        read_button.click(handlers.read_request, sketch, outputs, show_progress_on=label,
                          api_name=SKETCH_ENDPOINT.lstrip("/"))
        upload.upload(handlers.read_request, upload, outputs, show_progress_on=label,
                      api_name=UPLOAD_ENDPOINT.lstrip("/"))
        # Live updates while drawing only hint; they are UI plumbing, not part of the API.
        drawing = sketch.change(handlers.read_while_drawing, sketch, outputs,
                                api_visibility="private", trigger_mode="always_last",
                                show_progress="hidden")
        # Clearing the canvas does not always send a change, and a reading of the last stroke
        # still running would land after it (browser tests have kept "42" on the page after
        # Clear): its own event cancels that reading and empties the outputs
        sketch.clear(handlers.clear, None, outputs, api_visibility="private",
                     show_progress="hidden", cancels=[drawing])
        upload.clear(handlers.clear, None, outputs, api_visibility="private")
        # Gradio's editor opens (and clears) with no tool selected: select the brush
        demo.load(None, None, None, js=SELECT_BRUSH_JS.read_text(), api_visibility="private")
    return demo


def start_serving(demo: gr.Blocks, host: str | None = None, port: int | None = None,
                  share: bool = False, quiet: bool = False) -> str:
    """Serve ``demo`` in the background with the app's queue and upload limit; returns its
    local URL. (Tests and benchmarks serve through this too, so they test what runs.)"""
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    _, url, _ = demo.launch(server_name=host, server_port=port, share=share, quiet=quiet,
                            max_file_size=MAX_UPLOAD_SIZE, prevent_thread_lock=True)
    return url


def gallery_items(samples: list[Sample]) -> list[tuple[np.ndarray, str]]:
    """gr.Gallery's value: enlarged digits (crisp, not browser-smoothed) with their captions,
    the mistakes first, where they are seen without scrolling."""
    ordered = sorted(samples, key=lambda sample: sample.prediction == sample.label)  # stable
    return [(enlarge(sample.pixels), sample.caption) for sample in ordered]


def describe_model(num_parameters: int, metrics: dict[str, Any], can_refuse: bool = True) -> str:
    """A short Markdown description with the measured test accuracy (never typed in by hand).

        describe_model(340_315, load_metrics("models"))   # "A convolutional network (340,315 ..."
    """
    accuracy = metrics.get("test_accuracy")
    measured = (f"**{accuracy:.2%}** accuracy on the 10,000 MNIST test digits"
                if isinstance(accuracy, (int, float)) else
                "test accuracy not measured yet (no metrics.json next to the model)")
    refusal = ("; it says \"not a digit\" for letters, marks and scribbles" if can_refuse else
               "; this model predates \"not a digit\" and reads whatever it is given")
    return (f"A convolutional network ({num_parameters:,} parameters) trained on MNIST; "
            f"{measured}{refusal}. Your drawing or photo is split into digits, each cropped, "
            f"scaled to MNIST's 20x20 box and centred in 28x28, exactly as shown on the right.")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="app.py", description="Gradio demo: draw a digit or "
                                     "upload a picture of one, and see what the CNN reads.")
    parser.add_argument("--model", help="a .keras file to serve (default: the one in models/)")
    parser.add_argument("--model-repo", default=os.environ.get("MODEL_REPO"),
                        help="serve the model of this Hugging Face Hub repo (env MODEL_REPO)")
    parser.add_argument("--host", help="address to listen on (env GRADIO_SERVER_NAME; "
                                       "default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (env GRADIO_SERVER_PORT; default 7860)")
    parser.add_argument("--share", action="store_true", help="also serve a public gradio.live link")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, started: float | None = None) -> int:
    """app.py's command line: serve until interrupted; 1 (one line on stderr) when there is no
    model to serve. ``started`` is the process's perf_counter at start, for the ready time."""
    args = parse_args(argv)
    # TensorFlow only now: --help answers at once, and the bare app of the benchmark, built by
    # build_demo, runs without it
    from digit_recognizer.predict import DigitReader, one_thread_per_op

    started = time.perf_counter() if started is None else started
    one_thread_per_op()
    try:
        model_file, folder = model_folder.locate_model(args.model, args.model_repo)
        reader = DigitReader.from_file(model_file)
    except (ModelLoadError, HubError) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)  # one line, no traceback
        return 1
    if not reader.can_refuse:
        print(f"note: {model_file} has no \"not a digit\" output (trained before it existed): "
              f"it reads whatever it is given", file=sys.stderr)
    about = describe_model(reader.model.count_params(), model_folder.load_metrics(folder),
                           reader.can_refuse)
    demo = build_demo(reader, model_folder.load_samples(folder), about)
    start_serving(demo, args.host, args.port, args.share)
    print(f"Serving {model_file} (ready {time.perf_counter() - started:.1f} s after start)",
          flush=True)
    demo.block_thread()
    return 0

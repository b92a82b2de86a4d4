"""Gradio demo: draw a digit or upload a picture of one, and see what the CNN reads.

    python app.py                          # serves models/*.keras on http://127.0.0.1:7860
    python app.py --model-repo user/repo   # or MODEL_REPO=user/repo: the model from the Hub
    python app.py --share                  # plus a public *.gradio.live link
    python app.py --host 0.0.0.0 --port 8080   # or GRADIO_SERVER_NAME / GRADIO_SERVER_PORT

HTTP API (gradio_client): "/predict" takes a sketchpad value {"background", "layers",
"composite"}, "/predict_upload" an image file; both return the top-3 gr.Label first.

Hugging Face Spaces starts the app with `python app.py` as well, so the `__main__` guard is
its entry point too; a module-level `demo` is only needed for `gradio app.py` reload mode.
This file only wires components to digit_recognizer.demo, which holds the logic.
"""

import time

STARTED = time.perf_counter()  # before the heavy imports: start-up time counts them

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import gradio as gr  # noqa: E402

from digit_recognizer import demo as logic  # noqa: E402
from digit_recognizer.components import ImageFileInput, SketchpadInput  # noqa: E402
from digit_recognizer.hub import HubError  # noqa: E402
from digit_recognizer.predict import DigitReader, ModelLoadError  # noqa: E402

CONCURRENCY = 4  # requests computed at once; TF's model call releases the GIL
QUEUE_SIZE = 64  # waiting requests beyond this are refused rather than left to time out
# Every upload and output image is kept in Gradio's cache: drop files older than an hour,
# hourly, so a long-running public demo doesn't fill its disk.
DELETE_CACHE = (3600, 3600)


def build_demo(reader: logic.Reader, samples: list[logic.Sample], about: str) -> gr.Blocks:
    """The UI: Draw and Upload tabs, the top-3 label and the 28x28 input the model saw, and a
    gallery of test digits. ``about`` is Markdown describing the model."""
    handlers = logic.DigitDemo(reader)
    with gr.Blocks(title="Digit recognizer", delete_cache=DELETE_CACHE) as demo:
        gr.Markdown(f"# Handwritten digit recognizer\n{about}")
        with gr.Row():
            with gr.Column(scale=3):
                with gr.Tab("Draw"):
                    # type="filepath" only documents the API: these inputs never decode
                    sketch = SketchpadInput(
                        label="Draw one digit (pick the brush ✎ first)", type="filepath", sources=(),
                        layers=False, transforms=(), canvas_size=(800, 800), height=560,
                        # radius in canvas pixels: a 48 px stroke is MNIST's stroke-to-height
                        # ratio (~0.14) for a digit ~350 px tall; undo and clear are built in
                        brush=gr.Brush(default_size=24, colors=["#000000"], color_mode="fixed"))
                    read_button = gr.Button("Read digit", variant="primary")
                with gr.Tab("Upload"):
                    upload = ImageFileInput(
                        label="A picture of one digit: PNG, JPEG, WebP, GIF, BMP or TIFF",
                        type="filepath",
                        sources=["upload", "clipboard", "webcam"])
            with gr.Column(scale=2):
                label = gr.Label(num_top_classes=logic.TOP_K, label="Reading")
                hint = gr.Markdown()
                seen = gr.Image(label="What the model saw (28x28, enlarged)", format="png",
                                interactive=False, height=300)
        gr.Markdown("## Test digits the model has never trained on")
        if samples:
            gr.Gallery(logic.gallery_items(samples), format="png", columns=8, height="max-content",
                       label="✓ read correctly · ✗ mistakes (prediction / true label)")
        else:
            gr.Markdown("_No sample digits next to this model yet: `python scripts/train.py` "
                        "writes them._")

        outputs = [label, seen, hint]  # the label first: API clients read it as result[0]
        # Explicit requests report an unreadable picture as an error popup (gr.Error).
        # (the error badge goes on the label only, not over the hint text)
        read_button.click(handlers.read_request, sketch, outputs, show_progress_on=label,
                          api_name=logic.SKETCH_ENDPOINT.lstrip("/"))
        upload.upload(handlers.read_request, upload, outputs, show_progress_on=label,
                      api_name=logic.UPLOAD_ENDPOINT.lstrip("/"))
        # Live updates while drawing only hint; they are UI plumbing, not part of the API.
        sketch.change(handlers.read_while_drawing, sketch, outputs, api_visibility="private",
                      trigger_mode="always_last", show_progress="hidden")
        upload.clear(handlers.clear, None, outputs, api_visibility="private")
    return demo


def start_serving(demo: gr.Blocks, host: str | None = None, port: int | None = None,
                  share: bool = False, quiet: bool = False) -> str:
    """Serve ``demo`` in the background with the app's queue and upload limit; returns its
    local URL. (Tests and benchmarks serve through this too, so they test what runs.)"""
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    _, url, _ = demo.launch(server_name=host, server_port=port, share=share, quiet=quiet,
                            max_file_size=logic.MAX_UPLOAD_SIZE, prevent_thread_lock=True)
    return url


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--model", help="a .keras file to serve (default: the one in models/)")
    parser.add_argument("--model-repo", default=os.environ.get("MODEL_REPO"),
                        help="serve the model of this Hugging Face Hub repo (env MODEL_REPO)")
    parser.add_argument("--host", help="address to listen on (env GRADIO_SERVER_NAME; "
                                       "default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (env GRADIO_SERVER_PORT; default 7860)")
    parser.add_argument("--share", action="store_true", help="also serve a public gradio.live link")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        model_file, assets_dir = logic.locate_model(args.model, args.model_repo)
        reader = DigitReader.from_file(model_file)
    except (ModelLoadError, HubError) as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)  # one line, no traceback
        return 1
    about = logic.describe_model(reader.model.count_params(), logic.load_metrics(assets_dir))
    demo = build_demo(reader, logic.load_samples(assets_dir), about)
    start_serving(demo, args.host, args.port, args.share)
    print(f"Serving {model_file} (ready {time.perf_counter() - STARTED:.1f} s after start)",
          flush=True)
    demo.block_thread()
    return 0


if __name__ == "__main__":
    sys.exit(main())

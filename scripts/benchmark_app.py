"""What the model and preprocessing add to a request: our app against a bare Gradio app.

    python scripts/benchmark_app.py                          # 100 requests per endpoint and app
    python scripts/benchmark_app.py --n 300 --model /tmp/candidate.keras

Both apps are built by app.build_demo, so they have the same components, endpoints, queue and
file handling; the bare one's reader returns a constant label without looking at the picture.
Both are served from this process on 127.0.0.1 and called with gradio_client, one request at a
time, alternating between the apps (and which goes first) so machine noise hits both alike.
Prints, as a markdown table, the median and 95th-percentile latency per endpoint and the ratio
ours / bare (target <= 1.15), then the model-only and preprocessing-only time per picture,
measured directly (model target <= 1 ms).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import gradio as gr
import numpy as np
from gradio_client import Client
from PIL import Image

# run as `python scripts/benchmark_app.py` from the repo root: make app and the package importable
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import app  # noqa: E402
from digit_recognizer import demo as logic  # noqa: E402
from digit_recognizer.data import load_mnist  # noqa: E402
from digit_recognizer.drawings import draw_digit  # noqa: E402
from digit_recognizer.predict import DEFAULT_MODELS_DIR, DigitReader, find_model_file  # noqa: E402
from digit_recognizer.preprocess import mnist_to_input, to_mnist  # noqa: E402

RATIO_TARGET = 1.15
MODEL_TARGET_MS = 1.0
PICTURES = 10  # distinct drawn digits, cycled through


class ConstantReader:
    """The bare app's "model": the same answer for any picture, without reading it."""

    LABELS = {"7": 0.9, "1": 0.06, "9": 0.04}
    PIXELS = np.zeros((28, 28), np.uint8)

    def read(self, source: object, k: int = 3) -> tuple[dict[str, float], np.ndarray]:
        return dict(self.LABELS), self.PIXELS


def serve(reader: logic.Reader) -> tuple[gr.Blocks, Client]:
    demo = app.build_demo(reader, [], "benchmark")
    demo.queue(default_concurrency_limit=app.CONCURRENCY, max_size=app.QUEUE_SIZE)
    _, url, _ = demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True,
                            max_file_size=logic.MAX_UPLOAD_SIZE)
    return demo, Client(url, verbose=False)


def percentile_ms(seconds: list[float], q: float) -> float:
    return 1000 * float(np.percentile(seconds, q))


def per_call_ms(fn, repeats: int) -> float:
    """Median wall time of one call, in ms, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=100, help="timed requests per endpoint and app")
    parser.add_argument("--model", type=Path, help="a .keras file (default: the one in models/)")
    args = parser.parse_args()

    reader = DigitReader.from_file(args.model or find_model_file(DEFAULT_MODELS_DIR))
    images = load_mnist()[1][0][:PICTURES]
    rng = np.random.default_rng(0)
    folder = Path(tempfile.mkdtemp(prefix="benchmark_app_"))
    pictures = []
    for i, image in enumerate(images):
        pictures.append(folder / f"drawn_{i}.png")
        Image.fromarray(draw_digit(image, rng)).save(pictures[-1])

    apps = {"ours": serve(reader), "bare": serve(ConstantReader())}
    endpoints = (logic.SKETCH_ENDPOINT, logic.UPLOAD_ENDPOINT)
    latencies = {(name, endpoint): [] for name in apps for endpoint in endpoints}
    try:
        for i in range(-5, args.n):  # five untimed rounds warm up both servers and clients
            order = list(apps) if i % 2 == 0 else list(apps)[::-1]
            for endpoint in endpoints:
                argument = logic.api_argument(endpoint, pictures[i % PICTURES])
                for name in order:
                    start = time.perf_counter()
                    apps[name][1].predict(argument, api_name=endpoint)
                    if i >= 0:
                        latencies[name, endpoint].append(time.perf_counter() - start)
    finally:
        for demo, _ in apps.values():
            demo.close()

    print(f"\n{args.n} sequential requests per endpoint and app, drawn 800x800 digits (PNG)\n")
    print("| endpoint | ours median | ours p95 | bare median | bare p95 | ratio (median) |")
    print("|---|---:|---:|---:|---:|---:|")
    for endpoint in endpoints:
        ours, bare = latencies["ours", endpoint], latencies["bare", endpoint]
        ratio = statistics.median(ours) / statistics.median(bare)
        print(f"| {endpoint} | {percentile_ms(ours, 50):.1f} ms | {percentile_ms(ours, 95):.1f} ms "
              f"| {percentile_ms(bare, 50):.1f} ms | {percentile_ms(bare, 95):.1f} ms "
              f"| {ratio:.2f} ({'ok' if ratio <= RATIO_TARGET else 'over'} {RATIO_TARGET}) |")

    batch = mnist_to_input(images[:1])
    model_ms = per_call_ms(lambda: reader.probabilities(batch), 200)
    preprocess_ms = np.median([per_call_ms(lambda p=p: to_mnist(str(p)), 5) for p in pictures])
    print(f"\nmodel only, one 28x28 input:         {model_ms:.2f} ms (target <= {MODEL_TARGET_MS} ms)")
    print(f"preprocessing only (decode + to_mnist): {preprocess_ms:.1f} ms per drawn 800x800 PNG")


if __name__ == "__main__":
    main()

"""What the model and preprocessing add to a request: our app against a bare Gradio app.

    python scripts/benchmark_app.py                          # 100 requests per endpoint and app
    python scripts/benchmark_app.py --n 300 --model /tmp/candidate.keras

Two servers run side by side, each in its own process as in production: our app
(`python app.py`) and a bare app built by the same digit_recognizer.ui.build_demo, so with the
same components,
endpoints, queue and file handling, whose reader returns a constant label without looking at
the picture. gradio_client sends them the same drawn digits, one request at a time, alternating
between the apps (and which goes first) so machine noise hits both alike. Prints a markdown
table of the median and 95th-percentile latency per endpoint and the ratio ours / bare (target
<= 1.15); then the number issue's bad inputs (200 specks, a row of 40 digits, a 20000x100
strip, a number with a letter inside: benchmarks/bad_inputs.py) through /predict_upload of both
apps, with each one's answer, our pipeline's time for it (target < 1 s of server time each)
and whether it still reads a digit afterwards; then the model-only and
preprocessing-only time per picture, measured directly in this process once the servers are
stopped (model target <= 1 ms).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
from gradio_client import Client
from gradio_client.exceptions import AppError
from PIL import Image

from benchmarks.bad_inputs import write_bad_inputs
from benchmarks.client import ENDPOINTS, api_argument, app_client
from benchmarks.drawings import draw_digit
from benchmarks.inputs import add_arguments, load_inputs
from benchmarks.serving import HOST, app_command, free_port, start_server, stop_server
from digit_recognizer import ui
from digit_recognizer.predict import DigitReader, one_thread_per_op
from digit_recognizer.preprocess import ImageInputError, mnist_to_input, to_mnist
from digit_recognizer.reading import Reading

RATIO_TARGET = 1.15
MODEL_TARGET_MS = 1.0
BAD_INPUT_TARGET_S = 1.0  # server time for each bad input (on a machine where the keras-io
# reference trains in about a minute: scale by its time, scripts/benchmark_training.py)
BAD_INPUT_ROUNDS = 5
PICTURES = 10  # distinct drawn digits, cycled through
WARM_UP = 5  # untimed rounds first: connections, caches, TensorFlow's first calls


class ConstantReader:
    """The bare app's "model": the same answer for any picture, without reading it."""

    READING = Reading(text="7", digits=[{"7": 0.9, "1": 0.06, "9": 0.04}],
                      pixels=[np.zeros((28, 28), np.uint8)], doubtful=[False],
                      top_readings={"7": 0.9, "1": 0.06, "9": 0.04})

    def read(self, source: object) -> Reading:
        return self.READING


def serve_bare(port: int) -> None:
    """The bare app's server process (this script with --serve-bare PORT)."""
    demo = ui.build_demo(ConstantReader(), [], "A bare app for benchmarks.")
    ui.start_serving(demo, HOST, port, quiet=True)
    demo.block_thread()


def timed_requests(clients: dict[str, Client], pictures: list[Path], n: int
                   ) -> dict[tuple[str, str], list[float]]:
    """Seconds per request for each (app, endpoint), interleaved as the docstring says."""
    latencies = {(name, endpoint): [] for name in clients for endpoint in ENDPOINTS}
    for i in range(-WARM_UP, n):
        order = list(clients) if i % 2 == 0 else list(clients)[::-1]
        for endpoint in ENDPOINTS:
            argument = api_argument(endpoint, pictures[i % len(pictures)])
            for name in order:
                start = time.perf_counter()
                clients[name].predict(argument, api_name=endpoint)
                if i >= 0:
                    latencies[name, endpoint].append(time.perf_counter() - start)
    return latencies


def per_call_ms(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of one call, in ms, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def print_latency_table(latencies: dict[tuple[str, str], list[float]], n: int) -> None:
    def ms(seconds: list[float], q: float) -> str:
        return f"{1000 * np.percentile(seconds, q):.1f} ms"

    print(f"\n{n} sequential requests per endpoint and app, drawn 800x800 digits (PNG)\n")
    print("| endpoint | ours median | ours p95 | bare median | bare p95 | ratio (median) |")
    print("|---|---:|---:|---:|---:|---:|")
    for endpoint in ENDPOINTS:
        ours, bare = latencies["ours", endpoint], latencies["bare", endpoint]
        ratio = statistics.median(ours) / statistics.median(bare)
        verdict = "ok" if ratio <= RATIO_TARGET else "over"
        print(f"| {endpoint} | {ms(ours, 50)} | {ms(ours, 95)} | {ms(bare, 50)} | {ms(bare, 95)} "
              f"| {ratio:.3f} ({verdict}: target <= {RATIO_TARGET}) |")


def answer(client: Client, picture: Path) -> tuple[str, float]:
    """(the reading, or the first line of the error message; seconds) for one upload."""
    start = time.perf_counter()
    try:
        text = client.predict(api_argument(ui.UPLOAD_ENDPOINT, picture),
                              api_name=ui.UPLOAD_ENDPOINT)[0]["label"]
    except AppError as exc:  # gr.Error reaches the client as an AppError: its message
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text, time.perf_counter() - start


def serve_bad_inputs(clients: dict[str, Client], bad: dict[str, Path], check: Path
                     ) -> tuple[list[tuple[str, str, float, float]], str]:
    """Each bad input through both apps, alternating: (name, our answer, our median seconds,
    the bare app's) per input; then what our app reads in a drawn digit afterwards."""
    rows = []
    for name, picture in bad.items():
        times = {"ours": [], "bare": []}
        for k in range(BAD_INPUT_ROUNDS):
            for app in (("ours", "bare") if k % 2 == 0 else ("bare", "ours")):
                text, seconds = answer(clients[app], picture)
                times[app].append(seconds)
                if app == "ours":
                    ours_text = text
        rows.append((name, ours_text, statistics.median(times["ours"]),
                     statistics.median(times["bare"])))
    still, _ = answer(clients["ours"], check)
    return rows, still


def print_bad_inputs(rows: list[tuple[str, str, float, float]], still: str,
                     reader: DigitReader, bad: dict[str, Path]) -> None:
    """The served answers and times, with our pipeline's own time for each picture
    (DigitReader.read in this process: the server's work; a refusal answers without the
    output images a reading sends, so it can come back sooner than the bare app's reading)."""
    print(f"\nBad inputs through {ui.UPLOAD_ENDPOINT} (median of {BAD_INPUT_ROUNDS})\n")
    print("| input | our answer | ours (HTTP) | bare (HTTP) | our pipeline (server time) |\n"
          "|---|---|---:|---:|---:|")
    for name, text, ours, bare in rows:
        server_s = per_call_ms(lambda: _read_quietly(reader, bad[name]), BAD_INPUT_ROUNDS) / 1000
        verdict = "ok" if server_s < BAD_INPUT_TARGET_S else "over"
        print(f"| {name} | {text[:90]} | {1000 * ours:.0f} ms | {1000 * bare:.0f} ms | "
              f"{1000 * server_s:.0f} ms ({verdict}: target < {BAD_INPUT_TARGET_S:.0f} s) |")
    print(f"\nAfter them, a drawn digit through {ui.UPLOAD_ENDPOINT} reads \"{still}\" "
          "(the server goes on)")


def _read_quietly(reader: DigitReader, picture: Path) -> None:
    try:
        reader.read(str(picture))
    except ImageInputError:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=100, help="timed requests per endpoint and app")
    add_arguments(parser)
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return

    inputs = load_inputs(parser, args)
    model, images = inputs.model_path, inputs.test[0][:PICTURES]
    folder = Path(tempfile.mkdtemp(prefix="benchmark_app_"))
    rng = np.random.default_rng(0)
    pictures = [folder / f"drawn_{i}.png" for i in range(PICTURES)]
    for image, path in zip(images, pictures):
        Image.fromarray(draw_digit(image, rng)).save(path)

    servers, clients = [], {}
    try:
        for name in ("ours", "bare"):  # one after the other: start-ups would compete for CPU
            port = free_port()
            command = (app_command(port, model) if name == "ours" else
                       [sys.executable, __file__, "--serve-bare", str(port)])
            servers.append(start_server(command, port, folder / f"{name}.log"))
            clients[name] = app_client(f"http://{HOST}:{port}/")
        latencies = timed_requests(clients, pictures, args.n)
        print_latency_table(latencies, args.n)
        bad = write_bad_inputs(folder, *inputs.test, rng)
        bad_rows, still = serve_bad_inputs(clients, bad, pictures[0])
    finally:
        for server in servers:
            stop_server(server)

    one_thread_per_op()  # the served app's setting, for its pipeline's times measured here
    reader = DigitReader.from_file(model)
    print_bad_inputs(bad_rows, still, reader, bad)
    batch = mnist_to_input(images[:1])
    model_ms = per_call_ms(lambda: reader.probabilities(batch), 200)
    preprocess_ms = statistics.median(per_call_ms(lambda p=p: to_mnist(str(p)), 5)
                                      for p in pictures)
    print(f"\nmodel only, one 28x28 input:            {model_ms:.2f} ms "
          f"(target <= {MODEL_TARGET_MS} ms)")
    print(f"preprocessing only (decode + to_mnist): {preprocess_ms:.1f} ms per drawn 800x800 PNG")


if __name__ == "__main__":
    main()

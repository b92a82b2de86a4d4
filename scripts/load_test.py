"""Load test of the served app: simultaneous users, then a long run watching the server's memory.

    python scripts/load_test.py                              # serves models/*.keras
    python scripts/load_test.py --model /tmp/candidate.keras --users 8 --requests 50 --long 1000

Starts `python app.py --port P` as a subprocess on 127.0.0.1 (so its memory is its own), then
  1. ``--users`` gradio_client clients in parallel threads, ``--requests`` each, alternating the
     two endpoints (sketch and upload) over drawn MNIST test digits of known labels: prints the
     errors (target 0), the accuracy, and the 50th/95th-percentile latency;
  2. ``--long`` sequential requests while sampling the server's resident memory (VmRSS from
     /proc/PID/status, so Linux only): prints it at the start, middle and end (growth should
     level off, not climb with every request).
Every loop is bounded in count and in time (``--time-limit`` seconds per phase).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from gradio_client import Client
from PIL import Image

from benchmarks.client import ENDPOINTS, api_argument, app_client
from benchmarks.drawings import draw_digit
from benchmarks.inputs import add_arguments, load_inputs
from benchmarks.serving import HOST, app_command, free_port, start_server, stop_server

PICTURES = 40  # distinct drawn test digits, cycled through


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024  # reported in kB
    raise RuntimeError(f"no VmRSS for process {pid}")


def read_digit(client: Client, endpoint: str, picture: Path) -> tuple[str | None, float, str]:
    """(the label read or None, seconds, error text or "")."""
    start = time.perf_counter()
    try:
        label = client.predict(api_argument(endpoint, picture), api_name=endpoint)[0]
        return label["label"], time.perf_counter() - start, ""
    except Exception as exc:  # a load test counts every kind of failure, it does not stop
        return None, time.perf_counter() - start, f"{type(exc).__name__}: {exc}"


def simultaneous_users(url: str, pictures: list[tuple[Path, int]], users: int, requests: int,
                       time_limit: float) -> None:
    deadline = time.monotonic() + time_limit

    def user(number: int) -> list[tuple[str | None, int, float, str]]:
        client = app_client(url)
        results = []
        for i in range(requests):
            if time.monotonic() > deadline:
                break
            path, label = pictures[(number * requests + i) % len(pictures)]
            read, seconds, error = read_digit(client, ENDPOINTS[(number + i) % 2], path)
            results.append((read, label, seconds, error))
        return results

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=users) as pool:
        results = [r for per_user in pool.map(user, range(users)) for r in per_user]
    wall = time.perf_counter() - start
    errors = [error for _, _, _, error in results if error]
    answered = [(read, label) for read, label, _, error in results if not error]
    latencies = [seconds for _, _, seconds, error in results if not error] or [float("nan")]
    accuracy = np.mean([read == str(label) for read, label in answered]) if answered else 0.0
    print(f"\n## {users} simultaneous users x {requests} requests, sketch and upload "
          "alternating\n")
    print("| requests | errors | accuracy | p50 latency | p95 latency | throughput |")
    print("|---:|---:|---:|---:|---:|---:|")
    p50, p95 = 1000 * np.percentile(latencies, [50, 95])
    print(f"| {len(results)} | {len(errors)} | {accuracy:.1%} | {p50:.0f} ms | {p95:.0f} ms "
          f"| {len(results) / wall:.1f} req/s |")
    for error in sorted(set(errors))[:5]:
        print(f"error: {error}")


def long_run(url: str, pid: int, pictures: list[tuple[Path, int]], count: int,
             time_limit: float) -> None:
    client = app_client(url)
    checkpoints = {0: "start", count // 2: "middle"}  # "end" is measured after the loop
    samples: dict[str, tuple[int, float]] = {}
    errors = 0
    deadline = time.monotonic() + time_limit
    done = 0
    while done < count and time.monotonic() < deadline:
        if done in checkpoints:
            samples[checkpoints[done]] = (done, rss_mb(pid))
        path, _ = pictures[done % len(pictures)]
        errors += bool(read_digit(client, ENDPOINTS[done % 2], path)[2])
        done += 1
    samples["end"] = (done, rss_mb(pid))
    print(f"\n## {done} sequential requests: server memory (VmRSS), {errors} errors\n")
    print("| point | after requests | RSS |")
    print("|---|---:|---:|")
    for point, (after, mb) in samples.items():
        print(f"| {point} | {after} | {mb:.0f} MB |")
    if done < count:
        print(f"(stopped by the {time_limit:.0f} s time limit)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add_arguments(parser)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--requests", type=int, default=50, help="per simultaneous user")
    parser.add_argument("--long", type=int, default=1000, help="sequential requests, phase 2")
    parser.add_argument("--time-limit", type=float, default=900, help="seconds per phase")
    args = parser.parse_args()

    inputs = load_inputs(parser, args)
    model, (images, labels) = inputs.model_path, inputs.test
    folder = Path(tempfile.mkdtemp(prefix="load_test_"))
    rng = np.random.default_rng(0)
    pictures = []
    for i in range(PICTURES):
        pictures.append((folder / f"drawn_{i}_{labels[i]}.png", int(labels[i])))
        Image.fromarray(draw_digit(images[i], rng)).save(pictures[-1][0])

    port = free_port()
    server = start_server(app_command(port, model), port, folder / "app.log")
    url = f"http://{HOST}:{port}/"
    try:
        print(f"app.py (pid {server.pid}) serving on {url}; log in {folder / 'app.log'}")
        simultaneous_users(url, pictures, args.users, args.requests, args.time_limit)
        long_run(url, server.pid, pictures, args.long, args.time_limit)
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()

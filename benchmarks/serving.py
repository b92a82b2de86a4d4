"""Start and stop `python app.py` as a subprocess on a free local port: one implementation for
the load test, the app benchmark and the browser tests.

    from benchmarks.serving import app_command, free_port, start_server, stop_server
    port = free_port()
    server = start_server(app_command(port), port, Path("app.log"))
    try:
        ...  # http://HOST:port/
    finally:
        stop_server(server)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]  # the checkout: app.py is its entry point, not installed
HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 300  # a cold start imports TensorFlow and Gradio: tens of seconds here
LOG_TAIL_LINES = 30  # of the server's output, in a start-up failure's message


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def app_command(port: int, model: Path | None = None) -> list[str]:
    """`python app.py` on HOST:port, serving ``model`` (default: the one in models/)."""
    command = [sys.executable, str(REPO / "app.py"), "--host", HOST, "--port", str(port)]
    return command + (["--model", str(model)] if model is not None else [])


def start_server(command: list[str], port: int, log: Path,
                 timeout_s: float = STARTUP_TIMEOUT_S) -> subprocess.Popen:
    """Run ``command``, a server on HOST:port, in the background (output to ``log``); return
    once it answers HTTP, or raise RuntimeError with the log's end if it exits or takes longer
    than ``timeout_s``."""
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}
    with log.open("w") as output:
        server = subprocess.Popen(command, cwd=REPO, env=env, stdout=output,
                                  stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"{command} exited with {server.returncode}:\n{_tail(log)}")
        try:
            # trust_env=False: a proxy from the environment must not see a loopback request
            if httpx.get(f"http://{HOST}:{port}/", timeout=5, trust_env=False).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop_server(server)
    raise RuntimeError(f"{command} did not answer within {timeout_s:.0f} s:\n{_tail(log)}")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:])

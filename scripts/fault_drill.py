"""Fault drill: a training run SIGKILLed mid-epoch and resumed ends as good as an uninterrupted one.

    python scripts/fault_drill.py --data-dir ../shared/mnist             # quick preset, ~3 min
    python scripts/fault_drill.py --data-dir ../shared/mnist --preset full

Runs scripts/train.py twice on the full training split, one after the other, in subprocesses
(as users run it), each into its own temporary directory:

1. uninterrupted;
2. killed with SIGKILL (no handler runs, as when the machine or the OOM killer stops it) once
   its backup shows it is inside epoch 2 past batch 100, checked to have left nothing but its
   backup, then continued with --resume.

Then prints a table (run | test accuracy | epochs | wall time) and the accuracy difference. Exit status 0 when the resumed run's test accuracy is within 0.2 points of
the uninterrupted run's, 1 otherwise or when a step goes wrong.

A resumed run restarts the killed epoch at its first batch and rewinds the optimiser's step
count to match, so the learning-rate schedule stays in step with the epochs.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from digit_recognizer.model_folder import BACKUP_DIRNAME, BACKUP_PROGRESS, METRICS_FILENAME

REPO = Path(__file__).resolve().parents[1]
TRAIN_SCRIPT = REPO / "scripts" / "train.py"
KILL_EPOCH = 1  # zero-based, as in the backup's progress.json: the second epoch
KILL_AFTER_BATCH = 100  # kill at the first batch-level backup at or after this batch
TOLERANCE_POINTS = 0.2  # |resumed - uninterrupted| test accuracy, in percentage points
POLL_S = 0.05
RUN_TIMEOUT_S = 3 * 3600


class DrillError(RuntimeError):
    """A step of the drill did not go as expected; the message says which."""


def train_command(preset: str, data_dir: Path | None, output_dir: Path, *extra: str) -> list[str]:
    command = [sys.executable, str(TRAIN_SCRIPT), "--preset", preset, "--output-dir",
               str(output_dir), *extra]
    return command + (["--data-dir", str(data_dir)] if data_dir else [])


def run_to_end(command: list[str], log_path: Path) -> float:
    """Run a training command to completion, logging to log_path; returns its wall time."""
    start = time.perf_counter()
    with open(log_path, "a") as log:
        status = subprocess.run(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                timeout=RUN_TIMEOUT_S).returncode
    if status != 0:
        raise DrillError(f"{' '.join(command[1:])} exited {status}; see {log_path}")
    return time.perf_counter() - start


def read_metadata(backup_dir: Path) -> dict | None:
    """The backup's progress {"epoch", "batch", ...}; None while missing (written atomically)."""
    try:
        return json.loads((backup_dir / BACKUP_PROGRESS).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def run_and_kill(command: list[str], backup_dir: Path, log_path: Path) -> tuple[float, dict]:
    """Start a training command, SIGKILL it at its first backup inside epoch KILL_EPOCH + 1 at
    or past batch KILL_AFTER_BATCH; returns (wall time until the kill, that backup's metadata)."""
    start = time.perf_counter()
    with open(log_path, "a") as log:
        process = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    try:
        while process.poll() is None:
            metadata = read_metadata(backup_dir)
            if metadata is not None and metadata["epoch"] > KILL_EPOCH:
                raise DrillError(f"the run got past epoch {KILL_EPOCH + 1} before a backup at "
                                 f"batch >= {KILL_AFTER_BATCH} (epochs too short?)")
            if (metadata is not None and metadata["epoch"] == KILL_EPOCH
                    and metadata["batch"] >= KILL_AFTER_BATCH):
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
                return time.perf_counter() - start, metadata
            if time.perf_counter() - start > RUN_TIMEOUT_S:
                raise DrillError(f"no backup past batch {KILL_AFTER_BATCH} of epoch "
                                 f"{KILL_EPOCH + 1} within {RUN_TIMEOUT_S} s")
            time.sleep(POLL_S)
        raise DrillError(f"the run exited ({process.returncode}) before it could be killed; "
                         f"see {log_path}")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def read_metrics(output_dir: Path) -> dict:
    metrics = json.loads((output_dir / METRICS_FILENAME).read_text())
    if (output_dir / BACKUP_DIRNAME).exists():
        raise DrillError(f"{output_dir / BACKUP_DIRNAME} was left behind")
    if len(metrics["history"]["loss"]) != metrics["epochs"]:
        raise DrillError(f"{output_dir}/metrics.json: {len(metrics['history']['loss'])} "
                         f"history entries for {metrics['epochs']} epochs")
    return metrics


def drill(preset: str, data_dir: Path | None, work_dir: Path) -> list[dict]:
    """Both runs; returns a row per run for the table."""
    rows = []

    plain_dir = work_dir / "uninterrupted"
    print(f"uninterrupted run into {plain_dir} ...", flush=True)
    wall = run_to_end(train_command(preset, data_dir, plain_dir), work_dir / "uninterrupted.log")
    rows.append({"run": "uninterrupted", "metrics": read_metrics(plain_dir), "wall_s": wall})

    killed_dir = work_dir / "killed"
    backup_dir = killed_dir / BACKUP_DIRNAME
    log_path = work_dir / "killed.log"
    command = train_command(preset, data_dir, killed_dir)
    print(f"run into {killed_dir}, to be killed inside epoch {KILL_EPOCH + 1} ...", flush=True)
    killed_wall, metadata = run_and_kill(command, backup_dir, log_path)
    left = sorted(p.name for p in killed_dir.iterdir())
    if left != [BACKUP_DIRNAME]:
        raise DrillError(f"the killed run left {left} in {killed_dir}, not just its backup")
    print(f"  killed after {killed_wall:.0f} s, its last backup at epoch {metadata['epoch'] + 1} "
          f"after batch {metadata['batch']}; resuming ...", flush=True)
    resumed_wall = run_to_end([*command, "--resume"], log_path)
    metrics = read_metrics(killed_dir)
    if metrics["resumed"] is not True:
        raise DrillError(f"{killed_dir}/metrics.json does not say resumed")
    rows.append({"run": f"killed at e{metadata['epoch'] + 1} b{metadata['batch']}, resumed",
                 "metrics": metrics, "wall_s": killed_wall + resumed_wall})
    return rows


def print_table(rows: list[dict]) -> float:
    """The table and the accuracy difference; returns the difference in points."""
    header = ("run", "test accuracy", "epochs", "wall time (training / process)")
    lines = [header]
    for row in rows:
        metrics = row["metrics"]
        lines.append((row["run"], f"{metrics['test_accuracy']:.2%}", str(metrics["epochs"]),
                      f"{metrics['training_wall_time_s']:.0f} s / {row['wall_s']:.0f} s"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for i, line in enumerate(lines):
        print(" | ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
        if i == 0:
            print("-+-".join("-" * width for width in widths))
    plain, resumed = (row["metrics"]["test_accuracy"] for row in rows)
    difference = (resumed - plain) * 100
    verdict = "within" if abs(difference) <= TOLERANCE_POINTS else "NOT within"
    print(f"\naccuracy difference (resumed - uninterrupted): {difference:+.2f} points, "
          f"{verdict} {TOLERANCE_POINTS} points")
    print("wall time: training = metrics.json's (without the killed session's lost part of an\n"
          "  epoch); process = the train.py processes' own, imports and evaluation included")
    return difference


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/fault_drill.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, metavar="DIR",
                        help="directory with the four MNIST files; default: as scripts/train.py")
    parser.add_argument("--preset", default="quick",
                        help="the training preset of both runs, one of scripts/train.py's "
                             "(default: quick)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fault-drill-") as work_dir:
        try:
            rows = drill(args.preset, args.data_dir, Path(work_dir))
        except (DrillError, subprocess.TimeoutExpired) as exc:
            print(f"error: {exc}", file=sys.stderr)
            for log in sorted(Path(work_dir).glob("*.log")):
                print(f"--- end of {log.name}:\n{log.read_text()[-2000:]}", file=sys.stderr)
            return 1
        print()
        difference = print_table(rows)
    return 0 if abs(difference) <= TOLERANCE_POINTS else 1


if __name__ == "__main__":
    sys.exit(main())

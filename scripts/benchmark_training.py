"""Training and inference targets, measured side by side with a reference in one run.

    python scripts/benchmark_training.py                 # reference vs --preset quick (~4 min)
    python scripts/benchmark_training.py --full          # also trains the full preset (~25 min),
                                                         # between rounds before and after it

Trains keras-io's reference CNN (Conv32/MaxPool/Conv64/MaxPool/Dense64/Dense10, Adam 1e-3,
batch 128, 5 epochs) and our presets on the same training split, then prints a table of
test accuracy and wall time of fit() as a ratio to the reference's (this machine is noisy, so
ratios measured in the same run are what count: the reference and the quick preset are
trained in alternating rounds, and the table gives medians and every round). Targets: quick
>= 99.0% in <= 0.4x the reference's time; full >= 99.70% in <= 25x the reference's time
(machines of one kind differ, so training time is budgeted as a ratio). The shipped model's
own figures are read from the metrics.json its training wrote and set against this run's
reference: run this right before and right after `python scripts/train.py` to bracket it.
Then single-image inference time of the shipped model: a traced call (what the app does, but on
TensorFlow's default threads: the app's one thread per op is timed by benchmark_app.py) vs
model.predict, target <= 1 ms (on a machine where the reference trains in about a minute).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

import keras
import numpy as np

from benchmarks.inputs import add_arguments, load_inputs
from benchmarks.reference import build_reference_model
from digit_recognizer.data import split_validation
from digit_recognizer.model_folder import load_metrics
from digit_recognizer.preprocess import mnist_to_input
from digit_recognizer.train import PRESETS, train

REFERENCE_EPOCHS = 5
QUICK_TARGET = (0.990, 0.4)  # accuracy, max time ratio to the reference
FULL_TARGET = (0.9970, 25.0)  # accuracy, max time ratio to the reference
INFERENCE_TARGET_MS = 1.0


def train_reference(fit, val, seed: int) -> tuple[keras.Model, float]:
    keras.utils.set_random_seed(seed)
    model = build_reference_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(mnist_to_input(fit[0]), fit[1], batch_size=128, epochs=REFERENCE_EPOCHS,
              validation_data=(mnist_to_input(val[0]), val[1]), verbose=0)
    return model, time.perf_counter() - start


def test_accuracy(model: keras.Model, x_test: np.ndarray, y_test: np.ndarray) -> float:
    probabilities = model.predict(mnist_to_input(x_test), batch_size=1024, verbose=0)
    return float((probabilities.argmax(axis=1) == y_test).mean())


def single_image_ms(call, x: np.ndarray, repeats: int) -> float:
    call(x)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call(x)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true",
                        help="also train the full preset, bracketed: half the rounds (rounded up) "
                             "before it, the rest (at least one) after it")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of reference then quick preset; the table gives medians")
    parser.add_argument("--seed", type=int, default=42)
    add_arguments(parser)  # --model: the one whose inference is timed
    args = parser.parse_args(argv)

    model_path, reader, (x_train, y_train), (x_test, y_test) = load_inputs(parser, args,
                                                                           reader=True)
    fit, val = split_validation(x_train, y_train, PRESETS["quick"].validation_size, args.seed)

    def train_preset(name: str) -> tuple[float, float]:
        with tempfile.TemporaryDirectory() as backup:
            result = train(PRESETS[name], fit, val, backup_dir=backup, verbose=0)
        return test_accuracy(result.model, x_test, y_test), result.wall_time_s

    # rounds alternate reference and quick, so that a slow spell of this machine hits both; the
    # full preset runs between rounds, so that the reference is measured before and after it
    runs: dict[str, list[tuple[float, float]]] = {"reference": [], "quick": []}

    def one_round() -> None:
        reference, reference_s = train_reference(fit, val, args.seed)
        runs["reference"].append((test_accuracy(reference, x_test, y_test), reference_s))
        runs["quick"].append(train_preset("quick"))

    before = -(-args.rounds // 2) if args.full else args.rounds
    for _ in range(before):
        one_round()
    if args.full:
        runs["full"] = [train_preset("full")]
        for _ in range(max(1, args.rounds - before)):
            one_round()

    reference_s = float(np.median([s for _, s in runs["reference"]]))
    targets = {"quick": lambda acc, s: acc >= QUICK_TARGET[0] and s / reference_s <= QUICK_TARGET[1],
               "full": lambda acc, s: acc >= FULL_TARGET[0] and s / reference_s <= FULL_TARGET[1]}
    names = {"reference": "reference (keras-io convnet, 5 epochs)",
             **{name: f"preset {name} ({PRESETS[name].epochs} epochs)" for name in PRESETS}}
    print("\n| run | test accuracy | fit wall time (median) | ratio to reference | "
          "each round | target met |")
    print("|---|---|---|---|---|---|")
    for name, results in runs.items():
        accuracy = float(np.median([a for a, _ in results]))
        seconds = float(np.median([s for _, s in results]))
        rounds = ", ".join(f"{s:.1f} s" for _, s in results)
        met = "-" if name not in targets else "yes" if targets[name](accuracy, seconds) else "NO"
        print(f"| {names[name]} | {accuracy:.2%} | {seconds:.1f} s | {seconds / reference_s:.2f}x "
              f"| {rounds} | {met} |")
    print(f"targets: quick >= {QUICK_TARGET[0]:.1%} in <= {QUICK_TARGET[1]}x the reference; "
          f"full >= {FULL_TARGET[0]:.2%} in <= {FULL_TARGET[1]:.0f}x the reference")
    if args.full:
        full_s = runs["full"][0][1]
        sides = {"before": runs["reference"][:before], "after": runs["reference"][before:]}
        print("full preset against the reference rounds " + ", ".join(
            f"{side} it: {full_s / np.median([s for _, s in side_runs]):.1f}x"
            for side, side_runs in sides.items()))

    shipped = load_metrics(model_path.parent)  # what the model's own training run recorded
    if shipped:
        accuracy, seconds = shipped["test_accuracy"], shipped["training_wall_time_s"]
        met = targets["full"](accuracy, seconds)
        print(f"\nshipped model, as its training run recorded it ({model_path.parent}/metrics.json, "
              f"`{shipped['command']}`): {accuracy:.2%} test accuracy, {seconds:.0f} s of "
              f"training = {seconds / reference_s:.1f}x this run's reference, full target met: "
              f"{'yes' if met else 'NO'}")
    one = mnist_to_input(x_test[:1])
    traced_ms = single_image_ms(reader.probabilities, one, 300)
    predict_ms = single_image_ms(lambda x: reader.model.predict(x, verbose=0), one, 30)
    print(f"\n| single-image inference ({model_path.name}) | median ms | target |")
    print("|---|---|---|")
    # TensorFlow's thread pools are fixed by the training above: the app's one thread per op
    # (a little faster) is measured by benchmark_app.py's "model only" line
    print(f"| traced call (the app's, on TensorFlow's default threads) | {traced_ms:.2f} | "
          f"<= {INFERENCE_TARGET_MS} ms: "
          f"{'yes' if traced_ms <= INFERENCE_TARGET_MS else 'NO'} |")
    print(f"| model.predict (for comparison) | {predict_ms:.2f} | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

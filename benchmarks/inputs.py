"""The benchmarks' shared start: the model to measure and MNIST, or one line saying what is
missing, before any minutes of work.

    parser = argparse.ArgumentParser()
    add_arguments(parser)                        # --model FILE, --data-dir DIR (threshold=True:
                                                 # --threshold P for the reader too)
    args = parser.parse_args()
    inputs = load_inputs(parser, args, reader=True)
    inputs.model_path, inputs.reader, inputs.test   # (x_test, y_test)
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from digit_recognizer.data import MnistError, load_mnist
from digit_recognizer.model_folder import ModelLoadError, find_model_file

if TYPE_CHECKING:
    from digit_recognizer.predict import DigitReader


class Inputs(NamedTuple):
    model_path: Path
    reader: DigitReader | None  # when asked for: the model loaded, traced and ready
    train: tuple[np.ndarray, np.ndarray]  # MNIST's (images, labels)
    test: tuple[np.ndarray, np.ndarray]


def add_arguments(parser: argparse.ArgumentParser, threshold: bool = False) -> None:
    """The benchmarks' common flags: ``--model`` and ``--data-dir``, and ``--threshold`` for
    those that read pictures as the app does (``threshold``)."""
    parser.add_argument("--model", type=Path, help="a .keras model file (default: the one in "
                                                   "models/)")
    parser.add_argument("--data-dir", help="directory of the MNIST files (else MNIST_DIR, cache)")
    if threshold:
        parser.add_argument("--threshold", type=float, default=None,
                            help='refuse a picture or position whose p("not a digit") reaches '
                                 "this (default: the model's calibrated threshold from its "
                                 "metrics.json, as the app uses)")


def load_inputs(parser: argparse.ArgumentParser, args: argparse.Namespace,
                reader: bool = False) -> Inputs:
    """``args.model`` (else the one in models/), loaded into a DigitReader if ``reader``, and
    MNIST from ``args.data_dir``. A missing or broken model, or no MNIST (offline, no copy),
    exits with status 1 and one line ``error: ...`` instead of a traceback."""
    try:
        model_path = args.model or find_model_file()
        digit_reader = None
        if reader:
            from digit_recognizer.predict import DigitReader  # TensorFlow: only when asked for

            digit_reader = DigitReader.from_file(model_path, getattr(args, "threshold", None))
        train, test = load_mnist(args.data_dir)
    except (ModelLoadError, MnistError) as exc:
        parser.exit(1, f"error: {exc}\n")
    return Inputs(model_path, digit_reader, train, test)

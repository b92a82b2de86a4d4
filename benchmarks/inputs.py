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
from digit_recognizer.model_folder import (ModelLoadError, calibration_source, find_model_file,
                                           load_metrics)

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
    MNIST from ``args.data_dir``. A missing or broken model, a model trained on the validation
    digits asked to be measured on them (``args.split``), or no MNIST (offline, no copy),
    exits with status 1 and one line ``error: ...`` instead of a traceback."""
    try:
        model_path = args.model or find_model_file()
        if getattr(args, "split", None) == "validation" and (seen := validation_seen(model_path)):
            parser.exit(1, f"error: {seen}\n")
        digit_reader = None
        if reader:
            from digit_recognizer.predict import DigitReader  # TensorFlow: only when asked for

            digit_reader = DigitReader.from_file(model_path, getattr(args, "threshold", None))
        train, test = load_mnist(args.data_dir)
    except (ModelLoadError, MnistError) as exc:
        parser.exit(1, f"error: {exc}\n")
    return Inputs(model_path, digit_reader, train, test)


def validation_seen(model_path: Path) -> str | None:
    """Why the validation split measures nothing of the model in ``model_path`` (it was trained
    on those digits too: a run on all of them, ``scripts/train.py --calibration-from``), or
    None. The run it took its calibration from held them out: measure that one."""
    source = calibration_source(load_metrics(Path(model_path).parent).get("calibration") or {})
    return source and (f"{model_path} was trained on the validation digits too: pass --model "
                       f"the model of the run that held them out ({source})")

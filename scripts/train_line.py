"""Train the line reader (digit_recognizer.line) and put it beside a digit model.

    python scripts/train_line.py                          # the shipped one, into models/line/
    python scripts/train_line.py --numbers 200 --epochs 1 --limit 500 --output-dir runs/x  # smoke

Writes OUTPUT_DIR/line/line_reader.keras and line_reader.json (this command, the settings,
the validation numbers read exactly, the time). The app's reader uses it when it is there
(digit_recognizer.predict): a number it reads otherwise than the segmenter, and finds far
likelier, is read its way (reading.prefer_line). Numbers are written from MNIST's training
digits outside the validation split (the full preset's), and judged on numbers written from
the validation split's digits.

Exit status: 0 done; 1 data problem (one line on stderr); 2 bad command line.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from digit_recognizer import data, model_folder
from digit_recognizer.train_line import LineTrainConfig, train_line_model  # no TensorFlow yet


def build_parser() -> argparse.ArgumentParser:
    defaults = LineTrainConfig()
    parser = argparse.ArgumentParser(prog="scripts/train_line.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, metavar="DIR",
                        help=f"directory with the four MNIST files; default: the "
                             f"{data.ENV_DATA_DIR} environment variable, else the per-user cache")
    parser.add_argument("--output-dir", type=Path, default=Path("models"), metavar="DIR",
                        help="the model folder the line reader goes into (default: models)")
    for name, help_text in (("numbers", "synthetic training numbers"),
                            ("validation_numbers", "numbers judged on"),
                            ("letters", "letters, signs and marks drawn to write into numbers"),
                            ("epochs", "passes over the training numbers"),
                            ("seed", "numbers written, weights, batch order")):
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, metavar="N",
                            default=getattr(defaults, name),
                            help=f"{help_text} (default: {getattr(defaults, name)})")
    parser.add_argument("--limit", type=int, metavar="N",
                        help="write training numbers from only the first N digits of the fit "
                             "split, for smoke runs and tests")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    command = shlex.join(["python", os.path.relpath(__file__), *argv])
    try:
        (x_train, y_train), _ = data.load_mnist(args.data_dir)
    except data.MnistError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    from digit_recognizer.train import PRESETS

    config = LineTrainConfig(**{name: getattr(args, name) for name in (
        "numbers", "validation_numbers", "letters", "epochs", "seed")})
    full = PRESETS["full"]  # the digits the shipped digit model is calibrated on stay unseen
    fit_data, val_data = data.split_validation(x_train, y_train, full.validation_size, full.seed)
    if args.limit:
        fit_data = (fit_data[0][:args.limit], fit_data[1][:args.limit])
    result = train_line_model(config, fit_data, val_data)
    path = model_folder.save_line_model(result.model, args.output_dir, {
        "command": command,
        "config": dataclasses.asdict(config),
        "fit_digits": len(fit_data[0]),
        "validation_exact": round(result.validation_exact, 4),
        "history": result.history,
        "training_wall_time_s": round(result.wall_time_s, 1),
        "num_parameters": result.model.count_params(),
        "versions": model_folder.library_versions(),
    })
    print(f"validation numbers read exactly: {result.validation_exact:.1%} "
          f"({result.wall_time_s:.0f} s); line reader: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Train the digit CNN, evaluate it on the MNIST test set, write the results, optionally publish.

    python scripts/train.py --output-dir runs/full             # the recipe, 5,000 digits held out
    python scripts/train.py --calibration-from runs/full       # the same on all: the shipped model
    python scripts/train.py --preset quick --output-dir runs/quick
    python scripts/train.py --epochs 40 --seed 7               # override parts of the preset
    python scripts/train.py --pen-share 0.5 --output-dir runs/pen50  # ... or its training data
    python scripts/train.py --preset quick --limit 2000        # smoke run on 2000 training images
    python scripts/train.py --push-to-hub USER/digit-recognizer [--private]

Writes into --output-dir: digit_cnn.keras (the inference model, without optimizer state),
metrics.json (test metrics, configuration, command line, library versions, data checksums),
plots, samples/ and a model card (README.md).

Interrupted runs: training keeps a backup of its state in OUTPUT_DIR/.backup as it goes (see
digit_recognizer.train and digit_recognizer.resume). --resume continues from it, after checking that the configuration is
the one the backup was made with. Without --resume an existing backup is an error, and so is
--resume without one: runs are never silently mixed nor silently restarted. To start afresh,
delete OUTPUT_DIR/.backup.

--limit N fits on only the first N images of the training split (the validation split and
the test set stay whole, so the numbers stay comparable): for smoke runs and tests.

--calibration-from DIR trains on all 60,000 training images, with no validation split, and
takes the temperature and the "not a digit" threshold from the run in DIR (its metrics.json):
a run with the same settings and a validation split, which fitted them there. Choose the
recipe on that run's validation figures; this one has none of its own.

Exit status: 0 done; 1 data, backup or Hub problem (one line on stderr); 2 bad command line;
130 interrupted (Ctrl-C; the backup is kept for --resume).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

# light: no TensorFlow, so that --help and the checks answer at once
from digit_recognizer import data, hub, model_folder, resume
from digit_recognizer.resume import RunError

if TYPE_CHECKING:
    from huggingface_hub import HfApi

# The keys of digit_recognizer.train.PRESETS, repeated here so that --help and argument errors
# answer at once instead of after the seconds TensorFlow takes to import (a test keeps the two
# in step).
PRESET_NAMES = ("full", "quick")
STRATEGIES = ("default", "mirrored", "multi-worker")  # see digit_recognizer.train.make_strategy
Number = TypeVar("Number", int, float)


def _checked(convert: Callable[[str], Number], kind: str, is_valid: Callable[[Number], bool],
             requirement: str) -> Callable[[str], Number]:
    """An argparse ``type=``: converts, then validates, with a message naming the problem."""
    def parse(text: str) -> Number:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind}") from None
        if not is_valid(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not {requirement}")
        return value

    return parse


positive_int = _checked(int, "an integer", lambda value: value > 0, "positive")
positive_float = _checked(float, "a number", lambda value: value > 0, "positive")  # NaN fails too
share = _checked(float, "a number", lambda value: 0 <= value <= 1, "between 0 and 1")
# NumPy's legacy seeding, which keras.utils.set_random_seed calls, takes [0, 2**32)
seed_int = _checked(int, "an integer", lambda value: 0 <= value < 2**32,
                    "between 0 and 4294967295")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scripts/train.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, metavar="DIR",
                        help=f"directory with the four MNIST files (.gz or raw); default: the "
                             f"{data.ENV_DATA_DIR} environment variable, else the per-user cache "
                             f"(downloaded on first use)")
    parser.add_argument("--output-dir", type=Path, default=Path("models"), metavar="DIR",
                        help="where the model, metrics, plots and model card go (default: models)")
    parser.add_argument("--preset", choices=PRESET_NAMES, default="full",
                        help="full: the shipped model; quick: a small model in a minute or so "
                             "(default: full)")
    parser.add_argument("--epochs", type=positive_int, metavar="N",
                        help="override the preset's epochs")
    parser.add_argument("--batch-size", type=positive_int, metavar="N",
                        help="override the preset's batch size")
    parser.add_argument("--learning-rate", type=positive_float, metavar="LR",
                        help="override the preset's peak learning rate")
    parser.add_argument("--seed", type=seed_int, metavar="N",
                        help="override the preset's seed (weights, shuffling, augmentation, "
                             "validation split)")
    parser.add_argument("--pen-share", type=share, metavar="S",
                        help="override the share of the training digits redrawn with a pen")
    parser.add_argument("--continental-pen-share", type=share, metavar="S",
                        help="override the share of the continental variants redrawn with a pen "
                             "(default: as --pen-share)")
    parser.add_argument("--resume", action="store_true",
                        help=f"continue the interrupted run backed up in "
                             f"OUTPUT_DIR/{model_folder.BACKUP_DIRNAME}, with the same settings")
    parser.add_argument("--strategy", choices=STRATEGIES, default="default",
                        help="tf.distribute strategy: one device, all local GPUs, or the hosts "
                             "in TF_CONFIG (default: default)")
    parser.add_argument("--push-to-hub", metavar="REPO_ID",
                        help="upload OUTPUT_DIR to this Hugging Face model repo (NAME or "
                             "USER/NAME) when done; needs `hf auth login` or HF_TOKEN")
    parser.add_argument("--private", action="store_true",
                        help="create the Hub repo as private (with --push-to-hub)")
    parser.add_argument("--calibration-from", type=Path, metavar="DIR",
                        help="train on all the training images (no validation split), with the "
                             "temperature and threshold of the run in DIR: the same settings, "
                             "with a validation split")
    parser.add_argument("--limit", type=positive_int, metavar="N",
                        help="fit on only the first N images of the training split, for smoke "
                             "runs and tests (validation and test sets stay whole)")
    parser.add_argument("--verbose", action="store_true",
                        help="a progress bar per batch, not just a line per epoch")
    return parser


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.private and not args.push_to_hub:
        parser.error("--private needs --push-to-hub REPO_ID")
    if args.calibration_from and args.calibration_from.resolve() == args.output_dir.resolve():
        parser.error("--calibration-from DIR is also the --output-dir: the run would overwrite "
                     "the calibration it takes")
    return args


def main(argv: Sequence[str] | None = None, hf_api: HfApi | None = None) -> int:
    """Run the command line; returns the exit status. ``hf_api`` replaces the Hub client (tests)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    command = shlex.join(["python", os.path.relpath(__file__), *argv])
    try:
        run(args, command, hf_api)
    except (data.MnistError, hub.HubError, RunError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        backup_dir = resume.backup_dir_of(args.output_dir)
        hint = f": pass --resume to continue from {backup_dir}" if backup_dir.exists() else ""
        print(f"\ninterrupted{hint}", file=sys.stderr)
        return 130
    return 0


def calibration_of_run(folder: Path, config: dict, limit: int | None, train_images: int
                       ) -> dict:
    """The temperature and threshold the run in ``folder`` fitted on its validation split, for
    a run of ``config`` (its ``validation_size`` 0) on all ``train_images`` training images,
    or the first ``limit``: that run must have had the same settings, but for the validation
    split (RunError otherwise). Recorded with the run they come from ("from")."""
    metrics = model_folder.load_metrics(folder)
    if not metrics:
        raise RunError(f"--calibration-from: no run in {folder} (no readable "
                       f"{model_folder.METRICS_FILENAME})")
    calibration = metrics.get("calibration") or {}
    their_config = metrics.get("config") or {}
    if model_folder.calibration_source(calibration) or not their_config.get("validation_size"):
        raise RunError(f"--calibration-from: the run in {folder} held no validation split out, "
                       f"so it fitted no calibration of its own")
    if "temperature" not in calibration or "not_a_digit_threshold" not in calibration:
        raise RunError(f"--calibration-from: the run in {folder} recorded no calibration")
    # runs before "limit" was recorded: a limit is what fell short of the whole fit split
    fit_images = train_images - their_config["validation_size"]
    their_limit = metrics.get("limit", None if metrics.get("training_images") == fit_images
                              else metrics.get("training_images"))
    theirs = {"config": {**their_config, "validation_size": config["validation_size"]},
              "limit": their_limit}
    differing = resume.differing_settings(theirs, {"config": config, "limit": limit})
    if differing:
        raise RunError(f"--calibration-from: the run in {folder} had other settings "
                       f"({', '.join(differing)}): its calibration does not fit this run")
    # "validation" stays: what they did on the validation split of the run "from" names
    return {**calibration, "from": {"run": str(folder), "command": metrics.get("command")}}


def run(args: argparse.Namespace, command: str, hf_api: HfApi | None) -> None:
    """Everything after argument parsing; raises MnistError, HubError or RunError to stop."""
    # checks that fail fast come before the seconds of imports and the minutes of training
    if args.push_to_hub:
        hub.check_ready_to_push(args.push_to_hub, hf_api)
    backup_dir = resume.backup_dir_of(args.output_dir)
    resume.check_backup_state(backup_dir, args.resume)
    (x_train, y_train), (x_test, y_test) = data.load_mnist(args.data_dir)

    from digit_recognizer.calibration import as_answered  # TensorFlow from here on
    from digit_recognizer.evaluate import evaluate
    from digit_recognizer.train import PRESETS, train

    config = dataclasses.replace(PRESETS[args.preset], **{
        name: value for name in ("epochs", "batch_size", "learning_rate", "seed", "pen_share",
                                 "continental_pen_share")
        if (value := getattr(args, name)) is not None})
    calibration = None
    if args.calibration_from:
        config = dataclasses.replace(config, validation_size=0)
        calibration = calibration_of_run(args.calibration_from, dataclasses.asdict(config),
                                         args.limit, len(x_train))
    config_dict = dataclasses.asdict(config)
    resume.start_or_resume(backup_dir, {"config": config_dict, "limit": args.limit,
                                        "strategy": args.strategy,
                                        "calibration_from": args.calibration_from
                                        and str(args.calibration_from)}, command, args.resume)

    (x_fit, y_fit), val_data = data.split_validation(x_train, y_train,
                                                     n_val=config.validation_size, seed=config.seed)
    fit_data = (x_fit[:args.limit], y_fit[:args.limit])
    result = train(config, fit_data, val_data if config.validation_size else None,
                   backup_dir=backup_dir, strategy=args.strategy,
                   verbose=1 if args.verbose else 0, calibration=calibration)

    model_path = model_folder.save_model(result.model, args.output_dir)
    threshold = result.calibration["not_a_digit_threshold"]
    metrics, probabilities = evaluate(result.model, x_test, y_test, threshold)
    run_info = {
        "command": command,
        "preset": args.preset,
        "seed": config.seed,
        "config": config_dict,
        "epochs": config.epochs,
        "resumed": args.resume,  # history and wall time still cover the whole run
        "history": result.history,
        "limit": args.limit,  # --limit: fitted on the first N images of the training split
        "training_images": len(fit_data[0]),
        "training_wall_time_s": round(result.wall_time_s, 1),
        # temperature and threshold, fitted on validation (or "from" an earlier run's)
        "calibration": result.calibration,
        "num_parameters": result.model.count_params(),
        "outputs": result.model.output_shape[-1],  # 11, or 12 with "several digits"
        "versions": model_folder.library_versions(),
        "data_sha256": {spec.name: spec.sha256 for spec in data.FILES.values()},  # verified on load
    }
    # the plots and the gallery show what the app answers: a digit, or "not a digit" (10)
    answered = as_answered(probabilities, threshold)
    model_folder.write_artifacts(args.output_dir, metrics=metrics, probabilities=answered,
                                 x_test=x_test, y_test=y_test, history=result.history,
                                 run_info=run_info, repo_id=args.push_to_hub)

    epochs = f"{config.epochs} epoch{'s' if config.epochs > 1 else ''}"
    print(f"test accuracy {metrics['test_accuracy']:.2%} ({metrics['test_refused']:.2%} refused, "
          f"ECE {metrics['test_ece']:.2%}) after {epochs} "
          f"({result.wall_time_s:.0f} s of training{', resumed' if args.resume else ''})")
    print(f"model: {model_path}; metrics, plots and model card: {args.output_dir}/")
    if args.push_to_hub:
        url = hub.push_to_hub(args.output_dir, args.push_to_hub, private=args.private, api=hf_api)
        print(f"uploaded to {url}")


if __name__ == "__main__":
    sys.exit(main())

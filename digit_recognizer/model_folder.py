"""The model folder: what a training run writes and the app serves, laid out, read and written here.

    from digit_recognizer import model_folder
    model_folder.save_model(result.model, "models")              # models/digit_cnn.keras
    model_folder.write_artifacts("models", metrics=metrics, probabilities=probabilities,
                                 x_test=x_test, y_test=y_test, history=result.history,
                                 run_info={"command": ..., ...})
    model_file, folder = model_folder.locate_model()             # or a file, or a Hub repo
    model = model_folder.load_model(model_file)                  # Keras' safe mode
    metrics, samples = model_folder.load_metrics(folder), model_folder.load_samples(folder)

The layout (every name is a constant below):
    digit_cnn.keras         the inference model (stock Keras layers, no optimizer state)
    metrics.json            test metrics merged with the run's info, pretty-printed
    training_curves.png     accuracy, loss (and learning rate) per epoch    } digit_recognizer
    confusion_matrix.png    annotated counts, rows true, columns predicted  } .plots draws
    test_predictions.png    15 test digits, mistakes in red                 } these
    worst_mistakes.png      the most confident mistakes with their top-3 probabilities
    samples/                ~40 test digits as 28x28 PNGs for the app's gallery, and
    samples/samples.json    [{"file", "label", "prediction", "confidence", "test_index"}],
                            "file" relative to samples/ (the list and the PNGs are swapped in
                            together, so they always match)
    README.md               the Hugging Face model card (model_card_template.md, rendered)
    line/line_reader.keras  the line reader (optional; scripts/train_line.py): numbers read
    line/line_reader.json   whole, a second opinion beside the segmenter; how it was trained
    .backup/                an unfinished run's state, and run.json, its settings
                            (digit_recognizer.resume); deleted when the run ends

Every file is written under a hidden temporary name in its final directory and renamed into
place, so a reader (the app, a Hub upload, a person) sees the old file or the new one, never
half of one; a killed process leaves at most a hidden ``.*.tmp*`` entry, which
``digit_recognizer.hub`` does not upload.

Light to import (no TensorFlow, no matplotlib until a function needs them): the app and the
training command line read it before their heavy imports.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from huggingface_hub import EvalResult, ModelCard, ModelCardData
from PIL import Image

from digit_recognizer.files import atomic_directory, atomic_path, atomic_write_bytes
from digit_recognizer.hub import HubError, download_file

if TYPE_CHECKING:
    import keras

MODEL_FILENAME = "digit_cnn.keras"  # the one model file training writes and the app loads
LINE_MODEL_PATH = Path("line") / "line_reader.keras"  # the line reader (optional), in its own
# folder so that the folder's one *.keras file stays the digit model
LINE_RECORD_PATH = Path("line") / "line_reader.json"  # how it was trained, and its figures
METRICS_FILENAME = "metrics.json"
CURVES_FILENAME = "training_curves.png"
CONFUSION_FILENAME = "confusion_matrix.png"
PREDICTIONS_FILENAME = "test_predictions.png"
MISTAKES_FILENAME = "worst_mistakes.png"
SAMPLES_DIRNAME = "samples"  # the app's gallery digits
SAMPLES_INDEX = "samples.json"  # inside SAMPLES_DIRNAME
CARD_FILENAME = "README.md"  # the name the Hub shows as the model card
BACKUP_DIRNAME = ".backup"  # hidden, so Hub uploads skip it
RUN_FILENAME = "run.json"  # in BACKUP_DIRNAME: the settings an interrupted run must resume with
BACKUP_WEIGHTS = "checkpoint.weights.h5"  # in BACKUP_DIRNAME: weights and optimiser state
BACKUP_PROGRESS = "progress.json"  # in BACKUP_DIRNAME: {"epoch", "batch", "history", "wall_time_s"}
CARD_TEMPLATE = Path(__file__).with_name("model_card_template.md")  # package data

DEFAULT_MODELS_DIR = Path(__file__).resolve().parents[1] / "models"  # the checkout's model
TRAIN_HINT = "Train one with `python scripts/train.py` (or `--preset quick` for a fast one)."
GRID_SHAPE = (3, 5)  # test_predictions.png
GRID_MISTAKES = 3  # of the grid's 15 digits, at least this many are mistakes when there are any
NUM_SAMPLES = 40  # digits in samples/
SAMPLE_MISTAKES = 6  # of which mistakes, when there are any


class ModelLoadError(RuntimeError):
    """The model file is missing, corrupt, or refused by Keras' safe mode."""


# ------------------------------------------------------------------------------ the model
def find_model_file(models_dir: str | os.PathLike = DEFAULT_MODELS_DIR) -> Path:
    """The one ``.keras`` file in ``models_dir``.

        find_model_file("runs/quick")   # Path("runs/quick/digit_cnn.keras"), or ModelLoadError
    """
    models_dir = Path(models_dir)
    # hidden files are temporaries of an interrupted save, never a model to serve
    candidates = sorted(p for p in models_dir.glob("*.keras") if not p.name.startswith("."))
    if not candidates:
        raise ModelLoadError(f"No model (*.keras) in {models_dir}. {TRAIN_HINT}")
    if len(candidates) > 1:
        names = ", ".join(p.name for p in candidates)
        raise ModelLoadError(f"Several models in {models_dir} ({names}): keep one, or pass the file.")
    return candidates[0]


def load_model(path: str | os.PathLike) -> keras.Model:
    """Load a ``.keras`` file in Keras' safe mode (a downloaded model is untrusted input).

        model = load_model("models/digit_cnn.keras")   # ModelLoadError, with what to do, if not
    """
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"Model file {path} does not exist. {TRAIN_HINT}")
    model = _load_safely(path, "model", TRAIN_HINT)
    # the ten digits' probabilities first; the class count itself is the model's to say
    outputs = tuple(model.output_shape[1:])
    if tuple(model.input_shape[1:]) != (28, 28, 1) or len(outputs) != 1 or outputs[0] < 10:
        raise ModelLoadError(f"Model {path} maps {model.input_shape} -> {model.output_shape}; "
                             "expected (None, 28, 28, 1) -> (None, 10 or more classes).")
    return model


def library_versions() -> dict[str, str]:
    """The versions a model was trained with, for its record."""
    import huggingface_hub
    import keras
    import numpy
    import tensorflow

    return {"python": platform.python_version(), "tensorflow": tensorflow.__version__,
            "keras": keras.__version__, "numpy": numpy.__version__,
            "huggingface_hub": huggingface_hub.__version__}


def load_line_model(folder: str | os.PathLike) -> keras.Model | None:
    """The line reader beside a digit model in ``folder`` (LINE_MODEL_PATH), in safe mode;
    None when there is none (a reader without it reads numbers by segmentation alone)."""
    path = Path(folder) / LINE_MODEL_PATH
    if not path.is_file():
        return None
    model = _load_safely(path, "the line reader", "Delete it to read numbers without it, or "
                         "retrain it with `python scripts/train_line.py`.")
    from digit_recognizer.line import BLANK, STRIP_HEIGHT

    if tuple(model.input_shape[1:]) != (STRIP_HEIGHT, None, 1) or model.output_shape[-1] != BLANK + 1:
        raise ModelLoadError(f"Line reader {path} maps {model.input_shape} -> "
                             f"{model.output_shape}; expected (None, {STRIP_HEIGHT}, None, 1) "
                             f"-> (None, None, {BLANK + 1}).")
    return model


def save_line_model(model: keras.Model, folder: str | os.PathLike, record: Mapping[str, Any]
                    ) -> Path:
    """Save the line reader and its record (command, figures) into ``folder``/line/,
    atomically, beside whatever digit model is there."""
    path = _save_atomically(model, Path(folder) / LINE_MODEL_PATH)
    _write_json(Path(folder) / LINE_RECORD_PATH, dict(record))
    return path


def save_model(model: keras.Model, folder: str | os.PathLike) -> Path:
    """Save ``model`` as ``folder/digit_cnn.keras``, atomically: a reader (the app, a Hub
    upload) sees the old file or the new one, never half of one. Pass the inference model
    (``TrainResult.model``: stock layers, not compiled), so that no optimizer state ships.

        path = save_model(result.model, "models")
    """
    return _save_atomically(model, Path(folder) / MODEL_FILENAME)


def _load_safely(path: Path, what: str, hint: str) -> keras.Model:
    """``keras.saving.load_model`` in safe mode, uncompiled; ModelLoadError (with ``hint``:
    what to do) if it cannot be loaded."""
    import keras  # here, not at the top: reading metrics and samples needs no TensorFlow

    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises ValueError, OSError, zipfile errors, ... here
        raise ModelLoadError(f"Cannot load {what} {path}: {str(exc).rstrip('.')}. It is "
                             f"corrupt, unsafe (safe mode refuses code in models) or not a "
                             f"Keras model. {hint}") from exc


def _save_atomically(model: keras.Model, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        model.save(tmp)
    return path


def locate_model(model_file: str | os.PathLike | None = None, model_repo: str | None = None,
                 models_dir: str | os.PathLike = DEFAULT_MODELS_DIR) -> tuple[Path, Path]:
    """The model to serve and the folder of its metrics.json and samples/: ``model_file`` if
    given, else ``model_repo``'s on the Hugging Face Hub, else the one ``models_dir/*.keras``.

        model_file, folder = locate_model(model_repo="user/digit-recognizer")

    Raises ModelLoadError (no model) or hub.HubError (download failed)."""
    if model_file is not None:
        path = Path(model_file)
        return path, path.parent
    if model_repo:
        return _download_from_hub(model_repo)
    return find_model_file(models_dir), Path(models_dir)


def _download_from_hub(repo_id: str) -> tuple[Path, Path]:
    """The model and, when the repo has them, its metrics, line reader and gallery digits: Hub
    downloads of one repo land side by side in one snapshot folder, laid out as in the repo."""
    model_path = download_file(repo_id, MODEL_FILENAME)
    snapshot = model_path.parent

    def fetch(filename: str) -> Path | None:
        try:
            return download_file(repo_id, filename)
        except HubError as exc:  # an older or partial repo: serve the model without extras
            print(f"warning: {exc}", file=sys.stderr)
            return None

    fetch(METRICS_FILENAME)
    fetch(LINE_MODEL_PATH.as_posix())  # the line reader, where the repo has one
    index = fetch(f"{SAMPLES_DIRNAME}/{SAMPLES_INDEX}")
    if index is not None:
        names = [entry["file"] for entry in _read_sample_entries(index)]
        with ThreadPoolExecutor(max_workers=8) as pool:  # ~40 small files: don't wait on each
            list(pool.map(fetch, [f"{SAMPLES_DIRNAME}/{name}" for name in names]))
    return model_path, snapshot


# ---------------------------------------------------------------------- metrics.json
def load_metrics(folder: str | os.PathLike) -> dict[str, Any]:
    """metrics.json of a model folder, or {} when it is missing or unreadable.

        load_metrics("models").get("test_accuracy")   # 0.9963
    """
    path = Path(folder) / METRICS_FILENAME
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        print(f"warning: ignoring {path}: {exc}", file=sys.stderr)
        return {}
    return metrics if isinstance(metrics, dict) else {}


def not_a_digit_threshold(folder: str | os.PathLike) -> float | None:
    """The refusal threshold training fitted for the model in ``folder`` (metrics.json's
    "calibration"), or None when it has none (an older model, or none recorded)."""
    calibration = load_metrics(folder).get("calibration")
    value = calibration.get("not_a_digit_threshold") if isinstance(calibration, dict) else None
    return float(value) if isinstance(value, (int, float)) else None


def calibration_source(calibration: Mapping[str, Any]) -> str | None:
    """For a run on all the training digits (``scripts/train.py --calibration-from``), which
    took this ``calibration`` (metrics.json's) from an earlier run that held a validation split
    out: that run's command (else its folder). None for a calibration a run fitted itself.
    The command rather than the folder: the folder may since hold another model."""
    source = calibration.get("from")
    return (source.get("command") or source.get("run")) if source else None


def write_metrics(folder: str | os.PathLike, metrics: Mapping[str, Any]) -> Path:
    """Write ``metrics`` as ``folder/metrics.json``, atomically, in to_json's layout."""
    path = Path(folder) / METRICS_FILENAME
    _write_json(path, metrics)
    return path


def to_json(value: Any, indent: int = 0) -> str:
    """JSON indented like ``json.dumps(indent=2)``, except that a list of plain values stays on
    one line: a confusion matrix reads as ten rows, not a hundred lines.

        to_json({"m": [[1, 2], [3, 4]]})   # '{\\n  "m": [\\n    [1, 2],\\n    [3, 4]\\n  ]\\n}'
    """
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(value, Mapping) and value:
        items = [f"{inner}{json.dumps(str(k))}: {to_json(v, indent + 2)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    nested = isinstance(value, (list, tuple)) and any(
        isinstance(v, (Mapping, list, tuple)) for v in value)
    if nested:
        items = [f"{inner}{to_json(v, indent + 2)}" for v in value]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return json.dumps(value)


def _write_json(path: Path, data: Any) -> None:
    atomic_write_bytes(path, (to_json(data) + "\n").encode())


# --------------------------------------------------------------------------- samples/
@dataclass(frozen=True)
class Sample:
    """A test digit with the model's reading of it, as listed in samples/samples.json."""

    pixels: np.ndarray  # uint8 28x28, white on black as in MNIST
    label: int
    prediction: int
    confidence: float

    @property
    def caption(self) -> str:
        # short: the gallery's tiles are narrow
        if self.prediction == self.label:
            return f"✓ {self.label} · {self.confidence:.0%}"
        if not 0 <= self.prediction <= 9:  # "not a digit": no room for "true" on a phone
            return f"✗ refused · {self.label}"
        return f"✗ {self.prediction} · true {self.label}"


def load_samples(folder: str | os.PathLike) -> list[Sample]:
    """The gallery's test digits from ``folder/samples/``; [] when there are none (no
    training run yet) or the list is unreadable. Entries that cannot be shown are skipped.

        [sample.caption for sample in load_samples("models")]   # ["✓ 7 (99%)", ...]
    """
    index = Path(folder) / SAMPLES_DIRNAME / SAMPLES_INDEX
    if not index.is_file():
        return []
    samples = []
    for entry in _read_sample_entries(index):
        try:
            with Image.open(index.parent / entry["file"]) as image:
                pixels = np.asarray(image.convert("L"))
            samples.append(Sample(pixels, int(entry["label"]), int(entry["prediction"]),
                                  float(entry["confidence"])))
        except (OSError, ValueError, TypeError):  # a missing or broken PNG, a malformed entry
            continue
    return samples


def _read_sample_entries(index: Path) -> list[dict[str, Any]]:
    """samples.json's entries, keeping only well-formed ones whose "file" is a plain file name
    (a downloaded list must not point the app at files elsewhere)."""
    try:
        entries = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"warning: ignoring {index}: {exc}", file=sys.stderr)
        return []
    if not isinstance(entries, list):
        return []
    keys = {"file", "label", "prediction", "confidence"}
    return [entry for entry in entries
            if isinstance(entry, dict) and keys <= entry.keys()
            and isinstance(entry["file"], str) and Path(entry["file"]).name == entry["file"]]


def write_samples(directory: Path, images: np.ndarray, labels: np.ndarray,
                  probabilities: np.ndarray, indices: np.ndarray) -> None:
    """Replace ``directory`` with the chosen digits as 28x28 PNGs (white on black, as stored in
    MNIST) plus ``samples.json`` describing them, what ``load_samples`` reads."""
    with atomic_directory(directory) as tmp:
        entries = []
        for index in indices:
            name = f"test_{index:05d}.png"
            pixels = np.asarray(images[index], dtype=np.uint8)
            Image.fromarray(pixels).save(tmp / name, format="PNG")
            entries.append({"file": name, "label": int(labels[index]),
                            "prediction": int(probabilities[index].argmax()),
                            "confidence": round(float(probabilities[index].max()), 4),
                            "test_index": int(index)})
        _write_json(tmp / SAMPLES_INDEX, entries)


def select_examples(correct: np.ndarray, count: int, mistakes: int) -> np.ndarray:
    """Deterministic, sorted indices to show: the first ``count - mistakes`` images, then the
    first ``mistakes`` mistakes after them (or just the next images, when there are fewer).

        select_examples(np.array([True, True, False, True]), 2, 1)   # array([0, 2])

    Plain "first N" would usually show no mistake at all for a good model, yet the mistakes are
    what a viewer most wants to see.
    """
    count = min(count, len(correct))
    mistakes = min(mistakes, count)
    head = np.arange(count - mistakes)
    rest = np.arange(count - mistakes, len(correct))
    wrong = rest[~correct[rest]][:mistakes]
    fill = rest[correct[rest]][:mistakes - len(wrong)]
    return np.sort(np.concatenate([head, wrong, fill]))


# ------------------------------------------------------------------------- model card
def model_card(metrics: Mapping[str, Any], run_info: Mapping[str, Any],
               repo_id: str | None = None) -> ModelCard:
    """The Hugging Face model card: metadata (with the test accuracy as a model-index result)
    and model_card_template.md rendered with ``metrics`` and the optional keys of ``run_info``
    (command, epochs, training_images, training_wall_time_s, num_parameters, outputs,
    versions).

        model_card(metrics, {"command": "python scripts/train.py"}, "user/digits").save(path)
    """
    accuracy = float(metrics["test_accuracy"])
    card_data = ModelCardData(
        library_name="keras", license="mit", datasets=["mnist"], metrics=["accuracy"],
        pipeline_tag="image-classification",
        tags=["mnist", "handwritten-digits", "cnn", "tensorflow"],
        model_name="digit_cnn",
        eval_results=[EvalResult(
            task_type="image-classification", task_name="Handwritten digit classification",
            dataset_type="mnist", dataset_name="MNIST", dataset_split="test",
            metric_type="accuracy", metric_name="Test accuracy", metric_value=round(accuracy, 4))])
    wall_time = run_info.get("training_wall_time_s")
    versions = run_info.get("versions")
    training = [(label, value) for label, value in (
        ("Epochs", run_info.get("epochs")),
        ("Training images", run_info.get("training_images")),
        ("Training time", wall_time and f"{wall_time / 60:.1f} min"),
        ("Library versions", versions and ", ".join(f"{k} {v}" for k, v in versions.items())),
    ) if value]
    # The template gets plain values: formatting that is part of the figures (percentages,
    # thousands separators) stays here, in Python, where the tests see it.
    calibration = run_info.get("calibration") or {}
    outputs = run_info.get("outputs", 11)  # the digits and "not a digit"; 12: "several digits"
    return ModelCard.from_template(
        card_data, template_path=str(CARD_TEMPLATE),
        accuracy=f"{accuracy:.2%}", test_loss=f"{metrics['test_loss']:.4f}",
        ece="test_ece" in metrics and f"{metrics['test_ece']:.2%}",
        refused="test_refused" in metrics and f"{metrics['test_refused']:.2%}",
        temperature=calibration.get("temperature"),
        threshold=calibration.get("not_a_digit_threshold"),
        calibrated_by=calibration_source(calibration),
        num_test_images=f"{metrics['num_test_images']:,}",
        num_parameters=run_info.get("num_parameters") and f"{run_info['num_parameters']:,}",
        outputs=outputs, several_digits=outputs == 12,
        repo_id=repo_id or "USER/digit-recognizer", model_filename=MODEL_FILENAME,
        command=run_info.get("command"), training=training,
        per_class=[(digit, "n/a" if acc is None else f"{acc:.2%}")
                   for digit, acc in enumerate(metrics["per_class_accuracy"])],
        curves=CURVES_FILENAME, confusion=CONFUSION_FILENAME, mistakes=MISTAKES_FILENAME)


# -------------------------------------------------------------------------- everything
def write_artifacts(output_dir: str | os.PathLike, *, metrics: Mapping[str, Any],
                    probabilities: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
                    history: Mapping[str, Sequence[float]], run_info: Mapping[str, Any],
                    repo_id: str | None = None) -> list[Path]:
    """Write the metrics, plots, samples and model card listed in the module docstring into
    ``output_dir`` (created if needed), each atomically; return the paths written.

    ``metrics`` and ``probabilities`` come from ``evaluate.evaluate`` on ``x_test``/``y_test``.
    ``run_info`` holds what only the caller knows (command, epochs, num_parameters, versions,
    configuration, ...); metrics.json is ``metrics`` plus ``run_info``, nothing else.
    ``repo_id`` goes into the card's loading example.
    """
    from digit_recognizer import plots  # matplotlib: only training writes plots, the app never

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    overlap = metrics.keys() & run_info.keys()
    if overlap:
        raise ValueError(f"run_info would overwrite metrics: {sorted(overlap)}")
    y_test = np.asarray(y_test)
    correct = probabilities.argmax(axis=1) == y_test
    paths = {name: output_dir / name for name in (
        METRICS_FILENAME, CURVES_FILENAME, CONFUSION_FILENAME, PREDICTIONS_FILENAME,
        MISTAKES_FILENAME, SAMPLES_DIRNAME, CARD_FILENAME)}

    write_metrics(output_dir, {**metrics, **run_info})
    plots.plot_training_curves(history, paths[CURVES_FILENAME], run_info.get("epochs"))
    plots.plot_confusion_matrix(np.asarray(metrics["confusion_matrix"]), paths[CONFUSION_FILENAME])
    plots.plot_predictions(x_test, y_test, probabilities,
                           select_examples(correct, GRID_SHAPE[0] * GRID_SHAPE[1], GRID_MISTAKES),
                           paths[PREDICTIONS_FILENAME], GRID_SHAPE)
    plots.plot_worst_mistakes(x_test, y_test, probabilities, paths[MISTAKES_FILENAME])
    write_samples(paths[SAMPLES_DIRNAME], x_test, y_test, probabilities,
                  select_examples(correct, NUM_SAMPLES, SAMPLE_MISTAKES))
    # the card last: it describes and links the files above
    card = str(model_card(metrics, run_info, repo_id)).rstrip("\n") + "\n"  # Jinja drops it
    atomic_write_bytes(paths[CARD_FILENAME], card.encode())
    return list(paths.values())

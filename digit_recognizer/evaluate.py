"""Test-set evaluation, and everything a trained model ships with: metrics, plots, samples, card.

    from digit_recognizer.evaluate import evaluate, write_artifacts
    metrics, probabilities = evaluate(model, x_test, y_test)      # the model runs once
    write_artifacts("models", metrics=metrics, probabilities=probabilities, x_test=x_test,
                    y_test=y_test, history=result.history, run_info={"command": ..., ...})

Files written into the output directory:
    metrics.json            test metrics merged with the caller's run_info, pretty-printed
    training_curves.png     accuracy, loss (and learning rate) per epoch
    confusion_matrix.png    annotated 10x10 counts, rows true, columns predicted
    test_predictions.png    15 test digits, mistakes in red
    worst_mistakes.png      the most confident mistakes with their top-3 probabilities
    samples/                ~40 test digits as 28x28 PNGs for the app's gallery, and
    samples/samples.json    [{"file", "label", "prediction", "confidence", "test_index"}],
                            "file" relative to samples/ (the list and the PNGs are swapped in
                            together, so they always match)
    README.md               the Hugging Face model card

Every file is written under a hidden temporary name in its final directory and renamed into
place, so a reader (the app, a Hub upload, a person) sees the old file or the new one, never
half of one; a killed process leaves at most a hidden ``.*.tmp*`` entry, which
``digit_recognizer.hub`` does not upload.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
from huggingface_hub import EvalResult, ModelCard, ModelCardData

# Figure objects straight from matplotlib.figure, never pyplot: no global figure registry to
# leak into or to close, no GUI backend (PNG output renders with Agg), safe in any thread.
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import Image

from digit_recognizer.files import atomic_directory, atomic_path, atomic_write_bytes
from digit_recognizer.hub import METRICS_FILENAME, MODEL_FILENAME, SAMPLES_DIRNAME, SAMPLES_INDEX
from digit_recognizer.model import NUM_CLASSES
from digit_recognizer.preprocess import mnist_to_input

if TYPE_CHECKING:
    import keras

GRID_SHAPE = (3, 5)  # test_predictions.png
GRID_MISTAKES = 3  # of the grid's 15 digits, at least this many are mistakes when there are any
NUM_SAMPLES = 40  # digits in samples/
SAMPLE_MISTAKES = 6  # of which mistakes, when there are any
MAX_WORST_MISTAKES = 20
LOSS_EPSILON = 1e-7  # probabilities are clipped like Keras' cross-entropy does, so log(0) is finite
MISTAKE_COLOR = "#d62728"


# ----------------------------------------------------------------------------- metrics
def evaluate(model: keras.Model, x_test: np.ndarray, y_test: np.ndarray, batch_size: int = 1024
             ) -> tuple[dict[str, Any], np.ndarray]:
    """Run ``model`` once over the test set; return ``(metrics, probabilities)``.

    ``x_test`` is uint8 (N, 28, 28) as MNIST stores it, ``y_test`` int (N,). ``metrics`` is
    JSON-serialisable (see ``compute_metrics``); ``probabilities`` is float32 (N, 10), what
    ``write_artifacts`` needs for the plots and samples.
    """
    x_test, y_test = np.asarray(x_test), np.asarray(y_test)
    # float input here would be divided by 255 a second time and evaluate a blank test set
    if x_test.dtype != np.uint8 or x_test.ndim != 3 or x_test.shape[1:] != (28, 28):
        raise ValueError(f"x_test must be uint8 (N, 28, 28) MNIST pixels, got "
                         f"{x_test.dtype} {x_test.shape}")
    if y_test.shape != (len(x_test),):
        raise ValueError(f"y_test must have shape ({len(x_test)},), got {y_test.shape}")
    probabilities = model.predict(mnist_to_input(x_test), batch_size=batch_size, verbose=0)
    probabilities = np.asarray(probabilities, dtype=np.float32)
    return compute_metrics(probabilities, y_test), probabilities


def compute_metrics(probabilities: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Test metrics from (N, 10) probabilities and (N,) integer labels.

    Keys: test_accuracy, test_loss (mean categorical cross-entropy, no label smoothing, so it is
    not comparable with a training loss that had some), per_class_accuracy (10 floats; None for
    a digit absent from ``labels``), confusion_matrix (10x10 ints, rows true, columns predicted),
    num_test_images.
    """
    labels = np.asarray(labels).astype(np.int64)
    predictions = probabilities.argmax(axis=1)
    confusion = np.bincount(labels * NUM_CLASSES + predictions,
                            minlength=NUM_CLASSES * NUM_CLASSES).reshape(NUM_CLASSES, NUM_CLASSES)
    true_probability = probabilities[np.arange(len(labels)), labels].astype(np.float64)
    loss = -np.log(np.clip(true_probability, LOSS_EPSILON, 1.0)).mean()
    per_class_total = confusion.sum(axis=1)
    return {
        "test_accuracy": float(np.trace(confusion) / len(labels)),
        "test_loss": float(loss),
        # None rather than NaN: json.dumps would write NaN, which is not valid JSON
        "per_class_accuracy": [float(confusion[c, c] / total) if total else None
                               for c, total in enumerate(per_class_total)],
        "confusion_matrix": confusion.tolist(),
        "num_test_images": int(len(labels)),
    }


def select_examples(correct: np.ndarray, count: int, mistakes: int) -> np.ndarray:
    """Deterministic, sorted indices to show: the first ``count - mistakes`` images, then the
    first ``mistakes`` mistakes after them (or just the next images, when there are fewer).

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


def _save_figure(fig: Figure, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")


def to_json(value: Any, indent: int = 0) -> str:
    """JSON indented like ``json.dumps(indent=2)``, except that a list of plain values stays on
    one line: a confusion matrix reads as ten rows, not a hundred lines."""
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


# ----------------------------------------------------------------------------- plots
def plot_training_curves(history: Mapping[str, Sequence[float]], path: Path,
                         last_epoch: int | None = None) -> None:
    """Accuracy and loss (training and validation), and the learning rate if recorded, per epoch.

    ``last_epoch`` numbers the x axis when ``history`` covers only the end of the run (a resumed
    run's History holds only the epochs it ran itself).
    """
    n = len(history["loss"])
    first = (last_epoch or n) - n + 1
    epochs = np.arange(first, first + n)
    panels = [("accuracy", "Accuracy"), ("loss", "Loss (training objective)")]
    if "learning_rate" in history:
        panels.append(("learning_rate", "Learning rate (end of epoch)"))
    fig = Figure(figsize=(5 * len(panels), 4))
    for ax, (key, title) in zip(fig.subplots(1, len(panels)), panels):
        ax.plot(epochs, history[key], marker=".", label="training")
        if f"val_{key}" in history:
            values = np.asarray(history[f"val_{key}"])
            best = values.argmax() if key == "accuracy" else values.argmin()
            best_text = f"{values[best]:.2%}" if key == "accuracy" else f"{values[best]:.4f}"
            ax.plot(epochs, values, marker=".",
                    label=f"validation (best {best_text}, epoch {epochs[best]})")
        if key == "learning_rate":
            ax.set_yscale("log")
        else:
            ax.legend()
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    fig.tight_layout()
    _save_figure(fig, path)


def plot_confusion_matrix(confusion: np.ndarray, path: Path) -> None:
    """Counts in every non-empty cell; off-diagonal cells (errors) shaded red by count."""
    confusion = np.asarray(confusion)
    # the diagonal (~1000 per digit) would wash out the colour scale of the errors (a handful)
    errors = np.ma.masked_array(confusion, mask=np.eye(NUM_CLASSES, dtype=bool))
    cmap = matplotlib.colormaps["Reds"].with_extremes(bad="#d8eed8")
    vmax = max(1, int(errors.max() or 0))
    fig = Figure(figsize=(7, 6.2))
    ax = fig.subplots()
    image = ax.imshow(errors, cmap=cmap, vmin=0, vmax=vmax)
    for (row, col), count in np.ndenumerate(confusion):
        if count == 0:
            continue
        diagonal = row == col
        dark = not diagonal and count > vmax * 0.6
        ax.text(col, row, str(count), ha="center", va="center", fontsize=9,
                fontweight="bold" if diagonal else "normal",
                color="white" if dark else ("#1a5e1a" if diagonal else "black"))
    ax.set_xticks(range(NUM_CLASSES))
    ax.set_yticks(range(NUM_CLASSES))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    total = int(confusion.sum())
    accuracy = np.trace(confusion) / max(total, 1)
    ax.set_title(f"Confusion matrix: {total} test images, accuracy {accuracy:.2%}")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="mistakes (off-diagonal)")
    fig.tight_layout()
    _save_figure(fig, path)


def _mark(ax: Axes, mistake: bool) -> None:
    # a frame around each digit: thick red for mistakes, so they stand out in a grid
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color(MISTAKE_COLOR if mistake else "#bbbbbb")
        spine.set_linewidth(3 if mistake else 1)


def plot_predictions(images: np.ndarray, labels: np.ndarray, probabilities: np.ndarray,
                     indices: np.ndarray, path: Path) -> None:
    """A grid of the chosen test digits titled "pred X / true Y"; mistakes in red."""
    rows, cols = GRID_SHAPE
    fig = Figure(figsize=(1.7 * cols, 1.95 * rows))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, index in zip(axes, indices):
        predicted, true = int(probabilities[index].argmax()), int(labels[index])
        ax.imshow(images[index], cmap="gray", vmin=0, vmax=255)
        ax.set_title(f"pred {predicted} / true {true}", fontsize=10,
                     color=MISTAKE_COLOR if predicted != true else "black",
                     fontweight="bold" if predicted != true else "normal")
        _mark(ax, predicted != true)
    for ax in axes[len(indices):]:
        ax.set_axis_off()
    fig.suptitle("Test digits (mistakes framed in red)", fontsize=11)
    fig.tight_layout()
    _save_figure(fig, path)


def plot_worst_mistakes(images: np.ndarray, labels: np.ndarray, probabilities: np.ndarray,
                        path: Path, limit: int = MAX_WORST_MISTAKES) -> None:
    """The ``limit`` mistakes the model was surest of, each with its top-3 probabilities."""
    predictions = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predictions != labels)
    worst = wrong[np.argsort(-probabilities[wrong].max(axis=1), kind="stable")][:limit]
    cols = 5
    rows = max(1, -(-len(worst) // cols))
    fig = Figure(figsize=(1.9 * cols, 2.7 * rows))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, index in zip(axes, worst):
        ax.imshow(images[index], cmap="gray", vmin=0, vmax=255)
        ax.set_title(f"true {labels[index]}  (#{index})", fontsize=10, color=MISTAKE_COLOR)
        top3 = np.argsort(-probabilities[index])[:3]
        ax.set_xlabel("\n".join(f"{d}: {probabilities[index, d]:.1%}" for d in top3),
                      fontsize=9, linespacing=1.2)
        _mark(ax, True)
    for ax in axes[len(worst):]:
        ax.set_axis_off()
    if len(worst):
        title = (f"Most confident mistakes: {len(worst)} of {len(wrong)} "
                 f"(true label; top-3 predicted probabilities)")
    else:
        title = f"No mistakes on the {len(labels)} test images"
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    _save_figure(fig, path)


# ----------------------------------------------------------------------------- samples
def write_samples(directory: Path, images: np.ndarray, labels: np.ndarray,
                  probabilities: np.ndarray, indices: np.ndarray) -> None:
    """Replace ``directory`` with the chosen digits as 28x28 PNGs (white on black, as stored in
    MNIST) plus ``samples.json`` describing them."""
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


# ----------------------------------------------------------------------------- model card
def model_card(metrics: Mapping[str, Any], run_info: Mapping[str, Any],
               repo_id: str | None = None) -> ModelCard:
    """The Hugging Face model card: metadata (with the test accuracy as a model-index result)
    and the text, from ``metrics`` and the optional keys of ``run_info`` (command, epochs,
    training_images, training_wall_time_s, num_parameters, versions)."""
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
    repo = repo_id or "USER/digit-recognizer"
    parameters = run_info.get("num_parameters")
    per_class = "\n".join(
        f"| {digit} | {'n/a' if acc is None else f'{acc:.2%}'} |"
        for digit, acc in enumerate(metrics["per_class_accuracy"]))
    training = [f"- {label}: {value}" for label, value in (
        ("Epochs", run_info.get("epochs")),
        ("Training images", run_info.get("training_images")),
        ("Training time", run_info.get("training_wall_time_s") and
         f"{run_info['training_wall_time_s'] / 60:.1f} min"),
        ("Library versions", run_info.get("versions") and
         ", ".join(f"{k} {v}" for k, v in run_info["versions"].items())),
    ) if value]
    command = run_info.get("command")
    body = f"""
# Handwritten digit recognizer (MNIST CNN)

A small convolutional network (Keras 3) that reads one handwritten digit, 0 to 9, from a
28x28 grey-scale image. **Test accuracy: {accuracy:.2%}** on the {metrics['num_test_images']:,}
images of the MNIST test set (cross-entropy {metrics['test_loss']:.4f})\
{f", with {parameters:,} parameters" if parameters else ""}.

## Input and output

- **Input**: float32 `(N, 28, 28, 1)`, values in [0, 1], **white ink (1) on black (0)**:
  exactly MNIST's uint8 pixels divided by 255. The standardisation to zero mean and unit
  variance is a layer inside the model: do not standardise again.
- **Output**: `(N, 10)` softmax probabilities; the index is the digit.

## How to use

```python
import keras
from huggingface_hub import hf_hub_download

model = keras.saving.load_model(hf_hub_download("{repo}", "{MODEL_FILENAME}"))
# images: uint8 (N, 28, 28) in MNIST's form
probabilities = model.predict(images[..., None].astype("float32") / 255.0)
digits = probabilities.argmax(axis=1)
```

Keep Keras' default `safe_mode=True` when loading: a downloaded model file is untrusted input.

A drawing or photo must first be brought to MNIST's form: find the ink, crop to it, scale
the longer side to fit a 20x20 box, centre it by centre of mass in 28x28, bright ink on a
dark ground. `digit_recognizer.preprocess` in the companion code does exactly that (and the
Gradio demo uses it). Resizing a whole canvas to 28x28 instead reads far fewer digits correctly.

## Intended use

Demonstrations and teaching: reading a single handwritten digit, for example one drawn in
the companion Gradio app. Not for reading forms, cheques or anything where a wrong digit
matters without a person checking it.

## Limitations

- One digit per image, preprocessed as above. No multi-digit numbers, letters or
  "not a digit" answer: the model always picks one of 0-9, even for a blank or a scribble
  (look at the probabilities).
- Trained on MNIST only (American census employees' and students' handwriting): writing
  styles rare in MNIST, unusual stroke widths or digits that preprocessing crops badly
  are read less reliably than the test accuracy suggests.
- The test accuracy is on MNIST's own test set, not on drawings from the app.

## Training data

[MNIST](https://huggingface.co/datasets/ylecun/mnist) (LeCun, Cortes and Burges): 60,000
training images, of which a validation split was held out, and 10,000 test images. The test
set was used for this final evaluation only.

## Training

{f"Trained with `{command}`" if command else "Trained with `scripts/train.py`"} from the
companion code. The full configuration, library versions and data checksums are in
`metrics.json`.

{chr(10).join(training)}

![Training curves](training_curves.png)

## Evaluation

MNIST test set, {metrics['num_test_images']:,} images: accuracy **{accuracy:.2%}**,
cross-entropy {metrics['test_loss']:.4f}.

| digit | accuracy |
|---|---|
{per_class}

![Confusion matrix](confusion_matrix.png)

![Most confident mistakes](worst_mistakes.png)
"""
    return ModelCard(f"---\n{card_data.to_yaml()}\n---\n{body}")


# ----------------------------------------------------------------------------- everything
def write_artifacts(output_dir: str | os.PathLike, *, metrics: Mapping[str, Any],
                    probabilities: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
                    history: Mapping[str, Sequence[float]], run_info: Mapping[str, Any],
                    repo_id: str | None = None) -> list[Path]:
    """Write the metrics, plots, samples and model card listed in the module docstring into
    ``output_dir`` (created if needed), each atomically; return the paths written.

    ``metrics`` and ``probabilities`` come from ``evaluate`` on ``x_test``/``y_test``.
    ``run_info`` holds what only the caller knows (command, epochs, num_parameters, versions,
    configuration, ...); metrics.json is ``metrics`` plus ``run_info``, nothing else.
    ``repo_id`` goes into the card's loading example.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    overlap = metrics.keys() & run_info.keys()
    if overlap:
        raise ValueError(f"run_info would overwrite metrics: {sorted(overlap)}")
    y_test = np.asarray(y_test)
    correct = probabilities.argmax(axis=1) == y_test
    paths = {name: output_dir / name for name in (
        METRICS_FILENAME, "training_curves.png", "confusion_matrix.png", "test_predictions.png",
        "worst_mistakes.png", SAMPLES_DIRNAME, "README.md")}

    _write_json(paths[METRICS_FILENAME], {**metrics, **run_info})
    plot_training_curves(history, paths["training_curves.png"], run_info.get("epochs"))
    plot_confusion_matrix(np.asarray(metrics["confusion_matrix"]), paths["confusion_matrix.png"])
    plot_predictions(x_test, y_test, probabilities,
                     select_examples(correct, GRID_SHAPE[0] * GRID_SHAPE[1], GRID_MISTAKES),
                     paths["test_predictions.png"])
    plot_worst_mistakes(x_test, y_test, probabilities, paths["worst_mistakes.png"])
    write_samples(paths[SAMPLES_DIRNAME], x_test, y_test, probabilities,
                  select_examples(correct, NUM_SAMPLES, SAMPLE_MISTAKES))
    # the card last: it describes and links the files above
    atomic_write_bytes(paths["README.md"], str(model_card(metrics, run_info, repo_id)).encode())
    return list(paths.values())

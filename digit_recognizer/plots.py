"""The plots a training run ships with: curves, confusion matrix, test digits, worst mistakes.

    from digit_recognizer.plots import plot_confusion_matrix
    plot_confusion_matrix(np.asarray(metrics["confusion_matrix"]), Path("confusion.png"))

Each function draws one PNG and writes it atomically; digit_recognizer.model_folder decides
which are drawn and under which names. The number of classes comes from the data (the
confusion matrix's side, the probabilities' width), not from the model module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
import numpy as np

# Figure objects straight from matplotlib.figure, never pyplot: no global figure registry to
# leak into or to close, no GUI backend (PNG output renders with Agg), safe in any thread.
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from digit_recognizer.files import atomic_path
from digit_recognizer.model import NOT_A_DIGIT

MAX_WORST_MISTAKES = 20
MISTAKE_COLOR = "#d62728"


def _save_figure(fig: Figure, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")


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
    classes = len(confusion)
    errors = np.ma.masked_array(confusion, mask=np.eye(classes, dtype=bool))
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
    names = [str(c) for c in range(min(classes, 10))] + ["not a\ndigit"] * (classes > 10)
    ax.set_xticks(range(classes), names)
    ax.set_yticks(range(classes), names)
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
                     indices: np.ndarray, path: Path, grid: tuple[int, int] = (3, 5)) -> None:
    """A ``grid`` (rows, columns) of the chosen test digits titled "pred X / true Y" (or
    "refused / true Y": "not a digit"); mistakes in red."""
    rows, cols = grid
    fig = Figure(figsize=(1.7 * cols, 1.95 * rows))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, index in zip(axes, indices):
        predicted, true = int(probabilities[index].argmax()), int(labels[index])
        ax.imshow(images[index], cmap="gray", vmin=0, vmax=255)
        answer = "refused" if predicted == NOT_A_DIGIT else f"pred {predicted}"
        ax.set_title(f"{answer} / true {true}", fontsize=10,
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
        ax.set_xlabel("\n".join(f"{'not a digit' if d == NOT_A_DIGIT else d}: "
                                 f"{probabilities[index, d]:.1%}" for d in top3),
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

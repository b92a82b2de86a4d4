"""Test-set evaluation: run the model once over the test set and compute its metrics.

    from digit_recognizer.evaluate import evaluate
    metrics, probabilities = evaluate(model, x_test, y_test)      # the model runs once
    metrics["test_accuracy"]                                      # 0.9963

What a run ships with (metrics.json, plots, samples, the model card) is written by
digit_recognizer.model_folder; the plots are drawn by digit_recognizer.plots.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from digit_recognizer.calibration import decide, expected_calibration_error
from digit_recognizer.model import NOT_A_DIGIT, NUM_DIGITS
from digit_recognizer.preprocess import mnist_to_input

if TYPE_CHECKING:
    import keras

LOSS_EPSILON = 1e-7  # probabilities are clipped like Keras' cross-entropy does, so log(0) is finite


def evaluate(model: keras.Model, x_test: np.ndarray, y_test: np.ndarray,
             not_a_digit_threshold: float | None = None, batch_size: int = 1024
             ) -> tuple[dict[str, Any], np.ndarray]:
    """Run ``model`` once over the test set; return ``(metrics, probabilities)``.

    ``x_test`` is uint8 (N, 28, 28) as MNIST stores it, ``y_test`` int (N,). ``metrics`` is
    JSON-serialisable (see ``compute_metrics``); ``probabilities`` is float32 (N, classes),
    what ``model_folder.write_artifacts`` needs for the plots and samples.
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
    return compute_metrics(probabilities, y_test, not_a_digit_threshold), probabilities


def compute_metrics(probabilities: np.ndarray, labels: np.ndarray,
                    not_a_digit_threshold: float | None = None) -> dict[str, Any]:
    """Test metrics from (N, classes) probabilities and (N,) integer labels.

        metrics = compute_metrics(np.array([[0.9, 0.1], [0.2, 0.8]]), np.array([0, 0]))
        metrics["test_accuracy"]   # 0.5: the second image, a 0, was read as a 1

    Keys: test_accuracy, test_loss (mean categorical cross-entropy, no label smoothing, so it is
    not comparable with a training loss that had some), test_ece (expected calibration error
    of the top probability), test_refused (share answered "not a digit"), per_class_accuracy
    (a float per digit; None for a digit absent from ``labels``), confusion_matrix (classes x
    classes ints, rows true, columns predicted), num_test_images. The classes are the
    probabilities' columns. With an 11th "not a digit" column, an image is refused when that
    probability reaches ``not_a_digit_threshold`` (as the app does; a refusal counts as wrong)
    and otherwise read as its likeliest digit.
    """
    labels = np.asarray(labels).astype(np.int64)
    predictions = decide(probabilities, not_a_digit_threshold)
    classes = min(probabilities.shape[1], NOT_A_DIGIT + 1)  # "several digits" answers NOT_A_DIGIT
    confusion = np.bincount(labels * classes + predictions,
                            minlength=classes * classes).reshape(classes, classes)
    true_probability = probabilities[np.arange(len(labels)), labels].astype(np.float64)
    loss = -np.log(np.clip(true_probability, LOSS_EPSILON, 1.0)).mean()
    per_class_total = confusion.sum(axis=1)
    return {
        "test_accuracy": float(np.trace(confusion) / len(labels)),
        "test_loss": float(loss),
        "test_ece": expected_calibration_error(probabilities, labels),
        "test_refused": float((predictions == NOT_A_DIGIT).mean()),
        # None rather than NaN: json.dumps would write NaN, which is not valid JSON
        "per_class_accuracy": [float(confusion[c, c] / total) if total else None
                               for c, total in enumerate(per_class_total[:NUM_DIGITS])],
        "confusion_matrix": confusion.tolist(),
        "num_test_images": int(len(labels)),
    }

"""keras-io's reference convnet: the yardstick of scripts/benchmark_training.py's speed ratio.

    from benchmarks.reference import build_reference_model
    model = build_reference_model()   # Conv32/MaxPool/Conv64/MaxPool/Dense64/Dense10
"""

from __future__ import annotations

import keras
from keras import layers

from digit_recognizer.model import INPUT_SHAPE


def build_reference_model() -> keras.Model:
    """keras-io's mnist_convnet-style baseline, the yardstick for the benchmark's speed ratio."""
    return keras.Sequential([
        keras.Input(INPUT_SHAPE),
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(64, activation="relu"),
        layers.Dense(10, activation="softmax"),  # keras-io's: MNIST's ten digits, nothing else
    ], name="reference_cnn")

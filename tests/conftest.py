"""Shared fixtures: the MNIST test set and a reader around the shipped model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from digit_recognizer.data import load_mnist

# The shipped model; DIGIT_RECOGNIZER_TEST_MODEL points the tests at another (a candidate).
MODEL_PATH = Path(os.environ.get("DIGIT_RECOGNIZER_TEST_MODEL")
                  or Path(__file__).resolve().parents[1] / "models" / "digit_cnn.keras")


@pytest.fixture(scope="session")
def mnist_test():
    """(x_test, y_test): MNIST's test set, uint8 (10000, 28, 28) and labels (via MNIST_DIR or
    the cache). Writers the model never saw: tests draw their digits from here."""
    _, (x_test, y_test) = load_mnist()
    return x_test, y_test


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The shipped model's file. A missing model is a failure, not a skip: the tests that read
    digits are the product's acceptance tests."""
    if not MODEL_PATH.is_file():
        pytest.fail(f"No trained model at {MODEL_PATH}: train one (python scripts/train.py) "
                    "or set DIGIT_RECOGNIZER_TEST_MODEL to a .keras file.", pytrace=False)
    return MODEL_PATH


@pytest.fixture(scope="session")
def reader(model_path):
    """A DigitReader around the shipped model."""
    from digit_recognizer.predict import DigitReader

    return DigitReader.from_file(model_path)

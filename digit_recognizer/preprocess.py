"""Preprocessing shared by training, evaluation and the app (placeholder, see below)."""
from __future__ import annotations
import tensorflow as tf

def mnist_to_input(images):
    """uint8 (N, 28, 28) MNIST-form pixels -> float32 (N, 28, 28, 1) in [0, 1]."""
    return tf.cast(images, tf.float32)[..., None] / 255.0

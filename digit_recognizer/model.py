"""The CNN: one function builds it from a small config.

Input: (28, 28, 1) float32 in [0, 1], white ink on black, exactly MNIST pixels / 255.
Output: 10 softmax probabilities. The standardisation to zero mean / unit variance happens
inside the model, so a downloaded ``.keras`` file needs nothing from this package to be used.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import tensorflow as tf
from keras import layers

MNIST_MEAN = 0.1306605  # pixel mean of the training set after /255 (see shared/mnist/README)
MNIST_STD = 0.3081078  # pixel standard deviation of the same
INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10


@dataclass(frozen=True)
class ModelConfig:
    widths: tuple[int, ...] = (16, 32)  # channels of each stage; a stage halves the resolution
    convs_per_stage: int = 2  # 3x3 convs per stage, before its downsampling
    downsample: str = "conv"  # "conv": learned 5x5 stride-2 conv (better); "pool": 2x2 max-pool (faster)
    dense_units: int = 128  # hidden units of the classifier head (0: global pooling only)
    dropout: float = 0.25  # after each stage and the dense layer (0.4 underfit our narrow net)
    batch_norm: bool = True  # steadier, faster convergence; costs ~15% more per step on a CPU


class FusedBatchNormalization(layers.BatchNormalization):
    """Keras' BatchNormalization, with TensorFlow's fused kernel for training on images.

    Keras 3 computes the batch statistics and the normalisation as separate TensorFlow ops,
    each a pass over the activations; the fused kernel does the same maths in one, which makes
    a training step of our CNN ~20% faster on a CPU. The weights are the stock layer's, so
    ``build_model`` uses this class only for training and the saved model has plain layers
    (loadable without this package). Anything else (inference, dense inputs, masks, renorm,
    float16) goes through the stock implementation.
    """

    def call(self, inputs, training=None, mask=None):
        fusable = (training and self.trainable and mask is None and not self.renorm
                   and len(inputs.shape) == 4 and self.axis in (-1, 3)
                   and inputs.dtype == tf.float32)
        if not fusable:
            return super().call(inputs, training=training, mask=mask)
        channels = inputs.shape[-1]
        outputs, mean, variance, *_ = tf.raw_ops.FusedBatchNormV3(
            x=inputs,
            scale=self.gamma if self.scale else tf.ones([channels]),
            offset=self.beta if self.center else tf.zeros([channels]),
            mean=tf.zeros([0]), variance=tf.zeros([0]),  # running stats: updated below
            epsilon=self.epsilon, data_format="NHWC", is_training=True)
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1 - self.momentum))
        self.moving_variance.assign(
            self.moving_variance * self.momentum + variance * (1 - self.momentum))
        return outputs


def conv_block(x, filters: int, batch_norm: type[layers.BatchNormalization] | None,
               kernel_size: int = 3, strides: int = 1):
    if batch_norm is None:
        return layers.Conv2D(filters, kernel_size, strides=strides, padding="same",
                             activation="relu")(x)
    # no bias: batch norm's beta plays that role
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False)(x)
    x = batch_norm()(x)
    return layers.Activation("relu")(x)


def build_model(config: ModelConfig = ModelConfig(), for_training: bool = False) -> keras.Model:
    """Conv(/BN)/ReLU stages, each ending in a downsampling (strided 5x5 conv or max-pool),
    then a dense head with dropout.

    ``for_training`` uses FusedBatchNormalization for batch norm: the same weights, trained
    faster. Copy them into a model built without it (``set_weights``) for saving.
    """
    batch_norm = None
    if config.batch_norm:
        batch_norm = FusedBatchNormalization if for_training else layers.BatchNormalization
    inputs = keras.Input(INPUT_SHAPE, name="pixels")
    x = layers.Normalization(mean=MNIST_MEAN, variance=MNIST_STD**2, name="standardize")(inputs)
    for width in config.widths:
        for _ in range(config.convs_per_stage):
            x = conv_block(x, width, batch_norm)
        if config.downsample == "conv":
            x = conv_block(x, width, batch_norm, kernel_size=5, strides=2)
        else:
            x = layers.MaxPooling2D()(x)
        x = layers.Dropout(config.dropout)(x)
    if config.dense_units:
        x = layers.Flatten()(x)
        if config.batch_norm:
            x = layers.Dense(config.dense_units, use_bias=False)(x)
            x = batch_norm()(x)
            x = layers.Activation("relu")(x)
        else:
            x = layers.Dense(config.dense_units, activation="relu")(x)
        x = layers.Dropout(config.dropout)(x)
    else:
        x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="digit_cnn")


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
        layers.Dense(NUM_CLASSES, activation="softmax"),
    ], name="reference_cnn")

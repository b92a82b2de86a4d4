"""The CNN: one function builds it from a small config.

Input: (28, 28, 1) float32 in [0, 1], white ink on black, exactly MNIST pixels / 255.
Output: 11 softmax probabilities: the digits 0-9, then "not a digit" (index NOT_A_DIGIT).
The standardisation to zero mean / unit variance happens inside the model, and the saved
model has stock Keras layers only, so a downloaded ``.keras`` file needs nothing from this
package to be used (Keras' safe mode loads it).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
from keras import layers

MNIST_MEAN = 0.1306605  # pixel mean of the training set after /255 (see shared/mnist/README)
MNIST_STD = 0.3081078  # pixel standard deviation of the same
INPUT_SHAPE = (28, 28, 1)
NUM_DIGITS = 10  # outputs 0-9 are the digits
NOT_A_DIGIT = 10  # ... and output 10 says "not a digit" (letters, marks, several digits)
NUM_CLASSES = NUM_DIGITS + 1
SEVERAL_DIGITS = 11  # an optional 12th output (ModelConfig.several_digits_output): two digits
# in one crop, which the number reader splits, where a letter is refused


@dataclass(frozen=True)
class ModelConfig:
    widths: tuple[int, ...] = (16, 32, 64)  # channels of each stage; a stage halves the resolution
    # (the third stage, at 7x7, made a step ~1.35x as long as with (16, 32), where (24, 48) made
    # it ~1.65x; with 18 epochs instead of 22 it trains in about the same time, and it read drawn
    # validation digits 97.5% against 97.0%)
    convs_per_stage: tuple[int, ...] = (1, 2, 2)  # 3x3 convs of each stage, before its
    # downsampling: one at 28x28, where a second made a training step ~1.2x as long for
    # about the same validation figures
    downsample: str = "conv"  # "conv": learned 5x5 stride-2 conv (better); "pool": 2x2 max-pool (faster)
    dense_units: int = 128  # hidden units of the classifier head (0: global pooling only)
    dropout: float = 0.25  # after each stage and the dense layer (0.4 underfit our narrow net)
    batch_norm: bool = True  # steadier, faster convergence; costs ~15% more per step on a CPU
    several_digits_output: bool = False  # a 12th output, SEVERAL_DIGITS, trained on the "two
    # digits" negatives (otherwise "not a digit"); the full preset turns it on

    @property
    def outputs(self) -> int:
        return NUM_CLASSES + self.several_digits_output


def conv_block(x, filters: int, batch_norm: bool, kernel_size: int = 3, strides: int = 1):
    if not batch_norm:
        return layers.Conv2D(filters, kernel_size, strides=strides, padding="same",
                             activation="relu")(x)
    # no bias: batch norm's beta plays that role
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def build_model(config: ModelConfig = ModelConfig(), temperature: float = 1.0) -> keras.Model:
    """Conv(/BN)/ReLU stages, each ending in a downsampling (strided 5x5 conv or max-pool),
    then a dense head with dropout, and 11 outputs: the digits 0-9 and NOT_A_DIGIT (12 with
    ``config.several_digits_output``: SEVERAL_DIGITS too).

    ``temperature`` divides the logits before the softmax (temperature scaling, fitted on the
    validation split after training, see ``with_temperature``): 1 while training.
    """
    inputs = keras.Input(INPUT_SHAPE, name="pixels")
    x = layers.Normalization(mean=MNIST_MEAN, variance=MNIST_STD**2, name="standardize")(inputs)
    if len(config.convs_per_stage) != len(config.widths):
        raise ValueError(f"convs_per_stage {config.convs_per_stage} needs one count per stage "
                         f"of widths {config.widths}")
    for width, convs in zip(config.widths, config.convs_per_stage):
        for _ in range(convs):
            x = conv_block(x, width, config.batch_norm)
        if config.downsample == "conv":
            x = conv_block(x, width, config.batch_norm, kernel_size=5, strides=2)
        else:
            x = layers.MaxPooling2D()(x)
        x = layers.Dropout(config.dropout)(x)
    if config.dense_units:
        x = layers.Flatten()(x)
        if config.batch_norm:
            x = layers.Dense(config.dense_units, use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.Activation("relu")(x)
        else:
            x = layers.Dense(config.dense_units, activation="relu")(x)
        x = layers.Dropout(config.dropout)(x)
    else:
        x = layers.GlobalAveragePooling2D()(x)
    logits = layers.Dense(config.outputs, name="logits")(x)
    if temperature != 1.0:
        logits = layers.Rescaling(1.0 / temperature, name="temperature")(logits)
    outputs = layers.Activation("softmax", name="probabilities")(logits)
    return keras.Model(inputs, outputs, name="digit_cnn")


def with_temperature(model: keras.Model, config: ModelConfig, temperature: float) -> keras.Model:
    """A copy of a trained ``model`` whose softmax is temperature-scaled: the same weights
    (the scaling has none), calibrated probabilities, stock Keras layers only."""
    calibrated = build_model(config, temperature)
    calibrated.set_weights(model.get_weights())
    return calibrated


@dataclass(frozen=True)
class LineModelConfig:
    widths: tuple[int, ...] = (32, 64, 128)  # channels of each stage; each halves the height
    convs_per_stage: tuple[int, ...] = (1, 2, 2)  # 3x3 convs of each stage (the last stage's
    # second: each frame sees more of its digit; it learns much faster than (1, 2, 1) did)
    dense_units: int = 128  # per frame, before the recurrent layer
    recurrent_units: int = 96  # a GRU each way: a frame sees the whole line
    dropout: float = 0.2


def build_line_model(config: LineModelConfig = LineModelConfig()) -> keras.Model:
    """The line reader's CRNN (``digit_recognizer.line``): a strip of ink (line.STRIP_HEIGHT
    rows, any width) -> logits (frames, 12) for CTC: the digits, "not a digit"
    (line.NOT_A_DIGIT_MARK: a letter or sign in the line), then the blank (line.BLANK).
    Conv/BN/ReLU stages pool the height to 4 rows and the width by line.FRAME (the first
    stage only, so that a digit gets about ten frames); each frame's column of features goes
    through a dense layer and a bidirectional GRU. Stock Keras layers: safe mode loads it."""
    from digit_recognizer.line import BLANK, FRAME, STRIP_HEIGHT

    inputs = keras.Input((STRIP_HEIGHT, None, 1), name="strip")
    x = inputs
    for stage, (width, convs) in enumerate(zip(config.widths, config.convs_per_stage)):
        for _ in range(convs):
            x = conv_block(x, width, batch_norm=True)
        x = layers.MaxPooling2D((2, FRAME if stage == 0 else 1))(x)
    rows = STRIP_HEIGHT // 2 ** len(config.widths)
    x = layers.Permute((2, 1, 3))(x)  # (frames, rows, channels)
    x = layers.Reshape((-1, rows * config.widths[-1]))(x)
    x = layers.Dense(config.dense_units, activation="relu")(x)
    x = layers.Dropout(config.dropout)(x)
    x = layers.Bidirectional(layers.GRU(config.recurrent_units, return_sequences=True))(x)
    logits = layers.Dense(BLANK + 1, name="logits")(x)
    return keras.Model(inputs, logits, name="line_reader")

"""Read digits and numbers with a trained model, fast enough for one request at a time.

    from digit_recognizer.predict import DigitReader
    reader = DigitReader.from_folder("models")     # the model and its refusal threshold
    reading = reader.read("photo.jpg")             # reading.Reading, or an ImageInputError
    reading.text, reading.top_readings             # "42", {"42": 0.97, "47": 0.02, ...}

The whole pipeline in one place: decode and find the ink (preprocess), split it into digits
(segment), normalise each (preprocess), classify them in one batched model call, and assemble
the reading (reading), which refuses a picture that is not digits ("Not a digit ..."). Where
the model folder has a line reader (line.py), it reads the whole line too, and reading.py
takes its reading of a number it reads otherwise and finds far likelier, and refuses a
picture in which it finds "not a digit".
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from digit_recognizer.model import NUM_DIGITS
from digit_recognizer import model_folder
from digit_recognizer.line import FRAME, STRIP_HEIGHT, LineReading, decode, line_strip
from digit_recognizer.preprocess import ImageSource, ink_map, load_image
from digit_recognizer.reading import NOT_A_DIGIT_THRESHOLD, Reading, read_picture


def one_thread_per_op() -> bool:
    """Have TensorFlow run each op of a model call on one thread, as the app does (``ui.main``);
    False if TensorFlow has run already (its thread pools are fixed then). A digit's 28x28
    convolutions are too small to gain from being split across cores: on 2 cores a traced
    single-image call took 0.92-1.10 ms this way against 1.14-1.47 ms with TensorFlow's
    default pool (three alternating rounds), and four threads calling at once finished
    2,400 calls in 2.6 s against 2.9-4.0 s (concurrent requests still use every core)."""
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
    except RuntimeError:
        return False
    return True


class DigitReader:
    """A model plus the shared pipeline: pictures in, readings out.

    ``not_a_digit_threshold``: the calibrated "not a digit" probability at which a part of a
    picture is refused (training fits it on the validation split, model_folder keeps it;
    reading's default when there is none). A model trained before "not a digit" existed
    (10 outputs) never refuses: ``can_refuse``."""

    def __init__(self, model: keras.Model, not_a_digit_threshold: float | None = None,
                 line_model: keras.Model | None = None):
        self.model = model
        self.line_model = line_model  # the line reader (line.py), for numbers; None: without
        self.can_refuse = model.output_shape[-1] > NUM_DIGITS
        self.not_a_digit_threshold = not_a_digit_threshold or NOT_A_DIGIT_THRESHOLD
        # Traced functions skip model.predict()'s per-call setup (tens of ms). For one image,
        # XLA also fuses the small layers' kernels (~15% less again): under 1 ms. XLA compiles
        # once per batch size, so the batches of a number's digits take the plain graph.
        self._forward_one = tf.function(
            lambda x: model(x, training=False),
            input_signature=[tf.TensorSpec((1, 28, 28, 1), tf.float32)], jit_compile=True)
        self._forward_many = tf.function(
            lambda x: model(x, training=False),
            input_signature=[tf.TensorSpec((None, 28, 28, 1), tf.float32)])
        for forward in (self._forward_one, self._forward_many):  # trace now, not on a request
            forward(tf.zeros((1, 28, 28, 1)))
        if line_model is not None:  # one trace for every strip width
            self._forward_line = tf.function(
                lambda x: line_model(x, training=False),
                input_signature=[tf.TensorSpec((1, STRIP_HEIGHT, None, 1), tf.float32)])
            self._forward_line(tf.zeros((1, STRIP_HEIGHT, 8 * FRAME, 1)))

    @classmethod
    def from_file(cls, path: str | os.PathLike, not_a_digit_threshold: float | None = None
                  ) -> "DigitReader":
        """A reader around the model in ``path``, loaded in Keras' safe mode
        (model_folder.load_model; ModelLoadError if it cannot be), with the threshold given or
        else the one recorded next to it."""
        path = Path(path)
        if not_a_digit_threshold is None:
            not_a_digit_threshold = model_folder.not_a_digit_threshold(path.parent)
        return cls(model_folder.load_model(path), not_a_digit_threshold,
                   model_folder.load_line_model(path.parent))

    @classmethod
    def from_folder(cls, folder: str | os.PathLike) -> "DigitReader":
        return cls.from_file(model_folder.find_model_file(folder))

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """float32 (N, 28, 28, 1) model inputs -> (N, classes) probabilities."""
        batch = tf.convert_to_tensor(batch, tf.float32)
        forward = self._forward_one if batch.shape[0] == 1 else self._forward_many
        return forward(batch).numpy()

    def read(self, source: ImageSource) -> Reading:
        """The reading of a picture of a digit or a number. Raises preprocess.ImageInputError
        (reading.NotADigitError among them) with a message for the person who sent it."""
        return read_picture(ink_map(load_image(source)), self.probabilities,
                            self.not_a_digit_threshold,
                            self.read_line if self.line_model is not None else None)

    def read_line(self, ink: np.ndarray) -> LineReading:
        """The line reader's reading of a picture's ink map (``preprocess.ink_map``)."""
        strip = line_strip(ink)
        return decode(self._forward_line(tf.constant(strip.batch())).numpy()[0], strip)


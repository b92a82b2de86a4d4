"""Fit the CNN: training data, augmented tf.data pipeline, schedule, backups, calibration.

    from digit_recognizer.train import PRESETS, train
    result = train(PRESETS["full"], (x_fit, y_fit), (x_val, y_val), backup_dir="models/.backup")
    result.model          # stock Keras layers, temperature-scaled: save it as it is
    result.calibration    # {"temperature", "not_a_digit_threshold", "validation": {...}}

The training set is MNIST's digits (a share redrawn with a pen, as the app sees drawings:
digit_recognizer.redraw) plus continental variants of some of them (crossed 7s,
flagged 1s, open 4s, straight-stemmed 9s: digit_recognizer.continental) and "not a digit"
negatives (letters, marks, digit pairs: digit_recognizer.negatives), all made from the
training split; the validation split gets its own, from its own digits. After training, the
temperature and the refusal threshold are fitted on the validation split
(digit_recognizer.calibration); a run on all the digits, with no validation split, takes
them from an earlier run of the same recipe that had one.

scripts/train.py is the command line over this module.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from digit_recognizer import calibration
from digit_recognizer.augment import AugmentConfig, augment_batch
from digit_recognizer.context import cut_from_numbers
from digit_recognizer.continental import EDITS, continental_variants
from digit_recognizer.files import atomic_path, atomic_write_bytes
from digit_recognizer.model import (NOT_A_DIGIT, NUM_CLASSES, NUM_DIGITS, SEVERAL_DIGITS,
                                    ModelConfig, build_model, with_temperature)
from digit_recognizer.model_folder import BACKUP_PROGRESS, BACKUP_WEIGHTS
from digit_recognizer.negatives import TRAIN_KINDS, TWO_DIGITS, make_negatives
from digit_recognizer.preprocess import mnist_to_input
from digit_recognizer.redraw import redraw_with_pen


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 18  # passes over the training set (digits, variants and negatives); 22 for
    # the two-stage net before: about the same training time
    batch_size: int = 128  # images per optimiser step
    learning_rate: float = 3e-3  # peak, reached after the warmup, then cosine decay to ~0
    warmup_epochs: float = 1.0  # linear warmup from ~0: keeps early batch-norm steps stable
    weight_decay: float = 5e-4  # AdamW decoupled weight decay
    label_smoothing: float = 0.05  # a little: MNIST has a few ambiguous / mislabelled digits
    seed: int = 42  # one seed for weights, shuffling, augmentation and the validation split
    validation_size: int = 5000  # images carved out of the 60k training set
    steps_per_execution: int = 10  # optimiser steps per call into TensorFlow: the same maths
    # with a tenth of the per-batch Python round trips (callbacks then see every 10th batch)
    pen_share: float = 0.25  # share of the training digits (and of their continental variants)
    # replaced by themselves redrawn with a pen, as the app sees drawings
    # (digit_recognizer.redraw); replaced, not added: same epoch
    continental_share: float = 0.12  # continental variants added, per training digit
    continental_pen_share: float | None = None  # share of those redrawn with a pen (None: as
    # pen_share); 0.75 read no more drawn flagged 1s right on validation (206 vs 205 of 216)
    context_share: float = 0.30  # digits cut out of numbers (with stubs of their neighbours:
    # digit_recognizer.context) added, per training digit; 0.12 read 3-4 points fewer
    # validation numbers, but refused 2-4 points more lone letters and other scripts
    negative_share: float = 0.35  # "not a digit" images added, per training digit (0: none,
    # and the model never answers "not a digit")
    model: ModelConfig = field(default_factory=ModelConfig)
    augment: AugmentConfig | None = field(default_factory=AugmentConfig)  # None: no augmentation


PRESETS: dict[str, TrainConfig] = {
    # the shipped model (its test accuracy and training time: models/metrics.json)
    # "several digits" on: against the same recipe without it, on validation, it read 64.0 vs
    # 60.8% of numbers and 97.8 vs 97.3% of drawn digits, and refused as many letters
    "full": TrainConfig(model=ModelConfig(several_digits_output=True)),
    # a fast run (99.3% in ~0.3x the keras-io reference's time, 0.22-0.41x by the round): a
    # small net without batch norm (costly on CPUs) or augmentation, trained hard for 3 epochs
    # without pen redraws, continental variants or negatives (making them takes longer than
    # this training)
    "quick": TrainConfig(epochs=3, learning_rate=6e-3, warmup_epochs=0.2, weight_decay=1e-4,
                         label_smoothing=0.0, augment=None, pen_share=0.0, continental_share=0.0,
                         context_share=0.0, negative_share=0.0,
                         model=ModelConfig(widths=(12, 24), convs_per_stage=(1, 1),
                                           downsample="pool", dense_units=128, dropout=0.0,
                                           batch_norm=False)),
}


@dataclass
class TrainResult:
    model: keras.Model  # stock layers, temperature-scaled: the model to save and serve
    history: dict[str, list[float]]  # per-epoch loss/accuracy (and val_loss/val_accuracy)
    wall_time_s: float  # of the whole run: a resumed run adds its earlier sessions' epochs
    calibration: dict  # temperature, not_a_digit_threshold, and what they do on validation
    # (or, for a run without a validation split, "from": the run they were fitted in)


def with_extras(x: np.ndarray, y: np.ndarray, config: TrainConfig, rng: np.random.Generator
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Digits (a share of them redrawn with a pen) plus their continental variants (as large a
    share of those redrawn, unless ``config.continental_pen_share`` says), digits cut
    out of numbers and "not a digit" negatives (label NOT_A_DIGIT), all made from these digits,
    in the shares ``config`` sets; and which images are digits written alone (the digits and
    their variants: the refusal threshold is set on those). The variants, cut-out digits and
    negatives are made after the redraw, so some of them are made from redrawn digits."""
    x = _redrawn_share(x, config.pen_share, rng)
    xs, ys = [x], [y]
    candidates = np.flatnonzero(np.isin(y, list(EDITS)))  # 1, 4, 7, 9
    count = min(len(candidates), round(config.continental_share * len(x)))
    if count:
        chosen = rng.choice(candidates, count, replace=False)
        variants, labels = continental_variants(x[chosen], y[chosen], rng)
        # redrawn like the digits: the app sees continental writers drawing with a pen too
        pen_share = (config.pen_share if config.continental_pen_share is None
                     else config.continental_pen_share)
        xs.append(_redrawn_share(variants, pen_share, rng))
        ys.append(labels)
    alone = sum(len(part) for part in xs)
    count = round(config.context_share * len(x))
    if count:
        chosen = rng.choice(len(x), count, replace=False)
        xs.append(cut_from_numbers(x[chosen], x, rng))
        ys.append(y[chosen])
    count = round(config.negative_share * len(x))
    if count:
        negatives, kinds = make_negatives(TRAIN_KINDS, count, rng, digits=x)
        xs.append(negatives)
        several = (kinds == TWO_DIGITS) & config.model.several_digits_output
        ys.append(np.where(several, SEVERAL_DIGITS, NOT_A_DIGIT).astype(y.dtype))
    x_all, y_all = np.concatenate(xs), np.concatenate(ys)
    return x_all, y_all, np.arange(len(x_all)) < alone


def _redrawn_share(images: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """``images`` with ``share`` of them (at random) redrawn with a pen (redraw.py)."""
    count = round(share * len(images))
    if not count:
        return images
    chosen = rng.choice(len(images), count, replace=False)
    images = images.copy()
    images[chosen] = redraw_with_pen(images[chosen], rng)
    return images


def make_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int,
                 augment: AugmentConfig | None = None, shuffle: bool = True,
                 classes: int = NUM_CLASSES) -> tf.data.Dataset:
    """uint8 images + int labels -> batches of (float input, one-hot label), optionally augmented.

    Shuffling and augmentation follow ``seed``, differently each epoch (each pass over the
    dataset), and identically in every run with the same seed. The images stay in one tensor
    and each batch gathers its rows: shuffling indices instead of images keeps tf.data from
    copying every image through a shuffle buffer each epoch."""
    images, labels = tf.constant(x), tf.constant(y)
    ds = tf.data.Dataset.range(len(x))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)

    def to_model_input(indices, batch_seed=None):
        batch = mnist_to_input(tf.gather(images, indices))
        if augment is not None:
            batch = augment_batch(batch, augment, batch_seed)
        return batch, tf.one_hot(tf.gather(labels, indices), classes)

    if augment is not None:  # a stateless seed for each batch, from a seeded stream
        batch_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip(ds, batch_seeds)
    return ds.map(to_model_input, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def learning_rate_schedule(config: TrainConfig, steps_per_epoch: int
                           ) -> keras.optimizers.schedules.LearningRateSchedule:
    total_steps = config.epochs * steps_per_epoch
    # a run shorter than twice its warmup (--epochs 1 on the full preset) warms up for half
    warmup_steps = min(int(config.warmup_epochs * steps_per_epoch), total_steps // 2)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.learning_rate / 25, warmup_target=config.learning_rate,
        warmup_steps=warmup_steps, decay_steps=total_steps - warmup_steps, alpha=0.002)


class ProgressLog(keras.callbacks.Callback):
    """One line per epoch with total elapsed and estimated remaining time (Keras' own progress
    bar shows batches, metrics and the epoch's ETA)."""

    def __init__(self, epochs: int):
        super().__init__()
        self.epochs = epochs

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()
        self.first_epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.first_epoch is None:
            self.first_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self.start
        done = epoch + 1 - self.first_epoch
        remaining = elapsed / done * (self.epochs - epoch - 1)
        metrics = "  ".join(f"{k}={v:.4f}" for k, v in (logs or {}).items())
        print(f"epoch {epoch + 1}/{self.epochs}  elapsed {elapsed:.0f}s  "
              f"remaining ~{remaining:.0f}s  {metrics}", flush=True)


class TrainingBackup(keras.callbacks.Callback):
    """Saves the training state every ``every_batches`` batches and at each epoch end: the
    weights with the optimiser's state (BACKUP_WEIGHTS), then BACKUP_PROGRESS
    (the epoch to resume at, batches done in it, the history so far and the training time),
    each written
    atomically, so a kill at any moment leaves a consistent backup. ``restore`` puts a model
    back in that state; a resumed run restarts the interrupted epoch from its first batch with
    the weights of its last backup, so that resumed and uninterrupted runs see the same data
    in each epoch."""

    def __init__(self, backup_dir: str | Path, every_batches: int, steps_per_epoch: int,
                 session_start: float):
        """``session_start``: ``time.perf_counter()`` when this session began its work."""
        super().__init__()
        self.backup_dir = Path(backup_dir)
        self.every_batches = every_batches
        self.steps_per_epoch = steps_per_epoch
        self.weights_path = self.backup_dir / BACKUP_WEIGHTS
        self.progress_path = self.backup_dir / BACKUP_PROGRESS
        earlier = (json.loads(self.progress_path.read_text())
                   if self.progress_path.is_file() and self.weights_path.is_file()
                   else {"epoch": 0, "history": {}, "wall_time_s": 0.0})
        self.epoch: int = earlier["epoch"]
        self.history: dict[str, list[float]] = earlier["history"]
        self.earlier_time_s: float = earlier["wall_time_s"]
        self.session_start = session_start

    def restore(self, model: keras.Model) -> int:
        """Load the backed-up state into a compiled ``model``; return the epoch to start at."""
        if self.epoch or self.weights_path.is_file():
            model.optimizer.build(model.trainable_variables)  # its variables must exist to load
            model.load_weights(self.weights_path)
            # the learning-rate schedule follows the optimiser's step count: in step with the
            # epoch that restarts
            model.optimizer.iterations.assign(self.epoch * self.steps_per_epoch)
        return self.epoch

    @property
    def wall_time_s(self) -> float:
        return self.earlier_time_s + time.perf_counter() - self.session_start

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.next_save = self.every_batches

    def on_train_batch_end(self, batch, logs=None):
        # with steps_per_execution > 1 Keras reports only every few batches: save when a
        # multiple of every_batches has been passed
        if batch + 1 >= self.next_save:
            self.next_save = ((batch + 1) // self.every_batches + 1) * self.every_batches
            self._save(batches_done=batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.epoch = epoch + 1
        self._save(batches_done=0)

    def _save(self, batches_done: int) -> None:
        """``batches_done``: of the epoch ``self.epoch`` (for a person reading the backup;
        a resumed run restarts that epoch)."""
        self.backup_dir.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.weights_path) as tmp:
            self.model.save_weights(tmp)
        progress = {"epoch": self.epoch, "batch": batches_done, "history": self.history,
                    "wall_time_s": self.wall_time_s}
        atomic_write_bytes(self.progress_path, json.dumps(progress).encode())


def make_strategy(name: str) -> tf.distribute.Strategy:
    """'default' (one device), 'mirrored' (all local GPUs) or 'multi-worker' (hosts in TF_CONFIG)."""
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi-worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"unknown strategy {name!r}: use default, mirrored or multi-worker")


def train(config: TrainConfig, fit_data: tuple[np.ndarray, np.ndarray],
          val_data: tuple[np.ndarray, np.ndarray] | None, backup_dir: str | Path,
          strategy: str = "default", verbose: int = 2, backup_every_batches: int = 100,
          calibration: dict | None = None) -> TrainResult:
    """Train from scratch, or continue from the backup in ``backup_dir`` if one is there, then
    calibrate on the validation split (or apply an earlier run's ``calibration``).

    ``fit_data`` and ``val_data`` are MNIST digits (uint8 (N, 28, 28), labels 0-9); each gets
    its pen redraws, continental variants, cut-out digits and negatives here (``with_extras``).
    ``val_data`` None: no validation split (a run on all the training digits), and
    ``calibration`` is the one an earlier run with the same recipe fitted on its validation
    split (``TrainResult.calibration``): its temperature and threshold are applied as they are.
    The backup (weights, optimiser state, epoch, history) is written every
    ``backup_every_batches`` batches and at each epoch end, so a killed run loses at most that
    many batches; ``backup_dir`` is deleted when training completes.
    """
    if (val_data is None) == (calibration is None):
        raise ValueError("pass a validation split, or else the calibration of a run with one")
    keras.utils.set_random_seed(config.seed)
    start = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    *fit_data, _ = with_extras(*fit_data, config, rng)
    if val_data is not None:
        *val_data, val_alone = with_extras(*val_data, config, rng)
    dist = make_strategy(strategy)
    batch_size = config.batch_size * dist.num_replicas_in_sync
    classes = config.model.outputs
    fit_ds = make_dataset(*fit_data, batch_size, config.seed, config.augment, classes=classes)
    val_ds = (None if val_data is None
              else make_dataset(*val_data, 1024, config.seed, shuffle=False, classes=classes))
    steps_per_epoch = int(np.ceil(len(fit_data[0]) / batch_size))
    with dist.scope():
        model = build_model(config.model)
        model.compile(
            optimizer=keras.optimizers.AdamW(learning_rate_schedule(config, steps_per_epoch),
                                             weight_decay=config.weight_decay),
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
            metrics=["accuracy"], steps_per_execution=config.steps_per_execution)
    # the training time includes making the variants and negatives
    backup = TrainingBackup(backup_dir, backup_every_batches, steps_per_epoch, start)
    initial_epoch = backup.restore(model)
    # the dataset is shuffled by make_dataset: fit's own shuffle does not apply to it
    model.fit(fit_ds, validation_data=val_ds, epochs=config.epochs, initial_epoch=initial_epoch,
              shuffle=False, callbacks=[backup, ProgressLog(config.epochs)], verbose=verbose)
    if val_data is None:
        model = with_temperature(model, config.model, calibration["temperature"])
        fitted = calibration
    else:
        model, fitted = calibrate(model, config, val_data, val_alone)
    wall_time_s = backup.wall_time_s
    shutil.rmtree(backup_dir, ignore_errors=True)
    return TrainResult(model, backup.history, wall_time_s, fitted)


def calibrate(model: keras.Model, config: TrainConfig, val_data: tuple[np.ndarray, np.ndarray],
              alone: np.ndarray) -> tuple[keras.Model, dict]:
    """The trained model with its temperature fitted on the validation set (digits, variants,
    digits cut out of numbers and negatives), and the refusal threshold set from the
    validation digits written ``alone`` (a bool mask): a threshold that also spared every cut
    out digit would let more letters through, and the number reader refuses a position only
    after trying other cuts."""
    x_val, y_val = val_data
    raw = np.asarray(model.predict(mnist_to_input(x_val), batch_size=1024, verbose=0))
    temperature = calibration.fit_temperature(raw, y_val)
    probabilities = calibration.rescale(raw, temperature)
    digits = y_val < NUM_DIGITS
    not_a_digit = calibration.not_one_digit(probabilities)
    threshold = (calibration.refusal_threshold(not_a_digit[alone]) if config.negative_share
                 else None)  # never trained to refuse: it never refuses
    refused = calibration.refused(probabilities, threshold)
    fitted = {
        "temperature": round(temperature, 4),
        "not_a_digit_threshold": threshold,  # rounded up by refusal_threshold already
        "validation": {
            "images": int(len(y_val)), "negatives": int((~digits).sum()),
            "ece_before": round(calibration.expected_calibration_error(raw, y_val), 5),
            "ece": round(calibration.expected_calibration_error(probabilities, y_val), 5),
            "digits_refused": round(float(refused[alone].mean()), 5),
            "cut_out_digits_refused": (round(float(refused[digits & ~alone].mean()), 5)
                                       if (digits & ~alone).any() else None),
            "negatives_refused": (round(float(refused[~digits].mean()), 5)
                                  if (~digits).any() else None),
        },
    }
    return with_temperature(model, config.model, temperature), fitted

"""Fit the CNN: augmented tf.data pipeline, warmup + cosine schedule, backups, resume.

    from digit_recognizer.train import PRESETS, train
    result = train(PRESETS["full"], (x_fit, y_fit), (x_val, y_val), work_dir="models/.backup")

scripts/train.py is the command line over this module.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from digit_recognizer.augment import AugmentConfig, augment_batch
from digit_recognizer.files import atomic_write_bytes
from digit_recognizer.model import NUM_CLASSES, ModelConfig, build_model
from digit_recognizer.preprocess import mnist_to_input


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 32  # passes over the training split
    batch_size: int = 128  # images per optimiser step
    learning_rate: float = 3e-3  # peak, reached after the warmup, then cosine decay to ~0
    warmup_epochs: float = 1.0  # linear warmup from ~0: keeps early batch-norm steps stable
    weight_decay: float = 5e-4  # AdamW decoupled weight decay
    label_smoothing: float = 0.05  # a little: MNIST has a few ambiguous / mislabelled digits
    seed: int = 42  # one seed for weights, shuffling, augmentation and the validation split
    validation_size: int = 5000  # images carved out of the 60k training set
    steps_per_execution: int = 10  # optimiser steps per call into TensorFlow: the same maths
    # with a tenth of the per-batch Python round trips (callbacks then see every 10th batch)
    model: ModelConfig = field(default_factory=ModelConfig)
    augment: AugmentConfig | None = field(default_factory=AugmentConfig)  # None: no augmentation


PRESETS: dict[str, TrainConfig] = {
    # the shipped model (its test accuracy and training time: models/metrics.json); 21-45 s
    # an epoch on our noisy 2-core CPU
    "full": TrainConfig(),
    # a fast run (99.3% in ~0.3x the keras-io reference's time, 0.22-0.32x by the round): a
    # small net without batch norm (costly on CPUs) or augmentation, trained hard for 3 epochs
    "quick": TrainConfig(epochs=3, learning_rate=6e-3, warmup_epochs=0.2, weight_decay=1e-4,
                         label_smoothing=0.0, augment=None,
                         model=ModelConfig(widths=(12, 24), convs_per_stage=1, downsample="pool",
                                           dense_units=128, dropout=0.0, batch_norm=False)),
}


@dataclass
class TrainResult:
    model: keras.Model
    history: dict[str, list[float]]  # per-epoch loss/accuracy/val_loss/val_accuracy/learning_rate
    wall_time_s: float  # of the whole run: a resumed run adds its earlier sessions' epochs


def make_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int,
                 augment: AugmentConfig | None = None, shuffle: bool = True) -> tf.data.Dataset:
    """uint8 images + int labels -> batches of (float input, one-hot label), optionally augmented.

    Shuffling and augmentation follow ``seed``, differently each epoch (each pass over the
    dataset), and identically in every run with the same seed."""
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)

    def to_model_input(images, labels, batch_seed=None):
        images = mnist_to_input(images)
        if augment is not None:
            images = augment_batch(images, augment, batch_seed)
        return images, tf.one_hot(labels, NUM_CLASSES)

    if augment is not None:  # a stateless seed for each batch, from a seeded stream
        batch_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip(ds, batch_seeds).map(lambda batch, batch_seed: (*batch,
                                                                                 batch_seed))
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


class TrainingBackup(keras.callbacks.BackupAndRestore):
    """Keras' BackupAndRestore (weights, optimiser state, epoch), also saved at every epoch end
    (with a batch-count ``save_freq`` Keras alone would not), plus the history and training
    time so far, so that a resumed run reports the whole run and not just its last part."""

    def __init__(self, backup_dir: str | Path, save_freq: int, steps_per_epoch: int):
        # double_checkpoint: a kill while the weights are being written leaves the previous copy
        super().__init__(str(backup_dir), save_freq=save_freq, delete_checkpoint=True,
                         double_checkpoint=True)
        self.steps_per_epoch = steps_per_epoch
        self.progress_path = Path(backup_dir) / "progress.json"
        earlier = (json.loads(self.progress_path.read_text())
                   if self.progress_path.is_file() else {"history": {}, "wall_time_s": 0.0})
        self.history: dict[str, list[float]] = earlier["history"]
        self.earlier_time_s: float = earlier["wall_time_s"]
        self.session_start = time.perf_counter()

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        resumed_epoch = getattr(self.model, "_initial_epoch", None)
        if resumed_epoch:
            # Keras replays an interrupted epoch from its first batch: rewind the optimiser's
            # step count to match, or the learning-rate schedule would run ahead of the epochs
            self.model.optimizer.iterations.assign(resumed_epoch * self.steps_per_epoch)

    @property
    def wall_time_s(self) -> float:
        return self.earlier_time_s + time.perf_counter() - self.session_start

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self._save_model()
        progress = {"history": self.history, "wall_time_s": self.wall_time_s}
        atomic_write_bytes(self.progress_path, json.dumps(progress).encode())  # never half a file


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
          val_data: tuple[np.ndarray, np.ndarray], backup_dir: str | Path,
          strategy: str = "default", verbose: int = 2, backup_every_batches: int = 100
          ) -> TrainResult:
    """Train from scratch, or continue from the backup in ``backup_dir`` if one is there.

    The backup (weights, optimiser state, epoch, history) is written every
    ``backup_every_batches`` batches and at each epoch end, so a killed run loses at most that
    many batches; it is deleted when training completes. A resumed run restarts the epoch it
    was killed in, from the weights of its last backup.
    """
    keras.utils.set_random_seed(config.seed)
    dist = make_strategy(strategy)
    batch_size = config.batch_size * dist.num_replicas_in_sync
    fit_ds = make_dataset(*fit_data, batch_size, config.seed, config.augment)
    val_ds = make_dataset(*val_data, 1024, config.seed, shuffle=False)
    steps_per_epoch = int(np.ceil(len(fit_data[0]) / batch_size))
    with dist.scope():
        model = build_model(config.model, for_training=True)
        model.compile(
            optimizer=keras.optimizers.AdamW(learning_rate_schedule(config, steps_per_epoch),
                                             weight_decay=config.weight_decay),
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
            metrics=["accuracy"], steps_per_execution=config.steps_per_execution)
    backup = TrainingBackup(backup_dir, backup_every_batches, steps_per_epoch)
    # the dataset is shuffled by make_dataset: fit's own shuffle does not apply to it
    model.fit(fit_ds, validation_data=val_ds, epochs=config.epochs, shuffle=False,
              callbacks=[backup, ProgressLog(config.epochs)], verbose=verbose)
    return TrainResult(model, backup.history, backup.wall_time_s)


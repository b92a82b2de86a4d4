"""Cheap, batched augmentation for training: how people actually draw digits.

Random affine warps (rotation, scale, shear, shift) and stroke-thickness changes, applied to a
whole batch at once with TensorFlow image ops inside the tf.data pipeline. Keras' random
augmentation layers inside the model would cost more than the convolutions on a small CPU.

The randomness is stateless: a batch's warps are a function of the seed it is given, so a
seeded run is reproducible however many batches tf.data augments in parallel (with stateful
random ops, parallel map calls take numbers from one stream in whatever order they run).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import tensorflow as tf


@dataclass(frozen=True)
class AugmentConfig:
    rotation_deg: float = 12.0  # max rotation either way
    scale: tuple[float, float] = (0.85, 1.15)  # digit size range
    shear: float = 0.2  # max horizontal shear (slant), in x-per-y
    shift_px: float = 3.0  # max translation on each axis, pixels of 28
    thickness: tuple[float, float] = (-0.6, 1.0)  # <0 thins towards erosion, >0 fattens to dilation


def _uniform(n: tf.Tensor, seed: tf.Tensor, low: float, high: float) -> tf.Tensor:
    return tf.random.stateless_uniform([n], seed, low, high)


def _affine_transforms(n: tf.Tensor, cfg: AugmentConfig, size: float, seeds: tf.Tensor
                       ) -> tf.Tensor:
    """Per-image 8-parameter transforms mapping output pixel coordinates to input ones."""
    angle = _uniform(n, seeds[0], -1.0, 1.0) * (cfg.rotation_deg * math.pi / 180)
    scale = _uniform(n, seeds[1], *cfg.scale)
    aspect = _uniform(n, seeds[2], 0.9, 1.1)  # people draw narrow and wide digits too
    sx, sy = scale * aspect, scale / aspect
    shear = _uniform(n, seeds[3], -cfg.shear, cfg.shear)
    tx = _uniform(n, seeds[4], -cfg.shift_px, cfg.shift_px)
    ty = _uniform(n, seeds[5], -cfg.shift_px, cfg.shift_px)
    cos, sin = tf.cos(angle), tf.sin(angle)
    # forward map (about the centre): p' = R @ Shear @ S @ (p - c) + c + t; we need its inverse
    a00, a01 = cos * sx, (cos * shear - sin) * sy
    a10, a11 = sin * sx, (sin * shear + cos) * sy
    det = a00 * a11 - a01 * a10
    i00, i01, i10, i11 = a11 / det, -a01 / det, -a10 / det, a00 / det
    c = (size - 1) / 2
    ox, oy = c + tx, c + ty  # where the centre goes
    b0 = c - (i00 * ox + i01 * oy)
    b1 = c - (i10 * ox + i11 * oy)
    zeros = tf.zeros([n])
    return tf.stack([i00, i01, b0, i10, i11, b1, zeros, zeros], axis=1)


def _vary_thickness(images: tf.Tensor, cfg: AugmentConfig, seed: tf.Tensor) -> tf.Tensor:
    n = tf.shape(images)[0]
    t = tf.reshape(_uniform(n, seed, *cfg.thickness), [n, 1, 1, 1])
    dilated = tf.nn.max_pool2d(images, 3, 1, "SAME")
    eroded = -tf.nn.max_pool2d(-images, 2, 1, "SAME")
    return images + tf.maximum(t, 0) * (dilated - images) + tf.maximum(-t, 0) * (eroded - images)


def augment_batch(images: tf.Tensor, cfg: AugmentConfig, seed: tf.Tensor) -> tf.Tensor:
    """Augment a float batch (N, 28, 28, 1) in [0, 1]; returns the same shape and range.

    ``seed``: two integers (tf.random's stateless seed); the same batch and seed always give
    the same result."""
    n = tf.shape(images)[0]
    size = float(images.shape[1])
    seeds = tf.random.experimental.stateless_split(seed, num=7)  # one per random quantity
    warped = tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=_affine_transforms(n, cfg, size, seeds),
        output_shape=tf.shape(images)[1:3], fill_value=0.0,
        interpolation="BILINEAR", fill_mode="CONSTANT")
    return tf.clip_by_value(_vary_thickness(warped, cfg, seeds[6]), 0.0, 1.0)

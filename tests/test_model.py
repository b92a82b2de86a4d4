"""The CNN's contract, temperature scaling, augmentation, the training set's extras, and short
training runs on small subsets (with a kill and a resume)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from benchmarks.reference import build_reference_model
from digit_recognizer.augment import AugmentConfig, augment_batch
from digit_recognizer.model import (NOT_A_DIGIT, NUM_CLASSES, SEVERAL_DIGITS, ModelConfig,
                                    build_model, with_temperature)
from digit_recognizer.preprocess import mnist_to_input
from digit_recognizer.train import TrainConfig, make_dataset, train, with_extras

SMALL = ModelConfig(widths=(4, 8), convs_per_stage=(1, 1), dense_units=16)  # fast, same layers
SEED = tf.constant([1, 2])  # a stateless seed for augment_batch


# --- the model ----------------------------------------------------------------------------

@pytest.mark.parametrize("config", [ModelConfig(), SMALL,
                                    ModelConfig(downsample="pool", batch_norm=False),
                                    ModelConfig(dense_units=0)],
                         ids=["default", "small", "pool-no-bn", "global-pooling"])
def test_model_maps_mnist_pixels_to_digit_and_not_a_digit_probabilities(config):
    model = build_model(config)
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 11)
    pixels = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    probabilities = keras.ops.convert_to_numpy(model(pixels))
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert (probabilities >= 0).all()


def test_each_stage_has_its_own_count_of_convs():
    counts = [sum(isinstance(layer, keras.layers.Conv2D) for layer in build_model(
        ModelConfig(widths=(4, 8), convs_per_stage=convs)).layers) for convs in ((1, 2), (2, 2))]
    assert counts == [2 + 3, 3 + 3]  # each stage's 3x3 convs, then its strided conv
    with pytest.raises(ValueError, match="one count per stage"):
        build_model(ModelConfig(widths=(4, 8, 16), convs_per_stage=(1, 2)))


def test_the_saved_model_standardises_its_own_input(tmp_path):
    """Downloaders feed pixels / 255 and nothing else: the standardisation is in the file,
    and the file loads in safe mode without this package's classes."""
    model = build_model(SMALL)
    assert model.layers[1].name == "standardize"
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    pixels = np.random.default_rng(1).random((2, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(loaded(pixels), model(pixels), atol=1e-6)


def test_reference_model_contract():
    model = build_reference_model()
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)


# --- temperature scaling: calibrated probabilities, the same model ----------------------------

def test_with_temperature_softens_the_same_logits_and_keeps_stock_layers(tmp_path):
    model = build_model(SMALL)
    rng = np.random.default_rng(4)
    model.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32) for w in model.get_weights()])
    calibrated = with_temperature(model, SMALL, 2.0)
    pixels = rng.random((4, 28, 28, 1), dtype=np.float32)
    original, softened = np.asarray(model(pixels)), np.asarray(calibrated(pixels))
    # softmax(z / 2) is softmax(z) squared and renormalised
    expected = original ** 0.5 / (original ** 0.5).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(softened, expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(softened.argmax(axis=1), original.argmax(axis=1))
    path = tmp_path / "calibrated.keras"
    calibrated.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)  # stock layers only
    np.testing.assert_allclose(np.asarray(loaded(pixels)), softened, atol=1e-6)


def test_training_set_adds_variants_cut_out_digits_and_negatives(mnist_test):
    x, y = mnist_test
    config = TrainConfig(pen_share=0.2, continental_share=0.1, context_share=0.1,
                         negative_share=0.2)
    x_all, y_all, alone = with_extras(x[:500], y[:500], config, np.random.default_rng(0))
    assert x_all.dtype == np.uint8 and x_all.shape[1:] == (28, 28)
    np.testing.assert_array_equal(y_all[:500], y[:500])  # the digits themselves come first,
    redrawn = (x_all[:500] != x[:500]).any(axis=(1, 2))  # a fifth of them redrawn with a pen
    assert redrawn.sum() == 100
    variants = y_all[500:alone.sum()]
    assert set(variants) <= {1, 4, 7, 9}
    assert 30 <= len(variants) <= 50  # a few edits may be impossible
    assert not alone[alone.sum():].any()  # the digits written alone come first
    cut_out = y_all[alone.sum():]
    cut_out = cut_out[cut_out != NOT_A_DIGIT]
    assert len(cut_out) == 50 and set(cut_out) <= set(range(10))
    assert (y_all == NOT_A_DIGIT).sum() == 100
    assert NUM_CLASSES == NOT_A_DIGIT + 1


def test_continental_variants_have_their_own_pen_share(mnist_test):
    x, y = mnist_test
    def variants(share):
        config = TrainConfig(pen_share=0.0, continental_share=0.1, continental_pen_share=share,
                             context_share=0.0, negative_share=0.0)
        x_all, _, alone = with_extras(x[:500], y[:500], config, np.random.default_rng(0))
        return x_all[500:alone.sum()]

    # the same variants (the same random draws up to here), all redrawn or none
    as_edited, redrawn = variants(0.0), variants(1.0)
    assert len(as_edited) == len(redrawn) > 30
    assert (as_edited != redrawn).any(axis=(1, 2)).all()


def test_a_twelfth_output_learns_several_digits_from_the_two_digit_negatives(mnist_test):
    x, y = mnist_test
    twelve = ModelConfig(widths=(4,), convs_per_stage=(1,), dense_units=8,
                         several_digits_output=True)
    assert build_model(twelve).output_shape == (None, SEVERAL_DIGITS + 1)
    assert build_model(ModelConfig(widths=(4,), convs_per_stage=(1,))).output_shape == (
        None, NUM_CLASSES)
    config = TrainConfig(pen_share=0.0, continental_share=0.0, context_share=0.0,
                         negative_share=0.2, model=twelve)
    _, labels, _ = with_extras(x[:500], y[:500], config, np.random.default_rng(0))
    _, plain, _ = with_extras(x[:500], y[:500], TrainConfig(
        pen_share=0.0, continental_share=0.0, context_share=0.0, negative_share=0.2),
        np.random.default_rng(0))
    # the same negatives: the "two digits" ones (a fifth of them) take the 12th label
    assert (labels == SEVERAL_DIGITS).sum() == 20
    np.testing.assert_array_equal(np.minimum(labels, NOT_A_DIGIT), plain)


# --- augmentation ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits(mnist_test):
    x_test, y_test = mnist_test
    return x_test[:256], y_test[:256]


@pytest.fixture(scope="module")
def pixels(digits):
    """The digits as the model's input: float32 (256, 28, 28, 1) in [0, 1]."""
    return mnist_to_input(digits[0])


def test_augmentation_keeps_shape_and_range_and_changes_the_images(pixels):
    augmented = augment_batch(pixels, AugmentConfig(), SEED).numpy()
    assert augmented.shape == pixels.shape and augmented.dtype == np.float32
    assert augmented.min() >= 0.0 and augmented.max() <= 1.0
    changed = np.abs(augmented - pixels).reshape(len(augmented), -1).max(axis=1)
    assert (changed > 0.1).mean() > 0.95  # (almost) every digit moved, turned or re-stroked


def test_augmentation_keeps_the_digit_on_the_canvas(pixels):
    """Shift and scale are bounded so that no digit is pushed out of the 28x28 frame."""
    augmented = augment_batch(pixels, AugmentConfig(), SEED).numpy()
    ink_before = pixels.sum(axis=(1, 2, 3))
    ink_after = augmented.sum(axis=(1, 2, 3))
    assert (ink_after > 0.4 * ink_before).all()  # thinning and scaling shrink ink, not erase it


def test_augmentation_follows_its_seed(pixels):
    first = augment_batch(pixels, AugmentConfig(), SEED).numpy()
    again = augment_batch(pixels, AugmentConfig(), SEED).numpy()
    other = augment_batch(pixels, AugmentConfig(), tf.constant([1, 3])).numpy()
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_augmented_batches_are_the_same_in_every_run_and_new_each_epoch(digits):
    x, y = digits

    def epoch(dataset):
        return np.concatenate([images.numpy() for images, _ in dataset])

    dataset = make_dataset(x, y, batch_size=64, seed=5, augment=AugmentConfig())
    first_epoch, second_epoch = epoch(dataset), epoch(dataset)
    rerun = make_dataset(x, y, batch_size=64, seed=5, augment=AugmentConfig())
    np.testing.assert_array_equal(epoch(rerun), first_epoch)
    assert not np.allclose(first_epoch, second_epoch)


def test_augmentation_without_change_is_the_identity(pixels):
    identity = AugmentConfig(rotation_deg=0.0, scale=(1.0, 1.0), shear=0.0, shift_px=0.0,
                             thickness=(0.0, 0.0))
    # the random aspect ratio (0.9-1.1) is the one warp the config does not switch off
    augmented = augment_batch(pixels, identity, SEED).numpy()
    assert np.abs(augmented - pixels).mean() < 0.05


def test_augmented_dataset_keeps_every_label_with_its_image(digits, reader):
    x, y = digits
    batches = list(make_dataset(x, y, batch_size=100, seed=0, augment=AugmentConfig(),
                                shuffle=False))
    assert [len(images) for images, _ in batches] == [100, 100, 56]
    labels = np.concatenate([one_hot.numpy().argmax(axis=1) for _, one_hot in batches])
    np.testing.assert_array_equal(labels, y)
    images = np.concatenate([images.numpy() for images, _ in batches])
    assert images.shape == (256, 28, 28, 1)
    # still the digit of its label (no 6 turned into a 9): the shipped model reads them so
    predicted = reader.model.predict(images, verbose=0).argmax(axis=1)
    assert (predicted == y).mean() > 0.97


# --- a short training run ---------------------------------------------------------------------

def test_short_training_run_on_a_subset_beats_chance_clearly(tmp_path):
    """The full preset's recipe (fused batch norm, augmentation, schedule) on 3000 images,
    with a narrower net."""
    from digit_recognizer.data import load_mnist, split_validation

    (x_train, y_train), _ = load_mnist()
    (x_fit, y_fit), val = split_validation(x_train, y_train, n_val=1000, seed=0)
    config = TrainConfig(epochs=5, batch_size=64, warmup_epochs=0.5, validation_size=1000,
                         model=ModelConfig(widths=(8, 16), convs_per_stage=(1, 2), dropout=0.1))
    result = train(config, (x_fit[:3000], y_fit[:3000]), val, backup_dir=tmp_path / "backup",
                   verbose=0)
    assert len(result.history["val_accuracy"]) == 5
    assert result.history["val_accuracy"][-1] > 0.8  # chance is 0.1
    assert result.history["loss"][-1] < result.history["loss"][0]
    assert result.wall_time_s > 0
    assert not (tmp_path / "backup").exists()  # deleted once training completed


def test_a_seeded_run_is_reproducible(mnist_test, tmp_path):
    """Same seed, same data: the same history and weights (augmentation runs in parallel)."""
    x, y = mnist_test
    config = TrainConfig(epochs=2, batch_size=32, validation_size=200, seed=11, model=SMALL)

    def run(name):
        return train(config, (x[:640], y[:640]), (x[-200:], y[-200:]),
                     backup_dir=tmp_path / name, verbose=0)

    first, second = run("first"), run("second")
    assert first.history == second.history
    for a, b in zip(first.model.get_weights(), second.model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("strategy", ["default", "mirrored"])
def test_training_runs_under_each_local_strategy(mnist_test, tmp_path, strategy):
    """--strategy mirrored runs on this machine's one CPU device (multi-worker needs TF_CONFIG
    and several hosts; an unknown name is refused)."""
    x, y = mnist_test
    config = TrainConfig(epochs=1, batch_size=32, validation_size=64, model=SMALL)
    result = train(config, (x[:256], y[:256]), (x[-64:], y[-64:]), backup_dir=tmp_path,
                   strategy=strategy, verbose=0)
    assert len(result.history["loss"]) == 1
    assert np.isfinite(result.history["loss"][0])


def test_an_unknown_strategy_is_refused():
    from digit_recognizer.train import make_strategy

    with pytest.raises(ValueError, match="unknown strategy 'tpu'"):
        make_strategy("tpu")


@pytest.mark.parametrize("epochs", [1, 2, 36])
def test_learning_rate_warms_up_then_decays_for_any_run_length(epochs):
    from digit_recognizer.train import learning_rate_schedule

    config = TrainConfig(epochs=epochs)  # the full preset's one-epoch warmup
    schedule = learning_rate_schedule(config, steps_per_epoch=10)
    rates = [float(schedule(step)) for step in range(epochs * 10 + 1)]
    peak = int(np.argmax(rates))
    assert rates[peak] == pytest.approx(config.learning_rate)
    assert 0 < peak <= epochs * 10 // 2
    assert rates[0] < rates[peak] and rates[-1] < 0.01 * rates[peak]

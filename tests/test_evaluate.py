"""digit_recognizer.evaluate (metrics) and what a run writes into its model folder
(digit_recognizer.model_folder, .plots, .files: artifacts, model card, atomic writes). A tiny
untrained model on random digits: fast, no MNIST needed, and it makes plenty of mistakes to
show."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest
from huggingface_hub import ModelCard
from matplotlib.figure import Figure
from PIL import Image

from digit_recognizer import evaluate as ev
from digit_recognizer import files, plots
from digit_recognizer import model_folder as mf
from digit_recognizer.model import ModelConfig, build_model

N = 300
SMALL = ModelConfig(widths=(4, 8), convs_per_stage=(1, 1), dense_units=16)  # fast
ARTIFACTS = ["metrics.json", "training_curves.png", "confusion_matrix.png",
             "test_predictions.png", "worst_mistakes.png", "README.md"]
HISTORY = {"loss": [1.2, 0.6, 0.4], "accuracy": [0.6, 0.85, 0.9],
           "val_loss": [0.8, 0.5, 0.45], "val_accuracy": [0.75, 0.88, 0.91],
           "learning_rate": [1e-3, 5e-4, 1e-5]}
RUN_INFO = {"command": "python scripts/train.py --preset quick", "epochs": 3,
            "num_parameters": 1234, "training_images": 55000, "training_wall_time_s": 61.0,
            "versions": {"keras": "3.15.1"}, "config": {"seed": 42, "widths": [4, 8]}}


@pytest.fixture(scope="module")
def evaluated():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(N, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, size=N)
    model = build_model(SMALL)
    metrics, probabilities = ev.evaluate(model, x, y)
    return x, y, metrics, probabilities


@pytest.fixture(scope="module")
def out_dir(evaluated, tmp_path_factory):
    x, y, metrics, probabilities = evaluated
    directory = tmp_path_factory.mktemp("models")
    written = mf.write_artifacts(directory, metrics=metrics, probabilities=probabilities,
                                 x_test=x, y_test=y, history=HISTORY, run_info=RUN_INFO,
                                 repo_id="someone/digits")
    assert sorted(p.name for p in written) == sorted(ARTIFACTS + ["samples"])
    return directory


def hidden_entries(directory):
    return sorted(p.name for p in directory.rglob(".*"))


# ----------------------------------------------------------------------------- metrics
def test_compute_metrics_on_known_probabilities():
    probabilities = np.full((4, 10), 0.01, dtype=np.float32)
    for row, digit in enumerate([3, 3, 5, 1]):  # predictions
        probabilities[row, digit] = 0.91
    labels = np.array([3, 3, 1, 1])  # the third image is a 1 read as a 5
    metrics = ev.compute_metrics(probabilities, labels)

    assert metrics["test_accuracy"] == 0.75
    assert metrics["num_test_images"] == 4
    expected_loss = -(3 * math.log(0.91) + math.log(0.01)) / 4
    assert metrics["test_loss"] == pytest.approx(expected_loss, rel=1e-6)
    confusion = np.array(metrics["confusion_matrix"])
    assert confusion[3, 3] == 2 and confusion[1, 1] == 1 and confusion[1, 5] == 1
    assert confusion.sum() == 4
    assert metrics["per_class_accuracy"][3] == 1.0
    assert metrics["per_class_accuracy"][1] == 0.5
    assert metrics["per_class_accuracy"][0] is None  # no 0 in the labels: not NaN
    json.dumps(metrics, allow_nan=False)


def test_a_refused_test_digit_counts_as_wrong():
    # the second 3 is doubted as "not a digit": refused at a 0.5 threshold, read at 0.9
    probabilities = np.zeros((2, 11), np.float32)
    probabilities[0, 3] = 1.0
    probabilities[1, [3, 10]] = [0.3, 0.7]
    labels = np.array([3, 3])
    refused = ev.compute_metrics(probabilities, labels, not_a_digit_threshold=0.5)
    assert refused["test_accuracy"] == 0.5 and refused["test_refused"] == 0.5
    assert refused["confusion_matrix"][3][10] == 1
    read = ev.compute_metrics(probabilities, labels, not_a_digit_threshold=0.9)
    assert read["test_accuracy"] == 1.0 and read["test_refused"] == 0.0


def test_loss_stays_finite_for_a_zero_probability():
    probabilities = np.eye(10, dtype=np.float32)[[1]]  # certain it is a 1
    metrics = ev.compute_metrics(probabilities, np.array([7]))
    assert metrics["test_loss"] == pytest.approx(-math.log(ev.LOSS_EPSILON))


def test_evaluate_numbers_are_consistent(evaluated):
    x, y, metrics, probabilities = evaluated
    classes = probabilities.shape[1]  # the model's outputs: metrics take the count from there
    assert probabilities.shape == (N, classes) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)

    confusion = np.array(metrics["confusion_matrix"])
    assert confusion.shape == (classes, classes) and confusion.dtype.kind == "i"
    assert confusion.sum() == N == metrics["num_test_images"]
    np.testing.assert_array_equal(confusion.sum(axis=1), np.bincount(y, minlength=classes))
    read_as = probabilities[:, :10].argmax(axis=1)  # no threshold: the likeliest digit
    np.testing.assert_array_equal(confusion.sum(axis=0), np.bincount(read_as, minlength=classes))
    assert metrics["test_accuracy"] == pytest.approx(np.trace(confusion) / N)
    assert metrics["test_accuracy"] == pytest.approx(np.mean(read_as == y))
    assert metrics["test_refused"] == 0.0 and 0.0 <= metrics["test_ece"] <= 1.0
    for digit, accuracy in enumerate(metrics["per_class_accuracy"]):
        total = confusion[digit].sum()
        assert accuracy == (pytest.approx(confusion[digit, digit] / total) if total else None)
    expected_loss = -np.mean(np.log(probabilities[np.arange(N), y].astype(np.float64)))
    assert metrics["test_loss"] == pytest.approx(expected_loss, rel=1e-5)
    json.dumps(metrics, allow_nan=False)


def test_evaluate_refuses_scaled_images(evaluated):
    x, y, _, _ = evaluated
    with pytest.raises(ValueError, match="uint8"):
        ev.evaluate(None, x.astype(np.float32) / 255, y)
    with pytest.raises(ValueError, match="y_test"):
        ev.evaluate(None, x, y[:-1])


@pytest.mark.parametrize("correct, count, mistakes, expected", [
    ([True] * 20, 5, 2, [0, 1, 2, 3, 4]),  # no mistakes at all: simply the first ones
    ([True] * 10 + [False] * 2 + [True] * 8, 5, 2, [0, 1, 2, 10, 11]),
    ([True] * 10 + [False] + [True] * 9, 5, 2, [0, 1, 2, 3, 10]),  # one mistake, one filler
    ([False] * 3, 5, 2, [0, 1, 2]),  # fewer images than asked for
])
def test_select_examples(correct, count, mistakes, expected):
    chosen = mf.select_examples(np.array(correct), count, mistakes)
    assert chosen.tolist() == expected


# ----------------------------------------------------------------------------- artifacts
def test_every_artifact_exists_and_pngs_open(out_dir):
    for name in ARTIFACTS:
        assert (out_dir / name).is_file() and (out_dir / name).stat().st_size > 0, name
    minimum = {"training_curves.png": (900, 250), "confusion_matrix.png": (400, 400),
               "test_predictions.png": (500, 350), "worst_mistakes.png": (600, 600)}
    for name, (min_width, min_height) in minimum.items():
        with Image.open(out_dir / name) as image:
            image.verify()
        with Image.open(out_dir / name) as image:
            assert image.format == "PNG"
            assert min_width <= image.width <= 4000 and min_height <= image.height <= 4000, name
    assert hidden_entries(out_dir) == []  # no temporary left behind


def test_samples_point_at_test_digits(out_dir, evaluated):
    x, y, _, probabilities = evaluated
    entries = json.loads((out_dir / "samples" / "samples.json").read_text())
    assert len(entries) == mf.NUM_SAMPLES
    assert [e["test_index"] for e in entries] == sorted({e["test_index"] for e in entries})
    for entry in entries:
        assert set(entry) == {"file", "label", "prediction", "confidence", "test_index"}
        index = entry["test_index"]
        with Image.open(out_dir / "samples" / entry["file"]) as image:
            assert image.size == (28, 28) and image.mode == "L"
            np.testing.assert_array_equal(np.asarray(image), x[index])  # white on black as stored
        assert entry["label"] == y[index]
        assert entry["prediction"] == probabilities[index].argmax()
        assert entry["confidence"] == pytest.approx(probabilities[index].max(), abs=1e-4)
    mistakes = sum(e["label"] != e["prediction"] for e in entries)
    assert mistakes >= mf.SAMPLE_MISTAKES  # an untrained model has plenty to show
    pngs = {p.name for p in (out_dir / "samples").glob("*.png")}
    assert pngs == {e["file"] for e in entries}


def test_metrics_json_round_trips(out_dir, evaluated):
    _, _, metrics, _ = evaluated
    text = (out_dir / "metrics.json").read_text()
    assert json.loads(text) == {**metrics, **RUN_INFO}
    assert text.startswith("{\n  ") and text.endswith("}\n")  # pretty-printed


def test_model_card(out_dir, evaluated):
    _, _, metrics, _ = evaluated
    text = (out_dir / "README.md").read_text()
    assert text.startswith("---\n")
    front_matter = text.split("---\n")[1]
    assert "library_name: keras" in front_matter
    assert "pipeline_tag: image-classification" in front_matter
    assert f"{metrics['test_accuracy']:.2%}" in text
    assert RUN_INFO["command"] in text
    assert 'hf_hub_download("someone/digits", "digit_cnn.keras")' in text
    card = ModelCard.load(out_dir / "README.md")
    assert card.data.license == "mit" and card.data.datasets == ["mnist"]
    result = card.data.eval_results[0]
    assert result.metric_type == "accuracy" and result.dataset_split == "test"
    assert result.metric_value == pytest.approx(metrics["test_accuracy"], abs=1e-4)
    assert "`(N, 11)`" in text and "several digits" not in text  # RUN_INFO gives no outputs


def test_model_card_of_a_twelve_output_model_says_what_the_twelfth_is(evaluated):
    _, _, metrics, _ = evaluated
    text = str(mf.model_card(metrics, {**RUN_INFO, "outputs": 12}))
    assert "`(N, 12)`" in text and 'index 11 is **"several digits"**' in text
    assert "probabilities[:, 10:].sum(axis=1)" in text  # refusal on both, as the app refuses


def test_saved_model_loads_in_safe_mode_and_predicts_the_same(evaluated, tmp_path):
    x, _, _, probabilities = evaluated
    model = build_model(SMALL)
    path = mf.save_model(model, tmp_path)
    assert path == tmp_path / mf.MODEL_FILENAME and hidden_entries(tmp_path) == []
    assert mf.find_model_file(tmp_path) == path
    loaded = mf.load_model(path)
    assert np.allclose(loaded.predict(x[:8, ..., None] / 255.0, verbose=0),
                       model.predict(x[:8, ..., None] / 255.0, verbose=0), atol=1e-6)


def test_run_info_may_not_overwrite_metrics(evaluated, tmp_path):
    x, y, metrics, probabilities = evaluated
    with pytest.raises(ValueError, match="test_accuracy"):
        mf.write_artifacts(tmp_path, metrics=metrics, probabilities=probabilities, x_test=x,
                           y_test=y, history=HISTORY, run_info={"test_accuracy": 1.0})
    assert list(tmp_path.iterdir()) == []


def test_worst_mistakes_without_mistakes(tmp_path):
    labels = np.arange(10)
    plots.plot_worst_mistakes(np.zeros((10, 28, 28), np.uint8), labels,
                              np.eye(10, dtype=np.float32), tmp_path / "worst.png")
    with Image.open(tmp_path / "worst.png") as image:
        assert image.width > 100


# ----------------------------------------------------------------------------- atomicity
def test_atomic_path_leaves_nothing_half_written(tmp_path):
    target = tmp_path / "metrics.json"
    with pytest.raises(RuntimeError):
        with files.atomic_path(target) as tmp:
            tmp.write_bytes(b'{"test_accu')  # the process "dies" mid-write
            raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []  # neither the target nor the temporary

    files.atomic_write_bytes(target, b"old")
    with pytest.raises(RuntimeError):
        with files.atomic_path(target) as tmp:
            tmp.write_bytes(b"ne")
            raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_failed_rewrite_keeps_previous_artifacts(out_dir, evaluated, tmp_path, monkeypatch):
    x, y, metrics, probabilities = evaluated
    directory = tmp_path / "models"
    shutil.copytree(out_dir, directory)
    before = {p: p.read_bytes() for p in directory.rglob("*") if p.is_file()}

    def crash_midway(self, fname, **kwargs):
        with open(fname, "wb") as f:
            f.write(b"\x89PNG\r\n")  # a truncated PNG, then the failure
        raise OSError("no space left on device")

    monkeypatch.setattr(Figure, "savefig", crash_midway)
    changed = {**metrics, "test_accuracy": 0.5}
    with pytest.raises(OSError, match="no space"):
        mf.write_artifacts(directory, metrics=changed, probabilities=probabilities, x_test=x,
                           y_test=y, history=HISTORY, run_info=RUN_INFO)
    # metrics.json was complete before the first plot failed; every PNG is the old one
    assert json.loads((directory / "metrics.json").read_text())["test_accuracy"] == 0.5
    for path, content in before.items():
        if path.name != "metrics.json":
            assert path.read_bytes() == content, path
    assert hidden_entries(directory) == []


def test_samples_folder_is_swapped_whole(evaluated, tmp_path):
    x, y, _, probabilities = evaluated
    samples = tmp_path / "samples"
    mf.write_samples(samples, x, y, probabilities, np.arange(5))
    (samples / "stale.png").write_bytes(b"from an older run")
    mf.write_samples(samples, x, y, probabilities, np.arange(5, 8))
    names = sorted(p.name for p in samples.iterdir())
    assert names == ["samples.json", "test_00005.png", "test_00006.png", "test_00007.png"]
    assert hidden_entries(tmp_path) == []

    with pytest.raises(IndexError):  # fails while filling: the previous folder stays
        mf.write_samples(samples, x, y, probabilities, np.array([0, N + 5]))
    assert sorted(p.name for p in samples.iterdir()) == names
    assert hidden_entries(tmp_path) == []

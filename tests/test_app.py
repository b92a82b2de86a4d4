"""The demo app: its handlers called directly, then the app launched in-process and called through
gradio_client on both API endpoints, with good pictures and the bad ones people send.

Correctness checks ("this drawing reads as 7") use conftest's `reader`: the shipped model,
models/digit_cnn.keras (or DIGIT_RECOGNIZER_TEST_MODEL); without one they fail, saying how to
train it. Drawings are MNIST *test* digits (conftest's `mnist_test`) redrawn on an 800x800
canvas by benchmarks.drawings.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gradio as gr
import httpx
import numpy as np
import pytest
from gradio.components.image_editor import EditorData, EditorDataBlobs
from gradio.data_classes import FileData
from gradio_client import Client
from gradio_client.exceptions import AppError
from PIL import Image, ImageOps

from benchmarks.client import ENDPOINTS, REQUEST_TIMEOUT_S, api_argument, app_client
from benchmarks.drawings import draw_digit
from benchmarks.serving import free_port
from digit_recognizer import demo as logic
from digit_recognizer import model_folder, ui
from digit_recognizer.components import SketchpadInput
from digit_recognizer.model_folder import MODEL_FILENAME, ModelLoadError
from digit_recognizer.reading import Reading
from helpers import write_huge_blank_png

SEVEN = 0  # index of a clearly written 7 in the MNIST test set: the tests' "real digit"
# What each kind of unreadable picture must be told: parts of preprocess.ImageInputError's
# messages, one for each case.
EMPTY = "the canvas or picture is empty"
NOT_AN_IMAGE = "not an image we can read"
DAMAGED = "damaged or truncated"
TOO_LARGE = "too large to process"
TOO_SMALL = "too small to read"
NOISE = "looks like noise"
TOO_THIN = "too long and thin"
NO_IMAGE = "No image"


# ------------------------------------------------------------------------- model and digits
@pytest.fixture(scope="module")
def handlers(reader, tmp_path_factory) -> logic.DigitDemo:
    return logic.DigitDemo(reader, cache_dir=tmp_path_factory.mktemp("previews"))


@pytest.fixture(scope="module")
def drawn_seven(mnist_test) -> np.ndarray:
    """RGBA 800x800, black strokes on a transparent canvas, as the sketchpad sends it."""
    images, labels = mnist_test
    assert labels[SEVEN] == 7
    return draw_digit(images[SEVEN], np.random.default_rng(7), height_range=(0.5, 0.7),
                      brush_range=(14.0, 30.0))


@pytest.fixture(scope="module")
def pictures(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pictures")


@pytest.fixture(scope="module")
def seven_png(drawn_seven, pictures) -> Path:
    return save(Image.fromarray(drawn_seven), pictures / "seven.png")


@pytest.fixture(scope="module")
def encodings(drawn_seven, pictures) -> dict[str, Path]:
    return digit_encodings(drawn_seven, pictures)


@pytest.fixture(scope="module")
def unreadable(drawn_seven, pictures) -> dict[str, tuple[Path, tuple[str, ...]]]:
    return unreadable_pictures(drawn_seven, pictures)


# ------------------------------------------------------------------------ pictures to send
def save(image: Image.Image, path: Path, **params) -> Path:
    image.save(path, **params)
    return path


def on_white(rgba: np.ndarray) -> Image.Image:
    """The drawing as dark ink on white paper (for formats without transparency)."""
    return Image.alpha_composite(Image.new("RGBA", rgba.shape[1::-1], "white"),
                                 Image.fromarray(rgba)).convert("RGB")


def exif_rotated_jpeg(image: Image.Image, path: Path) -> Path:
    """Pixels stored sideways plus an EXIF Orientation tag that turns them upright, like a phone."""
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: "rotate 90 degrees clockwise to display"
    image.transpose(Image.Transpose.ROTATE_90).save(path, "JPEG", quality=92, exif=exif)
    with Image.open(path) as stored:
        assert stored.size == image.size[::-1]
        assert ImageOps.exif_transpose(stored).size == image.size
    return path


def digit_encodings(drawn: np.ndarray, folder: Path) -> dict[str, Path]:
    """The same drawn 7 in every format and mode the upload tab accepts."""
    paper = on_white(drawn)
    grey16 = Image.fromarray(np.asarray(paper.convert("L"), np.uint16) * 257)  # mode I;16
    blank_frame = Image.new("P", paper.size, 255)
    return {
        "png rgba": save(Image.fromarray(drawn), folder / "rgba.png"),
        "png 16-bit": save(grey16, folder / "grey16.png"),
        "jpeg": save(paper, folder / "paper.jpg", quality=85),
        "jpeg cmyk": save(paper.convert("CMYK"), folder / "cmyk.jpg"),
        "jpeg exif-rotated": exif_rotated_jpeg(paper, folder / "rotated.jpg"),
        "webp": save(paper, folder / "paper.webp"),
        "gif palette": save(paper.convert("P"), folder / "palette.gif"),
        "gif animated": save(paper.convert("P"), folder / "animated.gif", save_all=True,
                             append_images=[blank_frame], duration=200),
        "bmp": save(paper, folder / "paper.bmp"),
        "tiff": save(paper, folder / "paper.tiff"),
    }


def unreadable_pictures(drawn: np.ndarray, folder: Path) -> dict[str, tuple[Path, str]]:
    """Pictures without a readable digit, each with the message it must be told."""
    noise = np.random.default_rng(0).integers(0, 256, (800, 800, 3), np.uint8)
    dot = np.zeros((800, 800, 4), np.uint8)
    dot[397:403, 397:403, 3] = 255
    strip = np.full((3, 4000), 255, np.uint8)
    strip[:, 1000:3000] = 0
    images = {
        "empty transparent": (Image.new("RGBA", (800, 800), (0, 0, 0, 0)), EMPTY),
        "empty white": (Image.new("RGB", (800, 800), "white"), EMPTY),
        "empty black": (Image.new("RGB", (800, 800), "black"), EMPTY),
        "random noise": (Image.fromarray(noise), NOISE),
        "1x1 image": (Image.new("L", (1, 1), 0), EMPTY),  # one pixel: no contrast at all
        "4000x3 strip": (Image.fromarray(strip), TOO_THIN),  # no room for a digit
        "tiny dot": (Image.fromarray(dot), TOO_SMALL),
    }
    cases = {name: (save(image, folder / f"{name.replace(' ', '_')}.png"), reason)
             for name, (image, reason) in images.items()}
    png = io.BytesIO()
    Image.fromarray(drawn).save(png, "PNG")
    raw_files = {
        "truncated png": ("truncated.png", png.getvalue()[: len(png.getvalue()) // 2], DAMAGED),
        "text named .png": ("notes.png", b"This is not a picture of a digit.\n", NOT_AN_IMAGE),
        "zero-byte file": ("zero.png", b"", NOT_AN_IMAGE),
    }
    for name, (filename, content, reason) in raw_files.items():
        (folder / filename).write_bytes(content)
        cases[name] = (folder / filename, reason)
    cases["20000x20000 png"] = (write_huge_blank_png(folder / "bomb.png"), TOO_LARGE)
    return cases


def assert_human_message(message: str, reason: str) -> None:
    """Our message for this picture, not Gradio's generic one nor a traceback."""
    assert "upstream" not in message.lower() and "Traceback" not in message, message
    assert reason.lower() in message.lower(), message


def assert_reads(labels: dict[str, float], digit: int) -> None:
    """gr.Label's top-3 form, likeliest first, and the right digit on top."""
    probabilities = list(labels.values())
    assert len(labels) == logic.TOP_K and set(labels) <= set("0123456789")
    assert probabilities == sorted(probabilities, reverse=True)
    assert all(0.0 <= p <= 1.0 for p in probabilities) and sum(probabilities) <= 1.0 + 1e-5
    assert next(iter(labels)) == str(digit), labels


# ------------------------------------------------------------------ handlers, no server
def test_test_pictures_are_what_their_names_say(encodings, unreadable):
    modes = {"png 16-bit": "I;16", "jpeg cmyk": "CMYK", "gif palette": "P", "png rgba": "RGBA"}
    for name, mode in modes.items():
        with Image.open(encodings[name]) as image:
            assert image.mode == mode, name
    with Image.open(encodings["gif animated"]) as image:
        assert image.n_frames == 2
    bomb = unreadable["20000x20000 png"][0].read_bytes()
    assert struct.unpack(">II", bomb[16:24]) == (20_000, 20_000) and len(bomb) < 200_000


def test_drawn_digits_are_read_with_the_image_the_model_saw(handlers, mnist_test, tmp_path):
    images, labels = mnist_test
    rng = np.random.default_rng(0)
    indices = [int(np.flatnonzero(labels == digit)[k]) for digit in range(10) for k in (0, 1)]
    right = 0
    for index in indices:
        path = save(Image.fromarray(draw_digit(images[index], rng)), tmp_path / f"{index}.png")
        top3, seen_png, hint = handlers.read_request(str(path))
        assert len(top3) == 3 and sum(top3.values()) <= 1.0 + 1e-5
        seen = np.asarray(Image.open(seen_png))
        assert seen.shape == (28 * logic.PREVIEW_SCALE,) * 2 and seen.dtype == np.uint8
        assert seen.max() == 255 and seen[0].max() == 0  # white digit, black border, as MNIST
        assert hint == "" or hint.startswith("Doubtful")
        right += next(iter(top3)) == str(labels[index])
    assert right >= 18, f"{right} of {len(indices)} drawn digits read correctly"


def sketch(composite: Path | None = None, background: Path | None = None,
           layers: tuple[Path, ...] = ()) -> EditorData:
    """A sketchpad value as an API call brings it: files Gradio has stored."""
    def file(path: Path | None) -> FileData | None:
        return None if path is None else FileData(path=str(path))

    return EditorData(background=file(background), layers=[file(p) for p in layers],
                      composite=file(composite))


def test_sketchpad_hands_on_its_composite_undecoded(seven_png):
    assert SketchpadInput().preprocess(sketch(seven_png)) == str(seven_png)
    assert SketchpadInput().preprocess(sketch()) is None
    assert SketchpadInput().preprocess(None) is None


def test_layers_over_a_background_are_read_like_a_composite(handlers, pictures, seven_png):
    white = save(Image.new("RGB", (800, 800), "white"), pictures / "white_background.png")
    picture = SketchpadInput().preprocess(sketch(background=white, layers=(seven_png,)))
    assert isinstance(picture, np.ndarray) and picture.shape == (800, 800, 4)
    assert_reads(handlers.read_request(picture)[0], 7)


def test_a_damaged_layer_is_an_error_with_its_message(unreadable, seven_png):
    damaged, reason = unreadable["truncated png"]
    with pytest.raises(gr.Error) as error:
        SketchpadInput().preprocess(sketch(background=seven_png, layers=(damaged,)))
    assert_human_message(error.value.message, reason)


def test_layers_of_another_size_are_an_error_with_its_message(pictures, seven_png):
    small = save(Image.new("RGB", (400, 400), "white"), pictures / "small_background.png")
    with pytest.raises(gr.Error) as error:
        SketchpadInput().preprocess(sketch(background=small, layers=(seven_png,)))
    assert_human_message(error.value.message, "differ in size")


def test_browser_canvas_sent_as_blobs_is_read(handlers, seven_png):
    pad = SketchpadInput()
    pad.blob_storage["canvas-1"] = EditorDataBlobs(background=None, layers=[],
                                                   composite=seven_png.read_bytes())
    picture = pad.preprocess(EditorData(id="canvas-1"))
    assert picture == seven_png.read_bytes() and "canvas-1" not in pad.blob_storage
    assert_reads(handlers.read_request(picture)[0], 7)


def test_empty_canvas_is_an_error_never_a_digit(handlers, unreadable):
    with pytest.raises(gr.Error, match=NO_IMAGE):
        handlers.read_request(None)
    for name in ("empty transparent", "empty white", "empty black"):
        with pytest.raises(gr.Error) as error:
            handlers.read_request(str(unreadable[name][0]))
        assert_human_message(error.value.message, EMPTY)


def test_garbage_file_is_an_error_with_a_human_message(handlers, unreadable):
    with pytest.raises(gr.Error) as error:
        handlers.read_request(str(unreadable["text named .png"][0]))
    assert_human_message(error.value.message, NOT_AN_IMAGE)


def test_live_reading_shows_a_hint_instead_of_an_error(handlers, unreadable, seven_png):
    top3, seen, hint = handlers.read_while_drawing(None)  # the sketchpad was just cleared
    assert (top3, seen) == (None, None) and "draw a digit" in hint.lower()
    top3, seen, hint = handlers.read_while_drawing(str(unreadable["tiny dot"][0]))
    assert (top3, seen) == (None, None) and TOO_SMALL in hint
    assert_reads(handlers.read_while_drawing(str(seven_png))[0], 7)


def test_a_letter_is_refused_as_not_a_digit_by_request_and_hinted_while_drawing(handlers):
    letter = ui.EXAMPLES[2]  # a drawn "A"
    with pytest.raises(gr.Error) as error:
        handlers.read_request(letter)
    assert error.value.message.startswith("Not a digit")
    top3, seen, hint = handlers.read_while_drawing(letter)  # no popup, no label: a hint
    assert (top3, seen) == (None, None) and hint.startswith("Not a digit")


def test_a_number_is_read_left_to_right_with_each_digit_shown(handlers):
    top3, seen_png, digits = handlers.read_request(ui.EXAMPLES[1])  # "2026", touching digits
    assert list(top3)[0] == "2026" and len(top3) == 3
    assert all(len(reading) == 4 and reading.isdigit() for reading in top3)
    seen = np.asarray(Image.open(seen_png))  # four 28x28 digits side by side, enlarged
    assert seen.shape == (28 * logic.PREVIEW_SCALE,
                          (4 * 28 + 3 * logic.PREVIEW_GAP) * logic.PREVIEW_SCALE)
    assert digits.startswith("4 digits, left to right: **2**")


def test_the_label_holds_digits_only_with_probabilities_over_the_digits(handlers, seven_png):
    top3, _, _ = handlers.read_request(str(seven_png))
    assert list(top3)[0] == "7" and all(label in "0123456789" for label in top3)
    assert 0.9 < sum(top3.values()) <= 1.0 + 1e-6


def test_a_model_from_before_not_a_digit_reads_whatever_it_is_given():
    from benchmarks.reference import build_reference_model
    from digit_recognizer.predict import DigitReader

    reader = DigitReader(build_reference_model())  # 10 outputs, like models trained before
    assert not reader.can_refuse
    assert reader.read(ui.EXAMPLES[2]).text.isdigit()  # a letter still gets a digit
    assert "reads whatever it is given" in ui.describe_model(1000, {}, reader.can_refuse)


def test_each_digits_line_marks_the_doubtful_ones():
    reading = Reading(text="42", digits=[{"4": 0.99, "9": 0.01}, {"2": 0.6, "7": 0.35}],
                      pixels=[np.zeros((28, 28), np.uint8)] * 2, doubtful=[False, True],
                      top_readings={"42": 0.59, "47": 0.35})
    assert logic.describe(reading) == "2 digits, left to right: **4** 99% · **2** 60% ⚠ or 7 (35%)"
    one = Reading(text="4", digits=[{"4": 0.55, "9": 0.45}], pixels=[np.zeros((28, 28))],
                  doubtful=[True], top_readings={"4": 0.55, "9": 0.45})
    assert logic.describe(one) == "Doubtful: **4** 55% ⚠ or 9 (45%)"
    unlike = Reading(text="4", digits=[{"4": 1.0}], pixels=[np.zeros((28, 28))], doubtful=[True],
                     top_readings={"4": 1.0}, maybe_not_a_digit=[True])
    assert logic.describe(unlike) == "Doubtful: **4** 100% ⚠ may not be a digit"


def test_an_unexpected_failure_is_logged_and_shown_as_a_plain_sentence(caplog):
    class BrokenReader:
        def read(self, source):
            raise RuntimeError("bug in preprocessing")

    with caplog.at_level(logging.ERROR), pytest.raises(gr.Error) as error:
        logic.DigitDemo(BrokenReader()).read_request("anything.png")
    assert error.value.message == logic.UNEXPECTED_ERROR
    assert "bug in preprocessing" in caplog.text  # the traceback goes to the server log


def test_enlarge_keeps_pixels_crisp():
    pixels = np.array([[0, 255]], np.uint8)
    assert logic.enlarge(pixels, 2).tolist() == [[0, 0, 255, 255], [0, 0, 255, 255]]


def test_preview_is_written_once_per_content_and_completely(tmp_path):
    pixels = np.zeros((28, 28), np.uint8)
    pixels[10:18, 12:16] = 255
    first = logic.save_preview(pixels, tmp_path)
    assert logic.save_preview(pixels, tmp_path) == first  # same picture: same file, kept
    assert np.array_equal(np.asarray(Image.open(first)), logic.enlarge(pixels))
    assert logic.save_preview(255 - pixels, tmp_path) != first
    assert not list(tmp_path.rglob(".model_input.*"))  # no staging files left behind


# ----------------------------------------------------------- samples, metrics, model file
@pytest.fixture(scope="module")
def model_assets(tmp_path_factory, mnist_test) -> Path:
    """A model folder as training writes it: metrics.json and samples/ (two right, one mistake,
    plus entries the loader must skip: a missing PNG, a malformed label, a path outside
    samples/)."""
    folder = tmp_path_factory.mktemp("model_assets")
    samples = folder / model_folder.SAMPLES_DIRNAME
    samples.mkdir()
    images, labels = mnist_test
    entries = []
    # test digit 2 is a 1: a mistake; test digit 3 (a 0) refused as "not a digit"
    for index, prediction in ((0, 7), (1, 2), (2, 7), (3, 10)):
        name = f"test_{index:05d}.png"
        Image.fromarray(images[index]).save(samples / name)
        entries.append({"file": name, "label": int(labels[index]), "prediction": prediction,
                        "confidence": 0.61, "test_index": index})
    entries.append({"file": "gone.png", "label": 3, "prediction": 3, "confidence": 0.9})
    entries.append({"file": "test_00000.png", "label": "seven", "prediction": 3, "confidence": 1})
    entries.append({"file": "../metrics.json", "label": 3, "prediction": 3, "confidence": 0.9})
    (samples / model_folder.SAMPLES_INDEX).write_text(json.dumps(entries))
    (folder / model_folder.METRICS_FILENAME).write_text(json.dumps({"test_accuracy": 0.99345}))
    return folder


def test_samples_are_loaded_with_mistakes_marked(model_assets, mnist_test):
    samples = model_folder.load_samples(model_assets)
    assert [s.caption for s in samples] == ["✓ 7 · 61%", "✓ 2 · 61%", "✗ 7 · true 1",
                                            "✗ refused · 0"]
    assert np.array_equal(samples[0].pixels, mnist_test[0][0])
    items = ui.gallery_items(samples)
    assert [caption[0] for _, caption in items] == ["✗", "✗", "✓", "✓"]  # mistakes first
    assert items[2][0].shape == (280, 280)


def test_missing_or_broken_assets_give_an_empty_gallery_and_no_accuracy(tmp_path, capsys):
    assert model_folder.load_samples(tmp_path) == [] and model_folder.load_metrics(tmp_path) == {}
    (tmp_path / model_folder.SAMPLES_DIRNAME).mkdir()
    (tmp_path / model_folder.SAMPLES_DIRNAME / model_folder.SAMPLES_INDEX).write_text("{not json")
    (tmp_path / model_folder.METRICS_FILENAME).write_text("[1, 2]")
    assert model_folder.load_samples(tmp_path) == [] and model_folder.load_metrics(tmp_path) == {}
    assert "not measured" in ui.describe_model(1000, {})
    assert "warning" in capsys.readouterr().err


def test_model_description_shows_the_measured_accuracy(model_assets):
    text = ui.describe_model(312_000, model_folder.load_metrics(model_assets))
    assert "99.34%" in text and "312,000 parameters" in text


def test_model_is_found_in_the_models_folder_or_a_clear_error(tmp_path):
    with pytest.raises(ModelLoadError, match="python scripts/train.py"):
        model_folder.locate_model(models_dir=tmp_path)
    (tmp_path / MODEL_FILENAME).write_bytes(b"x")
    assert model_folder.locate_model(models_dir=tmp_path) == (tmp_path / MODEL_FILENAME, tmp_path)


def test_model_repo_brings_its_metrics_line_reader_and_samples(monkeypatch, tmp_path, model_assets):
    """download_file stand-in: files land in one snapshot folder, laid out as in the repo."""
    repo = tmp_path / "repo"
    shutil.copytree(model_assets, repo)
    (repo / MODEL_FILENAME).write_bytes(b"model")
    (repo / model_folder.LINE_MODEL_PATH).parent.mkdir(exist_ok=True)
    (repo / model_folder.LINE_MODEL_PATH).write_bytes(b"line reader")
    snapshot = tmp_path / "snapshot"
    requested = []

    def download_file(repo_id, filename, revision=None):
        requested.append(filename)
        target = snapshot / filename
        source = repo / filename
        if not source.is_file():
            raise model_folder.HubError(f"could not download {filename} from {repo_id}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
        return target

    monkeypatch.setattr(model_folder, "download_file", download_file)
    model_file, assets = model_folder.locate_model(model_repo="user/digits")
    assert (model_file, assets) == (snapshot / MODEL_FILENAME, snapshot)
    assert len(model_folder.load_samples(assets)) == 4
    assert model_folder.load_metrics(assets)["test_accuracy"]
    assert (assets / model_folder.LINE_MODEL_PATH).read_bytes() == b"line reader"
    assert "samples/../metrics.json" not in requested  # never fetched outside samples/


@pytest.mark.parametrize("content", [None, b"PK\x03\x04 not really a zip"])
def test_missing_or_corrupt_model_stops_the_app_with_one_line(tmp_path, capsys, content):
    model = tmp_path / "digit_cnn.keras"
    if content is not None:
        model.write_bytes(content)
    assert ui.main(["--model", str(model)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("error:")] == [err.strip()]
    assert "python scripts/train.py" in err


# ---------------------------------------------------------------------- the served app
@pytest.fixture(scope="module")
def served(reader, model_assets) -> str:
    about = ui.describe_model(reader.model.count_params(), model_folder.load_metrics(model_assets))
    demo = ui.build_demo(reader, model_folder.load_samples(model_assets), about)
    yield ui.start_serving(demo, "127.0.0.1", free_port(), quiet=True)
    demo.close()


@pytest.fixture(scope="module")
def client(served) -> Client:
    return app_client(served)


def call(client: Client, endpoint: str, path: Path):
    return client.predict(api_argument(endpoint, path), api_name=endpoint)


def test_the_app_runs_one_thread_per_op_only_if_set_before_tensorflow_runs():
    """predict.one_thread_per_op (ui.main calls it before loading the model) in a fresh
    interpreter: set before TensorFlow's first op; afterwards it says it could not."""
    start = "import tensorflow as tf\nfrom digit_recognizer.predict import one_thread_per_op\n"
    threads = "tf.config.threading.get_intra_op_parallelism_threads()"
    for check in (f"assert one_thread_per_op() and {threads} == 1",
                  # after an op: refused, TensorFlow's default pool (0) left as it was
                  f"tf.zeros(1) + 1\nassert not one_thread_per_op() and {threads} == 0"):
        subprocess.run([sys.executable, "-c", start + check], check=True, timeout=300)


def test_clearing_the_sketchpad_empties_the_reading_by_its_own_event(reader, model_assets):
    """Clear does not always send the sketchpad's change event, and a reading of the last
    stroke may still be running: the clear event must cancel that reading and reset the
    outputs, so that a cleared canvas never keeps the last reading on the page."""
    demo = ui.build_demo(reader, model_folder.load_samples(model_assets), "about")
    config = demo.get_config_file()
    kinds = {component["id"]: component["type"] for component in config["components"]}
    on_sketch = {event: [(demo.fns[dependency["id"]], dependency) for dependency
                         in config["dependencies"] if (sketch, event) in dependency["targets"]]
                 for sketch in kinds if kinds[sketch] == "imageeditor"
                 for event in ("change", "clear")}
    [(live, drawing)] = on_sketch["change"]
    assert live.fn.__name__ == "read_while_drawing" and len(drawing["outputs"]) == 3
    clears = {fn.fn.__name__ if fn.fn else None: dependency for fn, dependency in on_sketch["clear"]}
    assert clears["clear"]["outputs"] == drawing["outputs"]
    assert logic.DigitDemo.clear() == (None, None, "")
    assert [drawing["id"]] in [dependency["cancels"] for dependency in clears.values()]


def test_page_serves_with_the_gallery_and_accuracy(served):
    page = httpx.get(served, timeout=30)
    assert page.status_code == 200 and "<html" in page.text.lower()
    config = httpx.get(f"{served}config", timeout=30).text
    assert "99.34%" in config and "true 1" in config
    assert '"imageeditor"' in config and '"sketchpadinput"' not in config  # stock widgets


def test_the_test_client_is_app_client_with_its_timeout(client):
    # (the number benchmark's latency run died of httpx.ReadTimeout with four jobs on two cores)
    assert client.httpx_kwargs["timeout"] == REQUEST_TIMEOUT_S > 5


def test_api_has_exactly_the_two_named_endpoints(client):
    api = client.view_api(print_info=False, return_format="dict")
    assert set(api["named_endpoints"]) == set(ENDPOINTS) and not api["unnamed_endpoints"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_endpoint_returns_the_label_first(client, endpoint, seven_png):
    label, seen, hint = call(client, endpoint, seven_png)
    assert label["label"] == "7" and len(label["confidences"]) == 3
    assert_reads({c["label"]: c["confidence"] for c in label["confidences"]}, 7)
    assert Image.open(seen).size == (280, 280)


@pytest.mark.parametrize("encoding", ["png rgba", "png 16-bit", "jpeg", "jpeg cmyk",
                                      "jpeg exif-rotated", "webp", "gif palette", "gif animated",
                                      "bmp", "tiff"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_encoding_of_a_digit_reads_as_that_digit(client, endpoint, encodings, encoding):
    assert call(client, endpoint, encodings[encoding])[0]["label"] == "7"


@pytest.mark.parametrize("case", ["empty transparent", "empty white", "empty black",
                                  "random noise", "1x1 image", "4000x3 strip", "tiny dot",
                                  "truncated png", "text named .png", "zero-byte file",
                                  "20000x20000 png"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_bad_input_gets_a_clear_message_and_the_app_goes_on(client, endpoint, unreadable, case,
                                                            seven_png):
    path, reason = unreadable[case]
    with pytest.raises(AppError) as error:
        call(client, endpoint, path)
    assert_human_message(str(error.value), reason)
    assert call(client, endpoint, seven_png)[0]["label"] == "7"


def test_oversized_upload_is_refused(client, served, pictures, seven_png):
    big = pictures / "big.png"
    big.write_bytes(seven_png.read_bytes() + bytes(11 * 1024 * 1024))  # 11 MB > 10 MB limit
    for endpoint in ENDPOINTS:  # the client checks the limit the app announces...
        with pytest.raises(ValueError, match="maximum file size"):
            call(client, endpoint, big)
    with big.open("rb") as content:  # ...and the server enforces it for any other caller
        response = httpx.post(f"{served}gradio_api/upload", files={"files": content}, timeout=60)
    assert response.status_code == 413
    assert call(client, ui.SKETCH_ENDPOINT, seven_png)[0]["label"] == "7"


def test_eight_simultaneous_requests_all_succeed(client, seven_png):
    # The same picture eight times: all eight answers share one preview file, which must
    # never be served half-written (see demo.save_preview).
    jobs = [client.submit(api_argument(ui.SKETCH_ENDPOINT, seven_png),
                          api_name=ui.SKETCH_ENDPOINT) for _ in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        labels = list(pool.map(lambda job: job.result(timeout=120)[0]["label"], jobs))
    assert labels == ["7"] * 8

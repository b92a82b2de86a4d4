"""End to end in a real browser: `python app.py` serves the demo, headless Chromium draws digits
on the sketchpad with mouse strokes and uploads a picture, and the page must show the right
reading.

Chromium is Debian's /usr/bin/chromium driven by Playwright (never a browser Playwright
downloads). Without it the tests skip, except in CI (env CI set), where they must run: .ci/run
installs it. The app serves the shipped model, models/digit_cnn.keras, or the file named by
DIGIT_RECOGNIZER_TEST_MODEL (as tests/conftest.py); the uploaded digit is an MNIST test digit,
so MNIST_DIR should point at a local copy.

Screenshots go to screenshots/tmp/ (git-ignored). UPDATE_SCREENSHOTS=1 writes them to
screenshots/ instead: those are committed and shown in the README.

    MNIST_DIR=../shared/mnist python -m pytest tests/test_browser.py -q
    MNIST_DIR=../shared/mnist UPDATE_SCREENSHOTS=1 python -m pytest -m browser -q
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from benchmarks.drawings import as_photo, draw_digit
from benchmarks.serving import HOST, app_command, free_port, start_server, stop_server

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
SCREENSHOTS = ROOT / "screenshots" / ("" if os.environ.get("UPDATE_SCREENSHOTS") else "tmp")
FAILURES = ROOT / "screenshots" / "tmp"
VIEWPORT = {"width": 1280, "height": 900}
START_TIMEOUT_S = 120  # app.py: TensorFlow import + model load (60 s on a busy 2-core machine)
STEP_TIMEOUT_MS = 45_000  # one step (a reading, a stroke): generous, CI machines can be busy
UPLOAD_DIGIT = 30  # the uploaded photo shows this MNIST test digit (a clear 3)


def _require_browser() -> None:
    """Skip without Chromium or Playwright on a developer's machine; fail in CI, which must run
    these tests."""
    missing = None
    if not os.access(CHROMIUM, os.X_OK):
        missing = f"{CHROMIUM} not found (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "the playwright package is missing (pip install -r requirements-dev.txt)"
    if missing is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests, but {missing}", pytrace=False)
    pytest.skip(missing)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, model_path) -> Iterator[str]:
    """`python app.py` on a free port, until the module's tests are done."""
    _require_browser()
    port = free_port()
    log_path = tmp_path_factory.mktemp("app") / "app.log"
    try:
        process = start_server(app_command(port, model_path), port, log_path,
                               timeout_s=START_TIMEOUT_S)
    except RuntimeError as exc:  # exited or never answered: the message has the log's end
        pytest.fail(str(exc), pytrace=False)
    try:
        yield f"http://{HOST}:{port}/"
    finally:
        stop_server(process)


@pytest.fixture(scope="module")
def browser(app_url):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=STEP_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, app_url, request):
    """A fresh page of the app, loaded, on the Draw tab. A failing test leaves a screenshot of
    the page in screenshots/tmp/."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    failed_before = request.session.testsfailed
    try:
        page.goto(app_url)
        page.locator("canvas").first.wait_for(state="visible")
        yield page
        if request.session.testsfailed > failed_before:  # the call phase's report is in
            FAILURES.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=FAILURES / f"failed-{request.node.name}.png", full_page=True)
    finally:
        context.close()


# ---------------------------------------------------------------------------------- helpers
def reading(page):
    """The big top label of the "Reading" gr.Label (absent while there is no reading)."""
    return page.get_by_test_id("label").get_by_test_id("label-output-value")


def model_view(page):
    """The enlarged 28x28 picture the model saw."""
    return page.locator(".block", has_text="What the model saw").locator("img")


def stroke(page, points: list[tuple[float, float]], steps: int = 3) -> None:
    """One pen stroke through ``points`` (page coordinates), as a person drags the mouse."""
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point, steps=steps)
    page.mouse.up()


def drawing_area(page) -> tuple[float, float, float]:
    """Centre (x, y) and a half-size, in page pixels, of a square safely inside the visible
    drawing surface (the editor shows the 800x800 canvas scaled down, centred in its box)."""
    box = page.locator("canvas").first.bounding_box()
    side = min(box["width"], box["height"])
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, side * 0.3


def draw_seven(page) -> None:
    x, y, r = drawing_area(page)
    stroke(page, [(x - 0.55 * r, y - 0.8 * r), (x + 0.55 * r, y - 0.8 * r),
                  (x - 0.1 * r, y + 0.9 * r)])


def draw_zero(page) -> None:
    x, y, r = drawing_area(page)
    angles = np.linspace(0, 2 * np.pi, 15)
    stroke(page, [(x + 0.5 * r * np.sin(a), y - 0.85 * r * np.cos(a)) for a in angles], steps=1)


def screenshot(page, name: str) -> None:
    page.mouse.move(5, 5)  # no brush cursor or hover highlight in the picture
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / name, full_page=True)


@contextmanager
def explicit_request(page):
    """Wait for the request the block's action (a click, an upload) sends to finish: without
    an error popup, with the label's progress indicator gone. The label alone could show
    the live reading of the same drawing."""
    from playwright.sync_api import expect

    with page.expect_response(lambda response: "/queue/join" in response.url) as joined:
        yield
    assert joined.value.ok, f"the app refused the request: HTTP {joined.value.status}"
    # Gradio marks the outputs pending before it sends the request; "hide" means done.
    done = page.get_by_test_id("label").locator("[data-testid=status-tracker].hide")
    error = page.locator(".toast-body.error")
    done.or_(error).first.wait_for()
    expect(error, "the app showed an error").to_have_count(0)


# ------------------------------------------------------------------------------------ tests
def test_drawn_digits_are_read(page):
    from playwright.sync_api import expect

    page.get_by_role("button", name="Brush").click()  # Gradio's sketchpad starts with no tool
    draw_zero(page)
    # Live reading: the label follows the drawing without pressing anything.
    expect(reading(page)).to_have_text("0")
    expect(model_view(page)).to_be_visible()

    page.get_by_role("button", name="Clear canvas").click()
    expect(reading(page)).to_have_count(0)  # an empty canvas has no reading
    expect(model_view(page)).to_have_count(0)

    page.get_by_role("button", name="Brush").click()  # clearing deselects the brush as well
    draw_seven(page)
    expect(reading(page)).to_have_text("7")  # live, and then on request:
    with explicit_request(page):
        page.get_by_role("button", name="Read digit").click()
    expect(reading(page)).to_have_text("7")
    expect(model_view(page)).to_be_visible()
    screenshot(page, "draw.png")


def photo_of_digit(index: int, mnist_test) -> tuple[bytes, int]:
    """A JPEG "photo" of MNIST test digit ``index`` redrawn with a marker, centred on the paper,
    and its label."""
    x_test, y_test = mnist_test
    rng = np.random.default_rng(0)
    ink = draw_digit(x_test[index], rng, height_range=(0.6, 0.6), brush_range=(26, 26))[..., 3]
    rows, cols = np.nonzero(ink)
    digit = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    top, left = (np.array(ink.shape) - digit.shape) // 2
    drawing = np.zeros(ink.shape + (4,), np.uint8)
    drawing[top:top + digit.shape[0], left:left + digit.shape[1], 3] = digit
    return as_photo(drawing, rng), int(y_test[index])


def test_uploaded_picture_is_read(page, tmp_path, mnist_test):
    from playwright.sync_api import expect

    photo, label = photo_of_digit(UPLOAD_DIGIT, mnist_test)
    path = tmp_path / f"digit_{label}.jpg"
    path.write_bytes(photo)

    page.get_by_role("tab", name="Upload").click()
    upload = page.locator(".block", has_text="A picture of one digit")
    with explicit_request(page):
        upload.locator("input[type=file]").set_input_files(path)
    expect(upload.locator("img")).to_be_visible()  # the photo is shown where it was dropped
    expect(reading(page)).to_have_text(str(label))
    expect(model_view(page)).to_be_visible()
    screenshot(page, "upload.png")

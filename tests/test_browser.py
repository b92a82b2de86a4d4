"""End to end in a real browser: `python app.py` serves the demo, headless Chromium writes
numbers on the sketchpad with mouse strokes (without picking a tool first), a 7 with touch
events on a phone-sized page, and uploads a picture; the page must show the right reading.

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
from digit_recognizer.ui import CANVAS_SIZE, SKETCHPAD_ID
from handwriting import number_strokes

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
SCREENSHOTS = ROOT / "screenshots" / ("" if os.environ.get("UPDATE_SCREENSHOTS") else "tmp")
FAILURES = ROOT / "screenshots" / "tmp"
VIEWPORT = {"width": 1280, "height": 900}
PHONE = {"viewport": {"width": 393, "height": 851}, "device_scale_factor": 2.75,
         "is_mobile": True, "has_touch": True}  # Playwright's "Pixel 5", for Chromium
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


@contextmanager
def open_page(browser, app_url, request, **context_options):
    """A fresh page of the app, loaded, on the Draw tab. A failing test leaves a screenshot of
    the page in screenshots/tmp/."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    failed_before = request.session.testsfailed
    try:
        page.goto(app_url)
        page.locator(f"#{SKETCHPAD_ID} canvas").first.wait_for(state="visible")
        yield page
        if request.session.testsfailed > failed_before:  # the call phase's report is in
            FAILURES.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=FAILURES / f"failed-{request.node.name}.png", full_page=True)
    finally:
        context.close()


@pytest.fixture
def page(browser, app_url, request):
    with open_page(browser, app_url, request, viewport=VIEWPORT, device_scale_factor=1) as page:
        yield page


@pytest.fixture
def phone(browser, app_url, request):
    with open_page(browser, app_url, request, **PHONE) as page:
        yield page


# ---------------------------------------------------------------------------------- helpers
def reading(page):
    """The big top label of the "Reading" gr.Label (absent while there is no reading)."""
    return page.get_by_test_id("label").get_by_test_id("label-output-value")


def model_view(page):
    """The digits as the model saw them, enlarged."""
    return page.locator(".block", has_text="What the model saw").locator("img")


def stroke(page, points: list[tuple[float, float]], steps: int = 3) -> None:
    """One pen stroke through ``points`` (page coordinates), as a person drags the mouse."""
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point, steps=steps)
    page.mouse.up()


def touch_stroke(page, points: list[tuple[float, float]], steps: int = 3) -> None:
    """One stroke with a finger: Chrome DevTools' touch events (Playwright's touchscreen only
    taps)."""
    cdp = page.context.new_cdp_session(page)

    def touch(kind: str, at: list[tuple[float, float]]) -> None:
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [
            {"x": x, "y": y, "id": 1, "radiusX": 4, "radiusY": 4, "force": 1} for x, y in at]})

    touch("touchStart", [points[0]])
    for start, end in zip(points, points[1:]):
        for t in np.linspace(0, 1, steps + 1)[1:]:
            touch("touchMove", [(start[0] + t * (end[0] - start[0]),
                                 start[1] + t * (end[1] - start[1]))])
            page.wait_for_timeout(16)
    touch("touchEnd", [])
    cdp.detach()


def drawing_area(page) -> dict[str, float]:
    """The white drawing surface in page pixels: the editor shows its canvas scaled by the zoom
    it displays, centred in the drawing <canvas>, which also spans the tool bar."""
    editor = page.locator(f"#{SKETCHPAD_ID}")
    box = editor.locator(".pixi-target canvas").first.bounding_box()
    zoom = float(editor.get_by_text("%", exact=False).first.inner_text().strip().rstrip("%"))
    width, height = (side * zoom / 100 for side in CANVAS_SIZE)
    return {"x": box["x"] + (box["width"] - width) / 2,
            "y": box["y"] + (box["height"] - height) / 2, "width": width, "height": height}


def write(page, text: str, draw=stroke) -> None:
    """Write ``text`` across the middle of the drawing surface, stroke by stroke."""
    area = drawing_area(page)
    height = min(area["height"] * 0.5, area["width"] * 0.8 / (0.9 * len(text)))
    centre = (area["x"] + area["width"] / 2, area["y"] + area["height"] / 2)
    for points in number_strokes(text, centre, height):
        draw(page, points)


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
def test_numbers_written_without_picking_a_tool_are_read(page):
    from playwright.sync_api import expect

    # the page opens ready to draw: no tool to pick first
    write(page, "42")
    expect(reading(page)).to_have_text("42")  # live: the label follows the drawing
    expect(model_view(page)).to_be_visible()

    page.get_by_role("button", name="Clear canvas").click()
    expect(reading(page)).to_have_count(0)  # an empty canvas has no reading
    expect(model_view(page)).to_have_count(0)

    write(page, "2026")  # and ready again after Clear
    expect(reading(page)).to_have_text("2026")
    with explicit_request(page):
        page.get_by_role("button", name="Read", exact=True).click()
    expect(reading(page)).to_have_text("2026")
    expect(page.get_by_text("4 digits, left to right")).to_be_visible()
    screenshot(page, "draw.png")


def test_a_seven_drawn_by_touch_on_a_phone_is_read(phone):
    from playwright.sync_api import expect

    write(phone, "7", draw=touch_stroke)
    expect(reading(phone)).to_have_text("7")
    screenshot(phone, "phone.png")


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
    upload = page.locator(".block", has_text="A picture of a digit or a number")
    with explicit_request(page):
        upload.locator("input[type=file]").set_input_files(path)
    expect(upload.locator("img")).to_be_visible()  # the photo is shown where it was dropped
    expect(reading(page)).to_have_text(str(label))
    expect(model_view(page)).to_be_visible()
    screenshot(page, "upload.png")

"""Synthetic "real-world" digits: MNIST *test* digits redrawn the way people supply them.

Used by the benchmarks (scripts/) and the tests to measure reading of drawings, never for
training: a fixture, outside the product (it needs scikit-image, a dev dependency). Each
digit's strokes are traced (skeletonised) and redrawn with a round brush on a large canvas at
a random size, position and brush width, then optionally turned into a photo of paper (dark
ink, uneven light, noise, JPEG) or a light-on-dark picture.

    from benchmarks.drawings import draw_digit
    rgba = draw_digit(mnist_digit, np.random.default_rng(0))    # (800, 800, 4) uint8
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage
from skimage.morphology import skeletonize

from digit_recognizer.preprocess import load_image

CANVAS = 800  # gr.Sketchpad's default canvas side
PENCIL_BRUSH = (3.0, 14.0)  # a pencil's line, in pixels on the canvas (for photo(pencil=True))
TRACE_SCALE = 4  # skeletonise at 4x MNIST resolution for smoother strokes
TRACE_THRESHOLD = 80  # ink level (of 255) traced as stroke (100 broke faint thin strokes)
SPECK = 2.5  # skeleton pieces shorter than this many MNIST pixels are dropped
PAGE = (1200, 1600)  # photo(whole_page=True): a sheet photographed whole, rows x columns, ...
PAGE_WRITING = 1 / 5  # ... the writing's canvas shrunk to this share of its height (drawn
# digits, and a number's, 4-12% of the photo's longer side: 1-2 cm on a note photographed whole)
PAPERS = {  # what writing is photographed on (photo()'s keywords), as the benchmarks name it
    "plain paper": {}, "squared paper": {"paper": "squared"}, "ruled paper": {"paper": "ruled"},
    "a sheet on a desk (turned up to 10 degrees)": {"on_desk": True},
    "a hard shadow across it": {"shadow": True},
    "a wiped chalkboard (in chalk)": {"chalkboard": True},
    "a sheet photographed at a slant": {"slanted": True},
    "a sheet on a desk in a hard shadow (desk and sheet alike)": {"on_desk": True, "shadow": True}}
# ... and how it is framed: the writing small in a photo of a whole page (no blank-page row: a
# blank one is plain paper, larger)
WHOLE_PAGE = {"a whole page photographed, the writing small on it": {"whole_page": True}}


def trace_strokes(digit: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Line segments (pairs of (row, col) points, in 28x28 pixel units) along the strokes."""
    big = Image.fromarray(digit).resize((28 * TRACE_SCALE,) * 2, Image.Resampling.BICUBIC)
    # a lower threshold keeps MNIST's faint thin strokes joined (at 100, a 9 could lose its
    # loop); specks of skeleton (a faint pixel on its own) would be drawn as stray dots
    skeleton = _without_specks(skeletonize(np.asarray(big) > TRACE_THRESHOLD))
    points = np.argwhere(skeleton)
    segments = []
    for step in ((0, 1), (1, 0), (1, 1), (1, -1)):  # each pair of neighbours once
        ends = points + step
        inside = (ends >= 0).all(axis=1) & (ends < skeleton.shape).all(axis=1)
        linked = inside.copy()
        linked[inside] = skeleton[ends[inside, 0], ends[inside, 1]]
        segments += [(a / TRACE_SCALE, b / TRACE_SCALE) for a, b in zip(points[linked], ends[linked])]
    return segments


def _without_specks(skeleton: np.ndarray) -> np.ndarray:
    """The skeleton without pieces under SPECK MNIST pixels long (when a longer one exists)."""
    labels, count = ndimage.label(skeleton, structure=np.ones((3, 3)))
    if count < 2:
        return skeleton
    sizes = np.bincount(labels.ravel())[1:]
    keep = np.flatnonzero((sizes >= SPECK * TRACE_SCALE) | (sizes == sizes.max())) + 1
    return np.isin(labels, keep)


def draw_digit(digit: np.ndarray, rng: np.random.Generator, canvas: int = CANVAS,
               height_range: tuple[float, float] = (0.25, 0.8),
               brush_range: tuple[float, float] = (4.0, 36.0)) -> np.ndarray:
    """An MNIST digit redrawn in black on a transparent ``canvas``-sized RGBA image.

    The digit's height is a random share of the canvas in ``height_range`` (less for a digit
    that would then be wider than the canvas); the brush diameter is random in ``brush_range``
    pixels (Gradio's "auto" brush is ~32 px on 800x800).
    """
    segments = trace_strokes(digit)
    points = np.concatenate([np.stack(s) for s in segments]) if segments else np.zeros((1, 2))
    lo, hi = points.min(axis=0), points.max(axis=0)
    height = rng.uniform(*height_range) * canvas
    brush = rng.uniform(*brush_range)
    # a person keeps a wide digit (a flat 2, a sideways 4) on the canvas: no wider than it
    scale = min(height / max(hi[0] - lo[0], 1.0), (canvas - brush) / max(hi[1] - lo[1], 1.0))
    extent = (hi - lo) * scale + brush
    offset = np.array([rng.uniform(0, max(canvas - extent[i], 0)) for i in (0, 1)]) + brush / 2
    mask = Image.new("L", (canvas, canvas), 0)
    pen = ImageDraw.Draw(mask)
    radius = brush / 2
    for a, b in segments:
        (r0, c0), (r1, c1) = (a - lo) * scale + offset, (b - lo) * scale + offset
        pen.line([(c0, r0), (c1, r1)], fill=255, width=max(1, round(brush)))
        pen.ellipse([c1 - radius, r1 - radius, c1 + radius, r1 + radius], fill=255)
    rgba = np.zeros((canvas, canvas, 4), np.uint8)
    rgba[..., 3] = np.asarray(mask)
    return rgba


def grey_on_white(picture) -> Image.Image:
    """The picture as a person sees it: grey, transparent parts white like paper. Decoded by
    load_image, as ours is, so that only the preprocessing differs."""
    pil = Image.fromarray(load_image(picture))
    if pil.mode == "RGBA":
        pil = Image.alpha_composite(Image.new("RGBA", pil.size, "white"), pil)
    return pil.convert("L")


def as_photo(drawing: np.ndarray, rng: np.random.Generator, side: int = 640, **kind) -> bytes:
    """A drawing (an RGBA canvas) as a JPEG photo of paper ``side`` px square (``photo``, of
    that ``kind``)."""
    return photo(np.asarray(Image.fromarray(drawing[..., 3]).resize((side, side))), rng, **kind)


def photo(alpha: np.ndarray, rng: np.random.Generator, paper: str = "plain",
          on_desk: bool = False, shadow: bool = False, pencil: bool = False,
          dim: bool = False, boxed: bool = False, chalkboard: bool = False,
          slanted: bool = False, whole_page: bool = False) -> bytes:
    """Ink (uint8 alpha, any shape) as a JPEG photo of paper: dark ink, uneven light, blur,
    sensor noise. ``paper``: "plain"; "squared" (a printed grid, as school maths paper in
    much of Europe), the grid's faint lines a little tilted; or "ruled" (a notebook's faint
    lines across, a little tilted, and in half the photos its pink margin line). ``on_desk``:
    the sheet lying on a darker desk that shows around it (``desk_around``); ``shadow``: a
    hard shadow (the phone's, a hand's) across part of the page (on a desk, across part of
    the photo, desk and sheet alike); ``slanted``: the sheet filling the photo, taken at a
    slant from in front of it (``at_a_slant``), the desk showing beside and beyond its far
    edge; ``pencil``: the strokes in graphite (``_graphite``), grainy and pale; ``dim``:
    taken in dim light, a quarter to half as bright, its noise no weaker (grain reaches a
    good share of the ink's contrast);
    ``boxed``: the writing in a form's printed box (``_printed_box``), the photo cropped
    round the box; ``chalkboard``: chalk on a wiped board instead of paper (``_chalkboard``;
    none of the others with it); ``whole_page``: the writing small on a page photographed
    whole (``on_a_page``)."""
    if whole_page:
        alpha = on_a_page(alpha, rng)
    if chalkboard and (paper != "plain" or on_desk or shadow or pencil or dim or boxed
                       or slanted):
        raise ValueError("a chalkboard photo is chalk on a board only: no paper, desk, shadow, "
                         "pencil, dim light, box or slant")
    if on_desk and slanted:
        raise ValueError("a sheet lies on a desk either seen from above or at a slant")
    h, w = alpha.shape
    ink = alpha.astype(np.float32) / 255
    if pencil:
        ink = ink * _graphite(rng, h, w)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    light = rng.uniform(0.7, 0.95) - rng.uniform(0.0, 0.25) * (xx * rng.uniform(-1, 1) + yy)
    if chalkboard:
        return _jpeg(_chalkboard(ink, light, rng), rng)
    ink_tone = rng.uniform(0.05, 0.3)
    lines = {"plain": None, "squared": _grid, "ruled": _rules}[paper]
    sheet = light if lines is None else light * (1 - lines(rng, h, w) * rng.uniform(0.2, 0.4))
    if boxed:
        box, crop = _printed_box(alpha, rng)
        sheet = sheet * (1 - box * rng.uniform(0.4, 0.8))
    grey = sheet * (1 - ink) + ink_tone * ink + rng.normal(0, 0.02, (h, w))
    if shadow and not on_desk:
        grey = grey * _shadowed(rng, h, w)
    if dim:
        grey = grey * rng.uniform(0.25, 0.5) + rng.normal(0, 0.03, (h, w))
    tint = np.array([1.0, rng.uniform(0.95, 1.0), rng.uniform(0.85, 1.0)])  # warm paper
    rgb = np.clip(grey[..., None] * tint * 255, 0, 255).astype(np.uint8)
    if paper == "ruled" and rng.random() < 0.5:
        _margin(rgb, rng)
    if boxed:
        rgb = rgb[crop]
    seen = Image.fromarray(rgb)
    if on_desk:
        seen = desk_around(seen, rng)
        if shadow:
            light = _shadowed(rng, seen.height, seen.width)[..., None]
            shaded = np.asarray(seen, np.float32) * light
            seen = Image.fromarray(np.clip(shaded, 0, 255).astype(np.uint8))
    elif slanted:
        seen = at_a_slant(seen, rng)
    return _jpeg(seen, rng)


def on_a_page(alpha: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The writing (uint8 alpha, its canvas shrunk to PAGE_WRITING of the page's height) at a
    random place on a PAGE-sized sheet photographed whole."""
    scale = min(PAGE[0] * PAGE_WRITING / alpha.shape[0], PAGE[1] / alpha.shape[1])
    size = (round(alpha.shape[1] * scale), round(alpha.shape[0] * scale))
    writing = np.asarray(Image.fromarray(alpha).resize(size, Image.Resampling.BOX))
    page = np.zeros(PAGE, np.uint8)
    top = rng.integers(PAGE[0] - writing.shape[0] + 1)
    left = rng.integers(PAGE[1] - writing.shape[1] + 1)
    page[top:top + writing.shape[0], left:left + writing.shape[1]] = writing
    return page


def _jpeg(image: Image.Image, rng: np.random.Generator) -> bytes:
    """A phone's picture of ``image``: a little out of focus, JPEG at quality 60-94."""
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.5)))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=int(rng.integers(60, 95)))
    return buffer.getvalue()


def _chalkboard(ink: np.ndarray, light: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """``ink`` (float, 0-1) written in chalk on a board under ``light``: a dark green or black
    board (8-25% as bright as the light), clouded by wiped chalk (broad smudges up to 0.15
    brighter, grey in [0, 1], streaked across as an eraser wipes), strokes 55-95% as bright
    as the light where the chalk covers the board's grain (wholly in about two fifths of the
    pixels, 0.3-1 in nearly all the rest), sensor noise. (Photographed as ``photo``'s others
    are: blur, JPEG.)"""
    h, w = ink.shape
    grain = _blurred_noise(rng, (h, w), 0.8)
    ink = ink * np.clip(3 * grain - 0.6, 0.0, 1.0)
    # wiped chalk: low-frequency clouds, stretched along the eraser's stroke
    wiped = _blurred_noise(rng, (max(h // 20, 2), max(w // 80, 2)), 0.0)
    wiped = np.asarray(Image.fromarray((wiped * 255).astype(np.uint8)).resize(
        (w, h), Image.Resampling.BICUBIC), np.float32) / 255
    smudge = rng.uniform(0.0, 0.15) * np.clip(2 * wiped - 0.6, 0.0, 1.0)
    board = light * rng.uniform(0.08, 0.25) + smudge
    grey = board * (1 - ink) + light * rng.uniform(0.55, 0.95) * ink + rng.normal(0, 0.02, (h, w))
    tint = np.array([0.8, 1.0, 0.85]) if rng.random() < 0.5 else np.ones(3)  # green or black
    return Image.fromarray(np.clip(grey[..., None] * tint * 255, 0, 255).astype(np.uint8))


def _blurred_noise(rng: np.random.Generator, shape: tuple[int, int], blur: float) -> np.ndarray:
    """Uniform noise (float, 0-1) of ``shape``, blurred by ``blur`` px (0: none)."""
    noise = Image.fromarray((rng.uniform(0, 1, shape) * 255).astype(np.uint8))
    if blur:
        noise = noise.filter(ImageFilter.GaussianBlur(blur))
    return np.asarray(noise, np.float32) / 255


def _printed_box(alpha: np.ndarray, rng: np.random.Generator
                 ) -> tuple[np.ndarray, tuple[slice, slice]]:
    """A form's printed box round the ink in ``alpha`` (float, 1 on its sides, 1-4 px wide),
    3-12% of the page's side clear of the ink on each side, but at least 4 px inside the
    page (ink near the page's edge may touch or cross that side), and where a photo of the
    box alone is cropped: 1-8% of the side beyond it. (No ink: a box round the middle.)"""
    h, w = alpha.shape
    rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    if not len(rows):
        rows, cols = np.array([h // 2]), np.array([w // 2])
    clear = rng.uniform(0.03, 0.12, 4) * max(h, w)
    top, left = max(int(rows[0] - clear[0]), 4), max(int(cols[0] - clear[1]), 4)
    bottom, right = min(int(rows[-1] + clear[2]), h - 5), min(int(cols[-1] + clear[3]), w - 5)
    width = int(rng.integers(1, 5))
    box = np.zeros((h, w), np.float32)
    box[top:top + width, left:right] = box[bottom - width:bottom, left:right] = 1.0
    box[top:bottom, left:left + width] = box[top:bottom, right - width:right] = 1.0
    beyond = int(rng.uniform(0.01, 0.08) * max(h, w))
    crop = (slice(max(top - beyond, 0), bottom + beyond), slice(max(left - beyond, 0),
                                                              right + beyond))
    return box, crop


def _graphite(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """How much of the paper a pencil's graphite covers (float, ``h`` x ``w``): a light to firm
    hand (0.2-0.6) times the paper's grain (from pixel to pixel: 1 in half of them, 0.7-1 in
    nearly all the rest)."""
    grain = _blurred_noise(rng, (h, w), 0.7)
    return rng.uniform(0.2, 0.6) * np.minimum(0.4 + 1.2 * grain, 1.0)


def desk_around(sheet: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A photo of a ``sheet`` (RGB) lying on a desk: the sheet turned up to 10 degrees, its
    longer side 50-90% of the photo's, somewhere inside it (``_wood``)."""
    angle = rng.uniform(-10.0, 10.0)
    turned = sheet.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True)
    shape = Image.new("L", sheet.size, 255).rotate(angle, expand=True)  # where the sheet is
    width = int(turned.width / rng.uniform(0.5, 0.9))
    height = max(turned.height, int(width * sheet.height / sheet.width))
    desk = _wood(rng, height, width)
    desk.paste(turned, (int(rng.uniform(0, width - turned.width + 1)),
                        int(rng.uniform(0, height - turned.height + 1))), shape)
    return desk


def at_a_slant(sheet: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A photo of a ``sheet`` (RGB) on a desk, taken at a slant from in front of it, as wide
    as the sheet's picture and 70-95% as high: the sheet's near edge fills the photo's width
    (and up to 5% more each side, cropped), its far edge 10-35% shorter and up to 5% of the
    width off centre (the desk showing in the wedges beside it), and up to 10% of the
    photo's height of desk beyond its far edge (``_wood``)."""
    w, h = sheet.size
    height = round(h * rng.uniform(0.7, 0.95))
    beyond = rng.uniform(0.0, 0.1) * height
    near = w * rng.uniform(0.0, 0.05)  # cropped off each side at the near edge
    far = (w + 2 * near) * (1 - rng.uniform(0.1, 0.35))
    middle = w / 2 + rng.uniform(-0.05, 0.05) * w
    corners = [(middle - far / 2, beyond), (middle + far / 2, beyond), (w + near, height),
               (-near, height)]  # where the sheet's corners fall, clockwise from top left
    coefficients = _perspective(corners, [(0, 0), (w, 0), (w, h), (0, h)])
    seen = sheet.transform((w, height), Image.Transform.PERSPECTIVE, coefficients,
                           Image.Resampling.BILINEAR)
    shape = Image.new("L", sheet.size, 255).transform(
        (w, height), Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BILINEAR)
    desk = _wood(rng, height, w)
    desk.paste(seen, (0, 0), shape)
    return desk


def _perspective(seen: list[tuple[float, float]], source: list[tuple[float, float]]
                 ) -> list[float]:
    """PIL's eight perspective coefficients that map the points ``seen`` (in the photo) to
    ``source`` (in the sheet): four (x, y) pairs each."""
    rows, values = [], []
    for (x, y), (u, v) in zip(seen, source):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        values += [u, v]
    return np.linalg.solve(np.array(rows, np.float64), np.array(values, np.float64)).tolist()


def _wood(rng: np.random.Generator, height: int, width: int) -> Image.Image:
    """A desk: a wooden tone 15-55% as bright as white, a little grainy (RGB)."""
    tone = rng.uniform(0.15, 0.55) + rng.normal(0, 0.03, (height, width))
    return Image.fromarray(
        np.clip(tone[..., None] * np.array([1.0, 0.8, 0.6]) * 255, 0, 255).astype(np.uint8))


def _grid(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A printed grid's lines (float, 1 on a line) on an ``h`` x ``w`` page: squares 5-10% of
    its longer side (a 5 mm grid photographed from 5-10 cm), lines 2 px wide, turned up to 3
    degrees."""
    side = max(h, w)
    step = rng.uniform(0.05, 0.1) * side
    offset = rng.uniform(0, step, size=2)
    on_line = (((np.arange(side)[:, None] + offset[0]) % step < 2)
               | ((np.arange(side)[None, :] + offset[1]) % step < 2))
    turned = Image.fromarray(on_line.astype(np.uint8) * 255).rotate(
        rng.uniform(-3.0, 3.0), resample=Image.Resampling.BILINEAR, fillcolor=0)
    return np.asarray(turned, np.float32)[:h, :w] / 255


def _rules(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A notebook's printed lines (float, 1 on a line) across an ``h`` x ``w`` page: 5-9% of
    its height apart, 2 px wide, turned up to 3 degrees."""
    step = rng.uniform(0.05, 0.09) * h
    on_line = ((np.arange(h) + rng.uniform(0, step)) % step < 2)[:, None] & np.ones((1, w), bool)
    turned = Image.fromarray(on_line.astype(np.uint8) * 255).rotate(
        rng.uniform(-3.0, 3.0), resample=Image.Resampling.BILINEAR, fillcolor=0)
    return np.asarray(turned, np.float32) / 255


def _margin(rgb: np.ndarray, rng: np.random.Generator) -> None:
    """A notebook's pink margin line, 2 px wide, printed down the photo ``rgb`` 5-15% of its
    width in (under the ink, the light and the noise: it tints what is there)."""
    column = int(rng.uniform(0.05, 0.15) * rgb.shape[1])
    pink = np.array([rng.uniform(210, 240), rng.uniform(90, 150), rng.uniform(100, 160)]) / 255
    rgb[:, column:column + 2] = (rgb[:, column:column + 2] * pink).astype(np.uint8)


def _shadowed(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """The share of the light a hard shadow leaves over an ``h`` x ``w`` photo: 1 beside it,
    0.5-0.7 in it, beyond a straight edge at any angle, up to 0.3 of the photo's longer side
    from its middle, softened over 2-8 px."""
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    beyond = (xx - 0.5) * np.cos(angle) + (yy - 0.5) * np.sin(angle) > rng.uniform(-0.3, 0.3)
    soft = Image.fromarray(beyond.astype(np.uint8) * 255).filter(
        ImageFilter.GaussianBlur(rng.uniform(2.0, 8.0)))
    return 1 - np.asarray(soft, np.float32) / 255 * rng.uniform(0.3, 0.5)


def as_light_on_dark(drawing: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A drawing as an opaque grey image with light ink on a dark ground (a chalkboard)."""
    ink = drawing[..., 3].astype(np.float32) / 255
    ground, chalk = rng.uniform(0.0, 0.3), rng.uniform(0.75, 1.0)
    return np.clip((ground * (1 - ink) + chalk * ink) * 255, 0, 255).astype(np.uint8)

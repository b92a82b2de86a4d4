"""Pictures that are not one digit, for the model's "not a digit" output.

    from digit_recognizer.negatives import TRAIN_KINDS, make_negatives
    images, kinds = make_negatives(TRAIN_KINDS, 2000, np.random.default_rng(0), digits=x_fit)

Every negative is drawn the way people draw (pen paths with a round brush of random width,
jitter, slant and rotation) or rendered from a font, then brought to MNIST's form by the app's
own ``preprocess.normalize_digit``, so the model learns to refuse exactly what the app would
show it. Kinds:
  letters     Hershey stroke fonts (pen paths), drawn with our brush;
  printed     letters and symbols from the TrueType fonts matplotlib ships;
  scripts     Greek, Cyrillic and Japanese letters and astrological signs (Hershey fonts):
              shapes no Latin alphabet teaches, so that refusing is not learnt letter by letter;
  marks       scribbles, dashes, discs, crosses, smileys, polygons, ...;
  pairs       two neighbouring digits in one crop (touching, overlapping or apart; many of
              them a 1 touching its neighbour, which alone looks much like one digit);
  straddles   a crop across the gap between two digits: a bad cut when reading a number.
Some kinds are held out of training (``HELD_OUT_KINDS``: one Hershey family, one TrueType
family, three mark shapes) so that the refusal rate measured on them is honest.

Letters that people also write as digits (O o D Q I l i j J Z z S s b G g q B T) are never
negatives: refusing them would teach the model to refuse those digits.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from digit_recognizer.preprocess import mnist_pixels

LETTERS = "ACEFHKLMNPRUVWXYacdefhkmnprtuvwxy"  # Latin letters not written like a digit
SYMBOLS = "+=?!#$%&@<>~"  # (not "/", "|", "(", ")": a slanted or curved 1 looks like them;
# not "*": asterisks are a held-out kind of mark)
DRAW_SIDE = 96  # negatives are drawn about this tall before normalisation
ONE_PAIR_SHARE = 0.4  # digit pairs with a 1-like digit touching its neighbour: the model
# trained without them let up to a quarter of such pairs through as one digit ("71" as 7),
# other touching pairs 1 in 50
NARROW = 0.45  # a digit narrower than this share of its height is 1-like
BRUSH_RATIO = (0.05, 0.2)  # brush width relative to the drawing's height (thin pen to marker)
_TTF_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"

Strokes = list[np.ndarray]  # pen paths, each (k, 2) points (x, y), y down, any scale


# ------------------------------------------------------------------------- drawing strokes
def _jittered(strokes: Strokes, rng: np.random.Generator) -> Strokes:
    """A person's version of the shape: slanted, rotated, stretched, each point a little off."""
    points = np.concatenate(strokes)
    centre = (points.min(axis=0) + points.max(axis=0)) / 2
    size = max(float(np.ptp(points, axis=0).max()), 1e-6)
    angle = np.deg2rad(rng.uniform(-15, 15))
    shear = rng.uniform(-0.35, 0.35)
    stretch = rng.uniform(0.8, 1.25)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    transform = rotation @ np.array([[stretch, shear], [0.0, 1.0 / stretch]])
    wobble = rng.uniform(0.0, 0.03) * size
    return [((s - centre) @ transform.T) / size + rng.normal(0, wobble / size, s.shape)
            for s in strokes]


def draw_strokes(strokes: Strokes, rng: np.random.Generator, jitter: bool = True,
                 filled: bool = False) -> np.ndarray:
    """Pen paths drawn with a round brush of random width: float ink in [0, 1], cropped.

    ``filled`` fills each closed path instead (a disc, a blob)."""
    if jitter:
        strokes = _jittered(strokes, rng)
    points = np.concatenate(strokes)
    low = points.min(axis=0)
    scale = DRAW_SIDE / max(float(np.ptp(points, axis=0).max()), 1e-6)
    brush = max(1.0, rng.uniform(*BRUSH_RATIO) * DRAW_SIDE)
    margin = brush
    side = int(DRAW_SIDE + 2 * margin) + 2
    canvas = Image.new("L", (side, side), 0)
    pen = ImageDraw.Draw(canvas)
    radius = brush / 2
    for stroke in strokes:
        xy = [tuple(p) for p in (stroke - low) * scale + margin]
        if filled:
            pen.polygon(xy, fill=255)
        if len(xy) > 1:
            pen.line(xy, fill=255, width=round(brush), joint="curve")
        for x, y in (xy[0], xy[-1]) if len(xy) > 1 else xy:  # round caps
            pen.ellipse([x - radius, y - radius, x + radius, y + radius], fill=255)
    return _crop(np.asarray(canvas, np.float32) / 255.0)


def _crop(ink: np.ndarray) -> np.ndarray:
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _digit_ink(image: np.ndarray) -> np.ndarray:
    """uint8 MNIST digit -> float ink in [0, 1], cropped to its strokes."""
    return _crop(image.astype(np.float32) / 255.0)


# ----------------------------------------------------------------------------- letters
@functools.cache
def _hershey(font: str):
    from HersheyFonts import HersheyFonts

    hershey = HersheyFonts()
    hershey.load_default_font(font)
    return hershey


def hershey_letter_strokes(font: str, char: str) -> Strokes:
    """The pen paths of one character of a Hershey stroke font."""
    return [np.asarray(s, np.float64) for s in _hershey(font).strokes_for_text(char) if len(s)]


def hershey_letter(font: str, rng: np.random.Generator) -> np.ndarray:
    """A letter or symbol of a Hershey stroke font (pen paths), drawn with our brush."""
    char = rng.choice(list(LETTERS + SYMBOLS[:6]) if rng.random() < 0.85 else list(SYMBOLS))
    return draw_strokes(hershey_letter_strokes(font, str(char)), rng)


# Glyphs of other scripts in the Hershey fonts, keyed by the ASCII character each font maps
# them to. Left out, by eye and where the previous model read them as a digit (a mean digit
# probability over 0.3 on jittered drawings): glyphs written like a digit, a digit-like letter
# or a crossed zero (Δ Γ Г Β β Φ φ Ф ⊕ ♀ δ ξ ζ Б З Ч В Ь б, the kana し じ ち そ つ ろ へ, the
# kanji 七 入), Latin look-alikes (the Cyrillic font's number sign, the Greek font's square),
# the fonts' placeholder diamond, and stars (asterisks), spirals and triangles, held out.
SCRIPT_GLYPHS = {
    "greek": "ACEHKMNPRSUWXacegjklmnpqruvwy",
    "cyrillic": "$%&ADEHIKLMNPQRSUWYadehiklmnpqrsuwy",
    "japanese": "#$%&')*+,-./01234567:ABDEFGIJKMNPSTUVWXZ[\\^_`abcdefghlnoqrsxyz{|}",
    "astrology": "!$'+->?@]^_`{|}~",
}


def script_glyph(rng: np.random.Generator) -> np.ndarray:
    """A glyph of another script or sign set (``SCRIPT_GLYPHS``; each font equally often),
    drawn with our brush."""
    font = str(rng.choice(list(SCRIPT_GLYPHS)))
    return draw_strokes(hershey_letter_strokes(font, str(rng.choice(list(SCRIPT_GLYPHS[font])))),
                        rng)


def printed_letter(font_files: Sequence[str], rng: np.random.Generator) -> np.ndarray:
    """A letter or symbol rendered from a TrueType font, slanted and rotated a little."""
    char = rng.choice(list(LETTERS + SYMBOLS))
    font = ImageFont.truetype(str(_TTF_DIR / rng.choice(font_files)), size=DRAW_SIDE)
    side = 2 * DRAW_SIDE
    canvas = Image.new("L", (side, side), 0)
    ImageDraw.Draw(canvas).text((side / 4, side / 8), char, fill=255, font=font)
    shear = rng.uniform(-0.3, 0.3)
    canvas = canvas.transform(canvas.size, Image.Transform.AFFINE,
                              (1, shear, -shear * side / 2, 0, 1, 0), Image.Resampling.BILINEAR)
    canvas = canvas.rotate(rng.uniform(-12, 12), Image.Resampling.BILINEAR)
    ink = np.asarray(canvas, np.float32) / 255.0
    return _crop(ink) if ink.max() > 0.5 else None


# ------------------------------------------------------------------------------- marks
def _curve(t: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.stack([x, y], axis=1)


def _circle(cx: float, cy: float, r: float, start: float = 0.0, end: float = 2 * np.pi,
            n: int = 40) -> np.ndarray:
    t = np.linspace(start, end, n)
    return np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], axis=1)


def mark_strokes(kind: str, rng: np.random.Generator) -> tuple[Strokes, bool]:
    """Pen paths of a mark of ``kind`` in a unit box, and whether it is filled."""
    u = rng.uniform
    if kind == "disc":
        return [_circle(0, 0, 1)[:, :] * [u(0.7, 1.3), 1.0]], True
    if kind == "dash":
        x = np.linspace(0, 1, 12)
        return [np.stack([x, u(-0.08, 0.08) * np.sin(np.pi * x) + u(-0.2, 0.2) * x], 1)], False
    if kind == "cross":
        if rng.random() < 0.5:  # x
            return [np.array([[0, 0], [1, 1.0]]), np.array([[1, 0], [0, 1.0]])], False
        return [np.array([[0.5, 0], [0.5, 1.0]]), np.array([[0, 0.5], [1, 0.5]])], False
    if kind == "smiley":
        face = _circle(0, 0, 1)
        eyes = [_circle(-0.35, -0.3, 0.08, n=8), _circle(0.35, -0.3, 0.08, n=8)]
        mouth = _circle(0, 0.05, 0.55, 0.2 * np.pi, 0.8 * np.pi, n=16)
        return [face, *eyes, mouth], False
    if kind == "scribble":  # a tangle: a smoothed random walk with many turns
        steps = rng.normal(0, 1, (int(rng.integers(12, 30)), 2))
        path = np.cumsum(steps, axis=0)
        kernel = np.ones(3) / 3
        smooth = np.stack([np.convolve(path[:, i], kernel, "valid") for i in (0, 1)], 1)
        return [smooth], False
    if kind == "zigzag":
        n = int(rng.integers(4, 9))
        x = np.linspace(0, 1, n)
        y = np.where(np.arange(n) % 2 == 0, 0.0, u(0.2, 0.6))
        return [np.stack([x, y], 1)], False
    if kind == "check":
        return [np.array([[0, 0.55], [0.3, 1.0], [1.0, 0.0]]) + rng.normal(0, 0.04, (3, 2))], False
    if kind == "hash":
        return [np.array([[0.35, 0], [0.3, 1.0]]), np.array([[0.7, 0], [0.65, 1.0]]),
                np.array([[0, 0.35], [1, 0.35]]), np.array([[0, 0.7], [1, 0.7]])], False
    if kind == "arrow":
        shaft = np.array([[0, 0.5], [1, 0.5]])
        head = np.array([[0.75, 0.3], [1, 0.5], [0.75, 0.7]])
        strokes = [shaft, head]
        return ([s * [-1, 1] for s in strokes] if rng.random() < 0.5 else strokes), False
    if kind == "wave":
        x = np.linspace(0, 1, 30)
        return [np.stack([x, u(0.1, 0.25) * np.sin(2 * np.pi * u(1.5, 3) * x)], 1)], False
    if kind == "hatching":  # a shaded patch
        n = int(rng.integers(4, 8))
        return [np.array([[i / n, 0], [i / n + 0.4, 1.0]]) for i in range(n)], False
    if kind == "square":  # a box, as drawn: four sides, corners a little off
        corners = np.array([[0, 0], [1, 0], [1, 1.0], [0, 1.0], [0, 0]]) * [u(0.8, 1.25), 1.0]
        return [corners + rng.normal(0, 0.03, (5, 2))], False
    if kind == "heart":
        t = np.linspace(0, 2 * np.pi, 60)
        x = 16 * np.sin(t) ** 3
        y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
        return [np.stack([x, y], 1) / 17], False
    if kind == "coil":  # a row of cursive loops, as when testing a pen
        n = u(2.5, 4.5)
        t = np.linspace(0, 2 * np.pi * n, int(40 * n))
        return [np.stack([t / (2 * np.pi) * u(0.8, 1.2) + 0.4 * np.sin(t), -np.cos(t)], 1)], False
    if kind == "diamond":  # a rhombus, as drawn
        corners = np.array([[0.5, 0], [1, 0.5], [0.5, 1.0], [0, 0.5], [0.5, 0]])
        corners = corners * [u(0.6, 1.3), 1.0]
        return [corners + rng.normal(0, 0.03, (5, 2))], False
    if kind == "pentagon":  # or a hexagon: corners a 0 never has, wider than most 0s
        n = int(rng.integers(5, 7))
        a = np.linspace(0, 2 * np.pi, n + 1) + u(0, 2 * np.pi)
        corners = np.stack([u(1.0, 1.3) * np.cos(a), np.sin(a)], 1)
        return [corners + rng.normal(0, 0.03, (n + 1, 2))], False
    if kind == "flower":  # a rose: petals round a centre
        k = int(rng.integers(4, 6))  # more would be a star's many arms
        t = np.linspace(0, 2 * np.pi, 40 * k)
        r = np.abs(np.cos(k / 2 * t))
        return [np.stack([r * np.cos(t), r * np.sin(t)], 1)], False
    if kind == "crossed box":  # a box with its diagonals
        w = u(0.8, 1.25)
        box = np.array([[0, 0], [w, 0], [w, 1.0], [0, 1.0], [0, 0]])
        return [box, np.array([[0, 0], [w, 1.0]]), np.array([[w, 0], [0, 1.0]])], False
    if kind == "spiral":
        t = np.linspace(0, u(3, 5) * np.pi, 80)
        r = t / t[-1]
        return [np.stack([r * np.cos(t), r * np.sin(t)], 1)], False
    if kind == "star":  # an asterisk
        n = int(rng.integers(3, 5))
        return [np.array([[np.cos(a), np.sin(a)], [-np.cos(a), -np.sin(a)]])
                for a in np.pi * (np.arange(n) / n + u(0, 1))], False
    if kind == "triangle":
        corners = np.array([[0, 1.0], [0.5, 0], [1, 1.0], [0, 1.0]]) + rng.normal(0, 0.05, (4, 2))
        return [corners], False
    raise ValueError(f"unknown mark {kind!r}")


def mark(kinds: Sequence[str], rng: np.random.Generator) -> np.ndarray:
    strokes, filled = mark_strokes(str(rng.choice(kinds)), rng)
    return draw_strokes(strokes, rng, filled=filled)


# ------------------------------------------------------------------------ digit pieces
def _side_by_side(digits: np.ndarray, rng: np.random.Generator, gap_range: tuple[int, int],
                  narrow: int | None = None) -> tuple[np.ndarray, int]:
    """Two random digits next to each other (ink in [0, 1]) and the column between them;
    ``narrow``: which of them (0: first, 1: second) is a 1-like one."""
    first, second = (_digit_ink(digits[i]) for i in rng.integers(0, len(digits), 2))
    if narrow is not None:  # in place of one of them (both are drawn all the same: the
        # shipped model's recorded training command made its pairs with these draws)
        one = _narrow_digit(digits, rng)
        first, second = (one, second) if narrow == 0 else (first, one)
    gap = int(rng.integers(*gap_range))  # < 0: they overlap
    shift = int(rng.integers(-3, 4))  # uneven baselines
    height = max(first.shape[0], second.shape[0]) + abs(shift)
    width = first.shape[1] + max(gap, -first.shape[1] // 2) + second.shape[1]
    canvas = np.zeros((height, max(width, first.shape[1])), np.float32)
    top1, top2 = max(0, -shift), max(0, shift)
    canvas[top1:top1 + first.shape[0], :first.shape[1]] = first
    left2 = width - second.shape[1]
    region = canvas[top2:top2 + second.shape[0], left2:left2 + second.shape[1]]
    np.maximum(region, second[:, :region.shape[1]], out=region)
    return canvas, (first.shape[1] + left2) // 2


def _narrow_digit(digits: np.ndarray, rng: np.random.Generator, tries: int = 40) -> np.ndarray:
    """A random digit whose ink is narrower than NARROW of its height (a 1, mostly; else the
    narrowest of those tried), cropped."""
    best = None
    for i in rng.integers(0, len(digits), tries):
        ink = _digit_ink(digits[i])
        if best is None or ink.shape[1] / ink.shape[0] < best.shape[1] / best.shape[0]:
            best = ink
        if ink.shape[1] < NARROW * ink.shape[0]:
            break
    return best


def digit_pair(digits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Two digits in one crop, overlapping, touching or apart: a number, not one digit. A
    share of them (ONE_PAIR_SHARE) touch a 1-like neighbour."""
    if rng.random() < ONE_PAIR_SHARE:
        pair, _ = _side_by_side(digits, rng, (-3, 2), narrow=int(rng.integers(2)))
    else:
        pair, _ = _side_by_side(digits, rng, (-4, 9))
    return pair


def straddle(digits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A digit-sized window across the gap between two digits: a bad cut of a number. Each
    side keeps a good part of its digit (a digit with a sliver of its neighbour is still
    that digit, and must stay readable)."""
    pair, junction = _side_by_side(digits, rng, (-2, 4))
    height = pair.shape[0]
    half = int(height * rng.uniform(0.3, 0.5))
    centre = junction + int(height * rng.uniform(-0.12, 0.12))
    window = pair[:, max(0, centre - half):centre + half]
    return _crop(window) if window.max() > 0 else None


# ------------------------------------------------------------------------------ kinds
Generator = Callable[[np.random.Generator, np.ndarray | None], np.ndarray | None]

_SANS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSansMono.ttf",
         "DejaVuSansMono-Bold.ttf", "STIXGeneral.ttf", "STIXGeneralItalic.ttf", "cmr10.ttf",
         "cmss10.ttf", "cmti10.ttf")
_SERIF = ("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf")
_TRAIN_MARKS = ("disc", "dash", "cross", "smiley", "scribble", "zigzag", "check", "hash",
                "arrow", "wave", "hatching", "square", "heart", "coil", "diamond", "pentagon",
                "flower", "crossed box")
_HELD_OUT_MARKS = ("spiral", "star", "triangle")
TWO_DIGITS = "two digits"  # the kind made of digit pairs: "several digits" to a 12-output model
_TRAIN_HERSHEY = ("futural", "futuram", "rowmans", "rowmand", "timesr", "timesi", "scripts",
                  "scriptc")

TRAIN_KINDS: dict[str, tuple[float, Generator]] = {  # kind: (share of the negatives, generator)
    "letters (Hershey)": (0.25, lambda rng, _: hershey_letter(str(rng.choice(_TRAIN_HERSHEY)),
                                                               rng)),
    "printed letters": (0.12, lambda rng, _: printed_letter(_SANS, rng)),
    "other scripts (Hershey)": (0.10, lambda rng, _: script_glyph(rng)),
    "marks": (0.23, lambda rng, _: mark(_TRAIN_MARKS, rng)),
    TWO_DIGITS: (0.20, lambda rng, digits: digit_pair(digits, rng)),
    "straddles": (0.10, lambda rng, digits: straddle(digits, rng)),
}
HELD_OUT_KINDS: dict[str, tuple[float, Generator]] = {
    "cursive letters (Hershey, held out)": (0.3, lambda rng, _: hershey_letter("cursive", rng)),
    "serif letters (held out)": (0.2, lambda rng, _: printed_letter(_SERIF, rng)),
    "spirals, stars, triangles (held out)": (0.3, lambda rng, _: mark(_HELD_OUT_MARKS, rng)),
    TWO_DIGITS: (0.2, lambda rng, digits: digit_pair(digits, rng)),
}


def draw_negatives(kinds: dict[str, tuple[float, Generator]], n: int, rng: np.random.Generator,
                   digits: np.ndarray | None = None) -> tuple[list[np.ndarray], np.ndarray]:
    """``n`` negatives as drawn (float ink in [0, 1] with peak 1, cropped, any size), and each
    one's kind name. ``kinds`` maps a kind to its share and generator; ``digits`` (uint8 MNIST
    digits) feed the kinds made of digits: pass the split the set is for."""
    names = list(kinds)
    shares = np.array([kinds[name][0] for name in names], np.float64)
    counts = np.floor(shares / shares.sum() * n).astype(int)
    counts[0] += n - counts.sum()
    crops, labels = [], []
    for name, total in zip(names, np.cumsum(counts)):
        generate = kinds[name][1]
        while len(labels) < total:
            crop = generate(rng, digits)
            if crop is None or crop.size == 0 or crop.max() <= 0:
                continue
            crops.append(crop / crop.max())
            labels.append(name)
    return crops, np.array(labels)


def make_negatives(kinds: dict[str, tuple[float, Generator]], n: int, rng: np.random.Generator,
                   digits: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` negatives in MNIST's form, uint8 (n, 28, 28), and each one's kind name (see
    ``draw_negatives``)."""
    crops, labels = draw_negatives(kinds, n, rng, digits)
    return in_mnist_form(crops), labels


def in_mnist_form(crops: list[np.ndarray]) -> np.ndarray:
    """Drawn negatives (ink crops) as the app would show them to the model: uint8 (n, 28, 28)."""
    return np.stack([mnist_pixels(crop) for crop in crops])

"""Train the line reader (``digit_recognizer.line``) on numbers written from MNIST's digits.

    from digit_recognizer.train_line import LineTrainConfig, train_line_model
    result = train_line_model(LineTrainConfig(), fit_data, val_data)
    result.model, result.validation_exact, result.wall_time_s

Each training number is 1-8 MNIST-form digits written side by side on one line
(``write_number``): each digit its own size and baseline, one slant for the number, gaps from
overlapping to wide (one kind for the number, or each pair its own). Most numbers are written
with one round pen along the digits' centre lines (``redraw.centre_line``), fine to
marker-wide, as a sketchpad or a pen writes: strokes of neighbours that overlap cross, and a
fat pen joins digits that nearly touch. The others keep MNIST's own strokes, scaled, at times
a little bolder or finer. The digits come from the fit split, with their continental
variants (``continental``) and a quarter of them redrawn with a pen (``redraw``), as the
digit model's training set has them. Some numbers have a letter, sign or mark (the trained
kinds of ``negatives``) in place of a digit, or are one alone, which the model learns to read
as "not a digit" (line.NOT_A_DIGIT_MARK); a letter or mark fits a digit's box by its longer
side (a dash stays a dash). Each is turned into the app's strip (``line.line_strip``).

This is not the number benchmark's generator (``benchmarks.numbers`` traces digits into line
segments with its own tracer and redraws them with a brush on a large canvas, as sketches and
photos): that one stays out of training, so that its figures measure numbers written by
other code, with other sizes, gaps and pens, than the model has seen. The validation
split's digits write the numbers the run is judged on; the test split is never used.

Training is a plain loop over batches of strips of similar width (few shapes to trace, little
padding) with the CTC loss; Keras' ``fit`` would retrace for every strip width.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from scipy import ndimage

from digit_recognizer.continental import continental_variants
from digit_recognizer.line import (BLANK, FRAME, NOT_A_DIGIT_MARK, NOT_A_DIGIT_TEXT,
                                   line_strip, padded_batch)
from digit_recognizer.negatives import TRAIN_KINDS, make_negatives
from digit_recognizer.preprocess import ImageInputError
from digit_recognizer.redraw import (INK_LEVEL, SCALE, centre_line, redraw_with_pen,
                                     round_pen)

LENGTHS = tuple(range(1, 9))  # digits per training number
NOT_A_DIGIT_KINDS = ("letters (Hershey)", "printed letters", "other scripts (Hershey)",
                     "marks")  # written into numbers, or alone, as "not a digit" (negatives'
# trained kinds not made of digits), each fitted into a digit's box by its longer side
WRITE_HEIGHT = 40  # px: a digit's height as written (the strip then scales the line)
SIZE = (0.85, 1.15)  # each digit's height, of WRITE_HEIGHT
BASELINE = 0.06  # each digit's baseline moves up to this share of the height
SLANT = 0.3  # the number's slant: columns moved per row, up to this either way
GAPS = {"overlap": (-0.25, -0.05), "touching": (-0.05, 0.05), "apart": (0.05, 0.8)}  # between
GAP_SHARES = (0.2, 0.3, 0.5)  # neighbours' ink boxes, of the height; how often each kind
ONE_KIND = 0.5  # numbers whose gaps are all of one kind (else each pair draws its own)
BOLD = 0.2  # numbers in MNIST's own strokes (not PEN_WRITTEN) grown by a pixel each side (at
# WRITE_HEIGHT): more of them touch
FINE = 0.5  # ... or thinned by one: the strip thins strokes in whole pixels only (see
# preprocess.change_stroke_width), and MNIST's would stay bolder than a pen's (strips of the
# number benchmark's sketches: 2.4 px wide; written without this: 3.4 px)
PEN_SHARE = 0.25  # digits redrawn with a pen (redraw.py), as in the digit model's training
# (in a PEN_WRITTEN number, traced to their centre line again)
PEN_WRITTEN = 0.6  # numbers written along the digits' centre lines with one round pen, as a
# sketchpad, a biro or a marker writes (overlapping digits' strokes cross, a fat pen fills
# the gap between touching ones); the others in MNIST's own strokes, scaled
PEN_WIDTH = (0.03, 0.2)  # that pen's width, of WRITE_HEIGHT: a fine pen .. a marker


@dataclass(frozen=True)
class LineTrainConfig:
    numbers: int = 160_000  # synthetic training numbers (about 4.5 digits each), written
    # once: more numbers seen fewer times generalise better. The reader before, 8 epochs over
    # 80,000, ended at a CTC loss of 0.29 on its own numbers but 0.42 on new ones written from
    # the same digits (a scratch check), and read 87.0% of the validation numbers; over
    # 160,000, 4 epochs (the same steps, 12 minutes more to write them): 87.8%. New numbers
    # for every epoch (4 x 160,000, the next epoch's written while one trained; 75 minutes
    # in all) did no better: 87.0%, and on `scripts/benchmark_numbers.py --split validation`
    # 85.2% of 2-6 digits against 86.4% (overlapping neighbours 54.9% against 65.9%), drawn
    # digits 97.93% against 98.03% (with the digit model that held those digits out): one run
    # each, seeds' spread unmeasured, but no gain
    validation_numbers: int = 1_000  # written from the validation split's digits
    letter_share: float = 0.22  # numbers with a letter, sign or mark in place of one digit, or
    # one alone: letters in about 15% of the lines, marks in about 7%
    letters: int = 6_000  # distinct letters, signs and marks drawn for them
    epochs: int = 4  # (12 over 40,000 numbers, the same steps as 8 over 60,000, also read
    # fewer validation numbers)
    batch_size: int = 64
    learning_rate: float = 1e-3  # Adam's peak; cosine decay to zero over the run
    seed: int = 0  # the numbers written, the weights and the batches' order


@dataclass
class Lines:
    strips: list[np.ndarray]  # uint8 (STRIP_HEIGHT, width) each
    texts: list[str]  # the digits written, left to right


@dataclass
class LineTrainResult:
    model: object  # keras.Model
    validation_exact: float  # share of validation numbers read exactly (best path)
    history: dict[str, list[float]] = field(default_factory=dict)
    wall_time_s: float = 0.0  # writing the numbers and training


def write_number(images: np.ndarray, rng: np.random.Generator,
                 boxed: np.ndarray | None = None) -> np.ndarray:
    """MNIST-form digits (uint8 (n, 28, 28)) written as one line of ink, float32 in [0, 1]:
    a PEN_WRITTEN share along their centre lines with one pen, the rest in MNIST's own
    strokes, scaled. Each digit is a digit's height tall; those ``boxed`` (letters, marks)
    fit a digit's box by their longer side instead, centred on the digits' middle."""
    pen = rng.uniform(*PEN_WIDTH) * WRITE_HEIGHT if rng.random() < PEN_WRITTEN else None
    boxed = np.zeros(len(images), bool) if boxed is None else boxed
    crops, lifts = [], []
    for image, in_box in zip(images, boxed):
        height = WRITE_HEIGHT * rng.uniform(*SIZE)
        crops.append(_scaled_glyph(image, height, in_box) if pen is None else
                     _pen_glyph(image, height, pen, rng, in_box))
        lifts.append(round((height - crops[-1].shape[0]) / 2) if in_box else 0)
    one_kind = rng.random() < ONE_KIND
    kind = rng.choice(len(GAPS), p=GAP_SHARES)
    lefts = [0]
    for before in crops[:-1]:
        gap = rng.uniform(*list(GAPS.values())[kind if one_kind else
                                              rng.choice(len(GAPS), p=GAP_SHARES)])
        # a narrow digit (a 1) is never written wholly inside its neighbour
        lefts.append(lefts[-1] + max(before.shape[1] + gap * WRITE_HEIGHT,
                                     0.3 * before.shape[1]))
    margin = WRITE_HEIGHT
    line = np.zeros((3 * WRITE_HEIGHT, int(lefts[-1] + crops[-1].shape[1] + 2 * margin)),
                    np.float32)
    baseline = 2 * WRITE_HEIGHT
    for crop, left, lift in zip(crops, lefts, lifts):
        bottom = baseline - lift + round(rng.uniform(-BASELINE, BASELINE) * WRITE_HEIGHT)
        top, left = bottom - crop.shape[0], margin + round(left)
        np.maximum(line[top:bottom, left:left + crop.shape[1]], crop,
                   out=line[top:bottom, left:left + crop.shape[1]])
    bolder_or_finer = rng.random()
    if pen is None and bolder_or_finer < BOLD:
        line = ndimage.grey_dilation(line, size=(3, 3))
    elif pen is None and bolder_or_finer < BOLD + FINE:
        line = ndimage.grey_erosion(line, size=(3, 3))
    slant = rng.uniform(-SLANT, SLANT)  # x on the page = x + slant * (baseline - y)
    sheared = Image.fromarray(line, "F").transform(
        line.shape[::-1], Image.Transform.AFFINE,
        (1, slant, -slant * baseline, 0, 1, 0), Image.Resampling.BILINEAR)
    return np.asarray(sheared)


def _scaled_glyph(image: np.ndarray, height: float, boxed: bool = False) -> np.ndarray:
    """A digit's own strokes (an image with ink) cropped and scaled to ``height`` rows (if
    ``boxed``: its longer side to ``height``), float32 in [0, 1]."""
    rows, cols = np.nonzero(image)
    crop = image[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    scale = height / (max(crop.shape) if boxed else crop.shape[0])
    size = [max(1, round(side * scale)) for side in crop.shape[::-1]]
    scaled = Image.fromarray(crop).resize(size, Image.Resampling.BILINEAR)
    return np.asarray(scaled, np.float32) / 255


def _pen_glyph(image: np.ndarray, height: float, pen: float, rng: np.random.Generator,
               boxed: bool = False) -> np.ndarray:
    """A digit (an image with ink) drawn along its centre line (``redraw.centre_line``) with a
    round pen ``pen`` pixels wide, its ink ``height`` rows tall (if ``boxed``: its longer
    side), float32 0/1."""
    points = centre_line(image, rng.uniform(*INK_LEVEL))
    points = points - points.min(axis=0)
    longest = points.max() if boxed else points[:, 0].max()
    scale = max(height - pen, 1.0) / max(longest, 1.0)
    pad = int(np.ceil(pen / 2)) + 1
    cells = np.round(points * scale).astype(int) + pad
    centre = np.zeros(cells.max(axis=0) + pad + 1, bool)
    centre[cells[:, 0], cells[:, 1]] = True
    # centre points are scale / SCALE apart once scaled: a fine pen on a much enlarged digit
    # must still reach from one to the next
    glyph = round_pen(centre, max(pen / 2, 0.5, scale / SCALE))
    rows, cols = np.nonzero(glyph)
    return glyph[rows.min():rows.max() + 1, cols.min():cols.max() + 1].astype(np.float32)


def write_lines(images: np.ndarray, labels: np.ndarray, n: int, seed: int,
                letters: np.ndarray | None = None, letter_share: float = 0.0) -> Lines:
    """``n`` numbers written from these MNIST-form digits, as strips; a ``letter_share`` of
    them with one of ``letters`` (MNIST-form, uint8: letters, marks) in place of a digit
    (alone, in a number of one), written "x" in the text."""
    rng = np.random.default_rng([seed, 3])
    strips, texts = [], []
    while len(texts) < n:
        length = int(rng.choice(LENGTHS))
        index = rng.integers(len(images), size=length)
        written, symbols = images[index], [str(v) for v in labels[index]]
        if letters is not None and rng.random() < letter_share:
            place = int(rng.integers(length))
            written = written.copy()
            written[place] = letters[rng.integers(len(letters))]
            symbols[place] = NOT_A_DIGIT_TEXT
        try:
            strip = line_strip(write_number(written, rng, np.array(symbols) == NOT_A_DIGIT_TEXT)
                               ).pixels
        except ImageInputError:  # (a faint digit's ink the app would refuse: write another)
            continue
        strips.append((strip * 255).round().astype(np.uint8))
        texts.append("".join(symbols))
    return Lines(strips, texts)


def batches(lines: Lines, batch_size: int, rng: np.random.Generator):
    """Batches of strips of similar widths (sorted with a little noise, in random order):
    (strips (N, H, W, 1), labels (N, L) padded with 0, label lengths, frame counts)."""
    widths = np.array([s.shape[1] for s in lines.strips])
    order = np.argsort(widths + rng.uniform(0, 24, len(widths)))
    chunks = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(chunks)
    for chunk in chunks:
        x = padded_batch([lines.strips[i].astype(np.float32) / 255 for i in chunk])
        texts = [lines.texts[i] for i in chunk]
        y = np.zeros((len(chunk), max(map(len, texts))), np.int32)
        for row, text in enumerate(texts):
            y[row, :len(text)] = [NOT_A_DIGIT_MARK if c == NOT_A_DIGIT_TEXT else int(c)
                                  for c in text]
        yield (x, y, np.array([len(t) for t in texts], np.int32),
               np.full(len(chunk), x.shape[2] // FRAME, np.int32))


def exact_match(model, lines: Lines) -> float:
    """The share of ``lines`` the model reads exactly (best path), one strip at a time and
    unpadded, as the app reads them (the backward GRU would see a batch's padding)."""
    import tensorflow as tf

    from digit_recognizer.line import STRIP_HEIGHT, Strip, decode

    forward = tf.function(lambda x: model(x, training=False),
                          input_signature=[tf.TensorSpec((1, STRIP_HEIGHT, None, 1))])
    right = 0
    for strip, text in zip(lines.strips, lines.texts):
        pixels = strip.astype(np.float32) / 255
        logits = forward(tf.constant(pixels[None, :, :, None])).numpy()[0]
        right += decode(logits, Strip(pixels, 0, 1.0, slice(0, 1))).text == text
    return right / max(len(lines.texts), 1)


def train_line_model(config: LineTrainConfig, fit_data: tuple[np.ndarray, np.ndarray],
                     val_data: tuple[np.ndarray, np.ndarray], log=print) -> LineTrainResult:
    """Write the numbers, train the line model on them, and read the validation numbers."""
    import keras
    import tensorflow as tf

    from digit_recognizer.model import build_line_model

    start = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    x_extra, y_extra = continental_variants(*fit_data, rng)
    images = np.concatenate([fit_data[0], x_extra])
    labels = np.concatenate([fit_data[1], y_extra])
    pen = rng.random(len(images)) < PEN_SHARE
    images[pen] = redraw_with_pen(images[pen], rng)
    letters, _ = make_negatives({kind: TRAIN_KINDS[kind] for kind in NOT_A_DIGIT_KINDS},
                                config.letters, rng)
    train = write_lines(images, labels, config.numbers, config.seed, letters,
                        config.letter_share)
    # digits only: the figure is numbers read
    val = write_lines(*val_data, config.validation_numbers, config.seed + 1)
    log(f"wrote {len(train.texts)} training and {len(val.texts)} validation numbers "
        f"({time.perf_counter() - start:.0f} s)")

    keras.utils.set_random_seed(config.seed)
    model = build_line_model()
    steps = config.epochs * int(np.ceil(len(train.texts) / config.batch_size))
    optimizer = keras.optimizers.Adam(
        keras.optimizers.schedules.CosineDecay(config.learning_rate, steps))
    signature = [tf.TensorSpec((None, model.input_shape[1], None, 1)),
                 tf.TensorSpec((None, None), tf.int32), tf.TensorSpec((None,), tf.int32),
                 tf.TensorSpec((None,), tf.int32)]

    @tf.function(input_signature=signature)
    def step(x, y, label_length, logit_length):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss = tf.reduce_mean(tf.nn.ctc_loss(y, logits, label_length, logit_length,
                                                 logits_time_major=False, blank_index=BLANK))
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss

    history: dict[str, list[float]] = {"loss": []}
    for epoch in range(config.epochs):
        began = time.perf_counter()
        losses = [float(step(*batch)) for batch in batches(train, config.batch_size, rng)]
        history["loss"].append(float(np.mean(losses)))
        log(f"epoch {epoch + 1}/{config.epochs}: CTC loss {history['loss'][-1]:.4f} "
            f"({time.perf_counter() - began:.0f} s)")
    validation_exact = exact_match(model, val)
    return LineTrainResult(model, validation_exact, history, time.perf_counter() - start)

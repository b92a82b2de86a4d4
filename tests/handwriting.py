"""Pen strokes of handwritten digits, for the browser tests' mouse and touch drawing.

    for points in number_strokes("42", centre=(640, 400), height=200):
        ...  # one stroke: a list of (x, y) page points to drag through
"""

from __future__ import annotations

import numpy as np

# Each digit's strokes in a box 0.6 wide and 1 tall, y down: how a person writes it.
_ELLIPSE = [(0.3 + 0.3 * np.sin(a), 0.5 - 0.5 * np.cos(a)) for a in np.linspace(0, 2 * np.pi, 17)]
DIGIT_STROKES: dict[str, list[list[tuple[float, float]]]] = {
    "0": [_ELLIPSE],
    "1": [[(0.15, 0.2), (0.35, 0.0), (0.35, 1.0)]],
    "2": [[(0.03, 0.25), (0.15, 0.06), (0.33, 0.0), (0.52, 0.1), (0.55, 0.3), (0.4, 0.55),
           (0.02, 1.0), (0.6, 1.0)]],
    "3": [[(0.05, 0.1), (0.3, 0.0), (0.52, 0.12), (0.5, 0.33), (0.25, 0.47), (0.52, 0.6),
           (0.55, 0.85), (0.3, 1.0), (0.03, 0.9)]],
    "4": [[(0.1, 0.0), (0.02, 0.62), (0.6, 0.62)], [(0.45, 0.05), (0.45, 1.0)]],
    "5": [[(0.55, 0.0), (0.1, 0.0), (0.06, 0.42), (0.35, 0.38), (0.56, 0.55), (0.55, 0.85),
           (0.3, 1.0), (0.02, 0.9)]],
    "6": [[(0.5, 0.0), (0.25, 0.2), (0.06, 0.55), (0.08, 0.88), (0.3, 1.0), (0.52, 0.88),
           (0.52, 0.62), (0.3, 0.5), (0.08, 0.65)]],
    "7": [[(0.0, 0.0), (0.6, 0.0), (0.2, 1.0)]],
    "8": [[(0.5, 0.1), (0.3, 0.0), (0.1, 0.12), (0.15, 0.35), (0.45, 0.6), (0.52, 0.85),
           (0.3, 1.0), (0.08, 0.85), (0.15, 0.6), (0.45, 0.35), (0.5, 0.1)]],
    "9": [[(0.5, 0.3), (0.3, 0.45), (0.08, 0.3), (0.15, 0.05), (0.4, 0.0), (0.52, 0.15),
           (0.5, 0.5), (0.45, 1.0)]],
}
WIDTH = 0.6  # a digit's width, in heights
GAP = 0.3  # between neighbours, in heights


def number_strokes(text: str, centre: tuple[float, float], height: float
                   ) -> list[list[tuple[float, float]]]:
    """The strokes of ``text`` written on one line, centred on ``centre``, ``height`` tall."""
    total = (len(text) * WIDTH + (len(text) - 1) * GAP) * height
    left, top = centre[0] - total / 2, centre[1] - height / 2
    strokes = []
    for i, digit in enumerate(text):
        x0 = left + i * (WIDTH + GAP) * height
        strokes += [[(x0 + x * height, top + y * height) for x, y in stroke]
                    for stroke in DIGIT_STROKES[digit]]
    return strokes

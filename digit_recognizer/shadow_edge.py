"""A hard shadow's straight edge across a photo (a phone's, a hand's), found and lit away.

A note on a desk with a hard shadow across it has four levels of light: the sheet and the
desk, each lit and shaded. ``preprocess._sheet_only`` tells one sheet from one desk, so it
asks of the photo as it would look without the shadow: ``shadow_edges`` finds the likeliest
straight edges, ``relit`` lights the photo evenly across one. A shadow dims sheet and desk
alike, so its edge is a step in the log of the paper's level (the strokes closed over) that
holds along the whole line, the same on either surface; the sheet's own edges end at its
corners. Where the edge crosses desk and sheet, the level on its lit side changes along it
as from one to the other (``ShadowEdge.spans_surfaces``): the photo as it is would pass the
sheet's lit part, with the lit desk beside it, for the sheet, so it is lit evenly first."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
from PIL import Image
from scipy import ndimage

SEARCH_SIDE = 64  # the edge is searched for on the paper's level reduced so that the
# geometric mean of its sides is this (px: a wide photo of a number is searched as finely
# across as a square one of its area) ...
PAPER_WINDOW = 1 / 16  # ... the strokes closed over in a window this share of that size
ANGLES = 60  # ... in this many directions (3 degrees apart), then refined (REFINE_*)
REACH = 3  # px at SEARCH_SIDE: the step is taken between the levels this far either side
HELD = 0.95  # the step holds (half the line's median or more, same sign) along this share of
CROSSED = 0.1  # it, leaving out where another edge crosses it (log level changing this much
# per px along it: the sheet's edge, under a shadow's) ...
SHORTEST = 0.25  # ... of a line at least this share of SEARCH_SIDE long
TRIES = 8  # edges returned at most, best first (a sheet's edges, each a step across the photo
# too, and near copies of the shadow's own edge can come first)
SAME_EDGE = 10.0  # degrees: edges nearer in direction (and within 2 * REACH) are one
REFINE_ANGLES = np.arange(-2.0, 2.01, 0.25)  # degrees around the edge found, then the sharpest
REFINE_OFFSETS = np.arange(-1.5, 1.51, 0.25)  # px at SEARCH_SIDE across it (the middle of
PLATEAU = 0.98  # those with a step this share of the sharpest or more)
PROFILE = 2  # the shadow's blur is taken within this many REACHes either side of its edge ...
CLEAN = 0.3  # ... followed where it bends or the line was a little off: at each position
# along it whose step is within this share of the line's (no other edge crossing), and at
CLEAN_SHARE = 0.3  # least this share of them, or the line is taken as it is
FOLLOW = 9  # positions: the edge's course is smoothed over this many (a stroke across it),
# and followed only where at least this many are clean
LOG_FLOOR = 0.05  # grey below this is taken as this in logs (noise in the black)
SURFACES = 0.4  # log level: the lit side's along an edge, its 10th to 90th percentile where
# the step holds, spans this much where the edge crosses desk and sheet


class ShadowEdge(NamedTuple):
    """A hard shadow's straight edge across a photo (``shadow_edges``)."""
    normal: np.ndarray  # (row, col), a unit vector
    offset: float  # px from the photo's centre along ``normal``
    step: float  # in log level across it, along ``normal``
    spans_surfaces: bool  # the lit side's level along it changes as from desk to sheet (by
    # SURFACES or more): a shadow across both, not a sheet's edge (on the same surface along it)


def shadow_edges(grey: np.ndarray, dim: tuple[float, float]) -> list[ShadowEdge]:
    """The likeliest straight edges of a hard shadow across ``grey`` (float, [0, 1]), best
    first (at most TRIES), the shadow dimming the light to a share within ``dim``; none in a
    strip too narrow across for the shadow's profile (``relit``)."""
    h, w = grey.shape
    scale = _search_scale(grey.shape)
    reach = _reach(grey)
    if reach < 1 or 2 * reach >= min(h, w):  # a strip: no room across it for the profile
        return []
    window = max(3, round(PAPER_WINDOW * SEARCH_SIDE / scale))
    level = np.log(np.maximum(ndimage.grey_closing(grey, size=window), LOG_FLOOR))
    small = np.asarray(Image.fromarray(level.astype(np.float32)).resize(
        (max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BOX))
    if not _could_step(small, -np.log(dim[1])):
        return []
    return [ShadowEdge(normal, offset / scale, step, spread >= SURFACES)
            for normal, offset, step, spread in _edges(small, dim)]


def _reach(grey: np.ndarray) -> float:
    """How far either side of the edge (px of ``grey``) the shadow's profile is taken."""
    return PROFILE * REACH / _search_scale(grey.shape)


def _search_scale(shape: tuple[int, ...]) -> float:
    """Px of the search's picture per px of a photo of this ``shape``: SEARCH_SIDE over the
    geometric mean of its sides."""
    return SEARCH_SIDE / np.sqrt(shape[0] * shape[1])


def _could_step(small: np.ndarray, least: float) -> bool:
    """Could a line across ``small`` (a log level) hold a median step of ``least`` or more: a
    step that large across 2 * REACH px, across or along or diagonally, on half as many pixels
    as the shortest line counts (SHORTEST)? (Most photos have none: a quick way out.)"""
    r = REACH
    steps = [np.abs(small[:, 2 * r:] - small[:, :-2 * r]), np.abs(small[2 * r:] - small[:-2 * r]),
             np.abs(small[2 * r:, 2 * r:] - small[:-2 * r, :-2 * r]),
             np.abs(small[2 * r:, :-2 * r] - small[:-2 * r, 2 * r:])]
    return max(int((step >= least).sum()) for step in steps) >= SHORTEST * SEARCH_SIDE / 2


def _edges(small: np.ndarray, dim: tuple[float, float]
           ) -> Iterator[tuple[np.ndarray, float, float, float]]:
    """(normal (row, col), offset from the centre in ``small``'s px, step in log level, the
    spread of the lit side's level along it where the step holds: ``_lit_spread``) of
    the straight edges across ``small`` (a log level) with a step that holds along them
    (HELD) and dims the light to a share within ``dim``, best first: the likeliest by how far
    it holds, each refined to the middle of the lines where its step is sharpest."""
    half = np.hypot(*small.shape) / 2
    offsets = np.arange(-half, half + 1)
    found: list[tuple[float, float, float]] = []  # (rank, angle, offset)
    for angle in np.arange(ANGLES) * np.pi / ANGLES:
        step, held = _steps(small, angle, offsets, dim)
        rank = held + 0.01 * np.abs(step)  # (ties, common at HELD 1: the sharper)
        found += [(rank[i], angle, offsets[i]) for i in np.flatnonzero(held > 0)]
    chosen: list[tuple[float, float]] = []
    for _, angle, offset in sorted(found, key=lambda f: -f[0]):
        if len(chosen) == TRIES:
            break
        if not any(_same_edge(angle, offset, *other) for other in chosen):
            chosen.append((angle, offset))
    for angle, offset in chosen:
        # the sharpest step, whatever its dimming (a line off a darker step, through its blur,
        # may seem one); a sharp edge's is as sharp for a range of lines: their middle
        turns = angle + np.deg2rad(REFINE_ANGLES)
        steps = np.array([_steps(small, turned, offset + REFINE_OFFSETS, None)[0]
                          for turned in turns])
        if not steps.any():
            continue
        sharpest = np.abs(steps) >= PLATEAU * np.abs(steps).max()
        rows, cols = np.nonzero(sharpest)
        step = float(np.median(steps[sharpest]))
        if dim[0] <= np.exp(-abs(step)) <= dim[1]:
            angle = float(turns[rows].mean())
            normal = np.array([np.cos(angle), np.sin(angle)])
            offset = offset + REFINE_OFFSETS[cols].mean()
            yield normal, offset, step, _lit_spread(small, normal, offset, step)


def _lit_spread(small: np.ndarray, normal: np.ndarray, offset: float, step: float) -> float:
    """The 10th to 90th percentile of the lit side's log level (``small``) along a line,
    where its step holds (half of ``step`` or more, the same way)."""
    beyond, before = _sides(small, normal, np.array([offset + REACH, offset - REACH]))
    with np.errstate(invalid="ignore"):
        holds = (beyond - before) * np.sign(step) >= abs(step) / 2
    lit = (beyond if step > 0 else before)[holds]
    return float(np.ptp(np.percentile(lit, [10, 90]))) if lit.size else 0.0


def _same_edge(angle: float, offset: float, other_angle: float, other_offset: float) -> bool:
    """Are two lines (normal's angle in [0, pi), offset from the centre) nearly the same?"""
    apart = abs(angle - other_angle)
    return min(apart, np.pi - apart) < np.deg2rad(SAME_EDGE) and abs(
        offset - (other_offset if apart < np.pi / 2 else -other_offset)) < 2 * REACH


def _steps(small: np.ndarray, angle: float, offsets: np.ndarray,
           dim: tuple[float, float] | None) -> tuple[np.ndarray, np.ndarray]:
    """For the lines across ``small`` with the normal at ``angle`` and these ``offsets`` from
    the centre: the median step in log level across each (REACH either side) and the share of
    it along which the step holds (HELD, CROSSED, SHORTEST), 0 where under HELD or its dimming
    outside ``dim`` (if given)."""
    # each line is sampled once, though it is REACH beyond one offset and before another
    lines, which = np.unique(np.round(np.concatenate([offsets + REACH, offsets - REACH]), 9),
                             return_inverse=True)
    sides = _sides(small, np.array([np.cos(angle), np.sin(angle)]), lines)
    changing = ndimage.maximum_filter1d(np.nan_to_num(np.abs(np.gradient(sides, axis=1))),
                                        2 * REACH + 1, axis=1)
    beyond, before = sides[which[:len(offsets)]], sides[which[len(offsets):]]
    crossed = np.maximum(changing[which[:len(offsets)]], changing[which[len(offsets):]])
    step = np.where(crossed > CROSSED, np.nan, beyond - before)
    counted = (~np.isnan(step)).sum(axis=1)
    median = _row_median(step)
    with np.errstate(invalid="ignore"):
        holds = ((np.sign(step) == np.sign(median)[:, None])
                 & (np.abs(step) >= np.abs(median)[:, None] / 2))
    held = holds.sum(axis=1) / np.maximum(counted, 1)
    fits = (counted >= SHORTEST * SEARCH_SIDE) & (held >= HELD)
    if dim is not None:
        dimmed = np.exp(-np.abs(np.nan_to_num(median)))
        fits &= (dimmed >= dim[0]) & (dimmed <= dim[1])
    return np.where(fits, median, 0.0), np.where(fits, held, 0.0)


def _sides(small: np.ndarray, normal: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``small`` sampled along the lines across it with this ``normal`` and these ``offsets``
    from its centre, 1 px apart along each (NaN off the picture): (len(offsets), positions)."""
    h, w = small.shape
    half = np.hypot(h, w) / 2
    points = _line_points(np.array([(h - 1) / 2, (w - 1) / 2]), normal, offsets,
                          np.arange(-half, half + 1))
    return ndimage.map_coordinates(small, points, order=1, mode="constant", cval=np.nan)


def _line_points(origin: np.ndarray, normal: np.ndarray, across: np.ndarray,
                 positions: np.ndarray) -> np.ndarray:
    """The (row, col) points of lines ``across`` px from ``origin`` along ``normal``, each at
    ``positions`` px along it: shape (2, len(across), len(positions))."""
    along = np.array([-normal[1], normal[0]])
    return (origin[:, None, None] + normal[:, None, None] * across[None, :, None]
            + along[:, None, None] * positions[None, None, :])


def _row_median(values: np.ndarray) -> np.ndarray:
    """The median of each row with its NaNs left out (NaN for a row of NaNs): np.nanmedian's
    answer, sorting once instead of masking each row."""
    ordered = np.sort(values, axis=1)  # NaNs last
    counted = (~np.isnan(values)).sum(axis=1)
    low = np.take_along_axis(ordered, np.maximum((counted - 1) // 2, 0)[:, None], axis=1)[:, 0]
    high = np.take_along_axis(ordered, (counted // 2)[:, None].clip(max=values.shape[1] - 1),
                              axis=1)[:, 0]
    return np.where(counted > 0, (low + high) / 2, np.nan)


def relit(grey: np.ndarray, edge: ShadowEdge) -> np.ndarray:
    """``grey`` (float, [0, 1]) lit evenly across a shadow's ``edge``: each pixel within
    ``_reach`` of the edge's course (followed where it bends: CLEAN, CLEAN_SHARE, FOLLOW;
    beyond the positions followed, straight on) against the level that far before the edge
    on the lit side, straight back across it, in logs (floored at LOG_FLOOR); the median of
    that by distance from the edge is the shadow's profile (it darkens monotonically into
    its full dimming, and no further), divided out."""
    log = np.log(np.maximum(grey, LOG_FLOOR))
    normal, offset, step, reach = edge.normal, edge.offset, edge.step, _reach(grey)
    h, w = grey.shape
    if step > 0:  # the normal into the shadow
        normal, offset = -normal, -offset
    along = np.array([-normal[1], normal[0]])
    origin = np.array([(h - 1) / 2, (w - 1) / 2]) + normal * offset
    half = np.hypot(h, w) / 2
    positions = np.arange(-half, half + 1)
    across = np.arange(-reach, reach + 0.01, 0.5)
    points = _line_points(origin, normal, across, positions).transpose(0, 2, 1)  # by position
    within = (points[0] >= 0) & (points[0] <= h - 1) & (points[1] >= 0) & (points[1] <= w - 1)
    inside = within.all(axis=1)
    cut = ndimage.map_coordinates(log, points, order=1, mode="nearest")
    lit = np.median(cut[:, across <= -reach / 2], axis=1)
    shaded = np.median(cut[:, across >= reach / 2], axis=1)
    down = shaded - lit
    tolerance = CLEAN * abs(step)
    # clean: the cut crosses the shadow's step and no other edge
    clean = (inside & (np.abs(down + abs(step)) <= tolerance)  # (and no stroke across the cut)
             & (cut.min(axis=1) >= shaded - tolerance) & (cut.max(axis=1) <= lit + tolerance))
    course = np.zeros_like(positions)
    if clean.sum() >= max(FOLLOW, CLEAN_SHARE * within.any(axis=1).sum()):
        # where the light has stepped down at each position: the share of the step not yet
        # taken, summed across (the middle of a blur of any shape)
        share = np.clip((cut[clean] - lit[clean, None]) / down[clean, None], 0.0, 1.0)
        middle = ndimage.median_filter((1.0 - share).sum(axis=1) * (across[1] - across[0])
                                       - reach, size=FOLLOW, mode="mirror")
        # a shadow's edge is straight: beyond the clean positions (the sheet's edge in the
        # cut) it goes on parallel to the line fitted through their middles, not to the line
        # searched, though never further from that than the cut reaches (nor seen beyond)
        slope, at = np.polyfit(positions[clean], middle, 1)
        course = slope * positions + at + np.interp(
            positions, positions[clean], middle - (slope * positions[clean] + at))
        course = np.clip(course, -reach, reach)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rows, cols = yy - origin[0], xx - origin[1]
    beyond = (rows * normal[0] + cols * normal[1]
              - np.interp(rows * along[0] + cols * along[1], positions, course))
    near = np.abs(beyond) <= reach
    back = beyond[near] + reach  # to the lit side, as far as ``reach`` before the edge
    facing = ndimage.map_coordinates(
        log, [yy[near] - back * normal[0], xx[near] - back * normal[1]], order=1, mode="nearest")
    bins = np.round(beyond[near]).astype(int)
    distances = np.arange(-int(reach), int(reach) + 1)
    darker = log[near] - facing
    profile = np.array([np.median(darker[bins == d]) if np.any(bins == d) else 0.0
                        for d in distances])
    full = float(np.median(profile[distances >= reach / 2]))  # beyond its blur
    profile = np.minimum.accumulate(np.clip(profile, full, 0.0))
    dimming = np.interp(beyond, distances, profile, left=0.0, right=full)
    return np.clip(grey * np.exp(-dimming), 0.0, 1.0).astype(np.float32)

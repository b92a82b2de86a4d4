"""The hard shadow's edge across a photo, found and lit away (digit_recognizer.shadow_edge)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter
from scipy import ndimage

from digit_recognizer import shadow_edge
from digit_recognizer.preprocess import SHADOW_DIM
from digit_recognizer.shadow_edge import SEARCH_SIDE, _row_median, relit, shadow_edges

H, W = 200, 240


def note_on_desk(shadow: float | None, sheet_rows=slice(30, 170), sheet_cols=slice(40, 200)
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A sheet (0.85) on a desk (0.3) with a stroke on it, and where not None a hard shadow
    leaving ``shadow`` of the light beyond a slanted straight edge, blurred over a few px:
    (grey, the sheet's mask, the shadow's mask)."""
    grey = np.full((H, W), 0.3, np.float32)
    sheet = np.zeros((H, W), bool)
    sheet[sheet_rows, sheet_cols] = True
    grey[sheet] = 0.85
    grey[60:140, 118:124] = 0.15  # a stroke down the sheet, across the shadow's edge
    yy, xx = np.mgrid[0:H, 0:W]
    beyond = 0.6 * (xx - W / 2) + (yy - H / 2) > 0
    if shadow is not None:
        edge = Image.fromarray(beyond.astype(np.uint8) * 255).filter(ImageFilter.GaussianBlur(2))
        grey = grey * (1 - (1 - shadow) * np.asarray(edge, np.float32) / 255)
    return grey, sheet, beyond


def away_from(mask: np.ndarray, px: int = 8) -> np.ndarray:
    """``mask`` without the pixels within ``px`` of where it ends."""
    return ndimage.binary_erosion(mask, iterations=px)


@pytest.mark.parametrize("shadow", [0.5, 0.7])
def test_a_hard_shadows_edge_is_lit_away_on_sheet_and_desk_alike(shadow):
    grey, sheet, beyond = note_on_desk(shadow)
    edges = shadow_edges(grey, SHADOW_DIM)
    assert edges[0].spans_surfaces  # (its lit side crosses from desk to sheet and back)
    even = relit(grey, edges[0])
    plain, _, _ = note_on_desk(None)
    for surface in (sheet, ~sheet):  # each as bright in the shadow as beside it
        lit = np.median(even[away_from(surface & ~beyond)])
        shaded = np.median(even[away_from(surface & beyond)])
        assert shaded == pytest.approx(lit, rel=0.03)
        assert lit == pytest.approx(np.median(plain[away_from(surface & ~beyond)]), rel=0.03)
    # the shadow's soft edge is gone too: nothing along it as dark as a stroke's share
    along = (beyond & ~away_from(beyond, 3)) | (~beyond & ~away_from(~beyond, 3))
    assert np.abs(even - plain)[along & away_from(sheet) & (plain > 0.5)].max() < 0.1


def test_where_the_sheets_edge_runs_beside_the_shadows_the_edge_goes_on_straight():
    """The shadow's edge meets the sheet's bottom edge at 15 degrees: near it the profile's
    cut holds both surfaces and is not followed. Beyond the positions followed the edge goes
    on along the line through them, not parallel to the line searched (3 degrees off here),
    which left a band along it, past the positions followed, still shaded on the desk and
    brightened too much on the sheet by as much as a stroke's contrast."""
    side = 220
    sheet = np.zeros((side, side), bool)
    sheet[30:175, 5:180] = True
    yy, xx = np.mgrid[0:side, 0:side]
    beyond = (yy - 150) + 0.27 * (xx - side / 2) > 0
    plain = np.where(sheet, 0.85, 0.3).astype(np.float32)
    edge = Image.fromarray(beyond.astype(np.uint8) * 255).filter(ImageFilter.GaussianBlur(1.5))
    grey = plain * (1 - 0.4 * np.asarray(edge, np.float32) / 255)
    even = relit(grey, next(e for e in shadow_edges(grey, SHADOW_DIM) if e.spans_surfaces))
    along = ndimage.binary_dilation(beyond, iterations=4) & ~away_from(beyond, 4)
    for surface in (away_from(sheet, 3), ~ndimage.binary_dilation(sheet, iterations=3)):
        assert np.abs(even - plain)[along & surface].max() < 0.05


def test_an_evenly_lit_sheet_on_a_desk_has_no_shadows_edge():
    grey, _, _ = note_on_desk(None)  # (the sheet's own edges end at its corners)
    sloped = grey * (1 - 0.2 * np.arange(W) / W)  # light falling from one side
    assert shadow_edges(grey, SHADOW_DIM) == []
    assert shadow_edges(sloped, SHADOW_DIM) == []


def test_a_sheets_edge_across_the_photo_spans_no_surfaces():
    """A sheet filling the photo's left side, its edge straight down it, the desk beside it
    0.59 as bright (a step like a shadow's), light falling off 20% down the photo: its lit
    side is the sheet all along."""
    grey = np.full((H, W), 0.5, np.float32)
    grey[:, :140] = 0.85
    grey *= np.linspace(1.0, 0.8, H)[:, None]
    edges = shadow_edges(grey, SHADOW_DIM)
    assert edges and not any(edge.spans_surfaces for edge in edges)


def test_a_steep_shadows_edge_across_a_wide_note_is_found(monkeypatch):
    """A wide photo of a number (170 x 430): the shadow's edge, nearly straight down it, is
    crossed by the sheet's top and bottom edges, where its step does not hold. Searched at
    64 px along the photo's longer side (the small picture 25 px high), too little of it was
    left to count; at the geometric mean of its sides it is found (its angle some degrees
    off, which the course followed puts right), and lit away, along its edge too."""
    h, w = 170, 430
    sheet = np.zeros((h, w), bool)
    sheet[25:145, 40:390] = True
    plain = np.where(sheet, 0.85, 0.3).astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    beyond = (xx - w / 2) - 0.3 * (yy - h / 2) > 0
    edge = Image.fromarray(beyond.astype(np.uint8) * 255).filter(ImageFilter.GaussianBlur(2))
    grey = plain * (1 - 0.4 * np.asarray(edge, np.float32) / 255)
    normal = np.array([-0.3, 1.0]) / np.hypot(0.3, 1.0)  # (row, col), into the shadow
    found = [e for e in shadow_edges(grey, SHADOW_DIM)
             if e.spans_surfaces and abs(e.normal @ normal) > np.cos(np.deg2rad(10))]
    assert found
    even = relit(grey, found[0])
    assert np.median(even[away_from(sheet & beyond)]) == pytest.approx(
        np.median(even[away_from(sheet & ~beyond)]), rel=0.03)
    along = ndimage.binary_dilation(beyond, iterations=4) & ~away_from(beyond, 4)
    assert np.abs(even - plain)[along & away_from(sheet, 3)].max() < 0.05
    monkeypatch.setattr(shadow_edge, "_search_scale", lambda shape: SEARCH_SIDE / max(shape))
    assert shadow_edges(grey, SHADOW_DIM) == []


def test_a_shadow_too_faint_or_too_dark_for_one_is_left():
    for shadow in (0.95, 0.3):  # outside SHADOW_DIM: uneven paper, or a desk beside a sheet
        grey, _, _ = note_on_desk(shadow, sheet_rows=slice(0, H), sheet_cols=slice(0, W))
        assert shadow_edges(grey, SHADOW_DIM) == []


def test_row_median_is_numpys_median_without_nans():
    values = np.random.default_rng(0).normal(size=(50, 31))
    values[values > 1.0] = np.nan
    values[7] = np.nan
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = np.nanmedian(values, axis=1)
    np.testing.assert_allclose(_row_median(values), expected, equal_nan=True)


def test_a_strip_too_narrow_for_a_shadows_profile_is_left():
    """Across the strip there is no room for the shadow's profile, REACH either side of its
    edge (scaled to the geometric mean of the picture's sides): its course could never be
    followed."""
    for height, found in ((16, False), (240, True)):
        paper = np.full((height, 600), 0.85, np.float32)
        paper[height // 2:] *= 0.5  # a shadow along it, its edge straight along the middle
        assert bool(shadow_edges(paper, SHADOW_DIM)) == found

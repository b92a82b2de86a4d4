"""One preprocessing path from any picture of a digit to the model's input, MNIST's form.

    from digit_recognizer.preprocess import image_to_input
    x = image_to_input("photo.jpg")      # or encoded bytes / a numpy array / a PIL image
    probabilities = model(x)            # x: float32 (1, 28, 28, 1), white ink on black, [0, 1]

MNIST digits were size-normalised to fit a 20x20 box (aspect kept, anti-aliased) and centred
by centre of mass in 28x28, bright ink on a dark ground. A drawing is brought to that form:
  1. ``load_image``   decode safely (size limits, EXIF rotation, first frame, any bit depth);
  2. ``ink_map``      ink as brightness in [0, 1]: alpha for drawings on a transparent
                      canvas, otherwise the difference from a locally estimated background,
                      whichever its polarity (dark on light paper, light on dark), without
                      printed lines or a printed box round the writing; writing small in a
                      large picture is seen again in its own pixels, cropped round it;
  3. ``find_digit``   drop specks and noise, crop to the ink; say so if there is none;
  4. ``normalize_digit``  redraw strokes thinner or fatter than MNIST's usual (relative to
                      the digit's size) at the nearest usual width, scale the longer side to
                      20 px, centre by mass in 28x28 where MNIST's centre of mass sits.
MNIST arrays themselves only need ``mnist_to_input`` (scale to [0, 1], add the channel axis);
training, evaluation and the app all end in that same function.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from itertools import chain
from typing import Union

import numpy as np
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

from digit_recognizer.shadow_edge import relit, shadow_edges

MNIST_SIZE = 28  # side of an MNIST image
MNIST_BOX = 20  # the digit's longer side in MNIST
MNIST_CENTER = 14.0  # row and column index of MNIST digits' centre of mass
WORK_SIDE = 4 * MNIST_BOX  # stroke surgery happens at >= 4x, then area-averaging anti-aliases
ANALYSIS_SIDE = 256  # inputs are reduced to at most this before finding ink (speed, noise)
NUMBER_ANALYSIS_SIDE = 512  # ... wide pictures (numbers) to at most this (see analysis_side)
ZOOM_BELOW = 32  # writing under this many rows tall in the ink map (a number written small on a
# page photographed whole) is seen again in the picture's own pixels, cropped round it, ...
ZOOM_GAIN = 2.0  # ... where that gives it at least this many times the rows; ...
ZOOM_MARGIN = 0.5  # ... the crop: the writing's box grown by this share of its height all round
MIN_STROKE_INK = 0.2  # fainter ink (of the digit's peak) is never stroke, however dark around
# Stroke width relative to the digit's longer side, stroke_ratio(stroke_mask(find_digit(...)))
# of MNIST's training digits: the median, and the middle half, the range drawings are brought
# into (tests/test_preprocess.py re-measures both on the test set).
MNIST_STROKE_RATIO = 0.124
MNIST_STROKE_RANGE = (0.105, 0.146)
MAX_ASPECT = 30  # pictures longer than this many times their width hold no readable number
# (12 digits with their gaps and margins: about 15:1); reduced, their digits would be dust
PHOTO_MIN_SIDE = 64  # pictures smaller than this on their shorter side are digits, not photos
# (no desk around a sheet, no shadow across a page is looked for in them)
SHEET_NOTCH = 0.02  # a photo of a sheet of paper on a darker surface (_sheet_only): writing
# that runs to the sheet's edge is bridged there (a closing that reaches this share of the
# picture's longer side), and some of it lies more than twice that reach inside; ...
SHEET_NOTCH_INK = 0.05  # ... (strokes too fat for that, notches in its outline, are writing
# on it where they are this much darker than the surface around its hull, medians: a light
# digit's outline bends round the ground itself, -0.02 or less on 3,000 validation digits x4;
# three notes of validation digits in marker, refused as the desk taken for ink: 0.07-0.17), ...
SHEET_SHARE = 0.1  # ... the sheet covers at least this share of the picture, ...
SHEET_THICK = 0.1  # ... is this thick somewhere (a circle this share of the picture's shorter
# side fits in it), ...
SHEET_SOLID = 0.85  # ... nearly convex (this share of its convex hull), ...
SHEET_WRITING = 0.3  # ... its writing (what is dark inside it) at most this share of it ...
SHEET_PEN = 0.2  # ... in strokes no wider than this share of that circle's radius (the loops
# of a light digit on a dark ground, taken for a sheet's writing, are blobs, not strokes), ...
SHEET_DIGITS = 0.25  # ... or in two or more pieces (the digits of a number), each in strokes no
# wider than this share of its own longer side, and not all nearly convex (SHEET_SOLID): a
# marker on a narrow note writes strokes wide against the note, not against its digits; a
# light 8's loops are holes, convex (a round hole's stroke width is about 0.5 of its longer
# side, a narrow one's less). 100 validation numbers on a desk: 82% read, 90% with this (and
# with the convexity condition, added after); 0.2: 87%; 0.4 took twice as many of 3,000 MNIST
# digits, light on dark, for sheets
SHEET_PIECE = 0.1  # ... counting pieces of at least this share of the largest one's area;
SHEET_ONE_PIECE = 0.7  # or in one such piece, under this share of its convex hull: digits that
# touch (100 validation numbers on a desk: 4 of its 12 misses, in marker, refused as the
# desk taken for ink). A light digit's one loop, a hole, can be dented too: of 3,000
# validation digits, light on dark x4, one 6 whose loop curls in (0.52) is taken, one more
# than with two pieces needed; the next most dented, 0.72 (and on test digits 0.78-0.81,
# looked at when choosing: SHEET_SOLID would take those)
SURFACE_EDGE = 0.3  # ... the surface at least this share of the picture's edge, or in
SURFACE_WEDGE = 0.6  # wedges along it: each piece of it from a corner of the picture (a
# stroke that runs off the picture's edge seldom runs into a corner), nearly convex
# (SHEET_SOLID; two bold strokes in a corner are not), running along the side of the picture
# it touches most for longer than it reaches in from there, and covering at most this share
# of the box so spanned (a triangle, half: the desk beside the far edge of a sheet
# photographed at a slant, tapering down a side; a bold stroke along the edge fills it), or
# such wedges at the ends of a band along a whole side (the desk beyond the far edge too)...
SURFACE_CONTRAST = 0.15  # ... this much darker than the sheet (medians, grey in [0, 1]; in
# _sheet_only's second look, than the sheet's light carried on over it); ...
SURFACE_INK = 0.4  # ... and it holds no strokes of this share of the writing's contrast ...
SURFACE_WRITTEN = 0.001  # ... on this share of the picture (writing that goes on from the
# sheet into a darker region: a shadow across the page, not a desk; at 0.002, a thin stroke's
# part in a hard shadow was too little, and the shadow, strokes and all, was painted over), ...
SURFACE_WINDOW = 1 / 16  # ... as seen in a window of this share of the picture's longer side
# (wider than a stroke, narrower than a desk); ...
SHEET_MARGIN = 0.02  # ... beyond this share of the picture's longer side from the sheet; and
# the sheet's edge (a shadow, a curl) this share of the geometric mean of the picture's sides
# is painted over with the surface (and within that of the picture's edge, the sheet's edge
# as far as it fades out there: half SURFACE_CONTRAST darker than its light)
BLANK_SHEET_ASPECT = 1.7  # a sheet with nothing written on it is taken as one (and painted
# over: nothing to read) only if shaped like a page, at most this much longer than wide (as a
# rectangle with its second moments: a fat light 1 is ~3), ...
BLANK_SHEET_SIDES = 3  # ... with the surface along at least this many sides of the picture,
BLANK_SHEET_SIDE = 0.2  # ... over this share of each (a bold stroke cropped tightly along one
# side, or two in a corner, is no desk around a page), ...
BLANK_SHEET_AROUND = 0.03  # ... and bright pixels beyond it at most this share of its own (the
# paper beside a bold stroke cropped tightly is not dark like a desk)
INK_WINDOWS = (1 / 16, 1 / 8, 1 / 4)  # the ground's level is taken half the picture around,
# or, where that sees a hard shadow (a quarter of its ink's peak or more on INK_SHADOW of the
# picture, which a window of one of these shares of its longer side clears), the narrowest
# such window that keeps INK_KEPT of the strongest ink (INK_CORE of the peak) at half its
# strength or more: a fat marker's stroke, or where an 8's strokes cross, stays ink
INK_SHADOW = 0.01
INK_CORE = 0.75
INK_KEPT = 0.97
CHALK_WINDOW = 4.0  # in a photo of a dark ground (a board), the ground's level is then taken
# within this many times the stroke width of the strongest ink (INK_CORE of the peak, as the
# window above saw it), if that keeps INK_KEPT of it: wiped chalk, in clouds and streaks as
# broad as the strokes or broader and up to half as bright, is ground, not ink. (Two sets of
# 300 validation digits photographed on a board, with SHADOW_OUTLINE as it is: 95.0 / 92.0%
# read at 3, 95.3 / 93.0% at 4, 94.0 / 89.3% at 6; without either rule 90.3 / 86.0%.) ...
CHALK_INK = 0.5  # ... where ink (a quarter of its peak or more) covers under this share of
# the picture (the ground at the median): more is noise, and keeps its message
CHALK_SOFT = 1 / 64  # On such a board, wiped chalk in soft clouds, faint or bright, is told
# from the strokes by its edges: ink stands out from itself blurred (a Gaussian, sigma this
# share of the picture's longer side: 4 px at ANALYSIS_SIDE, 8 px in a wide picture of a
# number analysed at 512, which so gets twice the reach below for its digits' size) ...
CHALK_SHARP = 0.25  # ... by this share of the ink's peak where it is sharp (a stroke; also a
# crisp fleck in a cloud, which keeps the cloud's ink within reach of it) ...
CHALK_REACH = 1 / 32  # ... and ink further than this share of the longer side from anything
# sharp is a cloud, not writing (8 px at 256: the middle of the benchmark's fattest stroke,
# 44 px of 800, lies within it) ...
CHALK_SHARP_KEPT = 0.9  # ... where at least this share of the strongest ink (INK_CORE) lies
# within that reach: a photo out of focus has soft strokes too, and mostly stays as it is.
# Clouds in the strongest ink (as bright as the strokes, and broad) also fail this, and stay.
# (With the model trained holding the validation digits out, two scratch sets of 600
# validation digits photographed on a board, seeds 7 and 11: 96.2 -> 97.2% and 95.8 -> 97.5%
# read; the first set's first 300 blurred by 1.5 px of 256, 91.3 -> 94.0%, by 3 px 84.0 ->
# 82.0%, and without CHALK_SHARP_KEPT 66.0% and 36.7% there. Without CHALK_SHARP_KEPT, on the
# first set: CHALK_SHARP 0.15 96.2%, 0.25 97.3%, 0.35 89.3% (fat and faint strokes lose their
# middles); sigma 3 / 6 px 97.5 / 96.5%; reach 5 / 12 px 97.5 / 97.0%, and on the second set
# 97.5% at 4 px and 8 px, 97.2% at reach 5: 4 and 8 px as good on both.)
CHALK_HAZE = 0.6  # On such a board, pieces of ink (a quarter of its peak or more) that nowhere
CHALK_HAZE_PIECES = 4  # reach CHALK_HAZE of the peak are wiped chalk where there are at
CHALK_HAZE_HEIGHT = 0.5  # least CHALK_HAZE_PIECES of them (specks aside, SPECK_FRACTION: a
# board clouded all over), and writing where there are fewer (on a clean board, a digit or a
# decimal point written with a lighter hand stays ink) or where they are at least
# CHALK_HAZE_HEIGHT as tall as the tallest piece that reaches it (a digit written with a
# lighter hand on a wiped board). (Two sets of 600 validation digits photographed on a
# board: 94.8 / 93.8% read without this rule, 97.3 / 96.7% with it; at 10 pieces, specks
# aside, 96.5 / 95.2%; specks counted, alike from 2 to 20 pieces, but dust on a clean board
# then passes for clouds. Before the pieces' count and height: CHALK_HAZE 0.5 96.5 / 96.7%,
# 0.6 97.7 / 96.8%, 0.7 97.8% on the first.) No printed lines are looked for on a board: its
# haze, in rows and columns all over it, passed for a grid's faint lines, and taking those
# out cut strokes across (numbers in chalk, validation: 89 -> 93 of the benchmark's 100, 127
# -> 134 of another 150; digits 97.7 -> 97.3% and 96.8 -> 96.8% on the two sets above,
# before the pieces' count and height).
SHADOW_STEP = 0.1  # a hard shadow across the paper: the paper's level (the strokes closed over
# in a window of SHADOW_WINDOW of the picture's longer side), spanning this much or more
# without the slope of the light, falls in two planes of light (each pixel to the nearer one,
# SHADOW_REFITS times, from a split by Otsu) at least this far apart, ...
SHADOW_WINDOW = 1 / 8
SHADOW_REFITS = 3
SHADOW_SHARE = 0.1  # ... each on at least this share of the picture, or one of them a corner
SHADOW_CORNER = 0.005  # (less than that, but at least this share: one piece, from the
# picture's edge, nearly convex, SHEET_SOLID, and SHADOW_CORNER_LEVEL of it nearer its own
# plane than the other's: the light cut off but for a corner, or the shadow but a corner; a
# lit corner otherwise passes for chalk on a board, and the closing makes a chalk digit at
# the edge a bright blob whose pixels are mostly the board's), ...
SHADOW_CORNER_LEVEL = 0.7
SHADOW_DIM = (0.45, 0.9)  # ... the darker this share of the lighter as photographed (a shadow
# dims the light; a marker's ink is darker still), ...
SHADOW_OUTLINE = 4.75  # ... a broad patch: its outline within the picture at most this many
# times the root of its area, and of the lit side's if smaller (a bold digit in light ink,
# strokes wider than the window and as bright as a shadow, is long and narrow: 5.0-5.9; so
# is fat chalk on a board, closed over into the lit side), ...
SHADOW_SOFT = 0.23  # ... and its edge soft: of the pixels within SHADOW_SOFT_WITHIN px of it,
# at least this share lie SHADOW_PENUMBRA of the way from the shadow's plane to the light's
# (on the validation split, the benchmark's shadows: 0.28 and up; the cut edge of a blank
# sheet on a desk, which _sheet_only leaves as it is for want of writing: 0.08-0.18; a bold
# marker stroke as light as a shadow, drawn, and cropped into a broad patch: 0).
SHADOW_SOFT_WITHIN = 2
SHADOW_PENUMBRA = (0.2, 0.8)
SHADOW_TIP = 0.2  # Lit pixels within this share of the step from the shadow's plane, in solid
SHADOW_TIP_SOLID = 5  # patches (this many px square) near the picture's edge that touch the
SHADOW_TIP_CONTACT = 0.5  # shadow along this share of their longer side or more, are shadow
# (the paper's closing, reflected at the picture's edge, fills the tip of a shadow whose edge
# meets it at a slant: a solid patch of ink there). (Numbers of validation digits in ink
# photographed with a hard shadow, two sets of 200: 178 / 168 read without the corners and the
# tips, 185 / 175 with them; a closing of the picture carried on beyond its edge instead
# found the tips too, but made a fat stroke along the edge a block of shadow.) ...
SHADOW_EDGE = 0.012  # Each side's ink is then measured against its own ground, and on the lit
# side's rim (this share of the longer side on the lit side of the edge) against the
# shadow's, ...
SHADOW_BLUR = 0.03  # ... whose own ground is taken beyond its blur, this share of the longer
# side from the edge (the benchmark's are blurred over up to ~8 px at 256, and the shadow's
# closing takes the brightest it sees: blank pages with a hard shadow read as a number on the
# validation split, benchmark_drawings.py --blanks 100: 8% at 0.012, 3% at this)
SHADOW_CHALK = 1.3  # a picture with a hard shadow is light on dark only if, measured against
# each side's own light, its brightest reaches this many times further above the ground than
# its darkest falls below it (chalk: 1.5-5.2 on a shaded board; a blank page: at most 1.14)
MAX_IMAGE_PIXELS = 25_000_000  # refuse to decode larger images (decompression bombs)
MIN_CONTRAST = 0.05  # weaker ink than this (0..1) is an empty or uniform picture: a blank
# plain page photographed (benchmarks.drawings.photo) reaches 0.02-0.07 in its noise and JPEG
# blocks, mostly under it, and what is over it is refused as too small or too many marks; a
# pale pencil digit's strokes reach 0.06-0.12, which 0.12 refused as "empty"
MAX_INK_FRACTION = 0.35  # more ink than this share of the picture is noise if fine-grained:
NOISE_STROKE_FRACTION = 0.02  # "strokes" this thin (of the longer side): pixel noise ~0.006,
#                               a bold tightly cropped 8 ~0.085
MAX_SOLID_FRACTION = 0.85  # more ink than this share is no digit on any ground
MAX_MARKS = 40  # more separate marks than this (specks dropped) is no digit or number
MIN_DIGIT_FRACTION = 0.04  # a digit smaller than this share of the picture is a speck
HOT_PIXELS = 10  # this many stray pixels (dead sensor pixels, JPEG ringing) set no extremes
SPECK_FRACTION = 0.03  # components smaller than this share of the largest are dust
RULING_SPAN = 0.8  # the printed lines of ruled or squared paper: ink along this share of
RULING_TILT = 0.06  # the picture's width (or height), allowing this slope (~3.4 degrees) ...
RULING_COVER = 0.3  # ... in lines all over the page: their bands (a line and its tilt) at
# least this share of the rows (columns), where one stroke across a tight crop makes one band ...
RULING_FAINT = (0.12, 0.6)  # ... each between these shares of the ink's peak: a photo's
# paper grain and noise stay under the first (up to ~0.09 measured), a pen's stroke across a
# tight crop (a 1's stem, a 7's bar) is as dark as the rest of the writing (but see
# RULING_MANY).
# Chosen on the validation split's digits photographed on squared paper
# (benchmark_drawings' style, 1,000 digits): 97.1% read at a span of 0.8 (and 0.7), 95.9% at
# 0.9, 83.0% without; a cover of 0.5 93.2%; a faint bound of 0.8 as 0.6; plain photos and
# MNIST's own pictures read alike with and without
RULING_LEVEL = 1.25  # a printed line's ink varies along it with how it falls on the pixels:
# its median level times this is taken away (with RULING_JOINED at 0.25, 300 validation
# pencil photos on squared / ruled paper read 275 / 284, 290 / 288 and 286 / 280 at 1.0, 1.25
# and 1.5: more of the lines left (dashes that join a stroke), or more of a stroke cut where it
# runs along a line; 1,000 in ink 983 / 979 at 1.25 and 981 / 978 at 1.5)
RULING_BRIDGE = 5  # px: a stroke cut where it crosses a line is bridged over this
RULING_JOINED = 0.4  # ink left on a line that joins no ink of this share of the peak off the
# lines is the line's own residue, ...
RULING_BESIDE = 5  # px: ... cut down to the ink within this square around it, off the lines
# (300 validation pencil photos on squared paper read 258 without, 274 with this cut alone,
# 279 sparing what joins ink off the lines at 0.25; on ruled paper 264 and 278; a 7 px square
# read as 5 on 100 of each; with RULING_LEVEL 1.25, a share of 0.4 read 292 / 287 where 0.25
# read 290 / 288 and left dashes of the lines joined to the strokes that cross them)
RULING_ENDS = 0.25  # ... and in a line's outer parts, beyond this share of the picture's width
# (height, for lines down the page) from its middle, where a tilt fitted a fraction of a pixel
# off puts a thin line partly in the row beside its own, that row's ink too (its dashes at the
# photo's sides, stacked, were taken for a digit beside the real one: 2,000 validation pencil
# photos on ruled paper read 1,936, then 1,944, and 1,000 on squared paper 983, then 985; at
# 0.15 1,946 and 984, at 0.35 1,942 and 984; the rows beside all along the lines cut strokes
# that run along one)
RULING_ALIKE = 1.5  # printed lines are alike: a "line" darker than this many times the typical
# line's level (the median of the peaks that stand out, and are no grain: RULING_FAINT; where
# one line alone stands out, the grain's level: `_typical_line`), which
# does not run along RULING_EDGE of its length at RULING_WHOLE of its level, is a stroke
# along it (a fat digit's upright fills most of a short picture's column, 92% of it in a
# tight crop, which RULING_SPAN took for the whole length), and its level is capped at this
# (at its own, 100 validation numbers photographed on squared paper read 84%, then 95%; a
# printed line runs off the photo at both ends: a darker one, such as a notebook's header
# line, stays a line)
RULING_WHOLE = 0.5
RULING_SQUARED = 0.6  # a grid's lines are printed alike both ways: where both axes seem
# lined, one whose strongest level is under this share of the other's is no grid (five of
# the benchmark's squared photos: 0.87-1.0); a ruled page's short photo whose JPEG haze, darker
# down the page, reaches 0.13-0.18 of the ink's peak in most columns, under lines across
# at 0.33-0.42, had the columns of its fat digits cut out as lines down the page
RULING_LINES = 2.0  # printed lines stand out: their level at least this many times the median
# level over the rows (a faint photo's grain and noise is "ink" in every row alike)
RULING_EDGE = 0.97  # a notebook's margin line runs off the photo at both ends: ink along this
# share of every column (row) across a ruled page, however dark (a written stroke ends inside;
# a margin line as dark as the writing, RULING_FAINT[1], is one only if it runs this far)
RULING_MANY = 5  # ... or, printed lines as dark as the writing (pencil), at least this many
# of them, ...
RULING_WRITING = 0.25  # ... if without them some ink is left at this share of the peak or
# more: bold 1s in a tight crop ("11111") are as many lines, and all the writing
RULING_BIN = 8  # px: columns averaged together to find the tilt (a line moves by at most
# half a pixel across a bin)
RULING_SLOPES = 41  # tilts tried for the lines, -RULING_TILT to RULING_TILT (steps of 0.003:
# a line moves by less than half a pixel at the sides of a 256 px picture between two, 0.8
# px on a 512 px wide number)

FRAME_SIDE = 0.5  # a printed box round the writing (a form's field): ink in one piece (at
FRAME_LEVEL = 0.25  # this share of the peak or more) at least FRAME_SIDE of the picture's
# height and width, ...
FRAME_STRAIGHT = 0.012  # ... whose outer edge, seen from each side, keeps within this share of
FRAME_ALONG = 0.8  # the picture's longer side of a straight line along this share of the
FRAME_MIDDLE = 0.96  # middle of that side (a digit may cross a side), ...
FRAME_TILT = 0.1  # ... along the side, give or take this slope (a box photographed turned by
# up to ~6 degrees), four sides apart (a 7's bar is no top and bottom side at once), ...
FRAME_DIVIDER = 0.9  # ... with no line inside it from side to side (a comb of boxes, a grid,
# boxes stacked: left as they are), sharp corners (ink where each two sides meet: a 0 drawn
# as a rounded rectangle is no box), ...
FRAME_WRITING = 0.25  # ... and writing inside it: ink off the frame in a piece at least this
# share of its height tall (an empty box, a shape's own rounded corners: none). Written in a
# box, 41% of 300 validation digits were read (the box and the digit were refused as one);
# taken out, 97%. The paper's lines are taken out first (_without_printing): looking for the
# box first read 98.3% of them, but pencil on squared paper 93.7% against 97.3% (and squared
# paper 98.3% against 98.7%): the grid's outer lines passed for a box, and the grid inside
# it was then left as ink.
FRAME_RULED = 0.5  # In a grainy photo, the paper's lines can take a box's top and bottom
# (faint against the writing) for printed lines and leave its left and right sides, read as
# 1s ("111" for a 1 in a narrow box). So where this share or more of the ink the lines took
# lies on the outline of a box found before they were taken, and none is found after, the
# box's outline is taken out of the line-free ink too (a grid's outer lines, taken for a
# box, hold 16-25% of its lines; a box's own outline 45-99%). Validation digits written in a
# box: 97.0 -> 98.0% read of the drawn-digit benchmark's 300, 96.2 -> 97.8% of a scratch
# set of 600; every other style, blank pages and numbers read the same

# PIL refuses images over twice this limit at open time, before decoding a single pixel;
# that holds for Gradio's own decoding of uploads too.
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS

ORIENTATION_TAG = 0x0112  # EXIF "Orientation"; 1 means stored upright

# A plain picture: a file path, encoded bytes, a PIL image or pixels. Gradio's value formats
# (the sketchpad's dict) are turned into one by digit_recognizer.components.
ImageSource = Union[str, os.PathLike, bytes, Image.Image, np.ndarray, None]


class ImageInputError(ValueError):
    """A picture we cannot read a digit from. The message is meant for the person who sent it."""


# ---------------------------------------------------------------------------------- decode
def load_image(source: ImageSource) -> np.ndarray:
    """Decode a file path, encoded bytes, PIL image or array to an array.

    Returns uint8 (H, W) grey or (H, W, 4) RGBA. Raises ImageInputError with a readable message.
    """
    if source is None:
        raise ImageInputError("No image: draw a digit or upload a picture of one.")
    if isinstance(source, np.ndarray):
        return _array_to_uint8(source)
    if isinstance(source, Image.Image):
        return _pil_to_array(source)
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
            return _pil_to_array(image)
    except ImageInputError:
        raise  # already says what is wrong (a ValueError: keep it out of the clause below)
    except Image.DecompressionBombError as exc:
        raise ImageInputError(f"The image is too large to process (limit "
                              f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels).") from exc
    except UnidentifiedImageError as exc:
        raise ImageInputError("This file is not an image we can read "
                              "(try PNG, JPEG, WebP, GIF, BMP or TIFF).") from exc
    except FileNotFoundError as exc:
        raise ImageInputError("The uploaded file is missing; please upload it again.") from exc
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or corrupt data
        raise ImageInputError("The image file is damaged or truncated and cannot be read.") from exc


def _pil_to_array(image: Image.Image) -> np.ndarray:
    if image.width * image.height > MAX_IMAGE_PIXELS:
        raise ImageInputError(f"The image is too large to process ({image.width}x{image.height}; "
                              f"limit {MAX_IMAGE_PIXELS // 1_000_000} megapixels).")
    image.seek(0)  # first frame of an animation
    if image.getexif().get(ORIENTATION_TAG, 1) != 1:  # phone photos: stored sideways + a tag
        image = ImageOps.exif_transpose(image)  # (a copy: only when there is a turn to make)
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return _array_to_uint8(np.asarray(image))
    if image.mode == "RGBA":  # the sketchpad's PNGs: no conversion copy
        return np.asarray(image)
    if image.mode in ("LA", "PA") or "transparency" in image.info:
        return np.asarray(image.convert("RGBA"))
    return np.asarray(image.convert("L"))  # also CMYK, palette, YCbCr, 1-bit


def _array_to_uint8(array: np.ndarray) -> np.ndarray:
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ImageInputError(f"Unsupported image shape {array.shape}.")
    if array.size == 0:
        raise ImageInputError("The image is empty (0 pixels).")
    if array.dtype == np.uint8:
        out = array
    elif array.dtype == bool:
        out = array.astype(np.uint8) * 255
    elif np.issubdtype(array.dtype, np.integer):  # 16-bit scans and PNGs
        top = 65535 if array.max() > 255 else 255
        out = (array.astype(np.float32) * (255 / top)).round().astype(np.uint8)
    else:  # floats: [0, 1] by convention, but accept [0, 255] too
        top = 255.0 if np.nanmax(array) > 1.0 else 1.0
        out = (np.nan_to_num(array.astype(np.float32)) * (255 / top)).clip(0, 255).round().astype(np.uint8)
    if out.ndim == 3 and out.shape[2] == 3:
        return np.asarray(Image.fromarray(out, "RGB").convert("L"))
    return out


# ------------------------------------------------------------------------------------- ink
def analysis_side(width: int, height: int) -> int:
    """The longer side pictures are reduced to before finding ink: ANALYSIS_SIDE, raised for
    wide (or tall) pictures, up to NUMBER_ANALYSIS_SIDE at 3:1 and beyond, so that each digit
    of a long number keeps about as many pixels as one digit on a square canvas."""
    aspect = max(width, height) / max(min(width, height), 1)
    return int(ANALYSIS_SIDE * float(np.clip(aspect / 1.5, 1.0, NUMBER_ANALYSIS_SIDE / ANALYSIS_SIDE)))


def ink_map(image: np.ndarray) -> np.ndarray:
    """Ink strength in [0, 1] (float32) for a uint8 grey or RGBA image, at most
    ``analysis_side`` (ANALYSIS_SIDE for a square picture) on its longer side. In a photo,
    the paper's printed lines and a printed box round the writing are no ink
    (``_without_printing``). Writing small in a large picture is seen again in the picture's
    own pixels, cropped round it (``writing_crop``)."""
    ink = _whole_ink_map(image)
    crop = writing_crop(image.shape[:2], ink)
    return ink if crop is None else _whole_ink_map(image[crop])


def writing_crop(shape: tuple[int, int], ink: np.ndarray) -> tuple[slice, slice] | None:
    """Where in a picture of ``shape`` (rows, columns) to look again at the writing of its ink
    map ``ink``: round the writing, grown by ZOOM_MARGIN of its height, where it is under
    ZOOM_BELOW rows tall in the map and the crop, reduced to ``analysis_side``, would give it
    at least ZOOM_GAIN times the rows; None where the map holds no writing that large
    (MIN_DIGIT_FRACTION: what is smaller is refused as a speck either way), or it is tall
    enough, or it runs to the picture's edge (no writing on a page photographed whole: the
    remnant of a printed line or of a desk's edge that the photo cut, which seen again in
    full contrast passed for strokes), or the picture has no pixels to spare, or the crop
    would be a strip."""
    scale = shape[0] / ink.shape[0]  # picture pixels per map pixel (about the same across)
    if scale < ZOOM_GAIN:  # no crop can give the writing more rows than the picture has
        return None
    try:
        _, mask = ink_mask(ink)
    except ImageInputError:
        return None  # (the same refusal comes again from the map as it is)
    rows, cols = bounding_box(without_specks(mask)[0])
    height = rows.stop - rows.start
    if (height >= ZOOM_BELOW
            or max(height, cols.stop - cols.start) < MIN_DIGIT_FRACTION * max(ink.shape)
            or _touches_edge(rows, cols, ink.shape)):
        return None
    margin = ZOOM_MARGIN * height
    box = np.array([rows.start - margin, cols.start - margin, rows.stop + margin,
                    cols.stop + margin]) * scale
    top, left, bottom, right = np.clip(np.round(box), 0, (*shape, *shape)).astype(int).tolist()
    longer, shorter = max(bottom - top, right - left), min(bottom - top, right - left)
    crop_scale = min(1.0, analysis_side(right - left, bottom - top) / longer)
    # (a lone line's crop, a strip, would be refused as too long and thin: left as it is)
    if crop_scale * scale < ZOOM_GAIN or longer > MAX_ASPECT * shorter:
        return None
    return slice(top, bottom), slice(left, right)


def _touches_edge(rows: slice, cols: slice, shape: tuple[int, ...]) -> bool:
    """Whether a box (``rows``, ``cols``) reaches the edge of a picture of ``shape``."""
    return rows.start == 0 or cols.start == 0 or rows.stop == shape[0] or cols.stop == shape[1]


def _whole_ink_map(image: np.ndarray) -> np.ndarray:
    """``ink_map`` as the whole picture shows it, reduced to ``analysis_side``."""
    pil = Image.fromarray(image)
    if max(pil.size) > MAX_ASPECT * min(pil.size):
        raise ImageInputError(f"The picture is {pil.width}x{pil.height} pixels: too long and thin "
                              "to read. Crop it to the number (up to 12 digits on one line).")
    side = analysis_side(pil.width, pil.height)
    if max(pil.size) > side:
        scale = side / max(pil.size)
        size = (max(1, round(pil.width * scale)), max(1, round(pil.height * scale)))
        pil = pil.resize(size, Image.Resampling.BOX)  # area average: thin strokes stay visible
    array = np.asarray(pil, dtype=np.float32) / 255.0
    if array.ndim == 3:
        alpha = array[..., 3]
        if (alpha > 0.5).mean() < 0.5:  # mostly transparent: a drawing, the alpha is the ink
            return alpha
        grey = 0.299 * array[..., 0] + 0.587 * array[..., 1] + 0.114 * array[..., 2]
        array = grey * alpha + (1.0 - alpha)  # translucent parts over white paper
    return _ink_from_grey(_sheet_only(array))


def _without_frame(ink: np.ndarray) -> np.ndarray:
    """``ink`` without a printed box round the writing (FRAME_*): its four sides, each as
    thick as it typically is (up to twice the straightness allowed: a bolder box stays), are
    taken out; strokes that touch it stay."""
    peak = _extremes(ink)[1]
    if peak <= 0 or min(ink.shape) < PHOTO_MIN_SIDE:  # (a small picture is one digit's)
        return ink
    labels, _ = ndimage.label(ink >= FRAME_LEVEL * peak, structure=np.ones((3, 3)))
    near = max(2.0, FRAME_STRAIGHT * max(ink.shape))
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        piece = labels[box] == index
        if (piece.shape[0] < FRAME_SIDE * ink.shape[0]
                or piece.shape[1] < FRAME_SIDE * ink.shape[1]):
            continue
        sides = [_frame_side(piece if k < 2 else piece.T, k % 2 == 1, near) for k in range(4)]
        if any(side is None for side in sides):
            continue
        (top, top_fit), (bottom, bottom_fit), (left, left_fit), (right, right_fit) = sides
        frame = top | bottom | left.T | right.T
        inside = piece & ~frame  # (dividers join the frame; the writing may not)
        if ((top & bottom).any() or (left & right).any()
                or not _sharp_corners(piece, top_fit, bottom_fit, left_fit, right_fit, near)
                or not _written_inside(labels[box] > 0, frame, piece.shape[0])
                or (inside.sum(axis=0) >= FRAME_DIVIDER * (piece.shape[0] - 2 * near)).any()
                or (inside.sum(axis=1) >= FRAME_DIVIDER * (piece.shape[1] - 2 * near)).any()):
            continue
        taken = np.zeros(ink.shape, bool)
        taken[box] = frame
        ink = np.where(ndimage.binary_dilation(taken), 0.0, ink)  # (and its soft edges)
    return ink


def _frame_side(piece: np.ndarray, from_bottom: bool, near: float
                ) -> tuple[np.ndarray, np.ndarray] | None:
    """The straight line along the top of ``piece`` (a bool mask; its bottom if
    ``from_bottom``), as FRAME_STRAIGHT, FRAME_ALONG and FRAME_TILT ask, as thick as it
    typically is (at most 2 ``near``), and its fit (slope, offset: the row seen from that
    side, by column); None if it has none."""
    seen = piece[::-1] if from_bottom else piece
    has = seen.any(axis=0)
    first = np.where(has, seen.argmax(axis=0), -1)
    middle = np.arange(int((1 - FRAME_MIDDLE) / 2 * len(first)),
                       int((1 + FRAME_MIDDLE) / 2 * len(first)))
    on = middle[has[middle]]
    # fitted where the edge is near its median (within the tilt allowed: not a stroke crossing
    # the side, nor a turned box's corner), then again where it keeps to that line
    on = on[np.abs(first[on] - np.median(first[on])) <= FRAME_TILT * len(first)]
    for _ in range(2):
        if len(on) < FRAME_ALONG * len(middle):
            return None
        fit = np.polyfit(on, first[on], 1)
        on = on[np.abs(np.polyval(fit, on) - first[on]) <= near]
    if len(on) < FRAME_ALONG * len(middle) or abs(fit[0]) > FRAME_TILT:
        return None
    thick = min(float(np.median([np.argmin(np.r_[seen[first[c]:, c], False]) for c in on])),
                2 * near)  # the runs of ink from the edge inwards
    depth = np.arange(seen.shape[0])[:, None] - np.polyval(fit, np.arange(len(first)))[None, :]
    line = seen & (depth >= -near) & (depth <= thick + 1)
    return (line[::-1] if from_bottom else line), fit


def _sharp_corners(piece: np.ndarray, top_fit: np.ndarray, bottom_fit: np.ndarray,
                   left_fit: np.ndarray, right_fit: np.ndarray, near: float) -> bool:
    """Whether ``piece`` has ink within ``near`` of each point where two of its fitted sides
    (``_frame_side``'s fits) meet: a printed box's corners are sharp, a 0 drawn as a rounded
    rectangle's are not."""
    h, w = piece.shape
    for from_bottom, from_right in ((False, False), (False, True), (True, False), (True, True)):
        row_fit = bottom_fit if from_bottom else top_fit
        column_fit = right_fit if from_right else left_fit
        column = 0.0
        for _ in range(3):  # where the two lines meet, found by turns (both nearly straight)
            row = float(np.polyval(row_fit, column))
            row = h - 1 - row if from_bottom else row
            column = float(np.polyval(column_fit, row))
            column = w - 1 - column if from_right else column
        reach = int(np.ceil(near))
        r, c = int(round(row)), int(round(column))
        if not piece[max(r - reach, 0):r + reach + 1, max(c - reach, 0):c + reach + 1].any():
            return False
    return True


def _written_inside(ink: np.ndarray, frame: np.ndarray, height: int) -> bool:
    """Whether there is writing inside a frame: ink off it (``ink``, a bool mask of the
    frame's box) in a piece at least FRAME_WRITING of the box's ``height`` tall (an empty box,
    or a shape's own corners, have none)."""
    pieces = ndimage.find_objects(ndimage.label(ink & ~frame, structure=np.ones((3, 3)))[0])
    return any(rows.stop - rows.start >= FRAME_WRITING * height for rows, _ in pieces)


def _sheet_only(grey: np.ndarray) -> np.ndarray:
    """A photo of a sheet of paper on a darker surface (a note on a desk) with the surface
    painted over in the sheet's tone (its light's slope carried on), and the sheet's edge
    with it (SHEET_MARGIN), so that only what is written on the sheet is ink; any other
    picture as it is. The sheet and the surface are split by Otsu's cut; where that finds
    no sheet, the split is refitted as two planes of light (``_two_planes``, which leaves
    it as it is if either side is under SHADOW_SHARE of the picture: a thin sliver of desk)
    and judged again, the surface now against the sheet's light carried on over it (light
    falling across a sheet that fills a photo taken at a slant leaves its dim side below
    Otsu's cut, with the desk, or the desk no darker than the sheet's median); see
    ``_desk_painted``. A hard shadow across sheet and desk alike (four levels of light) would
    show its lit parts as the sheet, or none: the photo is judged lit evenly across each of
    the likeliest shadow's edges in turn (``shadow_edge``), and the first that finds a sheet
    is the picture; first across the edges that cross desk and sheet, then as it is, then
    across the others. Pictures of a tiny digit (PHOTO_MIN_SIDE) are left alone."""
    if float(np.ptp(grey)) < SURFACE_CONTRAST or min(grey.shape) < PHOTO_MIN_SIDE:
        return grey
    edges = shadow_edges(grey, SHADOW_DIM)
    tries = chain((relit(grey, edge) for edge in edges if edge.spans_surfaces), [grey],
                  (relit(grey, edge) for edge in edges if not edge.spans_surfaces))
    painted = next((found for found in map(_desk_painted_as_seen, tries) if found is not None),
                   None)
    return grey if painted is None else painted


def _desk_painted_as_seen(grey: np.ndarray) -> np.ndarray | None:
    """``_desk_painted`` of ``grey`` split by Otsu's cut or, where that is no sheet on a
    surface, as two planes of light (``_sheet_only``); None if neither finds one."""
    otsu = grey > _otsu_threshold(grey, floor=0.0)
    if not _both_broad(otsu):  # _two_planes would keep this split: one look, by either measure
        painted = _desk_painted(grey, otsu, (_below_median, _below_carried_on))
    else:
        painted = _desk_painted(grey, otsu, (_below_median,))
        if painted is None:
            painted = _desk_painted(grey, _two_planes(grey, otsu), (_below_carried_on,))
    return painted


def _desk_painted(grey: np.ndarray, bright: np.ndarray,
                  darker_by: tuple[Callable[[np.ndarray, np.ndarray, np.ndarray], float], ...]
                  ) -> np.ndarray | None:
    """``grey`` with the surface round a sheet painted over (``_sheet_only``), or None if
    there is no sheet on a surface. The sheet is the largest ``bright`` region with its holes
    (the writing) filled and the notches where writing runs to its edge bridged
    (SHEET_NOTCH; in strokes too fat for that, within its convex hull where darker than the
    surface: SHEET_NOTCH_INK), if it is shaped like a sheet (SHEET_SHARE, SHEET_THICK,
    SHEET_SOLID) and written on in strokes (SHEET_WRITING, SHEET_PEN, SHEET_DIGITS,
    SHEET_SOLID and SHEET_ONE_PIECE), or, with nothing written on it (at most dents in its
    outline, which is how a light digit's stroke looks), shaped like a page on a surface
    (``_blank_sheet``); the surface is the rest, if it is SURFACE_CONTRAST darker than the
    sheet by one of the measures ``darker_by`` (``_below_median``, ``_below_carried_on``) and
    covers SURFACE_EDGE of the picture's edge (a stroke that runs off a tightly cropped
    picture covers little of it) or lies in wedges along it (SURFACE_WEDGE), and holds no
    writing (SURFACE_*: then it is a shadow across the page). The sheet's edge goes with the
    surface (SHEET_MARGIN)."""
    reach = max(1, round(SHEET_NOTCH * max(grey.shape)))
    closed = bright | ndimage.binary_closing(bright, iterations=reach)
    labels, count = ndimage.label(ndimage.binary_fill_holes(closed))
    if count == 0:
        return None
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    sheet = labels == sizes.argmax()
    paper = sheet & bright
    surface = ~sheet
    writing = sheet & ~bright
    light = float(np.median(grey[paper]))
    if (not SHEET_SHARE <= sheet.mean() < 1.0
            or (surface[_near_edge(grey.shape, 1)].mean() < SURFACE_EDGE
                and not _wedges(surface))
            or writing.sum() > SHEET_WRITING * sheet.sum()
            or max(darker(grey, sheet, paper) for darker in darker_by) < SURFACE_CONTRAST):
        return None
    inside = ndimage.distance_transform_edt(sheet)
    thickness = inside.max()  # the widest circle's radius
    if thickness < SHEET_THICK * min(grey.shape):
        return None
    hull = _convex_hull(sheet)
    if sheet.sum() < SHEET_SOLID * hull.sum():
        return None
    notches = hull & ~sheet
    if notches.any() and (~hull).any() and (
            np.median(grey[~hull]) - np.median(grey[notches]) >= SHEET_NOTCH_INK):
        sheet, surface, writing = hull, ~hull, hull & ~bright  # the notches are writing on it
        inside = ndimage.distance_transform_edt(sheet)
    blank = not writing.any() or inside[writing].max() <= 2 * reach  # dents in its outline
    if blank:
        if not _blank_sheet(sheet, surface, bright):
            return None
        # no writing to measure a pen's contrast on: the faintest that sets a sheet apart (a
        # page in a hard shadow with faint writing only in the shadow is not blank)
        pen = SURFACE_CONTRAST
    elif stroke_width(writing) > SHEET_PEN * thickness and not _digits_written(writing):
        return None
    else:
        pen = light - float(np.median(grey[writing]))
    apart = max(1, round(SHEET_MARGIN * max(grey.shape)))
    if _written_on(grey, surface & ~ndimage.binary_dilation(sheet, iterations=apart), pen):
        return None  # the writing goes on in the "surface": a shadow across the page
    sheet_light = _plane(grey, paper)
    # the sheet's edge painted over: SHEET_MARGIN of the geometric mean of the picture's sides
    # (of its longer side, a wide photo of a number lost the ends of digits written up to the
    # sheet's edge: numbers at a slant on validation 87 -> 91 of 100)
    margin = max(1, round(SHEET_MARGIN * float(np.sqrt(grey.size))))
    # (along the picture's edge, the surface goes on where the sheet's edge fades out into it,
    # half SURFACE_CONTRAST darker than its light but not half as dark as its writing: a
    # wedge's tip, which left as it is passes for a stroke along the edge)
    fading = sheet & _near_edge(grey.shape, margin) & (grey < sheet_light - SURFACE_CONTRAST / 2)
    if not blank:
        fading &= grey > light - pen / 2
    labels, _ = ndimage.label(fading | surface)
    surface = ndimage.binary_dilation(np.isin(labels, labels[surface]), iterations=margin)
    return np.where(surface, sheet_light, grey).astype(np.float32)


def _below_median(grey: np.ndarray, sheet: np.ndarray, paper: np.ndarray) -> float:
    """How much darker than a ``sheet`` the surface is: its median below the bare ``paper``'s."""
    return float(np.median(grey[paper]) - np.median(grey[~sheet]))


def _below_carried_on(grey: np.ndarray, sheet: np.ndarray, paper: np.ndarray) -> float:
    """How much darker than a ``sheet`` the surface is: the median of how far each of its
    pixels falls below the bare ``paper``'s plane of light carried on over it. (Split into
    two planes of light, a page lit unevenly falls in a lit and a dim half, far apart in
    their medians: only a step down from the sheet's light tells a desk.)"""
    return float(np.median((_plane(grey, paper) - grey)[~sheet]))


def _digits_written(writing: np.ndarray) -> bool:
    """Is ``writing`` (a mask) in pieces of SHEET_PIECE of the largest's area or more, each in
    strokes no wider than SHEET_DIGITS of its own longer side, and either two or more not all
    nearly convex (SHEET_SOLID) or one far from convex (SHEET_ONE_PIECE)?"""
    kept, count = without_specks(writing, SHEET_PIECE)
    labels, _ = ndimage.label(kept, structure=np.ones((3, 3)))
    pieces = [labels[box] == label for label, box in enumerate(ndimage.find_objects(labels), 1)]
    solid = SHEET_SOLID if count > 1 else SHEET_ONE_PIECE
    return (all(stroke_width(piece) <= SHEET_DIGITS * max(piece.shape) for piece in pieces)
            and any(piece.sum() < solid * _convex_hull(piece).sum() for piece in pieces))


def _blank_sheet(sheet: np.ndarray, surface: np.ndarray, bright: np.ndarray) -> bool:
    """Is a ``sheet`` with nothing written on it a page lying on a ``surface``
    (BLANK_SHEET_*; or with the surface in wedges, SURFACE_WEDGE), rather than a fat light
    stroke on a dark ground, or the paper beside a bold dark stroke cropped tightly (the
    ``bright`` pixels on the surface)?"""
    spread = np.linalg.eigvalsh(np.cov(np.argwhere(sheet).T.astype(np.float64)))
    sides = sum(float(np.mean(~side)) >= BLANK_SHEET_SIDE
                for side in (sheet[0], sheet[-1], sheet[:, 0], sheet[:, -1]))
    return (spread[1] <= BLANK_SHEET_ASPECT**2 * spread[0]
            and (sides >= BLANK_SHEET_SIDES or _wedges(surface))
            and (surface & bright).sum() <= BLANK_SHEET_AROUND * sheet.sum())


def _wedges(surface: np.ndarray) -> bool:
    """Is the ``surface`` in wedges from the picture's corners along its edge (SURFACE_WEDGE),
    specks aside, or in a band along a whole side with wedges at its ends?"""
    pieces = _pieces(surface)
    return bool(pieces) and all(piece[::piece.shape[0] - 1, ::piece.shape[1] - 1].any()  # corner
                                and (_wedge(piece) or _band_and_wedges(piece)) for piece in pieces)


def _wedge(piece: np.ndarray) -> bool:
    """Is a mask one wedge along the picture's edge (SURFACE_WEDGE)?"""
    along_side = _turned(piece)
    along = int(along_side[0].sum())
    reach = int(np.flatnonzero(along_side.any(axis=1))[-1]) + 1
    area = int(piece.sum())
    return (along >= reach and area <= SURFACE_WEDGE * along * reach
            and area >= SHEET_SOLID * _convex_hull(piece).sum())


def _band_and_wedges(piece: np.ndarray) -> bool:
    """The desk beyond a sheet's far edge (a band along the whole of a side) and beside it
    (wedges down the sides at its ends): without the band, wedges."""
    along_side = _turned(piece)
    if not along_side[0].all():
        return False
    depth = np.where(along_side.all(axis=0), len(along_side), np.argmin(along_side, axis=0))
    beyond = along_side.copy()
    beyond[:depth.min()] = False
    pieces = _pieces(beyond)
    return bool(pieces) and all(_wedge(piece) for piece in pieces)


def _pieces(mask: np.ndarray) -> list[np.ndarray]:
    """The pieces of ``mask`` (8-connected), specks aside (``without_specks``), each a mask."""
    labels, count = ndimage.label(without_specks(mask)[0], structure=np.ones((3, 3)))
    return [labels == label for label in range(1, count + 1)]


def _turned(piece: np.ndarray) -> np.ndarray:
    """A mask turned so that the side of the picture it runs along most is its top row."""
    return max((piece, piece[::-1], piece.T, piece[:, ::-1].T), key=lambda t: t[0].sum())


def _written_on(grey: np.ndarray, where: np.ndarray, pen: float) -> bool:
    """Are there strokes (SURFACE_INK of the ``pen``'s contrast, on SURFACE_WRITTEN of the
    picture) in the region ``where``, away from the picture's edge (a sliver of desk between
    the sheet and the edge is as narrow as a stroke)?"""
    window = max(1, round(SURFACE_WINDOW * max(grey.shape)))
    strokes = (_ink_against(grey, True, window) > SURFACE_INK * pen) & where
    rows, cols = (min(window, side // 4) for side in grey.shape)  # the band along the edge
    away_from_edge = strokes[rows:grey.shape[0] - rows, cols:grey.shape[1] - cols]
    return int(away_from_edge.sum()) > SURFACE_WRITTEN * grey.size


def _convex_hull(mask: np.ndarray) -> np.ndarray:
    """The convex hull of a mask's pixels, as a mask (empty if they lie on a line)."""
    points = np.argwhere(mask)
    try:
        corners = points[ConvexHull(points).vertices]
    except QhullError:
        return np.zeros(mask.shape, bool)
    outline = Image.new("1", mask.shape[::-1], 0)
    ImageDraw.Draw(outline).polygon([(int(c), int(r)) for r, c in corners], fill=1, outline=1)
    return np.asarray(outline, bool)


def _ink_from_grey(grey: np.ndarray) -> np.ndarray:
    """Background-subtracted ink for either polarity, robust to uneven lighting in photos."""
    # Take out the lighting's smooth trend first: a lit corner of a dim photo can outshine
    # any ink, and morphology at the picture's edges would mistake a steep slope for ink.
    flat = grey - _lighting(grey)
    # Ink is the minority: the ground sits at the median, and the ink at whichever tail
    # reaches further from it (darker ink on paper, brighter chalk on a board).
    # (Extremes by count, not share: a small thin digit is well under 1% of the picture.)
    darkest, brightest = _extremes(flat)
    ground = float(np.median(flat))
    light_ground = ground - darkest >= brightest - ground
    # A morphological closing (opening) wipes out strokes thinner than the window and leaves
    # what unevenness of the paper (or board) the trend missed, such as shadows. The window
    # must be wider than the fattest stroke (a marker digit filling a small picture, or MNIST
    # itself), but a hard shadow narrower than the window is taken for ink: where there is
    # one, the narrowest window that clears it and keeps the strokes (INK_WINDOWS). A hard
    # shadow across paper whose two sides are grounds of their own is taken out side by side.
    # (Whatever the median says: on a blank page mostly in the shadow, the shadow is the
    # median and the lit part passes for chalk; _chalk_beside_shadow asks again, measuring
    # against each side's own light.)
    sides = _shadow_sides(grey, flat)
    if sides is not None and (light_ground or not _chalk_beside_shadow(grey, sides)):
        return _without_printing(_ink_beside_shadow(grey, *sides))
    ink = _ink_against(flat, light_ground, max(grey.shape) // 2)
    peak = _extremes(ink)[1]
    core = ink >= INK_CORE * peak
    a_photo = min(grey.shape) >= PHOTO_MIN_SIDE
    for share in INK_WINDOWS if a_photo else ():
        nearer = _ink_against(flat, light_ground, round(share * max(grey.shape)))
        if np.mean((ink >= peak / 4) & (nearer < 0.5 * ink)) < INK_SHADOW:
            break  # no shadow that this window (or a wider one) clears
        if _keeps_strokes(nearer, ink, core):
            ink = nearer
            break
    if a_photo and not light_ground and np.mean(ink >= peak / 4) < CHALK_INK:
        window = min(round(CHALK_WINDOW * stroke_width(core)), max(grey.shape) // 2)
        nearer = _ink_against(flat, light_ground, window)
        if _keeps_strokes(nearer, ink, core):
            ink = nearer
        # (no printed lines on a board: its haze would pass for them)
        return _without_frame(_without_haze(_without_clouds(ink)))
    return _without_printing(ink)


def _without_clouds(ink: np.ndarray) -> np.ndarray:
    """Chalk's ink without a wiped board's soft clouds: ink further than CHALK_REACH from
    any that stands CHALK_SHARP out of its own blur (CHALK_SOFT), unless less than
    CHALK_SHARP_KEPT of the strongest ink (INK_CORE) lies within that reach (a photo out of
    focus)."""
    peak = _extremes(ink)[1]
    side = max(ink.shape)
    sharp = ink - ndimage.gaussian_filter(ink, CHALK_SOFT * side) >= CHALK_SHARP * peak
    if not sharp.any():
        return ink
    near = ndimage.distance_transform_edt(~sharp) <= CHALK_REACH * side
    if np.mean(near[ink >= INK_CORE * peak]) < CHALK_SHARP_KEPT:
        return ink
    return np.where(near, ink, 0.0).astype(ink.dtype)


def _without_haze(ink: np.ndarray) -> np.ndarray:
    """Chalk's ink without a wiped board's faint streaks and clouds: the faint pieces
    (CHALK_HAZE) that are less than CHALK_HAZE_HEIGHT as tall as the tallest strong one,
    where there are CHALK_HAZE_PIECES faint ones or more, specks aside."""
    peak = _extremes(ink)[1]
    labels, count = ndimage.label(ink >= peak / 4, structure=np.ones((3, 3)))
    faint = np.asarray(ndimage.maximum(ink, labels, np.arange(1, count + 1))) < CHALK_HAZE * peak
    if faint.all():
        return ink
    sizes = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    if np.sum(faint & (sizes >= SPECK_FRACTION * sizes.max())) < CHALK_HAZE_PIECES:
        return ink
    heights = np.array([rows.stop - rows.start for rows, _ in ndimage.find_objects(labels)])
    haze = faint & (heights < CHALK_HAZE_HEIGHT * heights[~faint].max())
    return np.where(np.concatenate([[False], haze])[labels], 0.0, ink).astype(ink.dtype)


def _keeps_strokes(nearer: np.ndarray, ink: np.ndarray, core: np.ndarray) -> bool:
    """Does ``nearer`` (ink against a nearer ground) keep INK_KEPT of ``ink``'s strongest
    strokes (``core``) at half their strength or more?"""
    return bool(np.mean(nearer[core] >= 0.5 * ink[core]) >= INK_KEPT)


def _shadow_sides(grey: np.ndarray, flat: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray] | None:
    """Where a hard shadow (the phone's, a hand's) falls across a photo of paper, or None: the
    lit side and the shadow, two planes of the paper's level, both broad or one a corner of the
    picture (``_corner``), the shadow a broad patch with a soft edge (SHADOW_*); the lit side
    without the shadow's tips (``_shadow_tips``) and its rim (SHADOW_EDGE) along the shadow's
    edge and the picture's (the lit side's closing sees only one side of a pixel there), the shadow
    without its blur (SHADOW_BLUR). A plane of light fitted across the shadow's step leaves a
    slope on either side of it, and the closings of ``_ink_against`` take the wedges it makes
    at the step and at the picture's edges for ink."""
    if min(grey.shape) < PHOTO_MIN_SIDE:
        return None
    window = _window(SHADOW_WINDOW * max(grey.shape))
    paper = ndimage.grey_closing(grey, size=window)
    level = paper - (grey - flat)  # without the slope of the light
    level = np.clip(level - level.min(), 0.0, 1.0)
    if float(level.max()) < SHADOW_STEP:
        return None
    lit = _two_planes(paper, paper > _otsu_threshold(paper, floor=0.0))
    smaller = lit if lit.mean() < 0.5 else ~lit
    cornered = not _both_broad(lit)
    if cornered and not _corner(smaller):
        return None
    dimmed = np.median(grey[~lit]) / max(float(np.median(grey[lit])), MIN_CONTRAST)
    if (np.median(paper[lit]) - np.median(paper[~lit]) < SHADOW_STEP
            or not SHADOW_DIM[0] <= dimmed <= SHADOW_DIM[1]):
        return None
    outline = ~lit & ~ndimage.binary_erosion(~lit, border_value=1)  # (the picture's edge: none)
    if outline.sum() > SHADOW_OUTLINE * np.sqrt(min(lit.sum(), (~lit).sum())):
        return None
    lit_plane, shade_plane = _plane(paper, lit), _plane(paper, ~lit)
    between = (grey - shade_plane) / np.maximum(lit_plane - shade_plane, MIN_CONTRAST)
    if cornered and np.mean(((between >= 0.5) == lit)[smaller]) < SHADOW_CORNER_LEVEL:
        return None
    along = ndimage.distance_transform_cdt(~(lit & ndimage.binary_dilation(~lit)),
                                           metric="taxicab") <= SHADOW_SOFT_WITHIN
    if np.mean((between[along] > SHADOW_PENUMBRA[0]) & (between[along] < SHADOW_PENUMBRA[1])
               ) < SHADOW_SOFT:
        return None
    # (the soft edge is judged on the split as found: without its tips, the split of a bold
    # chalk number on a board passed for a shadow's)
    lit = lit & ~_shadow_tips(lit, np.abs(between) < SHADOW_TIP, window // 2)
    edge = lit & ~ndimage.binary_erosion(lit, border_value=0)
    from_edge = ndimage.distance_transform_cdt(~edge, metric="taxicab")
    sides = (lit & (from_edge > max(1, round(SHADOW_EDGE * max(grey.shape)))),
             ~lit & (from_edge > max(1, round(SHADOW_BLUR * max(grey.shape)))))
    least = SHADOW_CORNER / 4 if cornered else SHADOW_SHARE / 2
    return sides if all(side.mean() >= least for side in sides) else None


def _corner(side: np.ndarray) -> bool:
    """Is ``side`` (a mask) a corner of light or shadow (SHADOW_CORNER): on that share of the
    picture or more, but under SHADOW_SHARE, in one piece (specks aside) that reaches the
    picture's edge and is nearly convex (SHEET_SOLID)?"""
    pieces = _pieces(side)
    if len(pieces) != 1 or not SHADOW_CORNER <= float(side.mean()) < SHADOW_SHARE:
        return False
    hull = _convex_hull(pieces[0])
    return bool((pieces[0] & _near_edge(side.shape, 1)).any() and hull.any()
                and pieces[0].sum() >= SHEET_SOLID * hull.sum())


def _shadow_tips(lit: np.ndarray, shaded: np.ndarray, reach: int) -> np.ndarray:
    """Where the shadow was taken for the lit side: solid patches (SHADOW_TIP_SOLID px square)
    of ``shaded`` pixels (as dark as the shadow's plane, SHADOW_TIP) on the ``lit`` side,
    within ``reach`` px of the picture's edge, that touch the shadow along at least
    SHADOW_TIP_CONTACT of their longer side. (The paper's closing, reflected at the picture's
    edge, fills the tip of a shadow whose edge meets the picture's at a slant, as far in as
    half its window: the tip meets the shadow along its slanted side; a fat stroke as dark
    as the shadow meets it across its width only.)"""
    tips = ndimage.binary_opening(lit & shaded & _near_edge(lit.shape, reach),
                                  structure=np.ones((SHADOW_TIP_SOLID,) * 2))
    labels, count = ndimage.label(tips)
    contact = np.bincount(labels[tips & ndimage.binary_dilation(~lit)], minlength=count + 1)
    longer = [max(rows.stop - rows.start, cols.stop - cols.start)
              for rows, cols in ndimage.find_objects(labels)]
    kept = [label for label in range(1, count + 1)
            if contact[label] >= SHADOW_TIP_CONTACT * longer[label - 1]]
    return np.isin(labels, kept)


def _near_edge(shape: tuple[int, ...], width: int) -> np.ndarray:
    """The pixels within ``width`` px of the picture's edge, as a mask (none for 0)."""
    band = np.ones(shape, bool)
    band[width:shape[0] - width, width:shape[1] - width] = False
    return band


def _two_planes(paper: np.ndarray, lit: np.ndarray) -> np.ndarray:
    """The split of ``paper`` (a level: a page's across a shadow, or a photo's grey, a sheet
    and the desk round it, its ink pulling the darker plane a little) into two planes of
    light, from a first guess of the ``lit`` side: each pixel to the nearer of the planes
    fitted to the two sides, SHADOW_REFITS times, while both sides stay broad
    (SHADOW_SHARE). (A single plane fitted across a shadow's step tilts each side: an Otsu
    split of what it leaves cuts the page in stripes, and refitting from there reads 289 of
    300 validation photos, against 293.)"""
    for _ in range(SHADOW_REFITS):
        if not _both_broad(lit):
            break
        lit = np.abs(paper - _plane(paper, lit)) <= np.abs(paper - _plane(paper, ~lit))
    return lit


def _both_broad(lit: np.ndarray) -> bool:
    """Do both sides of a split cover SHADOW_SHARE of the picture or more?"""
    return SHADOW_SHARE <= float(lit.mean()) <= 1 - SHADOW_SHARE


def _chalk_beside_shadow(grey: np.ndarray, sides: tuple[np.ndarray, np.ndarray]) -> bool:
    """Whether a picture with a hard shadow across it (``_shadow_sides``) holds light ink on a
    dark ground: against each side's own light, its brightest rises SHADOW_CHALK times further
    above the ground than its darkest falls below."""
    within = np.concatenate([(grey - _lighting(grey, side))[side] for side in sides])
    darkest, brightest = _extremes(within)
    ground = float(np.median(within))
    return brightest - ground >= SHADOW_CHALK * (ground - darkest)


def _ink_beside_shadow(grey: np.ndarray, lit: np.ndarray, shade: np.ndarray) -> np.ndarray:
    """Dark ink on paper with a hard shadow across it (``_shadow_sides``): each side's ink
    against its own ground (``_ground_within``), as a share of that ground (a shadow dims ink
    and paper alike), in the lit side's units; on the lit side's rim, against the shadow's
    ground, so that a stroke crossing the shadow's soft edge stays ink and its blur does not."""
    window = max(grey.shape) // 2
    lit_ground = _ground_within(grey, lit, window)
    ground = np.where(lit, lit_ground, _ground_within(grey, shade, window))
    # (a ground darker than the faintest ink that counts is no paper: no share of it)
    ink = (ground - grey) / np.maximum(ground, MIN_CONTRAST) * float(np.median(lit_ground[lit]))
    return np.clip(ink, 0.0, 1.0).astype(np.float32)


def _ground_within(grey: np.ndarray, region: np.ndarray, window: int) -> np.ndarray:
    """The paper's level over ``region`` (its own plane of light, and the strokes on it closed
    over within a ``window``, px, square, of its own pixels), carried on beyond it from the
    nearest pixel of it."""
    light = _lighting(grey, region)
    flat = grey - light
    window = _window(window)
    outside = 10.0  # beyond any level: the closing's max and min never reach it
    top = ndimage.grey_dilation(np.where(region, flat, -outside), size=window)
    closed = ndimage.grey_erosion(np.where(region, top, outside), size=window)
    nearest = ndimage.distance_transform_edt(~region, return_distances=False,
                                             return_indices=True)
    return light + closed[tuple(nearest)]


def _ink_against(flat: np.ndarray, light_ground: bool, window: int) -> np.ndarray:
    """Ink as what is darker (``light_ground``) or lighter than the ground's level within a
    ``window`` (px, square) around: a morphological closing (opening)."""
    window = _window(window)
    if light_ground:
        ink = ndimage.grey_closing(flat, size=window) - flat
    else:
        ink = flat - ndimage.grey_opening(flat, size=window)
    return np.clip(ink, 0.0, 1.0)


def _window(side: float) -> int:
    """A square window's side in whole pixels, odd (centred on its pixel) and at least 3."""
    return max(3, round(side) | 1)


def _without_ruling(ink: np.ndarray) -> np.ndarray:
    """Ink without the lines of ruled or squared paper. Along each axis, the ink present in
    RULING_SPAN of every row (column), a little tilt allowed, all over the page
    (RULING_COVER), is taken to be printed lines where it is faint (RULING_FAINT), or as
    dark as the writing but in many lines (RULING_MANY: pencil) if writing is left without
    them (RULING_WRITING); lines both ways are a grid only if alike (RULING_SQUARED). On a
    page ruled one way, faint ink along the other axis (lined or not), or ink of any
    strength from edge to edge (RULING_EDGE), is its margin line, where it runs along
    RULING_SPAN of the page (RULING_EDGE, if as dark as the writing). Those lines are taken
    away where each lies (``_lines_taken_out``); otherwise the ink is untouched."""
    peak = _extremes(ink)[1]
    faint, edge_to_edge, lined, dark, found, strongest = [], [], [], [], {}, []
    for axis in (0, 1):  # horizontal lines (a profile over rows), then vertical ones
        across = ink if axis == 0 else ink.T
        reach = max(1, round(RULING_TILT * across.shape[1]))
        spread = ndimage.maximum_filter1d(across, reach, axis=0)  # a tilted line in its band
        nth = int((1 - RULING_SPAN) * spread.shape[1])  # the ink in RULING_SPAN of the row
        edge = int((1 - RULING_EDGE) * spread.shape[1])  # ... and in RULING_EDGE of it
        profile = np.partition(spread, nth, axis=1)[:, nth]
        strongest.append(float(profile.max()))
        all_over = float(np.mean(profile >= strongest[-1] / 2)) >= RULING_COVER
        faint.append(RULING_FAINT[0] * peak <= strongest[-1] < RULING_FAINT[1] * peak)
        edge_to_edge.append(float(np.partition(spread, edge, axis=1)[:, edge].max())
                            >= RULING_FAINT[0] * peak)
        lined.append(all_over and faint[-1])
        if all_over and strongest[-1] >= RULING_FAINT[1] * peak:
            found[axis] = _printed_lines(across)
        dark.append(axis in found and _line_count(found[axis][0]) >= RULING_MANY)
    for axis in (0, 1):
        if lined[axis] and lined[1 - axis] and (
                strongest[axis] < RULING_SQUARED * strongest[1 - axis]):
            lined[axis] = False

    def taken_out(ruled: list[bool]) -> np.ndarray:
        margins = [axis for axis in (0, 1) if not ruled[axis] and ruled[1 - axis]
                   and (faint[axis] or edge_to_edge[axis])]
        return _lines_taken_out(ink, peak, [axis for axis in (0, 1) if ruled[axis]], found,
                                margins)

    cleaned = taken_out([lined[axis] or dark[axis] for axis in (0, 1)])
    if any(dark) and _extremes(cleaned)[1] < RULING_WRITING * peak:
        cleaned = taken_out(lined)  # nothing written is left: the "lines" were the writing
    return cleaned


def _without_printing(ink: np.ndarray) -> np.ndarray:
    """``ink`` without the paper's printed lines (``_without_ruling``) and then a printed box
    round the writing (``_without_frame``); or, where no box is left once the lines are out
    but they took mostly the outline of one found before them (FRAME_RULED: its top and
    bottom taken for lines, its sides left), without the rest of that outline too."""
    cleaned = _without_ruling(ink)
    boxed = _without_frame(cleaned)
    if boxed is not cleaned or cleaned is ink:
        return boxed
    framed = _without_frame(ink)
    if framed is not ink and _lines_were_the_frame(ink, cleaned, framed):
        return np.where(framed != ink, 0.0, cleaned)
    return cleaned


def _lines_were_the_frame(ink: np.ndarray, cleaned: np.ndarray, framed: np.ndarray) -> bool:
    """Whether the printed lines taken out of ``ink`` (leaving ``cleaned``) were mostly
    (FRAME_RULED) the outline of the box round the writing that ``framed`` is without: the
    ink (FRAME_LEVEL of the peak or more) that they took, counted on and off the box."""
    peak = _extremes(ink)[1]
    taken = (ink >= FRAME_LEVEL * peak) & (cleaned < FRAME_LEVEL * peak)
    return bool(taken[framed != ink].sum() >= FRAME_RULED * max(int(taken.sum()), 1))


def _lines_taken_out(ink: np.ndarray, peak: float, axes: list[int],
                     found: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]],
                     margins: list[int] | None = None) -> np.ndarray:
    """``ink`` (its ``peak`` as ``_extremes`` gives it) without the printed lines along these
    ``axes`` (0: lines across the rows; the lines already ``found`` along an axis, as
    ``_printed_lines`` gives them, are reused), and the margin lines along the ``margins``
    axes: what runs along RULING_SPAN of its length, or, as dark as the writing, along
    RULING_EDGE of it (a stroke in a picture cropped to its height does not, unless it fills
    that much of its column). A line much darker than the typical one that does not run
    RULING_EDGE of the length is a stroke along it: its level is capped at RULING_ALIKE
    times the typical line's.
    Where no line stands out (RULING_LINES), that "ink" is a faint photo's grain, taken away
    as it is. Strokes cut where they cross a line are bridged (RULING_BRIDGE), and what is
    left of the lines themselves is cut down (RULING_JOINED, RULING_BESIDE; towards their
    ends, in the rows beside them too: RULING_ENDS)."""
    lines, grain, line_pixels = np.zeros_like(ink), np.zeros_like(ink), {}
    margins = margins or []
    for axis in axes + margins:
        along, most, whole = found[axis] if axis in found else _printed_lines(
            ink if axis == 0 else ink.T)
        if axis in margins:  # (a stroke's soft sides, fainter than the writing, go with it)
            stroke = (most >= RULING_FAINT[1] * peak) & (whole < RULING_WHOLE * most)
            stroke = ndimage.binary_propagation(stroke, structure=np.ones((3, 1), bool),
                                                mask=most >= RULING_FAINT[0] * peak)
            along = np.where(stroke, 0.0, most)
        else:
            stroke = np.minimum(along, RULING_ALIKE * _typical_line(along, peak))
            along = np.where(whole >= RULING_WHOLE * along, along, stroke)
        along = along if axis == 0 else along.T
        strongest = float(along.max())
        if strongest > 0 and strongest >= RULING_LINES * float(np.median(along)):
            lines = np.maximum(lines, along)
            line_pixels[axis] = along >= 0.5 * strongest
        else:  # no line stands out: the paper's grain or noise, all over a faint photo
            grain = np.maximum(grain, along)
    if not (line_pixels or grain.any()):
        return ink
    # A line's ink varies along it (with how it falls on the pixels): RULING_LEVEL times its
    # level is taken away. That cuts a stroke where it crosses a line, unless the stroke is
    # much darker: on the lines, the cut is bridged from the stroke on either side (across
    # the line, straight or slanting: a square closing leaves a thin slanting stroke cut).
    cleaned = np.clip(ink - np.maximum(grain, RULING_LEVEL * lines), 0.0, 1.0)
    if not line_pixels:
        return cleaned
    on_line, beside_ends = np.zeros(ink.shape, bool), np.zeros(ink.shape, bool)
    for axis, pixels in line_pixels.items():
        bridged = np.max([ndimage.grey_closing(cleaned, footprint=footprint)
                          for footprint in _bridges(axis)], axis=0)
        cleaned = np.where(pixels, np.maximum(cleaned, bridged), cleaned)
        on_line |= pixels
        beside_ends |= _beside_line_ends(pixels, axis)
    # Towards a line's ends, where its fitted tilt has put it a fraction of a pixel off, a
    # thin line falls partly into the row beside it: there, what is left of it is sought in
    # that row too, against the line's level in the row it was fitted to
    lines = np.where(beside_ends & ~on_line, ndimage.grey_dilation(lines, size=3), lines)
    on_line |= beside_ends
    # What is left of a line where it was darkest (dashes, crossings) is no darker than the
    # line was again, and joins no ink off the lines; there, no more ink than beside the line
    # is kept. A stroke that crosses a line, or runs along it for a while, joins its own ink
    # off the line; one much darker than its line (a 1 upright on squared paper, taken for
    # one of its lines) stays too.
    strong = cleaned >= RULING_JOINED * _extremes(cleaned)[1]
    joined = ndimage.binary_propagation(strong & ~on_line, structure=np.ones((3, 3)),
                                        mask=strong)
    residue = on_line & ~joined & (cleaned <= RULING_LEVEL * lines)
    beside = ndimage.grey_dilation(np.where(on_line, 0.0, cleaned), size=RULING_BESIDE)
    return np.where(residue, np.minimum(cleaned, beside), cleaned)


def _beside_line_ends(pixels: np.ndarray, axis: int) -> np.ndarray:
    """The pixels right beside the lines ``pixels`` (0: lines across the rows; a row either
    side) in their outer parts: beyond RULING_ENDS of the picture's width (height) from its
    middle."""
    beside = ndimage.binary_dilation(pixels, np.ones((3, 1) if axis == 0 else (1, 3), bool))
    length = pixels.shape[1 - axis]
    outer = np.abs(np.arange(length) - (length - 1) / 2) >= RULING_ENDS * length
    return beside & ~pixels & (outer[None, :] if axis == 0 else outer[:, None])


def _bridges(axis: int) -> list[np.ndarray]:
    """Footprints RULING_BRIDGE px long that cross lines along ``axis`` (0: across the rows):
    straight across and on both diagonals."""
    straight = np.ones((RULING_BRIDGE, 1) if axis == 0 else (1, RULING_BRIDGE), bool)
    diagonal = np.eye(RULING_BRIDGE, dtype=bool)
    return [straight, diagonal, diagonal[::-1]]


def _line_count(lines: np.ndarray) -> int:
    """How many separate lines ``_printed_lines`` found (runs of rows at half the strongest's
    level or more, in the middle column)."""
    level = lines[:, lines.shape[1] // 2]
    return _runs(level, 0.5 * float(level.max()))[1]


def _typical_line(lines: np.ndarray, peak: float) -> float:
    """The level a printed line found by ``_printed_lines`` typically reaches: the median of
    the peaks of the lines in the middle column that stand out (RULING_LINES) and are no
    grain (RULING_FAINT of the ink's ``peak``: JPEG's ringing between clean lines), or inf.
    Where only one stands out, it is typical of nothing: the level is the grain's (the
    median), and a stroke along the page (a 7's stem in a dim, grainy photo, whose noise
    passes for faint lines all over it) is no line unless it runs the whole length."""
    level = lines[:, lines.shape[1] // 2]
    runs, count = _runs(level, max(RULING_LINES * float(np.median(level)),
                                   RULING_FAINT[0] * peak))
    if count == 0:
        return np.inf
    if count == 1:
        return float(np.median(level))
    return float(np.median(ndimage.maximum(level, runs, np.arange(1, count + 1))))


def _runs(level: np.ndarray, floor: float) -> tuple[np.ndarray, int]:
    """The runs of rows where the lines' ``level`` (in the middle column) is above zero and
    at ``floor`` or more, labelled (``ndimage.label``), and how many there are."""
    return ndimage.label((level >= floor) & (level > 0))


def _printed_lines(across: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The printed lines that run along the rows of ``across`` (the ink of a ruled page), as
    ink, each where it lies in every column: the rows lined up at the tilt (within
    RULING_TILT) that makes the levels they reach in RULING_SPAN of the columns most uneven
    (a long stroke nearly along the rows lifts a row's mean, not what most of it reaches;
    then their mean levels), each lined-up row's median level over the columns (a stroke
    crosses a row in few of them), and the levels it keeps along RULING_SPAN and along
    RULING_EDGE of them (a printed line runs the whole length), each put back at that tilt."""
    h, w = across.shape
    rows = np.arange(h, dtype=np.float32)[:, None]
    bins = max(1, w // RULING_BIN)  # the tilt is sought on columns averaged in bins: quick
    binned = across[:, :bins * (w // bins)].reshape(h, bins, -1).mean(axis=2)
    at = (np.arange(bins) + 0.5) * (w // bins) - w / 2  # the bins' centres
    nth = int((1 - RULING_SPAN) * bins)  # a row's level: what RULING_SPAN of its bins reach
    slopes = np.linspace(-RULING_TILT, RULING_TILT, RULING_SLOPES)
    # Every tilt's rows lined up at once (slope, row, bin), between pixels too: rounded to
    # whole pixels, tilts less than a pixel apart at the sides would score alike.
    shift = slopes[:, None, None] * at[None, None, :]
    below = np.floor(shift)
    part = shift - below
    start = np.arange(h)[None, :, None] + below.astype(int)
    lined = sum(weight * binned[np.clip(start + step, 0, h - 1), np.arange(bins)]
                for step, weight in ((0, 1 - part), (1, part)))
    uneven_most = np.var(np.partition(lined, nth, axis=2)[..., nth], axis=1)
    uneven_mean = np.var(lined.mean(axis=2), axis=1)
    slope = slopes[max(range(len(slopes)),  # (alike, the gentlest: a narrow strip has one bin)
                       key=lambda k: (uneven_most[k], uneven_mean[k], -abs(slopes[k])))]
    centred = (np.arange(w, dtype=np.float32) - w / 2)[None, :]
    lined_up = ndimage.map_coordinates(
        across, [rows + slope * centred, np.broadcast_to(centred + w / 2, (h, w))], order=1,
        mode="nearest")
    back = rows - slope * centred
    return tuple(np.interp(back, np.arange(h), level).astype(np.float32) for level in
                 np.quantile(lined_up, [0.5, 1 - RULING_SPAN, 1 - RULING_EDGE], axis=1))


def _lighting(grey: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
    """The brightness's overall slope (light falling from one side): a plane fitted by least
    squares (to the pixels ``where``, a mask, if given), refitted to the middle half of the
    residuals so that ink does not pull it. (Not a curved surface: on a small picture filled
    by its digit, that bends to the digit.)"""
    residual = grey - _plane(grey, where)
    values = residual.ravel()[_plane_sample(grey)] if where is None else residual[where]
    low, high = np.percentile(values, [25, 75])
    middle = (residual >= low) & (residual <= high)
    return _plane(grey, middle if where is None else middle & where)


def _plane(grey: np.ndarray, chosen: np.ndarray | None = None) -> np.ndarray:
    """The least-squares plane through the picture's values (those ``chosen``, a mask), over
    the whole picture."""
    h, w = grey.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) / max(h, w)
    terms = np.stack([np.ones_like(yy), yy, xx], axis=-1).reshape(-1, 3)
    sample = _plane_sample(grey)
    a, b = terms[sample], grey.ravel()[sample]
    if chosen is not None:
        a, b = a[chosen.ravel()[sample]], b[chosen.ravel()[sample]]
    coef = np.linalg.lstsq(a, b, rcond=None)[0]
    return (terms @ coef).reshape(h, w).astype(np.float32)


def _plane_sample(grey: np.ndarray) -> slice:
    return slice(None, None, 7) if grey.size > 7000 else slice(None)  # a sample is plenty


def _extremes(values: np.ndarray) -> tuple[float, float]:
    """The HOT_PIXELS-th smallest and largest values: the range, ignoring a few stray pixels."""
    ordered = np.sort(values, axis=None)  # (np.partition is ~10x slower on the many ties)
    k = min(HOT_PIXELS, ordered.size)
    return float(ordered[k - 1]), float(ordered[-k])


# ----------------------------------------------------------------------------------- digit
def ink_mask(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ink scaled to its peak (float32, [0, 1]) and the mask of its strokes (faint haze left out).

    Refuses (ImageInputError) what holds no readable ink at all: an empty or uniform picture,
    a mark too faint or small to set a scale, and noise. Shared by ``find_digit`` (one digit)
    and ``digit_recognizer.segment`` (numbers)."""
    # (uniform ink too: a canvas washed over evenly with translucent paint)
    if ink.size == 0 or float(ink.max()) - float(ink.min()) < MIN_CONTRAST:
        raise ImageInputError("No digit found: the canvas or picture is empty. Draw a digit.")
    peak = _extremes(ink)[1]  # a few hot pixels do not set the scale
    if peak < MIN_CONTRAST:  # ... and a mark smaller than that is a speck
        raise ImageInputError("The drawing is too small to read (or the picture is empty): "
                              "draw the digit larger.")
    ink = np.clip(ink / peak, 0.0, 1.0).astype(np.float32)
    mask = ink > _otsu_threshold(ink, floor=0.25)
    # Much ink is not enough to call a picture noise: a bold digit photographed and cropped
    # tightly covers 40-60% of it, and that is the model's to judge. Noise is much ink in
    # fine grain: its "strokes" are a pixel or two wide (a digit's are ~10% of the picture).
    fraction = float(mask.mean())
    if fraction > MAX_INK_FRACTION and (
            fraction > MAX_SOLID_FRACTION
            or stroke_width(mask) < NOISE_STROKE_FRACTION * max(ink.shape)):
        raise ImageInputError("No clear digit found: the picture looks like noise or a photo "
                              "of something else. Write dark digits on a plain background.")
    return ink, mask


def find_digit(ink: np.ndarray) -> np.ndarray:
    """Keep the digit's strokes (drop faint haze and specks) and crop to them (float32 ink).

    For one digit (MNIST arrays, the drawn-digit benchmark); pictures of numbers go through
    ``digit_recognizer.segment``, which shares ``ink_mask`` and this module's ``normalize_digit``."""
    ink, mask = ink_mask(ink)
    mask, pieces = without_specks(mask)
    rows, cols = bounding_box(mask)
    # (the longer side of the ink's box: a number written along a long strip still counts)
    if max(rows.stop - rows.start, cols.stop - cols.start) < MIN_DIGIT_FRACTION * max(ink.shape):
        raise ImageInputError("The drawing is too small to read: draw the digit larger.")
    if pieces > MAX_MARKS:
        raise ImageInputError("No clear digit found: too many separate marks. "
                              "Write the digits on a plain background.")
    return soft_crop(ink, mask, (rows, cols))


def without_specks(mask: np.ndarray, smallest: float = SPECK_FRACTION
                   ) -> tuple[np.ndarray, int]:
    """The strokes without pieces under ``smallest`` of the largest (by default dust, a crumb
    of a stroke), and how many pieces are kept."""
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    sizes[0] = 0
    keep = sizes >= smallest * sizes.max()
    keep[0] = False  # the background
    return keep[labels], int(keep.sum())


def soft_crop(ink: np.ndarray, mask: np.ndarray, box: tuple[slice, slice]) -> np.ndarray:
    """The soft ink of the masked strokes only, cropped to ``box``: anti-aliased edges survive,
    dust and other strokes (a neighbouring digit) do not."""
    rows, cols = box
    # dilate within the box plus a margin only: cheap for one digit of a wide number
    top, left = max(rows.start - 3, 0), max(cols.start - 3, 0)
    bottom, right = min(rows.stop + 3, mask.shape[0]), min(cols.stop + 3, mask.shape[1])
    near = ndimage.binary_dilation(mask[top:bottom, left:right], iterations=2)
    crop = np.where(near, ink[top:bottom, left:right], 0.0)
    crop = crop[rows.start - top:rows.stop - top, cols.start - left:cols.stop - left]
    return crop.astype(np.float32)


def _otsu_threshold(values: np.ndarray, floor: float) -> float:
    """Otsu's threshold on [0, 1] values, never below ``floor`` (faint haze is not ink)."""
    hist, edges = np.histogram(values, bins=64, range=(0.0, 1.0))
    weight = hist.cumsum()
    mean = (hist * edges[:-1]).cumsum()
    total_w, total_mean = weight[-1], mean[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total_mean * weight - mean * total_w) ** 2 / (weight * (total_w - weight))
    if np.isnan(between).all():  # all in one bin: nothing to split
        return max(floor, float(np.max(values)))
    return max(floor, float(edges[np.nanargmax(between) + 1]))


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width in pixels of a binary mask: twice the area over the outline length.

    The outline counts each stroke pixel once per pair of opposite sides it shows to the
    background, so a 1 px line measures 1 px wide (not 2)."""
    ground = np.pad(~mask, 1, constant_values=True)
    up, down, left, right = ground[:-2, 1:-1], ground[2:, 1:-1], ground[1:-1, :-2], ground[1:-1, 2:]
    edge = mask & (up | down | left | right)
    sliver = mask & ((up & down) | (left & right))  # ground on two opposite sides
    outline = edge.sum() + sliver.sum()
    return float(2.0 * mask.sum() / max(outline, 1))


def stroke_mask(crop: np.ndarray) -> np.ndarray:
    """The strokes of cropped ink (peak 1) as a tight mask, >= WORK_SIDE on its longer side."""
    # Stroke surgery needs resolution, so small crops are enlarged; big ones are kept as they
    # are: shrinking them first would grey thin strokes and break them up.
    scale = WORK_SIDE / max(crop.shape)
    if scale > 1:
        crop = _fit(crop, WORK_SIDE)
    # A stroke is where the ink reaches half its local peak (full width at half maximum): the
    # true edge of an anti-aliased stroke, and all of a thin line that reduction greyed. The
    # window reaches one source pixel to each side, as far as anti-aliasing spreads an edge.
    local_peak = ndimage.maximum_filter(crop, size=2 * max(1, round(scale)) + 1)
    mask = (crop > 0.5 * local_peak) & (crop > MIN_STROKE_INK)
    if not mask.any():
        mask = crop > 0
    return _tight(mask)


def stroke_ratio(mask: np.ndarray) -> float:
    """Stroke width relative to the longer side of a tight stroke mask (MNIST: ~0.12)."""
    return stroke_width(mask) / max(mask.shape)


def bounding_box(mask: np.ndarray) -> tuple[slice, slice]:
    """The rows and columns of the smallest box around a non-empty mask's pixels."""
    return ndimage.find_objects(mask.astype(np.int8))[0]


def _tight(mask: np.ndarray) -> np.ndarray:
    return mask[bounding_box(mask)]


def _fit(image: np.ndarray, longer_side: int, resample=Image.Resampling.BILINEAR) -> np.ndarray:
    h, w = image.shape
    scale = longer_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(image.astype(np.float32), "F").resize(size, resample))


def normalize_digit(crop: np.ndarray) -> np.ndarray:
    """Cropped ink -> 28x28 float32 in MNIST's form (20 px box, MNIST stroke width, centred)."""
    mask = stroke_mask(crop)
    # Redraw strokes outside MNIST's usual width (thin pens, fat markers relative to the
    # digit's size) at the nearest usual width. Growing by c widens the strokes by 2c and the
    # digit's box too: solve (w + 2c) / (side + 2c) = ratio.
    width, side = stroke_width(mask), max(mask.shape)
    ratio = float(np.clip(width / side, *MNIST_STROKE_RANGE))
    mask = _tight(change_stroke_width(mask, (ratio * side - width) / (2 * (1 - ratio))))
    digit = np.clip(_fit(mask.astype(np.float32), MNIST_BOX, Image.Resampling.BOX), 0.0, 1.0)
    return _center_by_mass(digit)


def change_stroke_width(mask: np.ndarray, change: float, keep: float = 0.2) -> np.ndarray:
    """Strokes grown (``change`` > 0) or shrunk (< 0) by ``|change|`` pixels on each side, by
    the distance to the nearest stroke (or background) pixel; changes under half a pixel are
    not made, nor a shrink that would leave no more than ``keep`` of the strokes (it would
    erase most of a digit)."""
    if change > 0.5:
        return ndimage.distance_transform_edt(~mask) <= change
    if change < -0.5:
        thinned = ndimage.distance_transform_edt(mask) > -change
        if thinned.sum() > keep * mask.sum():
            return thinned
    return mask


def _center_by_mass(digit: np.ndarray) -> np.ndarray:
    """Place the digit in 28x28 with its centre of mass at pixel (14, 14), where MNIST's is
    (mean 13.99, spread +-0.29: a whole-pixel shift, as done here)."""
    out = np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32)
    h, w = digit.shape
    cy, cx = ndimage.center_of_mass(digit)
    top = int(np.clip(round(MNIST_CENTER - cy), 0, MNIST_SIZE - h))
    left = int(np.clip(round(MNIST_CENTER - cx), 0, MNIST_SIZE - w))
    out[top:top + h, left:left + w] = digit
    return out / max(float(out.max()), 1e-6)


# ----------------------------------------------------------------------------- model input
def mnist_to_input(images):
    """uint8 MNIST-form pixels (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1].

    Works on numpy arrays and tf tensors alike (training calls it inside tf.data)."""
    if isinstance(images, np.ndarray):
        return (images.astype(np.float32) / 255.0)[..., None]
    import tensorflow as tf  # only the tf.data path needs it; the app's path stays numpy

    return tf.cast(images, tf.float32)[..., None] / 255.0


def to_mnist(source: ImageSource) -> np.ndarray:
    """Any picture of one digit -> uint8 (28, 28) pixels in MNIST's form (as MNIST stores them)."""
    return mnist_pixels(find_digit(ink_map(load_image(source))))


def strokes_to_mnist(mask: np.ndarray) -> np.ndarray | None:
    """A made-up digit's stroke mask (a continental edit, a pen redraw) -> uint8 (28, 28) in
    MNIST's form, as the app makes a drawing's: specks dropped, cropped, ``mnist_pixels``.
    None for an empty mask."""
    if not mask.any():
        return None
    mask, _ = without_specks(mask)
    return mnist_pixels(mask[bounding_box(mask)].astype(np.float32))


def mnist_pixels(crop: np.ndarray) -> np.ndarray:
    """``normalize_digit(crop)`` stored as MNIST stores its images: uint8 (28, 28), 0-255 (the
    form the training set's variants and negatives are kept in)."""
    return (normalize_digit(crop) * 255).round().astype(np.uint8)


def image_to_input(source: ImageSource) -> np.ndarray:
    """Any picture of one digit -> the model's input batch, float32 (1, 28, 28, 1)."""
    return mnist_to_input(to_mnist(source)[None])

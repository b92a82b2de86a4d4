"""The benchmarks' shared start (benchmarks.inputs): the flags every benchmark takes; the
drawn-digit benchmark's digit line and blank pages; and the number benchmark's grid of
misreads, sorting of misses, missed digits written alone and numbers photographed on paper."""

from __future__ import annotations

import argparse
import importlib.util
import io
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from benchmarks import drawings
from benchmarks.drawings import PAPERS, WHOLE_PAGE, on_a_page, photo
from benchmarks.inputs import add_arguments, load_inputs
from benchmarks.numbers import render_number
from digit_recognizer import model_folder
from digit_recognizer.preprocess import ImageInputError
from digit_recognizer.reading import NotADigitError


def parsed(argv: list[str], threshold: bool) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = argparse.ArgumentParser()
    add_arguments(parser, threshold=threshold)
    return parser, parser.parse_args(argv)


def test_threshold_flag_sets_the_readers_threshold(model_path):
    parser, args = parsed(["--model", str(model_path), "--threshold", "0.7"], threshold=True)
    assert load_inputs(parser, args, reader=True).reader.not_a_digit_threshold == 0.7


def test_without_the_flag_the_reader_uses_the_models_calibrated_threshold(model_path):
    parser, args = parsed(["--model", str(model_path)], threshold=True)
    calibrated = model_folder.not_a_digit_threshold(model_path.parent)
    assert calibrated is not None
    assert load_inputs(parser, args, reader=True).reader.not_a_digit_threshold == calibrated


def test_a_model_trained_on_the_validation_digits_is_not_measured_on_them(tmp_path, capsys):
    # a run on all the digits (scripts/train.py --calibration-from): it names the run to measure
    (tmp_path / "digit_cnn.keras").touch()
    (tmp_path / "metrics.json").write_text(
        '{"calibration": {"temperature": 0.7, "from": {"run": "runs/full", '
        '"command": "python scripts/train.py --output-dir runs/full"}}}')
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    parser.add_argument("--split")
    args = parser.parse_args(["--model", str(tmp_path / "digit_cnn.keras"),
                              "--split", "validation"])
    with pytest.raises(SystemExit) as exit_:
        load_inputs(parser, args)
    assert exit_.value.code == 1
    assert "held them out (python scripts/train.py --output-dir runs/full)" in (
        capsys.readouterr().err)


def test_benchmarks_that_do_not_read_pictures_have_no_threshold_flag():
    with pytest.raises(SystemExit):
        parsed(["--threshold", "0.7"], threshold=False)


def benchmark_script(name: str):
    """A script of scripts/ as a module (they are run as commands, not imported)."""
    spec = importlib.util.spec_from_file_location(
        name, Path(__file__).parents[1] / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # (dataclasses look their module up there)
    spec.loader.exec_module(module)
    return module


def test_the_drawn_digit_benchmark_reports_each_digit_and_the_weakest():
    module = benchmark_script("benchmark_drawings")
    styles = [{"labels": np.array([1, 1, 2, 7]), "pred": ["1", "7", "2", "refused"]},
              {"labels": np.array([1, 2]), "pred": ["1", "2"]}]
    assert module.per_digit_line(styles) == (
        "Per digit over the drawn styles: 1 66.7%, 2 100.0%, 7 0.0%; weakest digit: 7 at "
        "0.00% (target 97%).")


class ReadsEveryOther:
    """A stand-in DigitReader that reads the first picture it gets, refuses the next, and so
    on, keeping what it was sent."""

    def __init__(self):
        self.pictures = []

    def read(self, picture):
        self.pictures.append(picture)
        if len(self.pictures) % 2 == 0:
            raise ImageInputError("No digit found")
        return object()


def test_the_drawn_digit_benchmark_counts_blank_pages_read_as_a_number_per_kind_and_split():
    module = benchmark_script("benchmark_drawings")
    readers = {split: ReadsEveryOther() for split in ("test", "validation")}
    rows = {split: module.blank_pages(reader, 3, seed=0, split=split)
            for split, reader in readers.items()}
    read = [2 / 3, 1 / 3] * len(PAPERS)  # read, refused, read; refused, read, ...
    assert rows["test"] == [(kind, 3, share) for kind, share in zip(PAPERS, read)]
    assert readers["test"].pictures[0] != readers["validation"].pictures[0]  # their own draws


class ReadsSeven:
    """A stand-in DigitReader that reads every picture as 7."""

    def read(self, picture):
        return SimpleNamespace(text="7", pixels=[np.zeros((28, 28), np.uint8)])

    def probabilities(self, batch):
        return np.zeros((len(batch), 12), np.float32)


def test_the_drawn_digit_benchmark_keeps_a_small_view_of_each_misread_only(tmp_path):
    module = benchmark_script("benchmark_drawings")
    digits = np.zeros((2, 28, 28), np.uint8)
    digits[:, 5:23, 12:16] = 255  # two upright strokes, labelled 7 and 1: one read right
    result = module.evaluate_style(module.STYLES[2], ReadsSeven(), digits, np.array([7, 1]),
                                   seed=0)
    assert result["views"][0] is None  # a canvas kept per picture filled the memory
    assert result["views"][1].shape == (84, 84) and (result["views"][1] < 128).any()
    path = tmp_path / "failures.png"
    assert module.save_failures([result], result["labels"], path) == 1
    first_cell = np.asarray(Image.open(path))[:84, 150:234]  # after the style's name
    assert np.array_equal(first_cell, result["views"][1])


def test_the_drawn_digit_benchmark_runs_on_one_digit_leaving_out_styles_without_it(
        model_path, capsys):
    module = benchmark_script("benchmark_drawings")
    # the test split's first pick is a 2: the continental style draws only 1, 4, 7 and 9
    assert module.main(["--model", str(model_path), "--n", "1", "--negatives", "10",
                        "--blanks", "1"]) == 0
    printed = capsys.readouterr()
    assert "continental 1, 4, 7, 9 (sketch, anywhere): none of its digits" in printed.err
    assert "| photo of paper (JPEG) | 1 |" in printed.out
    assert "| a hard shadow across it | 1 |" in printed.out


def test_the_number_benchmark_draws_its_misreads_a_row_per_gap():
    module = benchmark_script("benchmark_numbers")
    sketch = np.zeros((100, 300, 4), np.uint8)
    sketch[20:80, 40:60, 3] = 255  # a black stroke on a transparent canvas
    grid = module.misread_grid({"touching": [(sketch, "42 > refused")] * 2,
                                "wide": [(sketch, "7 > 1")], "normal": []}, per_row=3)
    pixels = np.asarray(grid)
    assert grid.size == (80 + 3 * 240, 2 * (96 + 14))  # two rows: no row for a gap without misreads
    cells = pixels[:96, 80:80 + 3 * 240]
    assert (cells < 128).any() and (cells[:, 2 * 240:] == 255).all()  # two pictures, no third
    assert (pixels[96:110, 80:320] < 128).any()  # a caption under the picture


def test_the_number_benchmark_sorts_a_miss_by_where_it_went_wrong():
    module = benchmark_script("benchmark_numbers")
    refused, merged, split, misread = module.MISS_KINDS
    assert module.miss_kind("1594", "1594") is None
    assert module.miss_kind("1594", None) == refused
    assert module.miss_kind("1594", "594") == merged  # the 1 read as part of the 5
    assert module.miss_kind("1594", "15394") == split
    assert module.miss_kind("1594", "1574") == misread


class _ReaderOf:
    """A stand-in for DigitReader: reads every picture as ``text`` (None: refuses it), and
    keeps the pictures it was given."""

    def __init__(self, text: str | None):
        self.text, self.pictures = text, []

    def read(self, picture):
        self.pictures.append(picture)
        if self.text is None:
            raise ImageInputError("Not a digit")
        return argparse.Namespace(text=self.text)


def test_the_number_benchmark_writes_a_missed_digit_alone_in_the_numbers_style(mnist_test):
    module = benchmark_script("benchmark_numbers")
    x, y = mnist_test
    seven, one = np.flatnonzero(y == 7)[0], np.flatnonzero(y == 1)[0]
    rng = np.random.default_rng(0)
    sample = render_number(x[[seven, one]], y[[seven, one]], rng, style="photo", brush="fat")
    assert sample.label == "71" and (sample.digits == x[[seven, one]]).all()
    reader = _ReaderOf("1")
    assert module.missed_alone(reader, sample, 0, rng)  # the 7, read alone as 1: misread
    assert not module.missed_alone(reader, sample, 1, rng)  # the 1, read alone as 1
    assert all(isinstance(p, bytes) for p in reader.pictures)  # photos, as the number was
    assert module.missed_alone(_ReaderOf(None), sample, 1, rng)  # a refusal is a miss


def test_the_number_benchmark_finds_the_digits_missed_in_a_number_cut_into_the_right_count():
    module = benchmark_script("benchmark_numbers")
    assert module.missed_digits("1594", "1574", None) == [2]
    assert module.missed_digits("1594", "7574", None) == [0, 2]
    assert module.missed_digits("1594", "1594", None) == []
    assert module.missed_digits("1594", "594", None) == []  # merged: no digit to blame
    refusal = NotADigitError("Not a digit at position 3 of 4: ...", 3, 4)
    assert module.missed_digits("1594", None, refusal) == [2]
    assert module.missed_digits("1594", None, NotADigitError("...", 2, 3)) == []  # cut in 3
    assert module.missed_digits("1594", None, ImageInputError("too small")) == []


def test_the_number_benchmark_photographs_the_same_numbers_on_each_kind_of_paper():
    module = benchmark_script("benchmark_numbers")
    reader = _ReaderOf(None)  # refuses every picture
    rows = module.numbers_on_paper(reader, 2, "validation", seed=0, mnist_dir=None)
    kinds = {**PAPERS, **WHOLE_PAGE}  # each paper, then plain paper photographed whole
    assert rows == [(kind, 2, 0.0, 2) for kind in kinds]
    assert len(reader.pictures) == 2 * len(kinds)
    assert all(isinstance(p, bytes) for p in reader.pictures)  # photos (JPEG), each its own
    assert len(set(reader.pictures)) == len(reader.pictures)
    assert "| a hard shadow across it | 2 | 0.0% | 2 |" in module.on_paper_table(rows)
    first, second = [sample.label for sample in module.make_numbers(
        2, split="validation", lengths=tuple(module.CORE_LENGTHS), gaps=("mixed",),
        styles=("sketch",))]
    assert first != second
    # read as the first number, whatever the picture: that one is read exactly on each paper
    rows = module.numbers_on_paper(_ReaderOf(first), 2, "validation", seed=0, mnist_dir=None)
    assert rows == [(kind, 2, 0.5, 0) for kind in kinds]


def test_a_whole_page_holds_the_writing_shrunk_and_all_of_it():
    writing = np.zeros((400, 900), np.uint8)
    writing[100:300, 50:850] = 255  # a block half the canvas tall
    page = on_a_page(writing, np.random.default_rng(0))
    assert page.shape == drawings.PAGE
    scale = drawings.PAGE[0] * drawings.PAGE_WRITING / 400  # the canvas at a fifth of the page
    rows, cols = np.nonzero(page > 127)
    assert rows.max() - rows.min() + 1 == pytest.approx(200 * scale, abs=1)
    assert cols.max() - cols.min() + 1 == pytest.approx(800 * scale, abs=1)
    assert page.sum() == pytest.approx(writing.sum() * scale ** 2, rel=0.01)  # none cut off


@pytest.mark.parametrize("other", [{"on_desk": True}, {"chalkboard": True}])
def test_a_sheet_photographed_at_a_slant_is_no_other_kind_of_photo(other):
    ink = np.zeros((64, 64), np.uint8)
    with pytest.raises(ValueError, match="slant"):
        photo(ink, np.random.default_rng(0), slanted=True, **other)
    assert photo(ink, np.random.default_rng(0), slanted=True)[:2] == b"\xff\xd8"  # a JPEG


def test_a_hard_shadow_on_a_note_on_a_desk_falls_across_the_whole_photo(monkeypatch):
    seen = []

    def half_the_light(rng, h, w):  # (draws nothing: the photo's other draws stay as they were)
        seen.append((h, w))
        return np.full((h, w), 0.5, np.float32)

    monkeypatch.setattr(drawings, "_shadowed", half_the_light)
    ink = np.zeros((64, 64), np.uint8)
    lit, shaded = (np.asarray(Image.open(io.BytesIO(photo(
        ink, np.random.default_rng(0), on_desk=True, **kind))), np.float32)
        for kind in ({}, {"shadow": True}))
    assert seen == [lit.shape[:2]] and lit.shape[0] > 64  # the desk's photo, not the sheet
    assert np.abs(shaded - 0.5 * lit).mean() < 2  # the desk as dimmed as the sheet (JPEG aside)

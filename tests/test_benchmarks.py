"""The benchmarks' shared start (benchmarks.inputs): the flags every benchmark takes."""

from __future__ import annotations

import argparse

import pytest

from benchmarks.inputs import add_arguments, load_inputs
from digit_recognizer import model_folder


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


def test_benchmarks_that_do_not_read_pictures_have_no_threshold_flag():
    with pytest.raises(SystemExit):
        parsed(["--threshold", "0.7"], threshold=False)

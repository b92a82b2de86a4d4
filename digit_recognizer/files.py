"""Atomic file writes: a reader, or a process killed mid-write, never sees half a file.

Light on purpose (standard library only): the app, training and evaluation all use it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path


def _temporary_sibling(path: Path, kind: str = "tmp") -> Path:
    # hidden (hub uploads skip dot files), same directory (so os.replace is a rename), and
    # ending in the real name (Keras and savefig look at its suffixes: ".weights.h5")
    return path.with_name(f".{secrets.token_hex(4)}.{kind}.{path.name}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path`` to write to; if the block succeeds it is renamed
    onto ``path``, otherwise deleted, and ``path`` keeps its old content either way."""
    path = Path(path)
    tmp = _temporary_sibling(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` all at once or not at all."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a new empty directory next to ``path`` to fill; if the block succeeds it replaces
    ``path`` (and whatever was there), otherwise it is deleted and ``path`` is left alone."""
    path = Path(path)
    tmp = _temporary_sibling(path)
    tmp.mkdir()
    try:
        yield tmp
        if path.exists():
            # rename() cannot replace a non-empty directory: move the old one aside first
            old = _temporary_sibling(path, "old")
            os.replace(path, old)
            try:
                os.replace(tmp, path)
            except OSError:
                os.replace(old, path)  # put the previous folder back
                raise
            shutil.rmtree(old)
        else:
            os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

"""MNIST from its original IDX files: read, verify, download, cache.

    from digit_recognizer.data import load_mnist, split_validation
    (x_train, y_train), (x_test, y_test) = load_mnist()          # uint8, (N, 28, 28) and (N,)
    (x_fit, y_fit), (x_val, y_val) = split_validation(x_train, y_train, n_val=5000, seed=0)

Where the files come from, first match wins:
  1. an explicit directory: the ``data_dir`` argument (``--data-dir`` in scripts/train.py),
     else the ``MNIST_DIR`` environment variable;
  2. the per-user cache (``$DIGIT_RECOGNIZER_CACHE`` or ``~/.cache/digit_recognizer/mnist``);
  3. a download of the canonical four files into that cache.
Every file is checked against the SHA-256 of its *uncompressed* content, so a gzip copy, a
raw copy and a fresh download are all accepted, and a corrupt one never is.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digit_recognizer.files import atomic_path

ENV_DATA_DIR = "MNIST_DIR"  # explicit local copy of the four files
ENV_CACHE_DIR = "DIGIT_RECOGNIZER_CACHE"  # overrides the per-user cache location
MIRRORS = (  # tried in order; yann.lecun.com itself now asks for a login
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
DOWNLOAD_TIMEOUT_S = 30


@dataclass(frozen=True)
class IdxFile:
    name: str  # file name without ".gz"
    shape: tuple[int, ...]  # expected array shape
    sha256: str  # of the uncompressed content


FILES = {
    "train_images": IdxFile("train-images-idx3-ubyte", (60000, 28, 28),
                            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    "train_labels": IdxFile("train-labels-idx1-ubyte", (60000,),
                            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    "test_images": IdxFile("t10k-images-idx3-ubyte", (10000, 28, 28),
                           "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    "test_labels": IdxFile("t10k-labels-idx1-ubyte", (10000,),
                           "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
}

_IDX_UINT8 = 0x08  # the IDX type code for unsigned bytes, the only one MNIST uses


class MnistError(RuntimeError):
    """MNIST files are missing, corrupt, or cannot be fetched. The message says what to do."""


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (gzip-compressed or raw) into a uint8 array of the shape it declares."""
    path = Path(path)
    try:
        raw = _read_bytes(path)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise MnistError(f"{path}: cannot read ({exc})") from exc
    return parse_idx(raw, source=str(path))


def parse_idx(raw: bytes, source: str = "<bytes>") -> np.ndarray:
    """Parse IDX bytes: magic (0, 0, type, ndim), ndim big-endian int32 sizes, then the data."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise MnistError(f"{source}: not an IDX file (bad magic number)")
    if raw[2] != _IDX_UINT8:
        raise MnistError(f"{source}: IDX type 0x{raw[2]:02x} is not unsigned bytes")
    ndim = raw[3]
    header_len = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header_len:
        raise MnistError(f"{source}: truncated IDX header")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(shape))
    actual = len(raw) - header_len
    if actual != expected:
        what = "truncated" if actual < expected else "has trailing bytes"
        raise MnistError(f"{source}: {what}: header declares {shape} = {expected} bytes, "
                         f"file holds {actual}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(shape)


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as f:
        head = f.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        return f.read()


def _find(directory: Path, name: str) -> Path | None:
    for candidate in (directory / f"{name}.gz", directory / name):
        if candidate.is_file():
            return candidate
    return None


def _load_verified(path: Path, spec: IdxFile) -> np.ndarray:
    raw = _read_bytes_or_fail(path)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != spec.sha256:
        raise MnistError(f"{path}: checksum mismatch (content SHA-256 {digest[:16]}..., expected "
                         f"{spec.sha256[:16]}...): the file is corrupt or not MNIST; "
                         "delete it or point at a good copy")
    array = parse_idx(raw, source=str(path))
    if array.shape != spec.shape:
        raise MnistError(f"{path}: shape {array.shape}, expected {spec.shape}")
    return array


def _read_bytes_or_fail(path: Path) -> bytes:
    try:
        return _read_bytes(path)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise MnistError(f"{path}: cannot read ({exc})") from exc


def cache_dir() -> Path:
    """The per-user cache directory for downloaded MNIST files."""
    return Path(os.environ.get(ENV_CACHE_DIR) or Path.home() / ".cache" / "digit_recognizer" / "mnist")


def download(spec: IdxFile, directory: Path) -> Path:
    """Fetch ``spec`` from the first mirror that answers, verify it, then move it into place."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{spec.name}.gz"
    errors = []
    for mirror in MIRRORS:
        url = f"{mirror}{spec.name}.gz"
        try:
            with atomic_path(target) as tmp:
                with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response, \
                        open(tmp, "wb") as file:
                    shutil.copyfileobj(response, file)
                _load_verified(tmp, spec)  # a bad download raises here: it is never cached
            return target
        except (urllib.error.URLError, OSError, MnistError) as exc:
            errors.append(f"{url}: {exc}")
    raise MnistError(
        f"could not download {spec.name}.gz ({'; '.join(errors)}).\n"
        f"If you are offline, point at a local copy of the four MNIST .gz files with "
        f"--data-dir DIR or the {ENV_DATA_DIR}=DIR environment variable.")


def locate(data_dir: str | os.PathLike | None = None, allow_download: bool = True) -> dict[str, Path]:
    """Find (or fetch) the four files; returns {key: path}. See the module docstring for the order."""
    explicit = data_dir or os.environ.get(ENV_DATA_DIR)
    if explicit:
        directory = Path(explicit).expanduser()
        if not directory.is_dir():
            raise MnistError(f"{directory}: no such directory (it should hold the four MNIST "
                             f".gz files)")
        found = {key: _find(directory, spec.name) for key, spec in FILES.items()}
        missing = [FILES[k].name for k, p in found.items() if p is None]
        if missing:
            raise MnistError(f"{directory}: missing {', '.join(missing)} (.gz or raw)")
        return found
    cache = cache_dir()
    paths = {}
    for key, spec in FILES.items():
        path = _find(cache, spec.name)
        if path is None:
            if not allow_download:
                raise MnistError(f"{spec.name} is not in {cache} and downloading is off; "
                                 f"use --data-dir DIR or {ENV_DATA_DIR}=DIR")
            path = download(spec, cache)
        paths[key] = path
    return paths


def load_mnist(data_dir: str | os.PathLike | None = None, allow_download: bool = True
               ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Return ``(x_train, y_train), (x_test, y_test)`` as verified uint8 arrays."""
    paths = locate(data_dir, allow_download)
    arrays = {key: _load_verified(paths[key], FILES[key]) for key in FILES}
    return (arrays["train_images"], arrays["train_labels"]), (arrays["test_images"], arrays["test_labels"])


def split_validation(x: np.ndarray, y: np.ndarray, n_val: int, seed: int
                     ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Carve a validation set out of the training set (the test set never picks anything)."""
    order = np.random.default_rng(seed).permutation(len(x))
    val, fit = order[:n_val], order[n_val:]
    return (x[fit], y[fit]), (x[val], y[val])

"""digit_recognizer.data: the IDX reader, checksums, where the files come from, the split.

Most tests use tiny synthetic IDX files standing in for MNIST's four (``fake_mnist``), so the
source order and the download path run without the real data or a network.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import urllib.error

import numpy as np
import pytest

from digit_recognizer import data
from digit_recognizer.data import IdxFile, MnistError


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array: magic (0, 0, 0x08, ndim), big-endian sizes, data."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.astype(np.uint8).tobytes()


def spec_for(name: str, array: np.ndarray) -> IdxFile:
    return IdxFile(name, array.shape, hashlib.sha256(idx_bytes(array)).hexdigest())


@pytest.fixture
def fake_mnist(monkeypatch, tmp_path):
    """Four small IDX arrays registered as data.FILES; returns {key: array}. The environment
    variables are cleared and the cache points into tmp_path, so nothing outside is touched."""
    rng = np.random.default_rng(0)
    arrays = {"train_images": rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
              "train_labels": rng.integers(0, 10, 12, dtype=np.uint8),
              "test_images": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
              "test_labels": rng.integers(0, 10, 5, dtype=np.uint8)}
    specs = {key: spec_for(data.FILES[key].name, array) for key, array in arrays.items()}
    monkeypatch.setattr(data, "FILES", specs)
    monkeypatch.delenv(data.ENV_DATA_DIR, raising=False)
    monkeypatch.setenv(data.ENV_CACHE_DIR, str(tmp_path / "cache"))
    return arrays


def write_files(directory, arrays: dict[str, np.ndarray], compress: bool = True) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for key, array in arrays.items():
        raw = idx_bytes(array)
        name = data.FILES[key].name
        if compress:
            (directory / f"{name}.gz").write_bytes(gzip.compress(raw))
        else:
            (directory / name).write_bytes(raw)


def no_download(spec, directory):
    raise AssertionError(f"unexpected download of {spec.name}")


# --- the IDX reader -----------------------------------------------------------------------

@pytest.mark.parametrize("compress", [True, False], ids=["gzip", "raw"])
def test_read_idx_round_trips(tmp_path, compress):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    raw = idx_bytes(array)
    path = tmp_path / "images"
    path.write_bytes(gzip.compress(raw) if compress else raw)
    result = data.read_idx(path)
    assert result.dtype == np.uint8 and result.shape == (2, 3, 4)
    np.testing.assert_array_equal(result, array)


GOOD = idx_bytes(np.zeros((3, 2, 2), np.uint8))


@pytest.mark.parametrize("raw, message", [
    (b"", "bad magic number"),
    (b"\x01\x00" + GOOD[2:], "bad magic number"),
    (GOOD[:2] + b"\x0d" + GOOD[3:], "IDX type 0x0d is not unsigned bytes"),
    (GOOD[:4] + GOOD[4:9], "truncated IDX header"),
    (GOOD[:-1], "truncated: header declares (3, 2, 2) = 12 bytes, file holds 11"),
    (GOOD + b"\x00", "has trailing bytes"),
], ids=["empty", "magic", "type", "header", "truncated", "trailing"])
def test_corrupt_idx_is_an_error_naming_the_file(tmp_path, raw, message):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(raw)
    with pytest.raises(MnistError) as error:
        data.read_idx(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_truncated_gzip_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(GOOD)[:-10])
    with pytest.raises(MnistError, match="cannot read") as error:
        data.read_idx(path)
    assert str(path) in str(error.value)


# --- checksums and shapes -------------------------------------------------------------------

def test_load_mnist_from_a_directory_gzip_or_raw(fake_mnist, tmp_path, monkeypatch):
    monkeypatch.setattr(data, "download", no_download)
    write_files(tmp_path / "gz", fake_mnist)
    write_files(tmp_path / "raw", fake_mnist, compress=False)
    for directory in ("gz", "raw"):
        (x_train, y_train), (x_test, y_test) = data.load_mnist(tmp_path / directory)
        np.testing.assert_array_equal(x_train, fake_mnist["train_images"])
        np.testing.assert_array_equal(y_train, fake_mnist["train_labels"])
        np.testing.assert_array_equal(x_test, fake_mnist["test_images"])
        np.testing.assert_array_equal(y_test, fake_mnist["test_labels"])


def test_a_file_with_the_wrong_content_is_refused(fake_mnist, tmp_path):
    tampered = dict(fake_mnist, test_labels=(fake_mnist["test_labels"] + 1) % 10)
    write_files(tmp_path, tampered)
    with pytest.raises(MnistError, match="checksum mismatch") as error:
        data.load_mnist(tmp_path)
    assert "t10k-labels-idx1-ubyte.gz" in str(error.value)


def test_a_valid_idx_file_of_the_wrong_shape_is_refused(fake_mnist, tmp_path, monkeypatch):
    write_files(tmp_path, fake_mnist)
    wrong = IdxFile(data.FILES["train_labels"].name, (13,), data.FILES["train_labels"].sha256)
    monkeypatch.setitem(data.FILES, "train_labels", wrong)
    with pytest.raises(MnistError, match=r"shape \(12,\), expected \(13,\)"):
        data.load_mnist(tmp_path)


# --- where the files come from: explicit dir, MNIST_DIR, cache, download ---------------------

def test_explicit_directory_beats_the_environment_and_the_cache(fake_mnist, tmp_path,
                                                                monkeypatch):
    monkeypatch.setattr(data, "download", no_download)
    for name in ("explicit", "env", "cache"):
        write_files(tmp_path / name, fake_mnist)
    monkeypatch.setenv(data.ENV_DATA_DIR, str(tmp_path / "env"))
    assert data.locate(tmp_path / "explicit")["train_images"].parent == tmp_path / "explicit"
    assert data.locate()["train_images"].parent == tmp_path / "env"
    monkeypatch.delenv(data.ENV_DATA_DIR)
    assert data.locate()["train_images"].parent == tmp_path / "cache"


@pytest.mark.parametrize("where", ["argument", "environment"])
def test_an_explicit_directory_is_never_silently_replaced(fake_mnist, tmp_path, monkeypatch,
                                                          where):
    monkeypatch.setattr(data, "download", no_download)
    write_files(tmp_path / "cache", fake_mnist)  # a good cache must not mask the mistake
    missing = tmp_path / "typo"
    if where == "environment":
        monkeypatch.setenv(data.ENV_DATA_DIR, str(missing))
    with pytest.raises(MnistError, match="no such directory") as error:
        data.locate(missing if where == "argument" else None)
    assert str(missing) in str(error.value)


def test_a_directory_missing_files_names_them(fake_mnist, tmp_path):
    write_files(tmp_path, {k: v for k, v in fake_mnist.items() if k != "test_images"})
    with pytest.raises(MnistError, match="missing t10k-images-idx3-ubyte"):
        data.locate(tmp_path)


class FakeMirrors:
    """Stands in for urllib.request.urlopen: serves bytes by URL; other URLs are unreachable."""

    def __init__(self, served: dict[str, bytes]):
        self.served = served
        self.requested: list[str] = []

    def __call__(self, url, timeout):
        self.requested.append(url)
        if url not in self.served:
            raise urllib.error.URLError("unreachable")
        return io.BytesIO(self.served[url])


def test_missing_cache_files_are_downloaded_verified_and_cached(fake_mnist, tmp_path,
                                                                monkeypatch):
    # the first mirror is down: the second one serves every file
    mirrors = FakeMirrors({f"{data.MIRRORS[1]}{spec.name}.gz": gzip.compress(
        idx_bytes(fake_mnist[key])) for key, spec in data.FILES.items()})
    monkeypatch.setattr(data.urllib.request, "urlopen", mirrors)
    (x_train, _), _ = data.load_mnist()
    np.testing.assert_array_equal(x_train, fake_mnist["train_images"])
    assert len(mirrors.requested) == 8  # each file: the first mirror, then the second
    cache = tmp_path / "cache"
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        f"{spec.name}.gz" for spec in data.FILES.values())  # no temporary files left

    mirrors.requested.clear()
    data.load_mnist()  # second time: from the cache
    assert mirrors.requested == []


def test_a_bad_download_is_never_cached(fake_mnist, tmp_path, monkeypatch):
    spec = data.FILES["train_labels"]
    corrupt = gzip.compress(idx_bytes(fake_mnist["train_labels"] // 2))
    mirrors = FakeMirrors({f"{mirror}{spec.name}.gz": corrupt for mirror in data.MIRRORS})
    monkeypatch.setattr(data.urllib.request, "urlopen", mirrors)
    with pytest.raises(MnistError, match="checksum mismatch"):
        data.download(spec, tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_offline_without_a_local_copy_says_how_to_point_at_one(fake_mnist, monkeypatch):
    monkeypatch.setattr(data.urllib.request, "urlopen", FakeMirrors({}))
    with pytest.raises(MnistError) as error:
        data.load_mnist()
    message = str(error.value)
    assert "could not download" in message
    assert "--data-dir DIR" in message and f"{data.ENV_DATA_DIR}=DIR" in message


def test_downloading_can_be_turned_off(fake_mnist, monkeypatch):
    monkeypatch.setattr(data, "download", no_download)
    with pytest.raises(MnistError, match="downloading is off"):
        data.load_mnist(allow_download=False)


# --- the real files and the validation split --------------------------------------------------

def test_the_real_mnist_files_have_the_canonical_shapes():
    (x_train, y_train), (x_test, y_test) = data.load_mnist()  # MNIST_DIR, or cache/download
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == x_test.dtype == y_train.dtype == np.uint8
    assert set(np.unique(y_train)) == set(np.unique(y_test)) == set(range(10))


def test_split_validation_is_a_seeded_partition():
    x = np.arange(100).reshape(100, 1)
    y = np.arange(100) % 10
    (x_fit, y_fit), (x_val, y_val) = data.split_validation(x, y, n_val=20, seed=3)
    assert len(x_val) == 20 and len(x_fit) == 80
    assert sorted(np.concatenate([x_fit, x_val]).ravel()) == list(range(100))
    np.testing.assert_array_equal(y_val, x_val.ravel() % 10)  # pairs stay together
    (_, _), (x_val_again, _) = data.split_validation(x, y, n_val=20, seed=3)
    (_, _), (x_val_other, _) = data.split_validation(x, y, n_val=20, seed=4)
    np.testing.assert_array_equal(x_val, x_val_again)
    assert not np.array_equal(x_val, x_val_other)

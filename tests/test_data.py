import gzip

import numpy as np
import pytest

from course import data


def test_fashion_mnist_loads_with_verified_checksums():
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist(download=False)
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert set(np.unique(y_train)) == set(range(10))
    assert len(data.CLASS_NAMES) == 10


def test_missing_data_error_names_every_place(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "cache"))
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "debian")
    with pytest.raises(data.DataNotFoundError) as info:
        data.locate_fashion_mnist(download=False)
    message = str(info.value)
    assert str(tmp_path / "cache" / "fashion-mnist") in message
    assert str(tmp_path / "debian") in message
    assert "make data" in message


def test_corrupt_cached_file_is_reported_and_skipped(monkeypatch, tmp_path):
    cache = tmp_path / "fashion-mnist"
    cache.mkdir()
    for name in data.FASHION_MNIST_SHA256:
        (cache / name).write_bytes(b"not the real file")
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "nowhere")
    with pytest.raises(data.DataNotFoundError, match="SHA-256 .* does not match"):
        data.locate_fashion_mnist(download=False)


def test_failed_download_is_reported(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "nowhere")

    def offline():
        raise OSError("name resolution failed")

    monkeypatch.setattr(data, "_download_to_cache", offline)
    with pytest.raises(data.DataNotFoundError, match="keras.datasets.fashion_mnist's source.*name resolution"):
        data.locate_fashion_mnist(download=True)


def test_read_idx_rejects_wrong_header(tmp_path):
    path = tmp_path / "bad.gz"
    with gzip.open(path, "wb") as f:
        f.write(b"\x00\x00\x0d\x01" + (3).to_bytes(4, "big") + b"abc")
    with pytest.raises(ValueError, match="not an unsigned-byte IDX file"):
        data.read_idx(path)


def test_sample_indices_is_deterministic_balanced_and_distinct():
    y = np.repeat(np.arange(10), 100)
    a = data.sample_indices(y, 53, seed=3)
    assert np.array_equal(a, data.sample_indices(y, 53, seed=3))
    assert not np.array_equal(a, data.sample_indices(y, 53, seed=4))
    assert len(np.unique(a)) == 53 and np.all(np.diff(a) > 0)
    counts = np.bincount(y[a], minlength=10)
    assert counts.max() - counts.min() <= 1


def test_sample_indices_rejects_impossible_sizes():
    with pytest.raises(ValueError, match="cannot sample 11 indices from 10"):
        data.sample_indices(np.zeros(10, dtype=int), 11)


def test_split_is_disjoint_balanced_and_reproducible():
    s = data.fashion_mnist_split(num_train=200, num_val=50, num_test=30, seed=0)
    assert s.x_train.shape == (200, 28, 28) and s.x_val.shape == (50, 28, 28) and s.x_test.shape == (30, 28, 28)
    for labels in (s.y_train, s.y_val, s.y_test):
        counts = np.bincount(labels, minlength=10)
        assert counts.max() - counts.min() <= 2
    again = data.fashion_mnist_split(num_train=200, num_val=50, num_test=30, seed=0)
    assert np.array_equal(s.x_train, again.x_train) and np.array_equal(s.y_val, again.y_val)
    train_rows = {row.tobytes() for row in s.x_train}
    assert not any(row.tobytes() in train_rows for row in s.x_val)


def test_digits_and_sample_photo_load_offline():
    images, labels = data.load_digits()
    assert images.shape == (1797, 8, 8) and labels.shape == (1797,)
    photo = data.load_sample_photo("china.jpg")
    assert photo.shape == (427, 640, 3) and photo.dtype == np.uint8
    with pytest.raises(ValueError, match="unknown sample photo 'cat.jpg'"):
        data.load_sample_photo("cat.jpg")

"""Datasets for the course: Fashion-MNIST (offline first, checksummed), digits, sample photos.

Fashion-MNIST is looked for, in order, in:

1. the course data cache, ``$COURSE_DATA/fashion-mnist``, else ``<repo>/data/fashion-mnist`` in a
   clone, else ``~/.cache/dl-course/fashion-mnist`` (Colab, an installed package);
2. Keras' own cache, ``~/.keras/datasets/fashion-mnist`` (where ``keras.datasets.fashion_mnist``
   saves its download);
3. Debian's ``dataset-fashion-mnist`` package, ``/usr/share/datasets/fashion-mnist``;
4. the download that ``keras.datasets.fashion_mnist`` uses (same four files), saved in the cache.

Every file is checked against its SHA-256 before use. When no place works, the error names
every place and what was wrong there.

Usage:
    >>> from course import data
    >>> (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist()
    >>> split = data.fashion_mnist_split(num_train=5000, num_val=0, num_test=500, seed=0)
"""

import gzip
import hashlib
import os
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from course.config import data_dir

CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
"""Fashion-MNIST's class names, indexed by label."""

FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
}
"""SHA-256 of the four IDX files (identical in Zalando's release, Keras' mirror and Debian's package)."""

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


class DataNotFoundError(FileNotFoundError):
    """Raised when no place holds a verified copy of a dataset."""


def sha256(path: Path) -> str:
    """Returns the hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_dir() -> Path:
    """Returns the course cache folder for Fashion-MNIST."""
    return data_dir() / "fashion-mnist"


def keras_cache_dir() -> Path:
    """Returns where ``keras.datasets.fashion_mnist`` keeps its download (``$KERAS_HOME``, else ~/.keras)."""
    home = os.environ.get("KERAS_HOME")
    return (Path(home).expanduser() if home else Path.home() / ".keras") / "datasets" / "fashion-mnist"


def _problems_in(folder: Path) -> list[str]:
    """Returns what is wrong with a candidate folder (empty when all four files verify)."""
    if not folder.is_dir():
        return [f"{folder}: no such folder"]
    problems = []
    for name, expected in FASHION_MNIST_SHA256.items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{path}: missing")
        elif (actual := sha256(path)) != expected:
            problems.append(f"{path}: SHA-256 {actual[:16]}… does not match {expected[:16]}…")
    return problems


def _download_to_cache() -> Path:
    """Downloads the four files the way ``keras.datasets.fashion_mnist`` does, into the cache."""
    from keras.utils import get_file  # imported here: loading Keras takes seconds

    target = cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    for name, expected in FASHION_MNIST_SHA256.items():
        downloaded = Path(get_file(name, origin=KERAS_ORIGIN + name, file_hash=expected,
                                   cache_dir=str(target / ".keras"), cache_subdir="."))
        shutil.copyfile(downloaded, target / name)
    shutil.rmtree(target / ".keras", ignore_errors=True)
    return target


def locate_fashion_mnist(download: bool = True) -> Path:
    """Returns a folder holding the four verified Fashion-MNIST files.

    Args:
        download: whether to try the Keras download when no local copy verifies.

    Raises:
        DataNotFoundError: naming every place looked at and what was wrong there.
    """
    report = []
    for folder in (cache_dir(), keras_cache_dir(), DEBIAN_DIR):
        problems = _problems_in(folder)
        if not problems:
            if any(not p.endswith("no such folder") for p in report):
                warnings.warn("Fashion-MNIST: using " + str(folder) + "; skipped:\n  " + "\n  ".join(report),
                              stacklevel=2)
            return folder
        report += problems
    if download:
        try:
            folder = _download_to_cache()
        except Exception as exc:  # noqa: BLE001 - any failure is reported with the others
            report.append(f"{KERAS_ORIGIN} (keras.datasets.fashion_mnist's source): {type(exc).__name__}: {exc}")
        else:
            if not (problems := _problems_in(folder)):
                return folder
            report += problems
    raise DataNotFoundError(
        "Fashion-MNIST was not found. Looked at:\n  " + "\n  ".join(report) + "\n"
        "Fix: `make data` (installs Debian's dataset-fashion-mnist when run as root), "
        "or copy the four .gz files into " + str(cache_dir()) + ", or set COURSE_DATA."
    )


def read_idx(path: Path) -> np.ndarray:
    """Reads a gzipped IDX file (the MNIST format) into a uint8 array.

    Returns:
        array of shape (N,) for labels or (N, 28, 28) for images.
    """
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file (header {raw[:4].hex()})")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says shape {shape}, file holds {data.size} values")
    return data.reshape(shape)


def load_fashion_mnist(download: bool = True):
    """Loads Fashion-MNIST, like ``keras.datasets.fashion_mnist.load_data()``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape (60000, 28, 28) and
        (10000, 28, 28); uint8 labels of shape (60000,) and (10000,).
    """
    folder = locate_fashion_mnist(download=download)
    x_train = read_idx(folder / "train-images-idx3-ubyte.gz")
    y_train = read_idx(folder / "train-labels-idx1-ubyte.gz")
    x_test = read_idx(folder / "t10k-images-idx3-ubyte.gz")
    y_test = read_idx(folder / "t10k-labels-idx1-ubyte.gz")
    return (x_train, y_train), (x_test, y_test)


def sample_indices(y: np.ndarray, num: int, seed: int = 0, stratified: bool = True) -> np.ndarray:
    """Returns ``num`` distinct indices into ``y``, deterministic for a seed, in increasing order.

    Args:
        y: int labels of shape (N,).
        num: how many indices, ``0 <= num <= N``.
        seed: seed of the NumPy generator.
        stratified: when True, each class gets ``num // C`` indices and the remainder is spread
            over the first classes, so class counts differ by at most one.

    Returns:
        int array of shape (num,).
    """
    y = np.asarray(y)
    if not 0 <= num <= len(y):
        raise ValueError(f"cannot sample {num} indices from {len(y)} examples")
    rng = np.random.default_rng(seed)
    if not stratified:
        return np.sort(rng.choice(len(y), size=num, replace=False))
    classes = np.unique(y)
    per_class = np.full(len(classes), num // len(classes))
    per_class[: num % len(classes)] += 1
    chosen = []
    for c, n in zip(classes, per_class):
        members = np.flatnonzero(y == c)
        if n > len(members):
            raise ValueError(f"class {c} has {len(members)} examples, {n} were asked for")
        chosen.append(rng.choice(members, size=n, replace=False))
    return np.sort(np.concatenate(chosen))


@dataclass
class Split:
    """A train / validation / test split. Images are uint8 (N, 28, 28); labels int64 (N,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={getattr(self, k).shape}" for k in ("x_train", "x_val", "x_test"))
        return f"Split({sizes})"


def fashion_mnist_split(num_train: int, num_val: int, num_test: int, seed: int = 0) -> Split:
    """Returns a deterministic, class-balanced split of Fashion-MNIST.

    Training and validation examples come from the official training set (disjoint), test
    examples from the official test set.

    Args:
        num_train: training examples (at most 60000 - num_val).
        num_val: validation examples (may be 0).
        num_test: test examples (at most 10000).
        seed: seed for the sampling.
    """
    (x_tr, y_tr), (x_te, y_te) = load_fashion_mnist()
    pool = sample_indices(y_tr, num_train + num_val, seed=seed)
    val_idx = pool[sample_indices(y_tr[pool], num_val, seed=seed + 1)]  # a balanced part of the pool
    train_idx = np.setdiff1d(pool, val_idx)
    test_idx = sample_indices(y_te, num_test, seed=seed)
    return Split(
        x_train=x_tr[train_idx], y_train=y_tr[train_idx].astype(np.int64),
        x_val=x_tr[val_idx], y_val=y_tr[val_idx].astype(np.int64),
        x_test=x_te[test_idx], y_test=y_te[test_idx].astype(np.int64),
    )


def load_digits():
    """Loads scikit-learn's bundled 8x8 digits (offline).

    Returns:
        ``(images, labels)``: float64 images of shape (1797, 8, 8) with values 0..16, int
        labels of shape (1797,).
    """
    from sklearn.datasets import load_digits as _load_digits

    digits = _load_digits()
    return digits.images.astype(np.float64), digits.target.astype(np.int64)


SAMPLE_PHOTOS = ("china.jpg", "flower.jpg")


def load_sample_photo(name: str = "china.jpg") -> np.ndarray:
    """Loads a colour photo bundled with scikit-learn (offline).

    Args:
        name: one of ``SAMPLE_PHOTOS``.

    Returns:
        uint8 array of shape (427, 640, 3), channels-last RGB.
    """
    if name not in SAMPLE_PHOTOS:
        raise ValueError(f"unknown sample photo {name!r}; choose from {SAMPLE_PHOTOS}")
    from sklearn.datasets import load_sample_image

    return load_sample_image(name)

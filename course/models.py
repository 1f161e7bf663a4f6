"""Reference models shipped with the course, verified by SHA-256 before use.

The reference builder (``autograder/build_base_models.py``) trains small Keras models with fixed
seeds and saves them in Keras' native format under ``data/models/``, next to ``provenance.json``,
which records for each model its file, SHA-256, data, classes, seed, epochs, accuracy, library
versions, device and date. In a clone of the course nothing is downloaded: a model that is missing
or whose checksum does not match is an error that says how to rebuild it. Outside one (Colab, an
installed package), a missing ``provenance.json`` or model is downloaded once into the cache
(``course.config.data_dir()/models``) from this release of the course's repository
(``course.REPOSITORY`` at ``course.RELEASE_TAG``; ``$COURSE_DOWNLOAD_BASE`` replaces that address),
and the model is verified against its SHA-256 all the same.

Usage:
    >>> from course import models
    >>> info = models.model_info("random_A")     # provenance of one model (classes, accuracy, ...)
    >>> base_a = models.load_base_model("random_A")
"""

import hashlib
import json
import os
import urllib.request
from pathlib import Path

from course.config import data_dir, repo_root

#: replaces the address shipped files are downloaded from (``<base>/data/models/...``)
DOWNLOAD_ENV = "COURSE_DOWNLOAD_BASE"

PROVENANCE = "provenance.json"
REBUILD = "python -m autograder.build_base_models  (or: make base-models)"


class ModelChecksumError(RuntimeError):
    """Raised when a shipped model is missing or its SHA-256 differs from its provenance."""


def models_dir() -> Path:
    """Returns the folder of the shipped models: ``<data>/models`` (see ``course.config.data_dir``)."""
    return data_dir() / "models"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_base() -> str:
    """The address of this release's files: ``$COURSE_DOWNLOAD_BASE``, else the repository's raw files at the tag."""
    from course import RELEASE_TAG, REPOSITORY

    base = os.environ.get(DOWNLOAD_ENV) or (
        REPOSITORY.replace("https://github.com/", "https://raw.githubusercontent.com/") + "/" + RELEASE_TAG)
    return base.rstrip("/")


def _fetch(path: Path) -> str | None:
    """Downloads a missing shipped file when no repository is here; returns why it could not, or None."""
    if repo_root() is not None:
        return f"Rebuild: {REBUILD}"
    try:
        rel = path.resolve().relative_to(models_dir().resolve()).as_posix()
    except ValueError:
        return f"{path} is outside the models cache {models_dir()}: nothing to download it from"
    url = f"{download_base()}/data/models/{rel}"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".download")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as f:
            f.write(response.read())
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        return f"downloading {url} failed ({type(exc).__name__}: {exc}); copy the file there by hand"
    tmp.replace(path)
    return None


def load_provenance(folder: Path | None = None) -> dict:
    """Returns the provenance file of the shipped models (a dict with ``models`` and ``builder``).

    Raises:
        ModelChecksumError: when the file is missing (and, outside a clone, cannot be downloaded).
    """
    path = Path(folder or models_dir()) / PROVENANCE
    if not path.is_file() and (why := _fetch(path)):
        raise ModelChecksumError(f"{path} is missing: the course's base models are not here. {why}")
    return json.loads(path.read_text())


def model_names(folder: Path | None = None) -> list[str]:
    """Returns the names of the shipped models, e.g. ``["dissimilar_A", ..., "random_B"]``."""
    return sorted(load_provenance(folder)["models"])


def model_info(name: str, folder: Path | None = None) -> dict:
    """Returns the provenance entry of one model (file, sha256, classes, seed, epochs, accuracy, ...).

    Raises:
        KeyError: naming the known models when ``name`` is not one of them.
    """
    entries = load_provenance(folder)["models"]
    if name not in entries:
        raise KeyError(f"no shipped model named {name!r}; known: {sorted(entries)}")
    return entries[name]


def verify_model(name: str, folder: Path | None = None) -> Path:
    """Checks a shipped model's file against the SHA-256 in its provenance; returns its path.

    Raises:
        ModelChecksumError: when the file is missing or its checksum differs.
    """
    folder = Path(folder or models_dir())
    info = model_info(name, folder)
    path = folder / info["file"]
    if not path.is_file() and (why := _fetch(path)):
        raise ModelChecksumError(f"{path} is missing. {why}")
    actual = _sha256(path)
    if actual != info["sha256"]:
        raise ModelChecksumError(
            f"{path}: SHA-256 {actual[:16]}... does not match {info['sha256'][:16]}... recorded in "
            f"{folder / PROVENANCE}. The file was changed or damaged; restore it with "
            f"`git checkout -- {path.name}` (in data/models/) or rebuild: {REBUILD}")
    return path


def load_base_model(name: str, folder: Path | None = None):
    """Verifies and loads a shipped model (an uncompiled ``keras.Model``; compile it to train it).

    Args:
        name: a name from ``model_names()``, e.g. ``"random_A"``.
        folder: where the models are (default ``models_dir()``).

    Raises:
        ModelChecksumError: when the file is missing or does not match its recorded SHA-256.
    """
    path = verify_model(name, folder)
    import keras  # imported here: loading Keras takes seconds

    return keras.models.load_model(path)

"""Reference models shipped with the course, verified by SHA-256 before use.

The reference builder (``autograder/build_base_models.py``) trains small Keras models with fixed
seeds and saves them in Keras' native format under ``data/models/``, next to ``provenance.json``,
which records for each model its file, SHA-256, data, classes, seed, epochs, accuracy, library
versions, device and date. Nothing is downloaded: a model that is missing or whose checksum does
not match is an error that says how to rebuild it.

Usage:
    >>> from course import models
    >>> info = models.model_info("random_A")     # provenance of one model (classes, accuracy, ...)
    >>> base_a = models.load_base_model("random_A")
"""

import hashlib
import json
from pathlib import Path

from course.config import data_dir

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


def load_provenance(folder: Path | None = None) -> dict:
    """Returns the provenance file of the shipped models (a dict with ``models`` and ``builder``).

    Raises:
        ModelChecksumError: when the file is missing.
    """
    path = Path(folder or models_dir()) / PROVENANCE
    if not path.is_file():
        raise ModelChecksumError(f"{path} is missing: the course's base models are not here. Rebuild: {REBUILD}")
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
    if not path.is_file():
        raise ModelChecksumError(f"{path} is missing. Rebuild the base models: {REBUILD}")
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

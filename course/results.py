"""A notebook's results, and the reference results they are compared with.

A notebook calls ``record("test_accuracy", acc)`` for each number worth keeping. When
``COURSE_RESULTS_FILE`` is set (the reference builder and the tests set it), the values are merged
into that JSON file; otherwise ``record`` only returns the value. Reference results live in
``autograder/references/<assignment>.json``, one entry per profile, with their provenance.
"""

import json
import os
from pathlib import Path

import numpy as np

from course.config import profile
from course.paths import Layout, repo_root
from course.protocol import RESULTS_FILE_ENV


def _plain(value):
    """Converts NumPy scalars and arrays (also inside lists and dicts) to JSON-ready values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def record(key: str, value):
    """Records a result under ``key`` (into ``$COURSE_RESULTS_FILE`` when set) and returns it."""
    path = os.environ.get(RESULTS_FILE_ENV)
    if path:
        path = Path(path)
        results = json.loads(path.read_text()) if path.is_file() else {}
        results[key] = _plain(value)
        path.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    return value


def load_reference(assignment_id: str, profile_name: str | None = None) -> dict | None:
    """Returns the reference results of an assignment for a profile (default: the active one).

    Returns:
        a dict with ``results`` and ``provenance``, or ``None`` when none is recorded here (an
        installed copy without the repository, or a grading kernel).
    """
    root = repo_root()
    path = Layout(root).references_file(assignment_id) if root else None
    if path is None or not path.is_file():
        return None
    return json.loads(path.read_text()).get("profiles", {}).get(profile_name or profile())

"""The course's nbgrader set-up, loaded from the repository's ``nbgrader_config.py``.

``course.release`` and ``course.autograde`` use ``make_api`` to run nbgrader in-process with
the course's settings, overriding folders or the gradebook where they work elsewhere.
"""

import os
import sys
from pathlib import Path

from course.config import repo_root


def load_course_config(root: Path | None = None):
    """Returns the traitlets ``Config`` of the course's ``nbgrader_config.py``."""
    from traitlets.config.loader import PyFileConfigLoader

    root = Path(root or repo_root() or ".")
    path = root / "nbgrader_config.py"
    if not path.is_file():
        raise FileNotFoundError(f"no nbgrader_config.py in {root}: run this from the course repository")
    return PyFileConfigLoader(path.name, path=str(root)).load_config()


def _put_environment_on_path() -> None:
    """nbgrader runs ``alembic`` from PATH when it creates a gradebook: make this environment's ``bin`` first."""
    bin_dir = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != bin_dir:
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def make_api(**course_directory):
    """Returns an ``NbGraderAPI`` with the course's config and ``CourseDirectory`` overrides.

    Args:
        course_directory: ``CourseDirectory`` traits to override, e.g.
            ``release_directory="/tmp/out"``, ``db_url="sqlite:////tmp/gb.db"``.
    """
    from nbgrader.apps import NbGraderAPI

    _put_environment_on_path()
    config = load_course_config()
    for key, value in course_directory.items():
        setattr(config.CourseDirectory, key, str(value))
    return NbGraderAPI(config=config)


def require_success(result: dict, what: str) -> None:
    """Raises ``RuntimeError`` with nbgrader's log when an API call failed."""
    if not result.get("success"):
        detail = "\n".join(s.strip() for s in (result.get("log"), result.get("error")) if s and s.strip())
        raise RuntimeError(f"{what} failed:\n{detail}")

"""The bridge to nbgrader: the course's ``nbgrader_config.py``, its API, and its gradebook.

``grader.release`` and ``grader.autograde`` run nbgrader in-process with the course's settings
(``make_api``), overriding folders or the gradebook where they work elsewhere;
``grader.autograde`` writes its scores into nbgrader's gradebook for the formgrader
(``write_gradebook``).
"""

import os
import sys
import warnings
from pathlib import Path

from course.paths import Layout, course_layout


def load_course_config(layout: Layout | None = None):
    """Returns the traitlets ``Config`` of the course's ``nbgrader_config.py``."""
    from traitlets.config.loader import PyFileConfigLoader

    path = (layout or course_layout()).nbgrader_config
    if not path.is_file():
        raise FileNotFoundError(f"no nbgrader_config.py in {path.parent}: run this from the course repository")
    return PyFileConfigLoader(path.name, path=str(path.parent)).load_config()


def _put_environment_on_path() -> None:
    """nbgrader runs ``alembic`` from PATH when it creates a gradebook: make this environment's ``bin`` first."""
    bin_dir = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != bin_dir:
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def make_api(layout: Layout | None = None, **course_directory):
    """Returns an ``NbGraderAPI`` with the course's config and ``CourseDirectory`` overrides.

    Args:
        course_directory: ``CourseDirectory`` traits to override, e.g.
            ``release_directory="/tmp/out"``, ``db_url="sqlite:////tmp/gb.db"``.
    """
    from nbgrader.apps import NbGraderAPI

    _put_environment_on_path()
    config = load_course_config(layout)
    for key, value in course_directory.items():
        setattr(config.CourseDirectory, key, str(value))
    return NbGraderAPI(config=config)


def require_success(result: dict, what: str) -> None:
    """Raises ``RuntimeError`` with nbgrader's log when an API call failed."""
    if not result.get("success"):
        detail = "\n".join(s.strip() for s in (result.get("log"), result.get("error")) if s and s.strip())
        raise RuntimeError(f"{what} failed:\n{detail}")


def workspace(work: Path, layout: Layout) -> dict:
    """Creates nbgrader's folders under ``work`` and returns the ``CourseDirectory`` overrides."""
    work.mkdir(parents=True, exist_ok=True)
    source = work / "source"
    if not source.exists():
        source.symlink_to(layout.solutions, target_is_directory=True)
    return dict(root=work, source_directory="source", release_directory="release",
                submitted_directory="submitted", autograded_directory="autograded",
                feedback_directory="feedback", db_url=f"sqlite:///{work / 'gradebook.db'}")


def write_gradebook(layout: Layout, overrides: dict, subs: list) -> str:
    """Writes the graded submissions' scores into nbgrader's gradebook; returns a warning or ''.

    Run by one process (the caller of ``autograde``): nbgrader's SQLite gradebook has one writer.
    """
    from nbgrader.api import Gradebook

    api = make_api(layout, **overrides)
    for aid in sorted({s.assignment for s in subs if s.status == "graded"}):
        try:
            require_success(api.generate_assignment(aid, force=True, create=True), f"generate_assignment {aid}")
        except RuntimeError as exc:
            return str(exc)
    try:
        with warnings.catch_warnings(), Gradebook(overrides["db_url"]) as gb:
            warnings.simplefilter("ignore")  # nbgrader's own SQLAlchemy autoflush warnings
            for sub in subs:
                if sub.status != "graded":
                    continue
                gb.update_or_create_student(sub.student)
                gb.update_or_create_submission(sub.assignment, sub.student)
                for nb_name, gid, score, _max, _msg in sub.cells:
                    grade = gb.find_grade(gid, Path(nb_name).stem, sub.assignment, sub.student)
                    grade.auto_score = score
                for nb_name, gid, _points, _answered in sub.manual:
                    # an inline question: the formgrader lists it under Manual Grading
                    grade = gb.find_grade(gid, Path(nb_name).stem, sub.assignment, sub.student)
                    grade.auto_score, grade.needs_manual_grade = None, True
                gb.db.commit()
    except Exception as exc:  # noqa: BLE001 - any failure of nbgrader's gradebook becomes a warning
        return f"the gradebook could not be written: {type(exc).__name__}: {exc}"
    return ""

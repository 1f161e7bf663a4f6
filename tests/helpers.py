"""Shared helpers of the test suite."""

import socket
import sys
import warnings
from pathlib import Path

import pytest

from autograder import solutions
from course.paths import course_layout
from grader.notebooks import grade_cells, read_notebook

ROOT = Path(__file__).resolve().parents[1]
LAYOUT = course_layout(ROOT)


def solution_namespace(assignment: str, extra: dict | None = None) -> dict:
    """Executes every answer cell of a solution notebook (markers removed) and returns the namespace.

    Only the answer cells run, so this is fast and needs no kernel.
    """
    return solutions.solution_namespace(assignment, extra, imports=False)[0]


def solution_cells(assignment: str) -> dict:
    """Returns grade_id -> cell of a solution notebook."""
    return grade_cells(read_notebook(LAYOUT.source_notebook(assignment, f"{assignment}.ipynb")))


def skip_loudly(what: str, reason: str):
    """Skips a test with a banner on stderr and a warning, so that a skip is never silent (what: the test's name)."""
    message = f"{what} SKIPPED: {reason}"
    print("\n" + "!" * len(message) + "\n" + message + "\n" + "!" * len(message), file=sys.stderr)
    warnings.warn(message, stacklevel=2)
    pytest.skip(message)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

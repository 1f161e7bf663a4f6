"""Shared helpers of the test suite."""

from pathlib import Path

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

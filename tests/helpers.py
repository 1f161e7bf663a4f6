"""Shared helpers of the test suite."""

import linecache
import re
from pathlib import Path

import numpy as np

from course.notebooks import grade_cells, read_notebook

ROOT = Path(__file__).resolve().parents[1]
MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", re.MULTILINE)


def solution_namespace(assignment: str, extra: dict | None = None) -> dict:
    """Executes every answer cell of a solution notebook (markers removed) and returns the namespace.

    Only the answer cells run (plus the imports a notebook's setup cell makes available), so this
    is fast and needs no kernel.
    """
    nb = read_notebook(ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    namespace = {"np": np, **(extra or {})}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            source, filename = MARKERS.sub("", cell.source), f"<solution {meta['grade_id']}>"
            # Like IPython, keep the source where inspect.getsource finds it (for source rules).
            linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
            exec(compile(source, filename, "exec"), namespace)
    return namespace


def solution_cells(assignment: str) -> dict:
    """Returns grade_id -> cell of a solution notebook."""
    return grade_cells(read_notebook(ROOT / "solutions" / assignment / f"{assignment}.ipynb"))

"""Reading, validating and cleaning ``.ipynb`` files.

A clean notebook has no outputs, no execution counts and no machine-specific metadata: only the
kernel spec and the language name stay at the top, and only nbgrader's keys on each cell.
"""

import json
import re
from pathlib import Path

import nbformat

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
CELL_METADATA_KEYS = ("nbgrader", "deletable", "editable", "tags")


class NotebookError(ValueError):
    """A file that is not a usable notebook; the message says why, in words a student understands."""


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Reads and validates a notebook (nbformat 4).

    Raises:
        NotebookError: for a missing or empty file, invalid JSON (with line and column), an old
            or unknown nbformat, or a document that is not a notebook.
    """
    path = Path(path)
    if not path.is_file():
        raise NotebookError(f"{path}: no such file")
    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.strip():
        raise NotebookError(f"{path}: the file is empty")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "the file was probably truncated or edited outside Jupyter") from None
    if not isinstance(raw, dict) or "cells" not in raw and "worksheets" not in raw:
        raise NotebookError(f"{path}: valid JSON but not a notebook (no 'cells')")
    major = raw.get("nbformat")
    if major != 4:
        raise NotebookError(
            f"{path}: nbformat {major} is not supported (expected 4); open and save it in JupyterLab")
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # noqa: BLE001 - nbformat raises several kinds
        raise NotebookError(f"{path}: not a valid notebook ({type(exc).__name__}: {str(exc)[:300]})") from None
    return nb


def clean_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Removes outputs, execution counts and machine-specific metadata (in place); returns ``nb``.

    Cell ids become deterministic: the nbgrader ``grade_id`` where there is one, else ``cell-NNN``.
    """
    nb.metadata = nbformat.from_dict({"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}})
    nb.nbformat, nb.nbformat_minor = 4, 5
    for index, cell in enumerate(nb.cells):
        cell.id = cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell-{index:03d}"
        cell.metadata = nbformat.from_dict(
            {k: v for k, v in cell.metadata.items() if k in CELL_METADATA_KEYS})
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def dumps(nb: nbformat.NotebookNode) -> str:
    """Serializes a notebook the same way every time (one-space indent, trailing newline)."""
    return nbformat.writes(nb, version=4).rstrip("\n") + "\n"


def write_notebook(nb: nbformat.NotebookNode, path: Path) -> None:
    """Writes a notebook with ``dumps``."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(dumps(nb), encoding="utf-8")


def cleanliness_problems(path: Path) -> list[str]:
    """Returns what keeps a committed notebook from being clean (empty when clean)."""
    nb = read_notebook(path)
    original = dumps(nb)
    cleaned = dumps(clean_notebook(nbformat.reads(original, as_version=4)))
    if original == cleaned:
        return []
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            problems.append(f"{path}: cell {i} has outputs or an execution count")
        extra = set(cell.metadata) - set(CELL_METADATA_KEYS)
        if extra:
            problems.append(f"{path}: cell {i} has metadata {sorted(extra)}")
    if set(nb.metadata) - {"kernelspec", "language_info"} or nb.metadata.get("language_info") != {"name": "python"}:
        problems.append(f"{path}: notebook metadata {sorted(nb.metadata)} is not the clean kind")
    return problems or [f"{path}: differs from its cleaned form (run `course clean {path}`)"]


def grade_cells(nb: nbformat.NotebookNode) -> dict:
    """Returns ``grade_id -> cell`` for every cell with nbgrader metadata."""
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
            if "nbgrader" in c.metadata and "grade_id" in c.metadata["nbgrader"]}


#: nbgrader's solution markers in a source notebook's answer cells (one line each)
SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", re.MULTILINE)


def student_answer(solution_source: str) -> str:
    """The solution's code as a student would write it: nbgrader's solution markers removed."""
    return SOLUTION_MARKERS.sub("", solution_source)

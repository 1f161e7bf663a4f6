"""``course check NOTEBOOK``: run a notebook's tests and say, per test, what passed and what did not.

Self-study feedback in seconds, without nbgrader's folders:

- by default the tests in the notebook itself run (the visible ones, in a student copy); hidden
  test cells of a student copy hold only their docstring, so they are listed as *hidden*, not as
  passed;
- with ``hidden=True`` every test cell is taken from the instructor's source notebook
  (``solutions/<id>/<notebook>.ipynb``, matched by ``grade_id`` as nbgrader's autograde does), so
  hidden tests run too and an edited or deleted test cell is restored.

The notebook runs top to bottom in a fresh kernel (``course.execute``), errors included, in a
temporary copy: the student's file is never modified. A test passes when its cell raises no error;
its failure message is the error's text (for the course's checks: what was compared, the error, the
target and a hint).
"""

import ast
import copy
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course.config import repo_root
from course.notebooks import grade_cells, read_notebook, write_notebook


class CheckError(Exception):
    """The check could not run (a broken notebook, no instructor notebook for ``--hidden``)."""


@dataclass
class TestResult:
    """One graded test cell and its verdict.

    Attributes:
        grade_id: nbgrader's id of the test cell.
        points: the points it is worth.
        status: ``"pass"``, ``"fail"``, or ``"hidden"`` (a student copy's hidden test: not run).
        message: the failure message (empty when it passed).
        description: the first line of the cell's docstring (what it tests).
    """

    grade_id: str
    points: float
    status: str
    message: str = ""
    description: str = ""

    @property
    def earned(self) -> float:
        return self.points if self.status == "pass" else 0.0


@dataclass
class CheckReport:
    """What ``check_notebook`` found."""

    notebook: Path
    hidden: bool
    profile: str
    seconds: float
    tests: list
    cell_errors: list  # (code cell number, grade_id or first line, message) of non-test cells that raised

    @property
    def failed(self) -> list:
        return [t for t in self.tests if t.status == "fail"]

    @property
    def ok(self) -> bool:
        return not self.failed and any(t.status == "pass" for t in self.tests)


def _docstring(source: str) -> str:
    try:
        doc = ast.get_docstring(ast.parse(source)) or ""
    except SyntaxError:
        return ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _only_docstring(source: str) -> bool:
    """True for a test cell whose code is only a docstring (a released hidden test)."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    return all(isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) for s in body)


def _is_test(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def instructor_notebook(notebook: Path, assignment: str | None = None) -> Path:
    """Returns ``solutions/<assignment>/<name>`` for a notebook (assignment: its folder's name).

    Raises:
        CheckError: when the repository or that source notebook is not here.
    """
    notebook = Path(notebook)
    assignment = assignment or notebook.resolve().parent.name
    root = repo_root()
    source = root / "solutions" / assignment / notebook.name if root else None
    if source is None or not source.is_file():
        raise CheckError(
            f"--hidden needs the instructor's notebook {source or f'solutions/{assignment}/{notebook.name}'}, "
            "which is not here (a student copy has only the visible tests). Without --hidden the visible "
            "tests run; if the notebook's folder is not named after its assignment, pass --assignment ID.")
    return source


def with_instructor_tests(nb: nbformat.NotebookNode, source_nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Returns a copy of ``nb`` whose test cells are the instructor's (by ``grade_id``).

    Test cells missing from ``nb`` (deleted by the student) are put back after the cell that
    preceded them in the instructor's notebook, as nbgrader's autograde restores them.
    """
    nb = copy.deepcopy(nb)
    source_tests = {gid: c for gid, c in grade_cells(source_nb).items() if _is_test(c)}
    present = set()
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in source_tests:
            cell.source = source_tests[gid].source
            cell.metadata["nbgrader"] = copy.deepcopy(source_tests[gid].metadata["nbgrader"])
            present.add(gid)
    # Restore deleted test cells after their predecessor's grade_id (else at the end).
    previous = None
    for cell in source_nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in source_tests and gid not in present:
            ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
            at = ids.index(previous) + 1 if previous in ids else len(nb.cells)
            nb.cells.insert(at, copy.deepcopy(source_tests[gid]))
            present.add(gid)
        if gid:
            previous = gid
    return nb


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _raising_function(traceback_lines: list) -> str | None:
    """Returns the innermost function named in an IPython traceback (``in compute_x(...)``)."""
    names = re.findall(r"(?:line \d+|\.py:\d+), in (\w+)\(", ANSI.sub("", "\n".join(traceback_lines)))
    return names[-1] if names else None


def _error_of(cell) -> str | None:
    """Returns the message of the error a cell raised, made readable, or None."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            ename, evalue = out.get("ename", "Error"), str(out.get("evalue", "")).strip()
            if ename == "NotImplementedError":
                fn = _raising_function(out.get("traceback", []))
                what = f"{fn} is" if fn else "a function this cell calls is"
                return (f"NotImplementedError: {what} not implemented yet; write your code where it says "
                        "# YOUR CODE HERE and delete the raise NotImplementedError()")
            if ename == "NameError":
                return f"NameError: {evalue} (did the cell that defines it run without errors?)"
            if ename == "CheckFailure":
                return evalue
            return f"{ename}: {evalue}" if evalue else ename
    return None


def check_notebook(path: Path, hidden: bool = False, profile: str = "quick", assignment: str | None = None,
                   timeout: int = 600, progress: bool = False) -> CheckReport:
    """Runs a notebook in a fresh kernel and returns the verdict of each of its tests.

    Args:
        path: the notebook (never modified).
        hidden: take the test cells from the instructor's notebook, hidden tests included.
        profile: ``COURSE_PROFILE`` of the run (``quick`` or ``full``).
        assignment: the assignment id (default: the notebook's folder name); used with ``hidden``.
        timeout: seconds per cell.
        progress: show a progress bar over the cells (on stderr).

    Raises:
        CheckError: the notebook cannot be read, has no test cells, or (``hidden``) the
            instructor's notebook is not here.
    """
    from course.execute import execute_notebook
    from course.notebooks import NotebookError

    path = Path(path)
    try:
        nb = read_notebook(path)
    except NotebookError as exc:
        raise CheckError(str(exc)) from None
    if hidden:
        nb = with_instructor_tests(nb, read_notebook(instructor_notebook(path, assignment)))
    tests = [c for c in nb.cells if _is_test(c)]
    if not tests:
        raise CheckError(f"{path}: no test cells (cells with nbgrader metadata 'grade: true'); "
                         "is it a course notebook?")
    hidden_ids = set() if hidden else {c.metadata["nbgrader"]["grade_id"] for c in tests if _only_docstring(c.source)}

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=sum(c.cell_type == "code" for c in nb.cells), desc="running cells", unit="cell",
                   file=sys.stderr, leave=False)

    def on_cell_executed(**kwargs):
        if bar is not None:
            bar.update(1)

    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="course-check-") as tmp:
        copy_path = Path(tmp) / path.name
        write_notebook(nb, copy_path)
        try:
            executed, _ = execute_notebook(copy_path, profile=profile, timeout=timeout, allow_errors=True,
                                           workdir=path.resolve().parent, on_cell_executed=on_cell_executed,
                                           quiet_kernel=True)
        finally:
            if bar is not None:
                bar.close()
    seconds = time.monotonic() - start

    results, cell_errors, number = [], [], 0
    for cell in executed.cells:
        if cell.cell_type != "code":
            continue
        number += 1
        error = _error_of(cell)
        if _is_test(cell):
            meta = cell.metadata["nbgrader"]
            gid = meta["grade_id"]
            status = "hidden" if gid in hidden_ids else ("fail" if error else "pass")
            results.append(TestResult(gid, float(meta.get("points", 0)), status,
                                      error if status == "fail" else "", _docstring(cell.source)))
        elif error:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            first_line = next((ln.strip() for ln in cell.source.splitlines() if ln.strip()), "")
            cell_errors.append((number, gid or first_line[:60], error.splitlines()[0][:200]))
    return CheckReport(path, hidden, profile, seconds, results, cell_errors)


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def format_report(report: CheckReport, color: bool = False) -> str:
    """Returns the plain-text report: one line per test, failure messages indented below."""
    def paint(text, code):
        return f"\033[{code}m{text}\033[0m" if color else text

    colors = {"pass": "32", "fail": "31;1", "hidden": "2"}
    labels = {"pass": "PASS", "fail": "FAIL", "hidden": "hidden"}
    width = max(len(t.grade_id) for t in report.tests)
    kind = "all tests, hidden ones included" if report.hidden else "the tests in the notebook"
    lines = [f"{report.notebook}: {kind} (profile {report.profile}, {report.seconds:.1f} s)", ""]
    for t in report.tests:
        score = f"{t.earned:g} / {t.points:g}" if t.status != "hidden" else f"- / {t.points:g}"
        lines.append(f"  {paint(f'{labels[t.status]:6s}', colors[t.status])}  {t.grade_id:{width}s}  {score:>8s}")
        if t.status == "fail":
            lines.append(_indent(t.message, "          "))
    ran = [t for t in report.tests if t.status != "hidden"]
    earned, possible = sum(t.earned for t in ran), sum(t.points for t in ran)
    hidden = [t for t in report.tests if t.status == "hidden"]
    lines.append("")
    if report.cell_errors:
        lines.append("Other cells that raised an error (tests after them may fail because of it):")
        for number, gid, message in report.cell_errors[:5]:
            lines.append(f"  code cell {number} ({gid}): {message}")
        lines.append("")
    summary = f"score: {earned:g} / {possible:g} points; {len(ran) - len(report.failed)} of {len(ran)} tests passed"
    lines.append(summary)
    if hidden:
        lines.append(f"{len(hidden)} hidden tests ({sum(t.points for t in hidden):g} points) run when your "
                     "instructor grades (`course check --hidden` runs them where the whole course repository is).")
    if report.failed:
        lines.append(paint(f"{len(report.failed)} failed: {', '.join(t.grade_id for t in report.failed)}", "31"))
    else:
        lines.append(paint("all tests passed", "32"))
    return "\n".join(lines)

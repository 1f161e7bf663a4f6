"""``course check NOTEBOOK``: run a notebook's tests and say, per test, what passed and what did not.

Self-study feedback in seconds, without nbgrader's folders, from the same engine as ``course
autograde`` (``grader.engine``): the same merge rule and the same verdicts.

- by default the tests of the released student copy run (``notebooks/<id>/``, or the notebook's own
  when the repository is not here); hidden tests are listed as *hidden*, not as passed, and visible
  ones are scored on the kernel's word (a self-check);
- with ``hidden=True`` every test cell comes from the instructor's source notebook
  (``solutions/<id>/<notebook>.ipynb``, matched by ``grade_id``), hidden tests run and are verified
  outside the kernel, and a visible test passes only when its function passed its hidden test:
  exactly what ``course autograde`` gives.

The notebook runs top to bottom in a fresh local kernel, errors included, in the notebook's
folder; the student's file is never modified.
"""

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from course import config
from course.paths import course_layout
from grader.notebooks import NotebookError, read_notebook


class CheckError(Exception):
    """The check could not run (a broken notebook, no instructor notebook for ``--hidden``)."""


@dataclass
class CheckReport:
    """What ``check_notebook`` found: the verdicts (``grader.engine.Verdict``) and other errors."""

    notebook: Path
    hidden: bool
    profile: str
    seconds: float
    tests: list
    cell_errors: list  # (code cell number, grade_id or first line, message) of non-test cells that raised
    notes: list
    manual: list = field(default_factory=list)  # grader.engine.ManualAnswer: the inline questions

    @property
    def failed(self) -> list:
        return [t for t in self.tests if t.status == "fail"]

    @property
    def ok(self) -> bool:
        return not self.failed and any(t.status == "pass" for t in self.tests)


def _layout_or_none():
    try:
        return course_layout()
    except FileNotFoundError:
        return None


def check_notebook(path: Path, hidden: bool = False, profile: str = "quick", assignment: str | None = None,
                   timeout: float | None = None, progress: bool = False) -> CheckReport:
    """Runs a notebook in a fresh kernel and returns the verdict of each of its tests.

    Args:
        path: the notebook (never modified).
        hidden: take the test cells from the instructor's notebook, hidden tests included.
        profile: ``COURSE_PROFILE`` of the run (``quick`` or ``full``).
        assignment: the assignment id (default: the notebook's folder name).
        timeout: seconds per cell (default: from the reference run, as ``course autograde``).
        progress: show a progress bar over the cells (on stderr).

    Raises:
        CheckError: the notebook cannot be read, has no test cells, or (``hidden``) the
            instructor's notebook is not here.
    """
    from grader.engine import Settings, grade_notebook
    from grader.sandbox import Limits
    from grader.timeouts import limits_for

    path = Path(path)
    profile = config.check_profile(profile)
    assignment = assignment or path.resolve().parent.name
    try:
        nb = read_notebook(path)
    except NotebookError as exc:
        raise CheckError(str(exc)) from None
    layout = _layout_or_none()
    if hidden and (layout is None or not layout.source_notebook(assignment, path.name).is_file()):
        where = layout.source_notebook(assignment, path.name) if layout else f"solutions/{assignment}/{path.name}"
        raise CheckError(
            f"--hidden needs the instructor's notebook {where}, which is not here (a student copy has only the "
            "visible tests). Without --hidden the visible tests run; if the notebook's folder is not named after "
            "its assignment, pass --assignment ID.")
    if layout is not None and not layout.release_notebook(assignment, path.name).is_file() and not hidden:
        layout = None  # not one of the course's notebooks by name: its own tests are the reference
    limits, _ = limits_for(layout, assignment, profile, {"cell_seconds": timeout} if timeout else {})
    limits["notebook_seconds"] = max(limits["notebook_seconds"], limits["cell_seconds"])
    settings = Settings(profile=profile, limits=Limits(**limits),
                        hidden=hidden, sandbox=False, in_place=True)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=sum(c.cell_type == "code" for c in nb.cells), desc="running cells", unit="cell",
                   file=sys.stderr, leave=False)

    def on_cell(done, total):
        if bar is not None:
            bar.total = total
            bar.update(done - bar.n)

    start = time.monotonic()
    try:
        result = grade_notebook(nb, path.name, assignment, path.resolve().parent, settings, layout, on_cell=on_cell)
    finally:
        if bar is not None:
            bar.close()
    if not result.tests:
        raise CheckError(f"{path}: no test cells (cells with nbgrader metadata 'grade: true'); "
                         "is it a course notebook?")
    return CheckReport(path, hidden, profile, time.monotonic() - start, result.tests, result.cell_errors,
                       result.notes, result.manual)


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
        score = f"{t.score:g} / {t.points:g}" if t.status != "hidden" else f"- / {t.points:g}"
        lines.append(f"  {paint(f'{labels[t.status]:6s}', colors[t.status])}  {t.grade_id:{width}s}  {score:>8s}")
        if t.status == "fail":
            lines.append(_indent(t.message, "          "))
    ran = [t for t in report.tests if t.status != "hidden"]
    earned, possible = sum(t.score for t in ran), sum(t.points for t in ran)
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
    if report.manual:
        unanswered = [m.grade_id for m in report.manual if not m.answered]
        lines.append(f"{len(report.manual)} inline questions ({sum(m.points for m in report.manual):g} points) are "
                     "graded by hand" + (f"; not answered yet: {', '.join(unanswered)}" if unanswered else "")
                     + ". Model answers for self-study: answers/ in the course repository.")
    if report.failed:
        lines.append(paint(f"{len(report.failed)} failed: {', '.join(t.grade_id for t in report.failed)}", "31"))
    else:
        lines.append(paint("all tests passed", "32"))
    return "\n".join(lines)

"""Grading a folder of submissions with nbgrader, one submission at a time.

Input: ``SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb`` (what ``nbgrader collect`` produces).
Submissions are copied and never modified. Each one is checked first (valid JSON, nbformat 4, the
expected notebook name); a broken one gets a clear error in its row and the others are graded.

Output folder:

- ``grades.csv``: one row per student and assignment (score, max score, status, message, seconds);
- ``cells.csv``: one row per graded test cell, with the failure message where it failed;
- ``feedback/<student>/<assignment>/<notebook>.html``: nbgrader's feedback;
- ``work/``: nbgrader's own folders and gradebook, kept for formgrader and for inspection.
"""

import csv
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from course.config import repo_root
from course.nbgrader_api import make_api, require_success
from course.notebooks import NotebookError, read_notebook


@dataclass
class Submission:
    """One student's submission of one assignment, and how grading it went."""

    student: str
    assignment: str
    folder: Path
    status: str = "pending"  # graded | error
    message: str = ""
    score: float = 0.0
    max_score: float = 0.0
    seconds: float = 0.0
    cells: list = field(default_factory=list)  # (notebook, grade_id, score, max_score, message)


def source_notebooks(assignment: str) -> list[str]:
    """Returns the notebook names of an assignment's source (``solutions/<id>/*.ipynb``)."""
    return sorted(p.name for p in (repo_root() / "solutions" / assignment).glob("*.ipynb"))


def discover(submissions_dir: Path, assignments: list[str] | None = None) -> list[Submission]:
    """Lists the submissions in ``<student>/<assignment>/`` folders, in sorted order."""
    submissions_dir = Path(submissions_dir)
    if not submissions_dir.is_dir():
        raise FileNotFoundError(f"{submissions_dir}: no such folder of submissions")
    found = []
    for student in sorted(p for p in submissions_dir.iterdir() if p.is_dir()):
        for folder in sorted(p for p in student.iterdir() if p.is_dir()):
            if assignments and folder.name not in assignments:
                continue
            found.append(Submission(student=student.name, assignment=folder.name, folder=folder))
    if not found:
        raise FileNotFoundError(
            f"{submissions_dir}: no submissions found; expected <student>/<assignment>/<notebook>.ipynb")
    return found


def precheck(sub: Submission) -> None:
    """Marks a submission as an error when it cannot be graded: unknown assignment, missing or broken notebook."""
    expected = source_notebooks(sub.assignment) if (repo_root() / "solutions" / sub.assignment).is_dir() else []
    if not expected:
        sub.status, sub.message = "error", f"unknown assignment {sub.assignment!r}"
        return
    problems = []
    for name in expected:
        path = sub.folder / name
        if not path.is_file():
            present = ", ".join(sorted(p.name for p in sub.folder.glob("*.ipynb"))) or "no notebook"
            problems.append(f"{name} is missing (found: {present})")
            continue
        try:
            read_notebook(path)
        except NotebookError as exc:
            problems.append(str(exc).replace(str(sub.folder) + os.sep, ""))
    if problems:
        sub.status, sub.message = "error", "; ".join(problems)


def _workspace(work: Path) -> dict:
    """Creates nbgrader's folders under ``work`` and returns the CourseDirectory overrides."""
    work.mkdir(parents=True, exist_ok=True)
    source = work / "source"
    if not source.exists():
        source.symlink_to(repo_root() / "solutions", target_is_directory=True)
    return dict(root=work, source_directory="source", release_directory="release",
                submitted_directory="submitted", autograded_directory="autograded",
                feedback_directory="feedback", db_url=f"sqlite:///{work / 'gradebook.db'}")


def _failure_messages(notebook_path: Path) -> dict:
    """Returns grade_id -> the error a test cell raised, from an autograded notebook."""
    import nbformat

    messages = {}
    nb = nbformat.read(str(notebook_path), as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        for out in cell.get("outputs", []):
            if grade_id and out.get("output_type") == "error":
                messages[grade_id] = f"{out.get('ename')}: {out.get('evalue')}".strip()
    return messages


def _read_scores(sub: Submission, db_url: str, autograded: Path) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        record = gb.find_submission(sub.assignment, sub.student)
        sub.score, sub.max_score = float(record.score), float(record.max_score)
        for nb in record.notebooks:
            messages = _failure_messages(autograded / f"{nb.name}.ipynb")
            for grade in sorted(nb.grades, key=lambda g: g.name):
                if grade.max_score:
                    sub.cells.append((nb.name, grade.name, float(grade.score), float(grade.max_score),
                                      messages.get(grade.name, "")))


def grade_one(api, overrides: dict, sub: Submission) -> None:
    """Copies one submission into nbgrader's folder, autogrades it and writes its feedback."""
    work = Path(overrides["root"])
    target = work / "submitted" / sub.student / sub.assignment
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(sub.folder, target)
    start = time.monotonic()
    result = api.autograde(sub.assignment, sub.student, force=True, create=True)
    if not result.get("success"):
        log = (result.get("error") or result.get("log") or "").strip().splitlines()
        sub.status, sub.message = "error", "nbgrader could not grade it: " + " | ".join(log[-3:])
        sub.seconds = time.monotonic() - start
        return
    _read_scores(sub, overrides["db_url"], work / "autograded" / sub.student / sub.assignment)
    feedback = api.generate_feedback(sub.assignment, sub.student, force=True)
    sub.status = "graded"
    if not feedback.get("success"):
        sub.message = "graded, but feedback could not be written"
    sub.seconds = time.monotonic() - start


def autograde(submissions_dir: Path, out_dir: Path, assignments: list[str] | None = None,
              progress: bool = True) -> list[Submission]:
    """Grades every submission under ``submissions_dir``; writes CSVs and feedback to ``out_dir``.

    Returns:
        the submissions, each with its status, score and per-cell results.
    """
    from tqdm.auto import tqdm

    out_dir = Path(out_dir).resolve()
    subs = discover(submissions_dir, assignments)
    for sub in subs:
        precheck(sub)
    overrides = _workspace(out_dir / "work")
    api = make_api(**overrides)
    for aid in sorted({s.assignment for s in subs if s.status != "error"}):
        require_success(api.generate_assignment(aid, force=True, create=True), f"generate_assignment {aid}")
    todo = [s for s in subs if s.status != "error"]
    for sub in tqdm(todo, desc="autograding", unit="submission", disable=not progress):
        try:
            grade_one(api, overrides, sub)
        except Exception as exc:  # noqa: BLE001 - one submission never stops the others
            sub.status, sub.message = "error", f"{type(exc).__name__}: {exc}"
    write_reports(subs, out_dir, Path(overrides["root"]) / "feedback")
    return subs


def write_reports(subs: list[Submission], out_dir: Path, feedback_dir: Path) -> None:
    """Writes ``grades.csv``, ``cells.csv`` and copies the feedback into ``out_dir``."""
    with open(out_dir / "grades.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "assignment", "score", "max_score", "status", "message", "seconds"])
        for s in subs:
            writer.writerow([s.student, s.assignment, f"{s.score:g}", f"{s.max_score:g}", s.status, s.message,
                             f"{s.seconds:.1f}"])
    with open(out_dir / "cells.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "assignment", "notebook", "grade_id", "score", "max_score", "message"])
        for s in subs:
            for nb, grade_id, score, max_score, message in s.cells:
                writer.writerow([s.student, s.assignment, nb, grade_id, f"{score:g}", f"{max_score:g}", message])
    target = out_dir / "feedback"
    if target.exists():
        shutil.rmtree(target)
    if feedback_dir.is_dir():
        shutil.copytree(feedback_dir, target)


def summary_table(subs: list[Submission]) -> str:
    """Returns a plain-text table of the results, one line per submission."""
    lines = [f"{'student':20s} {'assignment':22s} {'score':>11s}  status"]
    for s in subs:
        score = f"{s.score:g} / {s.max_score:g}" if s.status == "graded" else "-"
        status = s.status + (f": {s.message}" if s.message else "")
        lines.append(f"{s.student:20s} {s.assignment:22s} {score:>11s}  {status}")
    graded = sum(s.status == "graded" for s in subs)
    lines.append(f"{graded} graded, {len(subs) - graded} could not be graded")
    return "\n".join(lines)

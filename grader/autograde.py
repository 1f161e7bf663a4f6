"""Grading a folder of submissions: sandboxed, tamper-proof, in parallel on Dask, resumable.

Input: ``SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb`` (what ``nbgrader collect`` produces).
Submissions are read, never modified. Each one is checked first (valid JSON, nbformat 4, the
expected notebook name, cells of this assignment); a broken one gets a clear error in its row and
the others are graded.

How one notebook is graded (``grade_submission``, on a Dask worker or in this process):

``grader.engine.grade_notebook`` grades each notebook (the same engine as ``course check``): merged
with the instructor's source (``grader.merge``), run in a bubblewrap sandbox (``grader.sandbox``)
under time limits that follow the reference run (``grader.timeouts``), verified outside the
sandbox. Feedback: HTML of the executed notebook where each hidden test cell shows only its
docstring and its verdict, never its code, inputs or references (``grader.reports``).

One process (the caller of ``autograde``) writes the outputs:

- ``grades.csv``: one row per student and assignment (score, max score, status, message, seconds);
- ``cells.csv``: one row per graded test cell, with the failure message where it failed;
- ``feedback/<student>/<assignment>/<notebook>.html``;
- ``work/gradebook.db``: nbgrader's gradebook (for formgrader), ``work/autograded/``: executed
  notebooks, ``work/results/``: one JSON per graded submission with the content hash of what it
  graded; a rerun (after a crash or ``kill -9``) grades only what is missing or changed.
"""

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from course import config
from course.paths import Layout, course_layout
from grader import reports
from grader.late import Lateness, LatePolicy, lateness, read_timestamp
from grader.merge import foreign_notebook_problem
from grader.notebooks import NotebookError, read_notebook

#: bump when grading changes in a way that must invalidate stored results
GRADER_VERSION = "4"
MAX_SUBMISSION_BYTES = 64 * 2**20


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
    manual: list = field(default_factory=list)  # (notebook, grade_id, points, answered): graded by hand
    notes: list = field(default_factory=list)
    digest: str = ""
    reused: bool = False
    late: Lateness = field(default_factory=lambda: Lateness("", 0, 0.0, ""))

    @property
    def manual_points(self) -> float:
        """The points of the manually graded cells (inline questions), which the instructor gives."""
        return float(sum(m[2] for m in self.manual))

    @property
    def final_score(self) -> float:
        """The score after the late penalty (``grader.late``)."""
        return self.late.apply(self.score, self.max_score)


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


def precheck(sub: Submission, layout: Layout) -> None:
    """Marks a submission as an error when it cannot be graded: unknown assignment, missing or broken notebook."""
    expected = layout.source_notebooks(sub.assignment)
    if not expected:
        sub.status, sub.message = "error", f"unknown assignment {sub.assignment!r}"
        return
    problems = []
    for source in expected:
        path = sub.folder / source.name
        if not path.is_file():
            present = ", ".join(sorted(p.name for p in sub.folder.glob("*.ipynb"))) or "no notebook"
            problems.append(f"{source.name} is missing (found: {present})")
            continue
        try:
            nb = read_notebook(path)
        except NotebookError as exc:
            problems.append(str(exc).replace(str(sub.folder) + os.sep, ""))
            continue
        problem = foreign_notebook_problem(nb, read_notebook(source), sub.assignment)
        if problem:
            problems.append(f"{source.name}: {problem}")
    size = sum(p.stat().st_size for p in sub.folder.rglob("*") if p.is_file())
    if size > MAX_SUBMISSION_BYTES:
        problems.append(f"the submission folder holds {size / 2**20:.0f} MB "
                        f"(at most {MAX_SUBMISSION_BYTES // 2**20} MB)")
    if problems:
        sub.status, sub.message = "error", "; ".join(problems)


def content_digest(files: dict, assignment: str, profile: str, limits: dict, layout: Layout) -> str:
    """SHA-256 of what a grade depends on: the submission, the assignment's source and checks, the settings."""
    h = hashlib.sha256()
    h.update(f"v{GRADER_VERSION}|{assignment}|{profile}|{json.dumps(limits, sort_keys=True)}".encode())
    for rel in sorted(files):
        h.update(rel.encode() + b"\0" + hashlib.sha256(files[rel]).digest())
    for path in layout.source_notebooks(assignment) + [layout.checks_file(assignment)]:
        if path.is_file():
            h.update(str(path.name).encode() + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def read_files(folder: Path) -> dict:
    """``relative path -> bytes`` of every file under a submission folder."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def _write_files(folder: Path, files: dict) -> None:
    """Writes a submission's files under ``folder`` (paths that would leave it are dropped)."""
    root = folder.resolve()
    for rel, data in files.items():
        target = (folder / rel).resolve()
        if not str(target).startswith(str(root) + os.sep):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    for p in [folder, *folder.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)


def grade_submission(task: dict) -> dict:
    """Grades one submission (a Dask task: plain data in, plain data out).

    Args:
        task: ``student``, ``assignment``, ``files`` (relative path -> bytes), ``profile``,
            ``limits`` (``grader.sandbox.Limits`` fields), ``digest``, ``allow_unsandboxed``, ``root``
            (the course repository).

    Returns:
        a dict with the fields of ``Submission`` plus ``feedback`` (notebook -> HTML) and
        ``autograded`` (notebook -> executed notebook JSON).
    """
    import nbformat

    from grader.engine import Settings, grade_notebook
    from grader.sandbox import Limits

    start = time.monotonic()
    out = {"student": task["student"], "assignment": task["assignment"], "status": "graded", "message": "",
           "score": 0.0, "max_score": 0.0, "cells": [], "manual": [], "notes": [], "digest": task.get("digest", ""),
           "feedback": {}, "autograded": {}, "warnings": [], "timings": {}}
    layout = course_layout(task.get("root"))
    settings = Settings(profile=task["profile"], limits=Limits(**task.get("limits", {})), hidden=True, sandbox=True,
                        allow_unsandboxed=task.get("allow_unsandboxed", False), threads=task.get("threads"))
    scratch = Path(tempfile.mkdtemp(prefix="course-grade-"))
    try:
        scratch.chmod(0o755)
        folder = scratch / "submission"
        folder.mkdir()
        _write_files(folder, task["files"])
        for source in layout.source_notebooks(task["assignment"]):
            result = grade_notebook(read_notebook(folder / source.name), source.name, task["assignment"], folder,
                                    settings, layout)
            cells = [(t.notebook, t.grade_id, t.score, t.points, t.message) for t in result.tests]
            out["cells"] += [list(c) for c in cells]
            out["manual"] += [[m.notebook, m.grade_id, m.points, m.answered] for m in result.manual]
            out["notes"] += result.notes
            for phase, seconds in result.timings.items():
                out["timings"][phase] = round(out["timings"].get(phase, 0.0) + seconds, 2)
            out["warnings"] += [w for w in result.warnings if w not in out["warnings"]]
            out["autograded"][source.name] = nbformat.writes(result.notebook)
            try:
                out["feedback"][source.name] = reports.feedback_html(result.notebook, task["student"],
                                                                     task["assignment"], cells, result.notes,
                                                                     result.manual)
            except Exception as exc:  # noqa: BLE001 - the grade stands without its page
                out["message"] = f"graded, but feedback could not be written ({type(exc).__name__}: {exc})"
        out["score"] = float(sum(c[2] for c in out["cells"]))
        out["max_score"] = float(sum(c[3] for c in out["cells"]))
    except Exception as exc:  # noqa: BLE001 - one submission never stops the others
        out["status"], out["message"] = "error", f"{type(exc).__name__}: {exc}"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    out["seconds"] = time.monotonic() - start
    return out


# --------------------------------------------------------------------------- the batch


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def kernel_threads(workers: int, cores: int | None = None) -> int:
    """The threads one grading kernel may use when ``workers`` kernels share ``cores`` (at least 1)."""
    return max(1, (cores or available_cores()) // max(1, workers))


def _result_path(out_dir: Path, student: str, aid: str) -> Path:
    return out_dir / "work" / "results" / student / f"{aid}.json"


def _store(out_dir: Path, result: dict) -> None:
    """Writes a result atomically (a kill -9 leaves either the old file or the new one)."""
    path = _result_path(out_dir, result["student"], result["assignment"])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps({k: v for k, v in result.items() if k not in ("feedback", "autograded")}))
    for kind in ("feedback", "autograded"):
        for nb_name, text in result.get(kind, {}).items():
            suffix = ".html" if kind == "feedback" else ".ipynb"
            target = out_dir / "work" / kind / result["student"] / result["assignment"] / (Path(nb_name).stem + suffix)
            target.parent.mkdir(parents=True, exist_ok=True)
            t2 = target.with_suffix(target.suffix + ".tmp")
            t2.write_text(text, encoding="utf-8")
            os.replace(t2, target)
    os.replace(tmp, path)


def _load_stored(out_dir: Path, sub: Submission) -> dict | None:
    path = _result_path(out_dir, sub.student, sub.assignment)
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return stored if stored.get("digest") == sub.digest and stored.get("status") == "graded" else None


def _apply(sub: Submission, result: dict) -> None:
    sub.status, sub.message = result["status"], result.get("message", "")
    sub.score, sub.max_score = result.get("score", 0.0), result.get("max_score", 0.0)
    sub.seconds = result.get("seconds", 0.0)
    sub.cells = [tuple(c) for c in result.get("cells", [])]
    sub.manual = [tuple(m) for m in result.get("manual", [])]
    sub.notes = result.get("notes", [])


def autograde(submissions_dir: Path, out_dir: Path, assignments: list[str] | None = None, *,
              profile: str = config.DEFAULT_PROFILE, progress: bool = True, workers: int = 1,
              scheduler: str | None = None, limits: dict | None = None, allow_unsandboxed: bool = False,
              gradebook: bool = True, layout: Layout | None = None, policy: LatePolicy | None = None,
              log=print) -> list[Submission]:
    """Grades every submission under ``submissions_dir``; writes CSVs, feedback and the gradebook.

    Args:
        profile: ``quick`` or ``full``: the profile the notebooks run in and the checks choose cases for.
        workers: grading processes; 1 grades here, one after the other; more start a Dask
            ``LocalCluster`` of that many single-threaded workers.
        scheduler: address of an existing Dask scheduler (its workers need this repository at the
            same path); overrides ``workers``.
        limits: ``grader.sandbox.Limits`` fields (e.g. ``cell_seconds``) that override the defaults
            (time limits from the reference run, ``grader.timeouts``).
        allow_unsandboxed: grade without bubblewrap when it is missing (student code then runs
            as you: only for trusted code).
        gradebook: also write nbgrader's gradebook (``work/gradebook.db``).
        layout: the course repository (default: this package's).
        policy: deadlines and the late penalty (``grader.late``; default: none). The grade stays the
            same; the penalty is reported beside it (``final_score``).

    Returns:
        the submissions, each with its status, score and per-cell results.
    """
    from tqdm.auto import tqdm

    from grader.cluster import grade_on_dask
    from grader.nbgrader_bridge import workspace, write_gradebook
    from grader.timeouts import limits_for, reference_seconds

    began = time.monotonic()
    layout = layout or course_layout()
    profile = config.check_profile(profile)
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    overrides = dict(limits or {})
    # Each kernel gets its share of the cores (a Dask cluster's machines are not known here: their defaults).
    threads = None if scheduler else kernel_threads(workers)
    subs = discover(submissions_dir, assignments)
    tasks, limit_notes = {}, {}
    for sub in subs:
        sub.late = lateness(policy or LatePolicy.none(), sub.assignment, read_timestamp(sub.folder))
        precheck(sub, layout)
        if sub.status == "error":
            continue
        sub_limits, limit_notes[sub.assignment] = limits_for(layout, sub.assignment, profile, overrides)
        files = read_files(sub.folder)
        sub.digest = content_digest(files, sub.assignment, profile, sub_limits, layout)
        stored = _load_stored(out_dir, sub)
        if stored is not None:
            _apply(sub, stored)
            sub.reused = True
            continue
        tasks[(sub.student, sub.assignment)] = dict(
            student=sub.student, assignment=sub.assignment, files=files, profile=profile, limits=sub_limits,
            digest=sub.digest, allow_unsandboxed=allow_unsandboxed, root=str(layout.root), threads=threads,
            expected_seconds=reference_seconds(layout, sub.assignment, profile) or 0.0)
    by_key = {(s.student, s.assignment): s for s in subs}
    reused = sum(s.reused for s in subs)
    if reused:
        log(f"resuming: {reused} submission(s) already graded with the same content, {len(tasks)} to grade")

    bar = tqdm(total=len(tasks), desc="autograding", unit="submission", disable=not progress)
    warnings_seen: set = set()

    def done(result):
        _store(out_dir, result)
        _apply(by_key[(result["student"], result["assignment"])], result)
        warnings_seen.update(result.get("warnings", []))
        bar.update(1)

    if tasks and (scheduler or workers > 1):
        grade_on_dask(grade_submission, list(tasks.values()), done, workers, scheduler)
    else:
        for task in tasks.values():
            done(grade_submission(task))
    bar.close()

    work = workspace(out_dir / "work", layout)
    if gradebook:
        problem = write_gradebook(layout, work, subs)
        if problem:
            log(f"WARNING: {problem}")
    reports.write_reports(subs, out_dir, out_dir / "work" / "feedback")
    for w in sorted(warnings_seen):
        log(f"WARNING (sandbox): {w}")
    log(reports.summary_footer(subs, time.monotonic() - began, limit_notes))
    return subs

"""Grading a folder of submissions: sandboxed, tamper-proof, in parallel on Dask, resumable.

Input: ``SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb`` (what ``nbgrader collect`` produces).
Submissions are read, never modified. Each one is checked first (valid JSON, nbformat 4, the
expected notebook name, cells of this assignment); a broken one gets a clear error in its row and
the others are graded.

How one notebook is graded (``grade_submission``, on a Dask worker or in this process):

1. The student's notebook is merged with the instructor's source (``solutions/<id>/``): the
   student's answer cells and own cells are kept; every test cell is taken from the source
   (edited, retyped, duplicated, renamed or deleted test cells are restored once, in their
   place); points come from the source. Each change is noted in the feedback.
2. The grader calls each hidden check's ``cases()`` outside the sandbox and writes the inputs to a
   read-only folder of the sandbox (``course.grading.export_check_inputs``).
3. The notebook runs cell by cell in a kernel in a bubblewrap sandbox (``course.sandbox``): no
   network, a private ``/tmp``, the course code read-only, nothing else of the grader's files;
   limits on time per cell and per notebook, memory, processes and file size.
4. Hidden test cells only record the student's outputs on the grader's inputs; the grader verifies
   them outside the sandbox (``course.grading.verify_recorded``) and scores every test cell itself:
   a visible test cell scores when it ran without error, a hidden one when every output is right.
5. Feedback: HTML of the executed notebook where each hidden test cell shows only its docstring and
   its verdict (which case failed and why), never its code, inputs or references.

One process (the caller of ``autograde``) writes the outputs:

- ``grades.csv``: one row per student and assignment (score, max score, status, message, seconds);
- ``cells.csv``: one row per graded test cell, with the failure message where it failed;
- ``feedback/<student>/<assignment>/<notebook>.html``;
- ``work/gradebook.db``: nbgrader's gradebook (for formgrader), ``work/autograded/``: executed
  notebooks, ``work/results/``: one JSON per graded submission with the content hash of what it
  graded; a rerun (after a crash or ``kill -9``) grades only what is missing or changed.
"""

import ast
import csv
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from course.config import repo_root
from course.notebooks import NotebookError, read_notebook

#: bump when grading changes in a way that must invalidate stored results
GRADER_VERSION = "2"
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
    notes: list = field(default_factory=list)
    digest: str = ""
    reused: bool = False


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
            nb = read_notebook(path)
        except NotebookError as exc:
            problems.append(str(exc).replace(str(sub.folder) + os.sep, ""))
            continue
        problem = foreign_notebook_problem(nb, read_notebook(repo_root() / "solutions" / sub.assignment / name),
                                           sub.assignment)
        if problem:
            problems.append(f"{name}: {problem}")
    size = sum(p.stat().st_size for p in sub.folder.rglob("*") if p.is_file())
    if size > MAX_SUBMISSION_BYTES:
        problems.append(f"the submission folder holds {size / 2**20:.0f} MB (at most {MAX_SUBMISSION_BYTES // 2**20} MB)")
    if problems:
        sub.status, sub.message = "error", "; ".join(problems)


# --------------------------------------------------------------------------- merging with the source


def _meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def foreign_notebook_problem(student_nb, source_nb, assignment: str) -> str:
    """Says why a notebook is not one of this assignment's (none of its answer cells), else ''."""
    answers = {_meta(c).get("grade_id") for c in source_nb.cells if _meta(c).get("solution")}
    present = {_meta(c).get("grade_id") for c in student_nb.cells if _meta(c).get("grade_id")}
    if answers & present:
        return ""
    others = sorted(present - answers)[:4]
    what = f"its graded cells ({', '.join(others)}) belong to another notebook" if others else \
        "it has no graded cells (their nbgrader metadata was removed, or it is another notebook)"
    return f"this is not the notebook of {assignment}: none of its answer cells was found; {what}"


def hidden_calls(source: str) -> list:
    """``(assignment, function)`` of each ``run_hidden_check("<id>", "<fn>", ...)`` in a cell's code."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            fname = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            if fname == "run_hidden_check" and len(node.args) >= 2 and all(
                    isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args[:2]):
                calls.append((node.args[0].value, node.args[1].value))
    return calls


def is_hidden_test(source: str) -> bool:
    return "BEGIN HIDDEN TESTS" in source or bool(hidden_calls(source))


def merge_with_source(student_nb, source_nb, release_nb=None) -> tuple:
    """Builds the notebook to grade: the student's answers and own cells, the source's test cells.

    Returns:
        ``(cells, notes)``: nbformat cells, each with ``metadata.course_role`` in ``answer``,
        ``test``, ``locked`` or ``student``; notes say what was restored or ignored.
    """
    import nbformat

    notes = []
    source_cells = list(source_nb.cells)
    source_ids = [(_meta(c).get("grade_id"), c) for c in source_cells if _meta(c).get("grade_id")]
    position = {gid: i for i, (gid, _) in enumerate(source_ids)}
    by_id = dict(source_ids)
    answers = {gid for gid, c in source_ids if _meta(c).get("solution")}
    released = {_meta(c).get("grade_id"): c.source for c in (release_nb.cells if release_nb else [])
                if _meta(c).get("grade_id")}

    seen, student_answer, order = set(), {}, []
    labeled = []  # (student index, grade_id)
    items = []  # (kind, grade_id or None, cell)
    for cell in student_nb.cells:
        gid = _meta(cell).get("grade_id")
        if gid in by_id and gid not in seen:
            seen.add(gid)
            src = by_id[gid]
            if gid in answers:
                cell = nbformat.from_dict(dict(cell))
                cell.cell_type = src.cell_type
                if cell.cell_type != "code":
                    cell.pop("outputs", None)
                    cell.pop("execution_count", None)
                student_answer[gid] = cell
            else:
                if cell.cell_type != src.cell_type:
                    notes.append(f"cell {gid} was turned into a {cell.cell_type} cell: restored as it was")
                elif cell.source.strip() != released.get(gid, src.source).strip():
                    notes.append(f"cell {gid} was edited: the original was graded")
                if _meta(cell).get("points") != _meta(src).get("points") and _meta(src).get("grade"):
                    notes.append(f"cell {gid}: its points were changed; the original points count")
            items.append(("labeled", gid, cell))
            order.append(position[gid])
            continue
        if gid in by_id:
            if gid in answers:
                notes.append(f"a second answer cell {gid} was kept as your own code")
            else:
                notes.append(f"duplicate of cell {gid} ignored")
                continue
        elif gid:
            notes.append(f"cell with unknown grade_id {gid!r} kept as your own code (its grading metadata removed)")
        cell = nbformat.from_dict(dict(cell))
        cell.metadata = nbformat.from_dict({k: v for k, v in cell.get("metadata", {}).items() if k != "nbgrader"})
        items.append(("student", None, cell))

    reordered = any(b < a for a, b in zip(order, order[1:]))
    if reordered:
        notes.append("graded cells were moved: every test cell ran in its original place")
    anchored = {None: []}
    anchor = None
    for kind, gid, cell in items:
        if kind == "labeled":
            if not reordered or gid in answers:
                anchor = gid
            continue
        anchored.setdefault(anchor, []).append(cell)

    cells = []

    def tag(cell, role, gid=None):
        cell = nbformat.from_dict(dict(cell))
        cell.metadata = nbformat.from_dict(dict(cell.get("metadata", {})))
        cell.metadata["course_role"] = role
        if gid:
            cell.metadata["nbgrader"] = nbformat.from_dict(dict(_meta(by_id[gid])))
        if cell.cell_type == "code":
            cell.setdefault("outputs", [])
            cell.setdefault("execution_count", None)
        return cell

    cells += [tag(c, "student") for c in anchored[None]]
    for gid, src in source_ids:
        if gid in answers:
            if gid in student_answer:
                cells.append(tag(student_answer[gid], "answer", gid))
            else:
                notes.append(f"answer cell {gid} is missing (its code, if elsewhere in the notebook, still ran)")
        else:
            if gid not in seen:
                notes.append(f"cell {gid} was missing: restored and graded")
            role = "test" if _meta(src).get("grade") else "locked"
            cells.append(tag(src, role, gid))
        cells += [tag(c, "student") for c in anchored.get(gid, [])]
    return cells, notes


# --------------------------------------------------------------------------- grading one submission


def content_digest(files: dict, assignment: str, profile: str, limits_repr: str) -> str:
    """SHA-256 of what a grade depends on: the submission, the assignment's source and checks, the settings."""
    h = hashlib.sha256()
    h.update(f"v{GRADER_VERSION}|{assignment}|{profile}|{limits_repr}".encode())
    for rel in sorted(files):
        h.update(rel.encode() + b"\0" + hashlib.sha256(files[rel]).digest())
    root = repo_root()
    extra = sorted((root / "solutions" / assignment).glob("*.ipynb")) + [root / "autograder" / "checks" / f"{assignment}.py"]
    for path in extra:
        if path.is_file():
            h.update(str(path.name).encode() + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def read_files(folder: Path) -> dict:
    """``relative path -> bytes`` of every file under a submission folder."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def _docstring(source: str) -> str:
    try:
        tree = ast.parse(source)
        doc = ast.get_docstring(tree)
        if doc:
            return doc
    except SyntaxError:
        pass
    return "Hidden test."


def _limits_from(task: dict):
    from course.sandbox import Limits

    return Limits(**task.get("limits", {}))


def grade_notebook(task: dict, nb_name: str, student_nb, workdir: Path, grader_dir: Path) -> dict:
    """Runs one merged notebook in a sandbox; returns its per-cell results and feedback."""
    import nbformat

    from course.grading import export_check_inputs, load_checks, notebook_function_source, verify_recorded
    from course.sandbox import SandboxKernel, bwrap_usable

    aid = task["assignment"]
    source_nb = read_notebook(repo_root() / "solutions" / aid / nb_name)
    release_path = repo_root() / "notebooks" / aid / nb_name
    cells, notes = merge_with_source(student_nb, source_nb, read_notebook(release_path) if release_path.is_file() else None)

    needed = sorted({call for c in cells if c.metadata.get("course_role") == "test" for call in hidden_calls(c.source)})
    checks, cases = {}, {}
    for check_aid, name in needed:
        if check_aid not in checks:
            checks[check_aid] = load_checks(check_aid)
        if name in checks[check_aid]:
            cases[(check_aid, name)] = export_check_inputs(checks[check_aid][name], check_aid, name, grader_dir)

    env = {"COURSE_GRADING_DIR": "/grader", "COURSE_PROFILE": task["profile"], "COURSE_CHECKS": "/nonexistent",
           "COURSE_RESULTS_FILE": "/tmp/course-results.json", "COURSE_ROOT": "/nonexistent"}
    from course.config import data_dir

    data = data_dir()  # the course's data cache, read-only (data sets outside /usr/share)
    if data.is_dir():
        env["COURSE_DATA"] = str(data)
    kernel = SandboxKernel(workdir, grader_dir, env=env, limits=_limits_from(task),
                           extra_ro=[data] if data.is_dir() else [],
                           allow_unsandboxed=task.get("allow_unsandboxed", False))
    kernel.env["COURSE_RESULTS_FILE"] = str(workdir.parent / "course-results.json") if not bwrap_usable() else \
        env["COURSE_RESULTS_FILE"]
    cell_results = []
    stopped = ""
    try:
        kernel.start()
        for index, cell in enumerate(cells):
            if cell.cell_type != "code":
                cell_results.append(None)
                continue
            if stopped:
                cell.outputs = [nbformat.from_dict({"output_type": "stream", "name": "stderr",
                                                    "text": f"[not run: {stopped}]\n"})]
                cell_results.append(("skipped", f"not run: {stopped}", []))
                continue
            res = kernel.execute(cell.source)
            cell.outputs = [nbformat.from_dict(o) for o in res.outputs]
            cell.execution_count = index + 1
            cell.metadata["course_seconds"] = round(res.seconds, 2)
            cell_results.append((res.status, res.error, res.hidden))
            if res.status == "died":
                label = _meta(cell).get("grade_id") or f"cell {index + 1}"
                stopped = f"{res.error} (in {label})"
        warnings_ = list(kernel.warnings)
    finally:
        kernel.shutdown()

    code_sources = [c.source for c, r in zip(cells, cell_results) if r is not None and r[0] != "skipped"]
    graded, feedback_cells = [], []
    for cell, res in zip(cells, cell_results):
        meta = _meta(cell)
        role = cell.metadata.get("course_role")
        if role != "test" or not meta.get("grade"):
            continue
        points = float(meta.get("points", 0) or 0)
        status, error, hidden = res if res else ("skipped", "not run", [])
        calls = hidden_calls(cell.source)
        if is_hidden_test(cell.source):
            passed, messages = True, []
            if status == "skipped":
                passed, messages = False, [error]
            for check_aid, name in calls:
                if (check_aid, name) not in cases:
                    passed = False
                    messages.append(f"no hidden check {check_aid}/{name} (instructor: add it to autograder/checks)")
                    continue
                payloads = [p for p in hidden if isinstance(p, dict) and p.get("check") == name]
                try:
                    source = notebook_function_source(code_sources, name)
                except Exception as exc:  # noqa: BLE001 - CheckFailure: a binding that is not a def
                    ok, message = False, str(exc)
                else:
                    ok, message = verify_recorded(checks[check_aid][name], cases[(check_aid, name)], name,
                                                  payloads[-1] if payloads else None, source)
                if not ok and not payloads and status not in ("ok", "skipped") and error:
                    message += f" [the cell stopped: {error}]"
                passed = passed and ok
                messages.append(message)
            if not calls and status != "skipped":
                passed, messages = False, ["this hidden test has no run_hidden_check call"]
            message = "; ".join(messages)
            score = points if passed else 0.0
            verdict = "PASSED" if passed else "FAILED"
            cell.source = (f'"""{_docstring(cell.source)}"""\n'
                           "# Hidden test: its code, inputs and reference values are not shown.")
            cell.outputs = [nbformat.from_dict({"output_type": "stream", "name": "stdout" if passed else "stderr",
                                                "text": f"{verdict} ({score:g} / {points:g} points): {message}\n"})]
        else:
            passed = status == "ok"
            score = points if passed else 0.0
            message = "" if passed else (error or status)
            cell.outputs.append(nbformat.from_dict({
                "output_type": "stream", "name": "stdout" if passed else "stderr",
                "text": f"[{'PASSED' if passed else 'FAILED'} ({score:g} / {points:g} points)"
                        f"{': ' + message if message else ''}]\n"}))
        graded.append((nb_name, meta["grade_id"], score, points, "" if passed else message))
    executed = nbformat.v4.new_notebook(cells=cells, metadata=source_nb.metadata)
    return {"cells": graded, "notes": notes, "warnings": warnings_, "notebook": executed}


def _feedback_html(nb, student: str, aid: str, graded: list, notes: list) -> str:
    import nbformat
    from nbconvert import HTMLExporter

    score = sum(g[2] for g in graded)
    total = sum(g[3] for g in graded)
    lines = [f"# Feedback: {aid}, {student}", "", f"**Score: {score:g} / {total:g}**", "",
             "| test | points | result |", "|---|---|---|"]
    for _, gid, s, m, message in graded:
        result = "passed" if s == m else ("failed: " + message.replace("|", "\\|").replace("\n", " ")[:300])
        lines.append(f"| `{gid}` | {s:g} / {m:g} | {result} |")
    if notes:
        lines += ["", "Notes from the grader:", ""] + [f"- {n}" for n in notes]
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in nb.cells:
        cell.metadata.pop("course_role", None)
    nb.cells.insert(0, nbformat.v4.new_markdown_cell("\n".join(lines)))
    exporter = HTMLExporter(template_name="lab")
    html, _ = exporter.from_notebook_node(nb)
    return html


def grade_submission(task: dict) -> dict:
    """Grades one submission (a Dask task: plain data in, plain data out).

    Args:
        task: ``student``, ``assignment``, ``files`` (relative path -> bytes), ``profile``,
            ``limits`` (``course.sandbox.Limits`` fields), ``digest``, ``allow_unsandboxed``.

    Returns:
        a dict with the fields of ``Submission`` plus ``feedback`` (notebook -> HTML) and
        ``autograded`` (notebook -> executed notebook JSON).
    """
    import nbformat

    start = time.monotonic()
    out = {"student": task["student"], "assignment": task["assignment"], "status": "graded", "message": "",
           "score": 0.0, "max_score": 0.0, "cells": [], "notes": [], "digest": task.get("digest", ""),
           "feedback": {}, "autograded": {}, "warnings": []}
    scratch = Path(tempfile.mkdtemp(prefix="course-grade-"))
    try:
        os.chmod(scratch, 0o755)
        folder = scratch / "submission"
        folder.mkdir()
        for rel, data in task["files"].items():
            target = (folder / rel).resolve()
            if not str(target).startswith(str(folder.resolve()) + os.sep):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        for p in [folder, *folder.rglob("*")]:
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        for nb_name in source_notebooks(task["assignment"]):
            student_nb = read_notebook(folder / nb_name)
            grader_dir = scratch / f"grader-{nb_name}"
            grader_dir.mkdir()
            result = grade_notebook(task, nb_name, student_nb, folder, grader_dir)
            for p in [grader_dir, *grader_dir.rglob("*")]:
                os.chmod(p, 0o755 if p.is_dir() else 0o644)
            out["cells"] += [list(g) for g in result["cells"]]
            out["notes"] += result["notes"]
            out["warnings"] += [w for w in result["warnings"] if w not in out["warnings"]]
            out["autograded"][nb_name] = nbformat.writes(result["notebook"])
            try:
                out["feedback"][nb_name] = _feedback_html(result["notebook"], task["student"], task["assignment"],
                                                          result["cells"], result["notes"])
            except Exception as exc:  # noqa: BLE001
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


def _workspace(work: Path) -> dict:
    """Creates nbgrader's folders under ``work`` and returns the CourseDirectory overrides."""
    work.mkdir(parents=True, exist_ok=True)
    source = work / "source"
    if not source.exists():
        source.symlink_to(repo_root() / "solutions", target_is_directory=True)
    return dict(root=work, source_directory="source", release_directory="release",
                submitted_directory="submitted", autograded_directory="autograded",
                feedback_directory="feedback", db_url=f"sqlite:///{work / 'gradebook.db'}")


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
    sub.notes = result.get("notes", [])


def _write_gradebook(overrides: dict, subs: list) -> str:
    """Writes the scores into nbgrader's gradebook (one process: this one); returns a warning or ''."""
    import warnings

    from nbgrader.api import Gradebook

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
                gb.db.commit()
    except Exception as exc:  # noqa: BLE001
        return f"the gradebook could not be written: {type(exc).__name__}: {exc}"
    return ""


def autograde(submissions_dir: Path, out_dir: Path, assignments: list[str] | None = None,
              progress: bool = True, workers: int = 1, scheduler: str | None = None,
              limits: dict | None = None, allow_unsandboxed: bool = False, gradebook: bool = True,
              log=print) -> list[Submission]:
    """Grades every submission under ``submissions_dir``; writes CSVs, feedback and the gradebook.

    Args:
        workers: grading processes; 1 grades here, one after the other; more start a Dask
            ``LocalCluster`` of that many single-threaded workers.
        scheduler: address of an existing Dask scheduler (its workers need this repository at the
            same path); overrides ``workers``.
        limits: ``course.sandbox.Limits`` fields (e.g. ``cell_seconds``).
        allow_unsandboxed: grade without bubblewrap when it is missing (student code then runs
            as you: only for trusted code).
        gradebook: also write nbgrader's gradebook (``work/gradebook.db``).

    Returns:
        the submissions, each with its status, score and per-cell results.
    """
    from tqdm.auto import tqdm

    from course.nbgrader_api import make_api, require_success

    began = time.monotonic()
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = os.environ.get("COURSE_PROFILE", "full")
    limits = dict(limits or {})
    subs = discover(submissions_dir, assignments)
    tasks = {}
    for sub in subs:
        precheck(sub)
        if sub.status == "error":
            continue
        files = read_files(sub.folder)
        sub.digest = content_digest(files, sub.assignment, profile, json.dumps(limits, sort_keys=True))
        stored = _load_stored(out_dir, sub)
        if stored is not None:
            _apply(sub, stored)
            sub.reused = True
            continue
        tasks[(sub.student, sub.assignment)] = dict(
            student=sub.student, assignment=sub.assignment, files=files, profile=profile, limits=limits,
            digest=sub.digest, allow_unsandboxed=allow_unsandboxed)
    by_key = {(s.student, s.assignment): s for s in subs}
    reused = sum(s.reused for s in subs)
    if reused:
        log(f"resuming: {reused} submission(s) already graded with the same content, {len(tasks)} to grade")

    bar = tqdm(total=len(tasks), desc="autograding", unit="submission", disable=not progress)

    def done(result):
        _store(out_dir, result)
        _apply(by_key[(result["student"], result["assignment"])], result)
        for w in result.get("warnings", []):
            warnings_seen.add(w)
        bar.update(1)

    warnings_seen: set = set()
    if tasks and (scheduler or workers > 1):
        _grade_on_dask(list(tasks.values()), done, workers, scheduler)
    else:
        for task in tasks.values():
            done(grade_submission(task))
    bar.close()

    overrides = _workspace(out_dir / "work")
    if gradebook:
        api = make_api(**overrides)
        problem = ""
        for aid in sorted({s.assignment for s in subs if s.status == "graded"}):
            try:
                require_success(api.generate_assignment(aid, force=True, create=True), f"generate_assignment {aid}")
            except RuntimeError as exc:
                problem = str(exc)
        problem = problem or _write_gradebook(overrides, subs)
        if problem:
            log(f"WARNING: {problem}")
    write_reports(subs, out_dir, out_dir / "work" / "feedback")
    for w in sorted(warnings_seen):
        log(f"WARNING (sandbox): {w}")
    log(summary_footer(subs, time.monotonic() - began))
    return subs


def _grade_on_dask(tasks: list, done, workers: int, scheduler: str | None) -> None:
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit=0,
                               dashboard_address=None, silence_logs=40)
        client = Client(cluster)
    try:
        futures = {client.submit(grade_submission, t, key=f"grade-{t['student']}-{t['assignment']}-{t['digest'][:12]}",
                                 pure=False): t for t in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - a worker died (KilledWorker) or the task failed
                result = {"student": task["student"], "assignment": task["assignment"], "status": "error",
                          "message": f"the grading worker failed: {type(exc).__name__}: {exc}", "score": 0.0,
                          "max_score": 0.0, "cells": [], "notes": [], "digest": "", "seconds": 0.0}
            done(result)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


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
        status = s.status + (" (unchanged, not regraded)" if s.reused else "") + (f": {s.message}" if s.message else "")
        lines.append(f"{s.student:20s} {s.assignment:22s} {score:>11s}  {status}")
    graded = sum(s.status == "graded" for s in subs)
    lines.append(f"{graded} graded, {len(subs) - graded} could not be graded")
    return "\n".join(lines)


def summary_footer(subs: list[Submission], seconds: float) -> str:
    graded = [s for s in subs if s.status == "graded"]
    failed = [s for s in subs if s.status != "graded"]
    lines = [f"summary: {len(graded)} graded ({sum(s.reused for s in subs)} unchanged since the last run), "
             f"{len(failed)} failed, {seconds:.1f} s in all"]
    lines += [f"  failed: {s.student}/{s.assignment}: {s.message}" for s in failed]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use `course autograde`")

"""The grading engine: one notebook merged, run in a kernel, verified outside it, scored.

``course autograde`` (a sandbox per submission) and ``course check`` (a plain local kernel, for
self-study) both call ``grade_notebook``, so they merge by the same rule and reach the same
verdicts. How a verdict is reached:

1. ``grader.merge.merge_with_source`` builds the notebook to run from the student's answers and
   the reference notebook's test cells (the instructor's source with hidden tests, or, for
   ``hidden=False``, the released student copy).
2. The inputs of every hidden check that a test cell calls are written outside the kernel's reach
   (``grader.verify.export_check_inputs``); the kernel sees only them, never a reference.
3. The cells run one by one (``grader.sandbox.SandboxKernel``) under the time limits of
   ``Settings.limits``.
4. **No verdict depends on what the kernel says about itself.** A kernel runs the student's code,
   which can patch anything in it: the traceback display, ``sys.excepthook``, ``run_cell``, the
   display publisher, the reply status. So:

   - a *hidden* test passes when the outputs its cell recorded pass ``verify`` here, in the
     grader's process, against the check's own references;
   - a *visible* test passes when its cell ran without an error **and** every hidden test of the
     function it tests (``grader.merge.tested_function``: its ``grade_id`` starts with the
     function's name) passed outside. Patching the kernel can hide an error, but it cannot make a
     missing or wrong function pass its hidden test, so it earns no point: a visible test counts
     only for a function the grader has confirmed.

   With ``hidden=False`` (a student's own ``course check`` of a student copy, where the hidden
   checks are not available) visible tests are scored on the kernel's word alone, and hidden ones
   are listed, not run: that is a self-check, not a grade.
5. The executed notebook becomes the feedback: each hidden test cell shows only its docstring and
   its verdict, never its code, inputs or references.
"""

import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course import config, protocol
from course.paths import Layout, course_layout, data_dir
from grader.merge import (
    answer_ids,
    docstring,
    hidden_calls,
    is_answered,
    is_hidden_test,
    is_released_hidden_test,
    manual_cells,
    merge_with_source,
    nbgrader_meta,
    tested_function,
)
from grader.notebooks import read_notebook
from grader.sandbox import Limits, SandboxKernel


@dataclass
class Settings:
    """How to grade: passed down as parameters, never through ``os.environ``.

    Attributes:
        profile: ``quick`` or ``full``: the kernel's ``COURSE_PROFILE`` and the profile the checks'
            cases are chosen for.
        limits: time, memory and process limits of the kernel.
        hidden: run the hidden tests (from ``solutions/``); ``False``: the tests of the released
            student copy only.
        sandbox: run the kernel in a bubblewrap sandbox (``course autograde``); ``False``: a plain
            local kernel (``course check`` on one's own work).
        allow_unsandboxed: with ``sandbox``, grade without isolation when bubblewrap is missing.
        in_place: plain kernel only: run in the submission's folder itself, not in a copy.
        threads: the CPU threads the kernel's NumPy and TensorFlow may use (``course autograde``: the
            cores divided among its workers, so that kernels side by side do not fight over them);
            ``None``: the libraries' own defaults.
    """

    profile: str = "full"
    limits: Limits = field(default_factory=Limits)
    hidden: bool = True
    sandbox: bool = True
    allow_unsandboxed: bool = False
    in_place: bool = False
    threads: int | None = None


@dataclass
class Verdict:
    """One graded test cell and its verdict.

    Attributes:
        status: ``pass``, ``fail``, or ``hidden`` (a hidden test that was not run: ``hidden=False``).
        kind: ``visible`` or ``hidden``.
        message: why it failed (empty when it passed).
        description: the first line of the cell's docstring (what it tests).
    """

    notebook: str
    grade_id: str
    points: float
    status: str
    kind: str
    message: str = ""
    description: str = ""
    detail: str = ""  # what the feedback says of a passed hidden test ("passed on 5 grader-chosen inputs")

    @property
    def score(self) -> float:
        return self.points if self.status == "pass" else 0.0


@dataclass
class ManualAnswer:
    """A manually graded answer cell (an inline question): its points wait for the instructor."""

    notebook: str
    grade_id: str
    points: float
    answered: bool  # the student wrote something beyond the prompt


@dataclass
class NotebookGrade:
    """What grading one notebook gave: verdicts, merge notes, sandbox warnings, the feedback notebook."""

    tests: list
    notes: list
    warnings: list
    notebook: nbformat.NotebookNode
    cell_errors: list  # (code cell number, grade_id or first line, message) of other cells that raised
    manual: list = field(default_factory=list)  # ManualAnswer per manually graded cell of the source
    # where the time went, in seconds: ``export`` (the hidden checks' inputs), ``kernel_start``, ``setup_cell``
    # (the first code cell: the imports), ``cells`` (every code cell, the setup cell included), ``verify``
    timings: dict = field(default_factory=dict)


def reference_notebooks(assignment: str, nb_name: str, hidden: bool, student_nb,
                        layout: Layout | None) -> tuple:
    """``(source_nb, release_nb)`` to merge with: the instructor's source, or the released copy.

    Raises:
        FileNotFoundError: ``hidden`` and the instructor's notebook is not here.
    """
    release_path = layout.release_notebook(assignment, nb_name) if layout else None
    release_nb = read_notebook(release_path) if release_path and release_path.is_file() else None
    if hidden:
        source_path = layout.source_notebook(assignment, nb_name) if layout else None
        if source_path is None or not source_path.is_file():
            raise FileNotFoundError(f"the instructor's notebook {source_path or f'solutions/{assignment}/{nb_name}'} "
                                    "is not here")
        return read_notebook(source_path), release_nb
    return (release_nb if release_nb is not None else student_nb), None


def grade_notebook(student_nb, nb_name: str, assignment: str, workdir: Path, settings: Settings,
                   layout: Layout | None = None, on_cell: Callable | None = None) -> NotebookGrade:
    """Grades one notebook; see the module docstring for how.

    Args:
        student_nb: the student's notebook (not modified).
        nb_name: its file name in the assignment (``01_knn.ipynb``).
        assignment: the assignment id.
        workdir: the folder the kernel works in (a copy of it, unless ``settings.in_place``).
        settings: profile, limits, hidden or not, sandbox or not.
        layout: the course repository (default: this package's).
        on_cell: called as ``on_cell(done, total)`` after each code cell (a progress bar).
    """
    if layout is None and settings.hidden:
        layout = course_layout()
    source_nb, release_nb = reference_notebooks(assignment, nb_name, settings.hidden, student_nb, layout)
    cells, notes = merge_with_source(student_nb, source_nb, release_nb)
    functions = answer_ids(source_nb)
    timings = {}
    scratch = Path(tempfile.mkdtemp(prefix="course-grade-"))
    try:
        scratch.chmod(0o755)
        grader_dir = scratch / "grader"
        grader_dir.mkdir()
        began = time.perf_counter()
        checks, cases = _export_inputs(cells, settings, grader_dir, layout) if settings.hidden else ({}, {})
        timings["export"] = time.perf_counter() - began
        for p in [grader_dir, *grader_dir.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        results, warnings_ = _run_cells(cells, workdir, grader_dir if settings.hidden else None, settings,
                                        on_cell, timings)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    began = time.perf_counter()
    with config.using_profile(settings.profile):  # a check's verify may read the profile, like its cases
        tests = _score(cells, results, nb_name, functions, checks, cases, settings.hidden)
    timings["verify"] = time.perf_counter() - began
    cell_errors = _cell_errors(cells, results)
    executed = nbformat.v4.new_notebook(cells=cells, metadata=source_nb.metadata)
    return NotebookGrade(tests, notes, warnings_, executed, cell_errors, _manual(cells, source_nb, nb_name),
                         {k: round(v, 2) for k, v in timings.items()})


def _manual(cells: list, source_nb, nb_name: str) -> list:
    """The source's manually graded cells with the points it gives them, and whether the student answered."""
    answers = {nbgrader_meta(c).get("grade_id"): c.source for c in cells if c.metadata.get("course_role") == "answer"}
    return [ManualAnswer(nb_name, nbgrader_meta(c)["grade_id"], float(nbgrader_meta(c).get("points", 0) or 0),
                         is_answered(answers.get(nbgrader_meta(c)["grade_id"], "")))
            for c in manual_cells(source_nb)]


def _export_inputs(cells: list, settings: Settings, grader_dir: Path, layout: Layout) -> tuple:
    """Loads the checks the test cells call and writes their inputs; returns ``(checks, cases)``."""
    from grader.spec import load_checks
    from grader.verify import export_check_inputs

    needed = sorted({call for c in cells if c.metadata.get("course_role") == "test" for call in hidden_calls(c.source)})
    checks, cases = {}, {}
    with config.using_profile(settings.profile):
        for check_aid, name in needed:
            if check_aid not in checks:
                checks[check_aid] = load_checks(check_aid, layout.checks_dir)
            if name in checks[check_aid]:
                cases[(check_aid, name)] = export_check_inputs(checks[check_aid][name], check_aid, name, grader_dir)
    return checks, cases


def _kernel_env(settings: Settings, grader_dir: Path | None) -> dict:
    """The grading kernel's environment: the protocol's variables (``course.protocol``).

    ``course.results.record`` records nothing while grading (an empty ``COURSE_RESULTS_FILE``): a
    submission's results are not references, and a path outside the sandbox could not be written
    (the cell that recorded would fail, and every name it defines after the call with it).
    """
    env = {protocol.PROFILE_ENV: settings.profile, protocol.CHECKS_ENV: protocol.NOWHERE,
           protocol.ROOT_ENV: protocol.NOWHERE, protocol.RESULTS_FILE_ENV: ""}
    if grader_dir is not None:
        env[protocol.GRADING_DIR_ENV] = str(grader_dir)  # the sandbox shows it at /grader (SandboxKernel)
    if settings.threads:
        env.update(thread_env(settings.threads))
    return env


def thread_env(threads: int) -> dict:
    """The variables that hold NumPy's BLAS and TensorFlow to ``threads`` CPU threads."""
    n = str(max(1, int(threads)))
    return {"OMP_NUM_THREADS": n, "OPENBLAS_NUM_THREADS": n, "MKL_NUM_THREADS": n,
            "TF_NUM_INTRAOP_THREADS": n, "TF_NUM_INTEROP_THREADS": n}


def _run_cells(cells: list, workdir: Path, grader_dir: Path | None, settings: Settings,
               on_cell: Callable | None, timings: dict) -> tuple:
    """Runs the code cells in order; returns ``(results, warnings)``, a result per cell (``None``: markdown).

    ``timings`` receives ``kernel_start``, ``setup_cell`` (the first code cell that imports) and ``cells``
    (all of them).
    """
    data = data_dir()  # the course's data cache, read-only (data sets outside /usr/share)
    kernel = SandboxKernel(workdir, grader_dir, env=_kernel_env(settings, grader_dir),
                           limits=settings.limits, extra_ro=[data] if data.is_dir() else [],
                           allow_unsandboxed=settings.allow_unsandboxed, isolate=settings.sandbox,
                           in_place=settings.in_place and not settings.sandbox)
    if data.is_dir():
        kernel.env[protocol.DATA_ENV] = str(data)
    results, stopped = [], ""
    total = sum(c.cell_type == "code" for c in cells)
    try:
        began = time.perf_counter()
        kernel.start()
        timings["kernel_start"] = time.perf_counter() - began
        timings["cells"] = 0.0
        for index, cell in enumerate(cells):
            if cell.cell_type != "code":
                results.append(None)
                continue
            if stopped:
                cell.outputs = [nbformat.from_dict({"output_type": "stream", "name": "stderr",
                                                    "text": f"[not run: {stopped}]\n"})]
                results.append(("skipped", f"not run: {stopped}", [], []))
            else:
                res = kernel.execute(cell.source)
                cell.outputs = [nbformat.from_dict(o) for o in res.outputs]
                cell.execution_count = index + 1
                cell.metadata["course_seconds"] = round(res.seconds, 2)
                if "setup_cell" not in timings and "import " in cell.source:
                    timings["setup_cell"] = res.seconds  # the first cell that imports: the set-up cell
                timings["cells"] += res.seconds
                results.append((res.status, res.error, res.hidden, res.outputs))
                if res.status == "died":
                    stopped = f"{res.error} (in {nbgrader_meta(cell).get('grade_id') or f'cell {index + 1}'})"
            if on_cell is not None:
                on_cell(sum(r is not None for r in results), total)
        return results, list(kernel.warnings)
    finally:
        kernel.shutdown()


def _hidden_verdict(cell, result, code_sources: list, checks: dict, cases: dict) -> tuple:
    """``(passed, message)`` of a hidden test cell, from its recorded outputs, verified here."""
    from grader.verify import notebook_function_source, verify_recorded

    status, error, hidden = result[0], result[1], result[2]
    calls = hidden_calls(cell.source)
    if status == "skipped":
        return False, error
    if not calls:
        return False, "this hidden test has no run_hidden_check call"
    passed, messages = True, []
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
    return passed, "; ".join(messages)


def _score(cells: list, results: list, nb_name: str, functions: list, checks: dict, cases: dict,
           hidden_mode: bool) -> list:
    """The verdict of every graded test cell; rewrites the cells into feedback (in place)."""
    code_sources = [c.source for c, r in zip(cells, results) if r is not None and r[0] != "skipped"]
    tests = []
    for cell, res in zip(cells, results):
        meta = nbgrader_meta(cell)
        if cell.metadata.get("course_role") != "test" or not meta.get("grade"):
            continue
        res = res or ("skipped", "not run", [], [])
        points = float(meta.get("points", 0) or 0)
        gid = meta["grade_id"]
        description = docstring(cell.source).splitlines()[0] if docstring(cell.source) else ""
        if hidden_mode and is_hidden_test(cell.source):
            passed, message = _hidden_verdict(cell, res, code_sources, checks, cases)
            tests.append(Verdict(nb_name, gid, points, "pass" if passed else "fail", "hidden",
                                     "" if passed else message, description, detail=message))
        elif not hidden_mode and (is_hidden_test(cell.source) or is_released_hidden_test(cell.source)):
            tests.append(Verdict(nb_name, gid, points, "hidden", "hidden", "", description))
        else:
            ran = res[0] == "ok"
            message = "" if ran else _error_message(res)
            tests.append(Verdict(nb_name, gid, points, "pass" if ran else "fail", "visible", message, description))
    if hidden_mode:
        _confirm_visible(tests, functions)
    for verdict, cell in zip(tests, [c for c in cells if c.metadata.get("course_role") == "test"
                                     and nbgrader_meta(c).get("grade")]):
        _as_feedback(cell, verdict)
    return tests


def _confirm_visible(tests: list, functions: list) -> None:
    """A visible test passes only when every hidden test of its function passed outside the kernel."""
    hidden_by_function: dict = {}
    for t in tests:
        if t.kind == "hidden":
            hidden_by_function.setdefault(tested_function(t.grade_id, functions), []).append(t)
    for t in tests:
        if t.kind != "visible" or t.status != "pass":
            continue
        function = tested_function(t.grade_id, functions)
        confirming = hidden_by_function.get(function, []) if function else []
        if not confirming:
            t.status = "fail"
            t.message = (f"no hidden test confirms this visible test (instructor: its grade_id must start with the "
                         f"name of a graded function that has a hidden test; graded functions: {', '.join(functions)})")
        elif any(h.status != "pass" for h in confirming):
            failed = ", ".join(h.grade_id for h in confirming if h.status != "pass")
            t.status = "fail"
            t.message = (f"the cell ran, but {function} failed its hidden test ({failed}); a visible test counts "
                         "only for a function the grader confirms outside your notebook")


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _raising_function(traceback_lines: list) -> str | None:
    """Returns the innermost function named in an IPython traceback (``in compute_x(...)``)."""
    names = re.findall(r"(?:line \d+|\.py:\d+), in (\w+)\(", ANSI.sub("", "\n".join(traceback_lines)))
    return names[-1] if names else None


def _error_message(result: tuple) -> str:
    """Why a cell did not run to the end, in words a student can act on."""
    status, error, _, outputs = result
    for out in outputs or []:
        if out.get("output_type") != "error":
            continue
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
    return error or status


def _cell_errors(cells: list, results: list) -> list:
    """``(code cell number, grade_id or first line, message)`` of the non-test cells that raised."""
    found, number = [], 0
    for cell, res in zip(cells, results):
        if res is None:
            continue
        number += 1
        if cell.metadata.get("course_role") == "test" or res[0] in ("ok", "skipped"):
            continue
        gid = nbgrader_meta(cell).get("grade_id")
        first_line = next((ln.strip() for ln in cell.source.splitlines() if ln.strip()), "")
        found.append((number, gid or first_line[:60], _error_message(res).splitlines()[0][:200]))
    return found


def _as_feedback(cell, verdict: Verdict) -> None:
    """Rewrites a test cell for the feedback: hidden tests show only their docstring and verdict."""
    label = {"pass": "PASSED", "fail": "FAILED", "hidden": "HIDDEN"}[verdict.status]
    line = f"{label} ({verdict.score:g} / {verdict.points:g} points)"
    if verdict.kind == "hidden":
        cell.source = (f'"""{docstring(cell.source, "Hidden test.")}"""\n'
                       "# Hidden test: its code, inputs and reference values are not shown.")
        text = {"pass": f"{line}: {verdict.detail}\n", "fail": f"{line}: {verdict.message}\n",
                "hidden": f"{line}: runs when your instructor grades\n"}[verdict.status]
        cell.outputs = [nbformat.from_dict({"output_type": "stream",
                                            "name": "stdout" if verdict.status != "fail" else "stderr",
                                            "text": text})]
    else:
        cell.outputs.append(nbformat.from_dict({
            "output_type": "stream", "name": "stdout" if verdict.status == "pass" else "stderr",
            "text": f"[{line}{': ' + verdict.message if verdict.message else ''}]\n"}))

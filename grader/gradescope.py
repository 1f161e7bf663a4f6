"""Gradescope: an autograder zip per assignment, and the grading it runs for every submission.

    $ course gradescope build 01_knn --out 01_knn-gradescope.zip --profile quick

The zip follows Gradescope's autograder specification: ``setup.sh`` and ``run_autograder`` at its
root, and beside them a course repository root (``/autograder/source`` once Gradescope unzips it)
that holds exactly what grading one assignment needs: the ``course`` and ``grader`` packages, the
instructor's source notebook (``solutions/<id>/``, hidden tests inside), the released student
copy, the assignment's hidden checks and references, the shipped models where the assignment
loads them, ``pyproject.toml`` (what ``setup.sh`` installs) and ``gradescope.json`` (the
assignment, the profile and the limits chosen at build time). No sample submission and no other
assignment's checks go in.

``setup.sh`` (once, as root, when Gradescope builds the image) installs Python, bubblewrap,
util-linux and Fashion-MNIST, and the course package (editable, into ``VENV``).
``run_autograder`` (for every submission) runs ``python -m grader.gradescope run``, which grades
``/autograder/submission/<notebook>.ipynb`` with the engine of ``course autograde``
(``grader.autograde.grade_submission``) and writes ``/autograder/results/results.json``:

- ``score`` (the total), ``execution_time`` (seconds), ``output`` (a summary: the visible tests'
  points, how many hidden tests there are, the grader's notes, whether the sandbox was used);
- ``tests``: one per graded test cell, with ``name`` (``grade_id``: the first line of the cell's
  docstring), ``score``, ``max_score``, ``status``, ``output`` (the grader's failure message, which
  never quotes hidden code or reference values) and ``visibility``: ``visible`` for a visible test,
  ``after_published`` for a hidden one.

A submission that cannot be graded (no notebook, several and none with the expected name, invalid
JSON, another assignment's notebook, an error of the grader) gets a ``results.json`` with score 0
and a message saying why; ``run_autograder`` writes one itself when Python cannot even start.

Where bubblewrap works in the container, the kernel runs sandboxed as in ``course autograde``.
Where it does not (Docker without user namespaces, Gradescope's usual case), the submission is
graded without it, the container being the only isolation, and the summary says so; a zip built
with ``require_sandbox=True`` refuses to grade instead.

``GRADESCOPE_ROOT`` moves ``/autograder`` (the tests grade in a temporary folder) and
``COURSE_GRADESCOPE_PYTHON`` names the Python that ``run_autograder`` uses (default: ``VENV``'s).
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from course import config
from course.paths import Layout, course_layout

#: moves Gradescope's ``/autograder`` (tests); ``run_autograder`` passes it on as ``--root``
ROOT_ENV = "GRADESCOPE_ROOT"
#: the Python ``run_autograder`` runs (default: the environment ``setup.sh`` makes)
PYTHON_ENV = "COURSE_GRADESCOPE_PYTHON"
DEFAULT_ROOT = Path("/autograder")
#: where ``setup.sh`` makes the course's Python environment (outside ``/autograder/source``)
VENV = "/opt/dl-course-venv"
#: the build-time settings, at the root of ``/autograder/source``
CONFIG_NAME = "gradescope.json"
#: files of the repository's root that go into every zip
ROOT_FILES = ("pyproject.toml", "README.md", "nbgrader_config.py")
#: packages that go into every zip (their ``.py`` files)
PACKAGES = ("course", "grader")
#: words in a notebook or check file that mean it loads the shipped models (``data/models``)
MODEL_MARKERS = ("models_dir", "load_base_model", "load_provenance", "model_info", "data/models")
#: names that are never copied (caches, checkpoints, macOS zip debris)
SKIPPED_PARTS = ("__pycache__", ".ipynb_checkpoints", "__MACOSX")
#: a fixed timestamp, so that the same repository builds the same zip
ZIP_DATE = (2024, 1, 1, 0, 0, 0)
#: the student-facing line of a submission the autograder itself could not grade
ASK_INSTRUCTOR = "Your submission was not graded; please tell your instructor."


SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu 22.04 or 24.04).
# It installs: python3, python3-venv and python3-pip (the course's Python environment), bubblewrap
# (the sandbox of student code), util-linux (prlimit and setpriv: the sandbox's limits) and
# dataset-fashion-mnist (the data; downloaded by `course data fetch` where the release lacks it),
# then the course package from /autograder/source into @VENV@.
set -euo pipefail
SOURCE=/autograder/source
VENV=@VENV@
export DEBIAN_FRONTEND=noninteractive

apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip bubblewrap util-linux ca-certificates
apt-get install -y --no-install-recommends dataset-fashion-mnist \
  || echo "dataset-fashion-mnist is not packaged in this release: Fashion-MNIST is downloaded below"

python3 -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 12))' \
  || { echo "setup.sh: $(python3 --version): the course needs Python 3.10 to 3.12 (another base image)" >&2; exit 1; }
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --upgrade pip
"$VENV/bin/python" -m pip install -e "$SOURCE"

# The hidden checks, references and instructor notebooks are the grader's alone; what a sandboxed
# kernel may read (the course package, the environment, the data) is readable by everyone.
chmod -R go-rwx "$SOURCE/autograder" "$SOURCE/solutions"
chmod -R a+rX "$SOURCE/course" "$VENV"
mkdir -p "$SOURCE/data" && chmod -R a+rX "$SOURCE/data"
COURSE_ROOT="$SOURCE" "$VENV/bin/python" -m course.cli data fetch
chmod -R a+rX "$SOURCE/data"
if COURSE_ROOT="$SOURCE" "$VENV/bin/python" -c 'import sys, grader.sandbox as s; sys.exit(not s.bwrap_usable())'; then
  echo "setup.sh: the bubblewrap sandbox works in this container"
else
  echo "setup.sh: bubblewrap does not work in this container: submissions are graded without it"
fi
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission, as root, in /autograder: it grades
# /autograder/submission/*.ipynb and writes /autograder/results/results.json.
# GRADESCOPE_ROOT moves /autograder (tests); COURSE_GRADESCOPE_PYTHON names the Python to use.
set -u
ROOT="${GRADESCOPE_ROOT:-/autograder}"
PYTHON="${COURSE_GRADESCOPE_PYTHON:-@VENV@/bin/python}"
RESULTS="$ROOT/results/results.json"
export COURSE_ROOT="$ROOT/source" TF_CPP_MIN_LOG_LEVEL=2 MPLBACKEND=Agg
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
cd "$ROOT"
"$PYTHON" -m grader.gradescope run --root "$ROOT"
status=$?
# Only a grader that finished may leave results.json (not a kernel that wrote one and killed it).
if [ "$status" -ne 0 ] || [ ! -s "$RESULTS" ]; then
  echo "run_autograder: the grader exited with status $status without writing $RESULTS" >&2
  message="The autograder failed before it could grade (exit status $status). @ASK@"
  printf '{"score": 0.0, "output": "%s", "tests": []}\n' "$message" > "$RESULTS"
fi
exit 0
"""


def _fill(template: str) -> str:
    return template.replace("@VENV@", VENV).replace("@ASK@", ASK_INSTRUCTOR)


def setup_script() -> str:
    """The text of ``setup.sh``."""
    return _fill(SETUP_SH)


def run_script() -> str:
    """The text of ``run_autograder``."""
    return _fill(RUN_AUTOGRADER)


# --------------------------------------------------------------------------- building the zip


def check_assignment(assignment: str, layout: Layout) -> str:
    """Returns ``assignment`` when the repository has its source notebook.

    Raises:
        ValueError: naming the bad id and the known ones.
    """
    if assignment not in layout.assignment_ids():
        raise ValueError(f"unknown assignment {assignment!r}; expected one of {', '.join(layout.assignment_ids())}")
    return assignment


def check_ids(assignment: str, layout: Layout) -> list[str]:
    """The assignments whose hidden checks the source notebooks call (the assignment's own, at least)."""
    from grader.merge import hidden_calls
    from grader.notebooks import read_notebook

    ids = {assignment}
    for path in layout.source_notebooks(assignment):
        for cell in read_notebook(path).cells:
            ids.update(aid for aid, _ in hidden_calls(cell.source))
    return sorted(ids)


def needs_models(assignment: str, layout: Layout) -> bool:
    """Whether the assignment's notebooks or checks load the shipped models (``data/models``)."""
    paths = layout.source_notebooks(assignment) + [layout.checks_file(aid) for aid in check_ids(assignment, layout)]
    texts = [p.read_text(encoding="utf-8") for p in paths if p.is_file()]
    return any(marker in text for text in texts for marker in MODEL_MARKERS)


def _tree(folder: Path, root: Path) -> dict:
    """``arcname -> path`` of every file under ``folder`` (caches and checkpoints left out)."""
    if not folder.is_dir():
        return {}
    return {p.relative_to(root).as_posix(): p for p in sorted(folder.rglob("*"))
            if p.is_file() and not any(part in SKIPPED_PARTS for part in p.relative_to(root).parts)
            and p.suffix != ".pyc"}


def zip_members(assignment: str, layout: Layout) -> dict:
    """What ``/autograder/source`` holds for one assignment: ``arcname -> file``.

    Raises:
        ValueError: for an unknown assignment.
        FileNotFoundError: when a hidden check file the source notebook calls is missing.
    """
    check_assignment(assignment, layout)
    root = layout.root
    members = {name: root / name for name in ROOT_FILES if (root / name).is_file()}
    for package in PACKAGES:
        members.update({k: v for k, v in _tree(root / package, root).items() if k.endswith(".py")})
    members.update(_tree(layout.source_dir(assignment), root))
    members.update(_tree(layout.release_dir(assignment), root))
    for aid in check_ids(assignment, layout):
        checks = layout.checks_file(aid)
        if not checks.is_file():
            raise FileNotFoundError(f"{checks}: missing, and {assignment}'s source notebook calls these hidden checks")
        members[checks.relative_to(root).as_posix()] = checks
        references = layout.references_file(aid)
        if references.is_file():
            members[references.relative_to(root).as_posix()] = references
    if needs_models(assignment, layout):
        members.update(_tree(layout.models, root))
    return members


def build_config(assignment: str, layout: Layout, profile: str, limits: dict | None = None,
                 require_sandbox: bool = False) -> dict:
    """The settings ``run_autograder`` grades with (``gradescope.json``).

    Args:
        profile: ``quick`` or ``full``: the profile submissions are graded in.
        limits: ``grader.sandbox.Limits`` fields that override the defaults (e.g. ``notebook_seconds``).
        require_sandbox: refuse to grade where bubblewrap does not work (instead of grading without it).

    Raises:
        ValueError: for an unknown profile or limit.
    """
    from dataclasses import fields

    from grader.sandbox import Limits

    known = {f.name for f in fields(Limits)}
    unknown = sorted(set(limits or {}) - known)
    if unknown:
        raise ValueError(f"unknown limit {unknown[0]!r}; expected some of {', '.join(sorted(known))}")
    return {"assignment": assignment, "notebooks": [p.name for p in layout.source_notebooks(assignment)],
            "profile": config.check_profile(profile), "limits": dict(limits or {}),
            "require_sandbox": bool(require_sandbox)}


def _zip_info(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.external_attr = (0o100000 | mode) << 16  # a regular file with these permissions
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def build_autograder(assignment: str, out: Path | None = None, *, profile: str = config.DEFAULT_PROFILE,
                     limits: dict | None = None, require_sandbox: bool = False,
                     layout: Layout | None = None) -> Path:
    """Writes the Gradescope autograder zip of one assignment.

    Args:
        assignment: the assignment id (``01_knn``).
        out: the zip to write (default ``grading/gradescope/<id>-autograder.zip``).
        profile: the profile submissions are graded in on Gradescope.
        limits: ``grader.sandbox.Limits`` fields that override the reference-based defaults.
        require_sandbox: refuse to grade where bubblewrap does not work in Gradescope's container.
        layout: the course repository (default: this package's).

    Returns:
        the path of the zip.

    Raises:
        ValueError: for an unknown assignment, profile or limit.
    """
    layout = layout or course_layout()
    members = zip_members(assignment, layout)
    settings = build_config(assignment, layout, profile, limits, require_sandbox)
    out = Path(out) if out else layout.grading / "gradescope" / f"{assignment}-autograder.zip"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        zf.writestr(_zip_info("setup.sh", 0o755), setup_script())
        zf.writestr(_zip_info("run_autograder", 0o755), run_script())
        zf.writestr(_zip_info(CONFIG_NAME, 0o644), json.dumps(settings, indent=1, sort_keys=True) + "\n")
        for name in sorted(members):
            zf.writestr(_zip_info(name, 0o644), members[name].read_bytes())
    os.replace(tmp, out)
    return out


# --------------------------------------------------------------------------- on Gradescope: the submission


def _candidates(submission: Path) -> list:
    """The notebooks of a submission folder, shallowest first (checkpoints and macOS debris left out)."""
    found = [p for p in submission.rglob("*.ipynb") if p.is_file() and not p.name.startswith("._")
             and not any(part in SKIPPED_PARTS for part in p.relative_to(submission).parts)]
    return sorted(found, key=lambda p: (len(p.relative_to(submission).parts), str(p)))


def _listing(paths: list, root: Path, limit: int = 8) -> str:
    names = [p.relative_to(root).as_posix() for p in paths]
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def choose_notebooks(submission: Path, expected: list[str]) -> tuple:
    """Which uploaded file is graded as each of the assignment's notebooks.

    The file named as the notebook wins (the shallowest, when the upload has folders); for a
    one-notebook assignment, a submission with a single notebook of another name is graded as it.

    Args:
        submission: ``/autograder/submission``.
        expected: the assignment's notebook names (``["01_knn.ipynb"]``).

    Returns:
        ``(chosen, notes, problem)``: ``notebook name -> uploaded file``, notes for the student, and
        why the submission cannot be graded (empty when it can).
    """
    submission = Path(submission)
    if not submission.is_dir():
        return {}, [], f"the submission folder {submission} does not exist"
    found = _candidates(submission)
    wanted = " and ".join(expected)
    if not found:
        others = sorted(p for p in submission.rglob("*") if p.is_file())
        held = f"it holds {_listing(others, submission)}" if others else "it is empty"
        return {}, [], f"your submission has no notebook (.ipynb file); {held}. Submit {wanted}."
    chosen, notes = {}, []
    for name in expected:
        named = [p for p in found if p.name == name]
        if named:
            depth = len(named[0].relative_to(submission).parts)
            if sum(len(p.relative_to(submission).parts) == depth for p in named) > 1:
                return {}, [], (f"your submission holds several files named {name} ({_listing(named, submission)}): "
                                "submit only one.")
            chosen[name] = named[0]
            if len(found) > len(expected):
                ignored = [p for p in found if p != named[0] and p.name not in expected]
                if ignored:
                    notes.append(f"graded {named[0].relative_to(submission).as_posix()}; other notebooks were "
                                 f"ignored: {_listing(ignored, submission)}")
        elif len(expected) == 1 and len(found) == 1:
            chosen[name] = found[0]
            notes.append(f"graded {found[0].relative_to(submission).as_posix()} as {name} (the only notebook "
                         "of your submission)")
        else:
            return {}, [], (f"your submission holds {len(found)} notebooks ({_listing(found, submission)}) and none is "
                            f"named {name}: submit {wanted}, or only one notebook.")
    return chosen, notes, ""


def _stage(chosen: dict, folder: Path) -> None:
    """Copies each chosen upload into ``folder`` under the notebook's name (nothing else of the upload)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, path in chosen.items():
        shutil.copyfile(path, folder / name)


# --------------------------------------------------------------------------- on Gradescope: results.json


def graded_cell_labels(assignment: str, layout: Layout) -> dict:
    """``(notebook, grade_id) -> (hidden, description)`` of every graded test cell of the source notebooks."""
    from grader.merge import docstring, is_hidden_test, is_test_cell, nbgrader_meta
    from grader.notebooks import read_notebook

    labels = {}
    for path in layout.source_notebooks(assignment):
        for cell in read_notebook(path).cells:
            if is_test_cell(cell):
                doc = docstring(cell.source)
                labels[(path.name, nbgrader_meta(cell)["grade_id"])] = (is_hidden_test(cell.source),
                                                                       doc.splitlines()[0] if doc else "")
    return labels


def gradescope_tests(cells: list, labels: dict) -> list:
    """Gradescope's ``tests`` from the grader's ``(notebook, grade_id, score, max_score, message)`` cells.

    Args:
        cells: ``grade_submission``'s ``cells``.
        labels: ``graded_cell_labels`` of the assignment (a cell it lacks counts as hidden).
    """
    entries = []
    for nb_name, gid, score, points, message in cells:
        hidden, description = labels.get((nb_name, gid), (True, ""))
        passed = score >= points
        entries.append({"name": f"{gid}: {description}" if description else gid, "score": float(score),
                        "max_score": float(points), "status": "passed" if passed else "failed",
                        "output": ("passed" if passed else message or "failed"), "output_format": "text",
                        "visibility": "after_published" if hidden else "visible"})
    return entries


def summary(nb_names: list, profile: str, tests: list, notes: list, sandbox_line: str, manual: list = ()) -> str:
    """The top-level ``output``: visible points, how many hidden tests wait for publishing, notes, the sandbox.

    It never states the total or a hidden test's result: before publishing, students see only this
    and the visible tests.
    """
    visible = [t for t in tests if t["visibility"] == "visible"]
    hidden = [t for t in tests if t["visibility"] != "visible"]
    lines = [f"Graded {', '.join(nb_names)} in the {profile} profile, {sandbox_line}.",
             f"Visible tests: {sum(t['score'] for t in visible):g} / {sum(t['max_score'] for t in visible):g} points "
             f"({len(visible)} tests)."]
    if hidden:
        lines.append(f"Hidden tests: {len(hidden)} tests worth {sum(t['max_score'] for t in hidden):g} points; "
                     "their results appear when your instructor publishes the grades.")
    if manual:
        lines.append(f"Questions graded by hand: {len(manual)} worth {sum(m[2] for m in manual):g} points "
                     "(your instructor grades them on Gradescope).")
    if notes:
        lines += ["", "Notes from the grader:"] + [f"- {n}" for n in notes]
    return "\n".join(lines)


def error_results(message: str, seconds: float) -> dict:
    """``results.json`` of a submission that could not be graded: score 0 and why."""
    return {"score": 0.0, "execution_time": round(seconds), "output": f"Not graded: {message}",
            "output_format": "text", "stdout_visibility": "hidden", "tests": []}


def graded_results(result: dict, labels: dict, settings: dict, notes: list, sandbox_line: str,
                   seconds: float) -> dict:
    """``results.json`` of a graded submission (``grade_submission``'s result)."""
    if result.get("status") != "graded":
        message = (result.get("message") or "no message").splitlines()[0][:300]
        return error_results(f"the grader failed ({message}). {ASK_INSTRUCTOR}", seconds)
    tests = gradescope_tests(result["cells"], labels)
    output = summary(settings["notebooks"], settings["profile"], tests, notes + list(result.get("notes", [])),
                     sandbox_line, result.get("manual", []))
    return {"score": float(sum(t["score"] for t in tests)), "execution_time": round(seconds), "output": output,
            "output_format": "text", "stdout_visibility": "hidden", "tests": tests}


def sandbox_status() -> tuple:
    """``(works, why)``: whether bubblewrap works here, and, when it does not, why."""
    from grader.sandbox import bwrap_path, bwrap_usable

    if bwrap_usable():
        return True, ""
    return False, "bubblewrap is not installed" if bwrap_path() is None else \
        "bubblewrap cannot create its namespaces in this container"


def sandbox_phrase(works: bool, why: str) -> str:
    """How the summary says where the notebook ran."""
    if works:
        return "in the bubblewrap sandbox"
    return f"WITHOUT the bubblewrap sandbox ({why}; Gradescope's container is the only isolation)"


def read_settings(source: Path) -> dict:
    """``gradescope.json`` of an unzipped autograder.

    Raises:
        FileNotFoundError, ValueError: when it is missing or broken.
    """
    settings = json.loads((Path(source) / CONFIG_NAME).read_text())
    for key in ("assignment", "notebooks", "profile"):
        if key not in settings:
            raise ValueError(f"{Path(source) / CONFIG_NAME}: no {key!r}")
    return settings


def grade_gradescope(root: Path, profile: str | None = None, log=print) -> dict:
    """Grades ``ROOT/submission`` as Gradescope asks; returns the ``results.json`` content (never raises).

    Args:
        root: Gradescope's ``/autograder`` (``source``, ``submission``).
        profile: overrides the build-time profile (``COURSE_PROFILE``).
        log: where the instructor-only lines go (Gradescope keeps stdout, hidden from students).
    """
    start = time.monotonic()
    root = Path(root)
    try:
        return _grade(root, profile, log, start)
    except Exception as exc:  # noqa: BLE001 - a submission always gets a results.json
        log(f"gradescope: the grader failed: {type(exc).__name__}: {exc}")
        return error_results(f"the autograder failed ({type(exc).__name__}). {ASK_INSTRUCTOR}",
                             time.monotonic() - start)


def prepare_submission(submission: Path, settings: dict, layout: Layout, staged: Path) -> tuple:
    """Chooses the notebooks to grade, copies them into ``staged`` and checks them as ``course autograde`` does.

    Returns:
        ``(notes, problem)``: notes for the student, and why it cannot be graded (empty when it can).
    """
    from grader.autograde import Submission, precheck

    chosen, notes, problem = choose_notebooks(submission, settings["notebooks"])
    if problem:
        return notes, problem
    _stage(chosen, staged)
    sub = Submission(student="gradescope", assignment=settings["assignment"], folder=staged)
    precheck(sub, layout)
    return notes, sub.message if sub.status == "error" else ""


def _grade(root: Path, profile: str | None, log, start: float) -> dict:
    from grader.autograde import grade_submission, read_files
    from grader.timeouts import limits_for

    source = root / "source"
    settings = read_settings(source)
    settings["profile"] = config.check_profile(profile or settings["profile"])
    layout = course_layout(source)
    aid = settings["assignment"]
    with tempfile.TemporaryDirectory(prefix="course-gradescope-") as tmp:
        staged = Path(tmp) / aid
        notes, problem = prepare_submission(root / "submission", settings, layout, staged)
        if problem:
            log(f"gradescope: not graded: {problem}")
            return error_results(problem, time.monotonic() - start)
        sandboxed, why = sandbox_status()
        sandbox_line = sandbox_phrase(sandboxed, why)
        log(f"gradescope: {aid}, profile {settings['profile']}, {sandbox_line}")
        if not sandboxed and settings.get("require_sandbox"):
            return error_results(f"this autograder requires the bubblewrap sandbox, and {why}. {ASK_INSTRUCTOR}",
                                 time.monotonic() - start)
        limits, limit_note = limits_for(layout, aid, settings["profile"], settings.get("limits", {}))
        log(f"gradescope: time limits {limit_note}")
        result = grade_submission(dict(student="gradescope", assignment=aid, files=read_files(staged),
                                       profile=settings["profile"], limits=limits, allow_unsandboxed=not sandboxed,
                                       root=str(layout.root)))
    for warning in result.get("warnings", []):
        log(f"gradescope: WARNING (sandbox): {warning}")
    if result.get("status") != "graded":
        log(f"gradescope: the grader failed: {result.get('message')}")
    results = graded_results(result, graded_cell_labels(aid, layout), settings, notes, sandbox_line,
                             time.monotonic() - start)
    for t in results["tests"]:
        log(f"  {t['score']:g}/{t['max_score']:g} {t['visibility']:15s} {t['name'][:90]}")
    log(f"gradescope: score {results['score']:g} in {results['execution_time']} s")
    return results


def write_results(results: dict, root: Path) -> Path:
    """Writes ``ROOT/results/results.json`` atomically; returns its path."""
    path = Path(root) / "results" / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("results.json.tmp")
    tmp.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


# --------------------------------------------------------------------------- command line


def _cmd_run(args) -> int:
    from course.protocol import PROFILE_ENV

    root = Path(args.root or os.environ.get(ROOT_ENV) or DEFAULT_ROOT)
    results = grade_gradescope(root, profile=os.environ.get(PROFILE_ENV) or None)
    print(f"wrote {write_results(results, root)}")
    return 0


def build_command(args, prog: str = "gradescope build") -> int:
    """``build`` (and ``course gradescope build``): writes the zip, or says why not (exit status 2)."""
    limits = {k: v for k, v in dict(cell_seconds=args.cell_timeout, notebook_seconds=args.notebook_timeout).items()
              if v}
    try:
        out = build_autograder(args.assignment, Path(args.out) if args.out else None, profile=args.profile,
                               limits=limits, require_sandbox=args.require_sandbox)
    except (ValueError, FileNotFoundError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out}: upload it as the autograder of a Gradescope programming assignment")
    return 0


def add_build_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of ``build`` (shared with ``course gradescope build``)."""
    p.add_argument("assignment", metavar="ASSIGNMENT", help="assignment id, e.g. 01_knn")
    p.add_argument("--out", metavar="ZIP", help="the zip to write (default grading/gradescope/<id>-autograder.zip)")
    p.add_argument("--profile", choices=list(config.PROFILES), default=config.DEFAULT_PROFILE,
                   help=f"profile submissions are graded in on Gradescope (default {config.DEFAULT_PROFILE})")
    p.add_argument("--cell-timeout", type=float, metavar="S",
                   help="seconds per cell (default 3x the reference run's time, at least 120)")
    p.add_argument("--notebook-timeout", type=float, metavar="S",
                   help="seconds per notebook (default 5x the reference run's time, at least 600); keep it "
                        "below the autograder timeout set on Gradescope")
    p.add_argument("--require-sandbox", action="store_true",
                   help="refuse to grade where bubblewrap does not work in Gradescope's container "
                        "(default: grade without it, and say so)")


def main(argv: list[str] | None = None) -> int:
    """``python -m grader.gradescope run|build``: what ``run_autograder`` calls, and the zip builder."""
    parser = argparse.ArgumentParser(prog="python -m grader.gradescope", description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("run", help="grade ROOT/submission, write ROOT/results/results.json (run_autograder)")
    p.add_argument("--root", help=f"Gradescope's folder (default ${ROOT_ENV}, else {DEFAULT_ROOT})")
    p.set_defaults(func=_cmd_run)
    p = sub.add_parser("build", help="write the autograder zip of an assignment")
    add_build_arguments(p)
    p.set_defaults(func=build_command)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

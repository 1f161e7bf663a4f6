"""The red-team corpus: hostile and broken submissions of any assignment, with the grades they must get.

    $ python -m autograder.redteam 01_knn /tmp/corpus     # writes /tmp/corpus/<case>/01_knn/01_knn.ipynb

Generic: every case is built from the assignment's student notebook and solution, around its
graded functions (``F1``: the first function with a hidden test, ``FL``: the last), so the corpus
applies unchanged to every assignment. ``build_corpus`` returns, for each case, the expectations
that ``tests/test_redteam.py`` asserts:

- ``status``: ``graded`` or ``error`` (then ``message`` holds a substring of the error);
- ``cells``: grade_id -> exact expected score, or ``None`` where the score may go either way
  (visible tests run in the student's kernel and may be fooled or broken by the student's own
  patches: they carry few points; hidden tests are decided outside and are always exact);
- ``no_leak``: the case prints ``LEAK`` if it can read, write or reach something it must not.

Tests of a function are the test cells after its answer cell in the source notebook.
"""

import argparse
import json
import sys
from pathlib import Path

from course.paths import course_layout
from grader.merge import hidden_calls, is_hidden_test
from grader.notebooks import dumps, read_notebook, student_answer

LAYOUT = course_layout()


def structure(aid: str, nb_name: str) -> dict:
    """The graded structure of a source notebook: answers, tests (with points, function, hidden)."""
    source = read_notebook(LAYOUT.source_notebook(aid, nb_name))
    answers, tests, current = [], [], None
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            current = meta["grade_id"]
            answers.append(current)
        elif meta.get("grade") and cell.cell_type == "code":
            tests.append(dict(gid=meta["grade_id"], points=float(meta.get("points", 0)), fn=current,
                              hidden=is_hidden_test(cell.source), calls=hidden_calls(cell.source)))
    solution = {c.metadata["nbgrader"]["grade_id"]: student_answer(c.source) for c in source.cells
                if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}
    with_hidden = [a for a in answers if any(t["fn"] == a and t["hidden"] for t in tests)]
    return dict(answers=answers, tests=tests, solution=solution, F1=with_hidden[0], FL=with_hidden[-1])


def _base(aid: str, nb_name: str, st: dict, answers: dict | None = None) -> dict:
    """The student notebook with every answer filled with the solution (or ``answers``)."""
    nb = json.loads(dumps(read_notebook(LAYOUT.release_notebook(aid, nb_name))))
    fill = dict(st["solution"], **(answers or {}))
    for cell in nb["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if cell["metadata"].get("nbgrader", {}).get("solution") and gid in fill:
            cell["source"] = fill[gid]
    return nb


def _fn_name(st: dict, gid: str) -> str:
    return gid  # by the course's convention the answer cell's grade_id is the function's name


WRONG = "\n\ndef {fn}(*args, **kwargs):\n    \"\"\"A wrong answer: a constant.\"\"\"\n    return 0.0\n"
STUB = "def {fn}(*args, **kwargs):\n    raise NotImplementedError()\n"

PATCH_NUMPY = """
import sys as _sys
import numpy as _np
import numpy.testing as _npt
_np.allclose = lambda *a, **k: True
_np.array_equal = lambda *a, **k: True
_npt.assert_allclose = lambda *a, **k: None
_npt.assert_array_equal = lambda *a, **k: None
_npt.assert_almost_equal = lambda *a, **k: None
if "tensorflow" in _sys.modules:
    import tensorflow as _tf
    _tf.nn.conv2d = lambda *a, **k: 0.0
    _tf.debugging.assert_near = lambda *a, **k: None
    _tf.experimental.numpy.allclose = lambda *a, **k: True
"""

PATCH_GRADING = """
import course.grading as _g
for _n in ("assert_close", "assert_equal", "assert_shape", "assert_true", "run_check", "verify_recorded",
           "call_student", "record_hidden_outputs", "encode_plain"):
    setattr(_g, _n, lambda *a, **k: None)
_g.run_hidden_check = lambda *a, **k: print("Hidden test passed.")
assert_close = assert_equal = assert_shape = assert_true = lambda *a, **k: None
run_hidden_check = lambda *a, **k: print("Hidden test passed.")
"""

PATCH_BUILTINS = """
import builtins as _b
_b.all = lambda *a, **k: True
_b.any = lambda *a, **k: True
_b.AssertionError = type("AssertionError", (Exception,), {})
"""

FORGE = """
import course.grading as _g
from course.protocol import HIDDEN_MIME as _MIME
from IPython.display import display as _display
def _forged(folder, assignment_id, name, fn):
    records = [{"ok": True, "output": {"f": 0.0}} for _ in range(100)]
    _display({_MIME: {"assignment": assignment_id, "check": name, "records": records, "npz": ""}}, raw=True)
_g.record_hidden_outputs = _forged
"""

# Patches of the kernel's own reports (jupyter/nbgrader#1324 and its cousins): each hides errors, so
# that every cell looks as if it ran to the end. No verdict may depend on them.
HIDE_TRACEBACK = """
get_ipython().showtraceback = lambda *a, **k: None
"""
CUSTOM_EXC = """
get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)
"""
EXCEPTHOOK = """
import sys as _sys
_sys.excepthook = lambda *a, **k: None
get_ipython().showtraceback = lambda *a, **k: None
"""
SHELL_CLASS = """
from IPython.core.interactiveshell import InteractiveShell as _IS
_IS.showtraceback = lambda *a, **k: None
_IS._showtraceback = lambda *a, **k: None
"""
RUN_CELL = """
_ip = get_ipython()
_ip.showtraceback = lambda *a, **k: None
def _success(result):
    result.error_in_exec = result.error_before_exec = None
    return result
_run_cell, _run_cell_async = _ip.run_cell, _ip.run_cell_async
_ip.run_cell = lambda *a, **k: _success(_run_cell(*a, **k))
async def _async(*a, **k):
    return _success(await _run_cell_async(*a, **k))
_ip.run_cell_async = _async
"""
DO_EXECUTE = """
import inspect as _inspect
_kernel = get_ipython().kernel
get_ipython().showtraceback = lambda *a, **k: None
_do_execute = _kernel.do_execute
async def _always_ok(*a, **k):
    reply = _do_execute(*a, **k)
    if _inspect.isawaitable(reply):
        reply = await reply
    reply = dict(reply)
    reply.update(status="ok", user_expressions={}, payload=[])
    for _key in ("ename", "evalue", "traceback"):
        reply.pop(_key, None)
    return reply
_kernel.do_execute = _always_ok
"""
DISPLAY_PUB = """
_ip = get_ipython()
_publish = _ip.display_pub.publish
def _publish_passed(data, *a, **k):
    return _publish({"text/plain": "Visible test passed."}, *a, **k)
_ip.display_pub.publish = _publish_passed
_send = _ip.kernel.session.send
def _no_errors(stream, msg_or_type, *a, **k):
    kind = msg_or_type if isinstance(msg_or_type, str) else msg_or_type.get("header", {}).get("msg_type")
    if kind == "error":
        return None
    return _send(stream, msg_or_type, *a, **k)
_ip.kernel.session.send = _no_errors
_ip.showtraceback = lambda *a, **k: None
"""

LIAR = """

class _Liar:
    def __eq__(self, other):
        return True
    def __array__(self, *a, **k):
        raise TypeError("not telling")
    def __float__(self):
        return 0.0

def {fn}(*args, **kwargs):
    return _Liar()
"""

INFINITE = "def {fn}(*args, **kwargs):\n    while True:\n        pass\n"

FORK_BOMB = "\nimport os as _os\nwhile True:\n    _os.fork()\n"
OS_EXIT = "\nimport os as _os\n_os._exit(0)\n"
KILL_SELF = "\nimport os as _os, signal as _signal\n_os.kill(_os.getpid(), _signal.SIGKILL)\n"
SYS_EXIT = "\nimport sys as _sys\n_sys.exit(0)\n"
BIG_ALLOC = ("\nimport numpy as _np\ntry:\n    _big = _np.ones(10 * 2**30 // 8)\n"
             "except MemoryError as _e:\n    print('MemoryError:', _e)\n")
FILL_DISK = """
import os as _os
for _where in ("/tmp", ".", _os.path.expanduser("~"), "/ipc", "/grader", "/submission"):
    try:
        with open(_os.path.join(_where, "filler.bin"), "wb") as _f:
            while True:
                _f.write(b"0" * 2**20)
    except OSError as _e:
        print(_where, type(_e).__name__)
    for _i in range(100):
        try:
            with open(_os.path.join(_where, f"small{_i}.bin"), "wb") as _f:
                _f.write(b"0" * 2**20)
        except OSError:
            break
for _where in ("/tmp", "."):
    for _name in _os.listdir(_where):
        if _name.startswith(("filler", "small")):
            _os.remove(_os.path.join(_where, _name))
"""
STDERR_SPAM = """
import sys as _sys
for _i in range(20000):
    print("spam " * 200, file=_sys.stderr)
"""
HUGE_OUTPUT = "\nprint('x' * 100_000_000)\n"
NETWORK = """
import socket as _socket
for _host, _port in {targets!r}:
    try:
        _socket.create_connection((_host, _port), timeout=3).close()
        print("LEAK: connected to", _host, _port)
    except OSError as _e:
        print("no connection to", _host, _port, type(_e).__name__)
try:
    print("LEAK: resolved", _socket.gethostbyname("pypi.org"))
except OSError as _e:
    print("no DNS", type(_e).__name__)
"""
READ_SECRETS = """
import glob as _glob, os as _os
for _path in {paths!r}:
    for _p in _glob.glob(_path, recursive=True) or [_path]:
        try:
            if _os.path.isdir(_p):
                _names = _os.listdir(_p)
                if _names:
                    print("LEAK: listed", _p, _names[:3])
            else:
                with open(_p, "rb") as _f:
                    _f.read(10)
                print("LEAK: read", _p)
        except OSError as _e:
            print("cannot read", _p, type(_e).__name__)
"""
WRITE_SECRETS = """
import os as _os
for _path in {paths!r}:
    try:
        with open(_path, "ab") as _f:
            _f.write(b"hacked")
        print("LEAK: wrote", _path)
    except OSError as _e:
        print("cannot write", _path, type(_e).__name__)
"""


def build_corpus(aid: str, out_root: Path, secrets: list | None = None, writable: list | None = None,
                 network: list | None = None) -> dict:
    """Writes the corpus of ``aid`` under ``out_root/<case>/<aid>/``; returns the expectations.

    Args:
        secrets: host paths (globs) the submissions try to read: hidden checks, references,
            gradebook, other students' files.
        writable: host paths they try to write (gradebook, results).
        network: ``(host, port)`` they try to connect to.
    """
    nb_names = [p.name for p in LAYOUT.source_notebooks(aid)]
    nb_name = nb_names[0]
    st = structure(aid, nb_name)
    tests = st["tests"]
    F1, FL = st["F1"], st["FL"]
    total = sum(t["points"] for t in tests)
    order = {gid: i for i, gid in enumerate(st["answers"])}
    secrets = secrets or [str(LAYOUT.checks_file(aid)), str(LAYOUT.references_dir), str(LAYOUT.nbgrader_config),
                          str(LAYOUT.solutions)]
    writable = writable or [str(LAYOUT.checks_file(aid))]
    network = network or [("1.1.1.1", 80), ("127.0.0.1", 22), ("127.0.0.1", 8786)]

    def full(**override):
        cells = {t["gid"]: t["points"] for t in tests}
        cells.update(override)
        return cells

    def zero(fn, visible="zero", hidden="zero"):
        """Expectations where function fn's tests fail (hidden exactly; visible zero or None)."""
        cells = full()
        for t in tests:
            if t["fn"] == fn:
                kind = hidden if t["hidden"] else visible
                cells[t["gid"]] = 0.0 if kind == "zero" else None
        return cells

    def after(fn, hidden_only=False, visible=None):
        """Tests of fn and of every later function: zero (hidden) / visible as given."""
        cells = full()
        for t in tests:
            if t["fn"] is not None and order[t["fn"]] >= order[fn]:
                if t["hidden"]:
                    cells[t["gid"]] = 0.0
                elif not hidden_only:
                    cells[t["gid"]] = 0.0
                else:
                    cells[t["gid"]] = visible
        return cells

    def fn_only(fn, visible="zero"):
        cells = full()
        for t in tests:
            if t["fn"] == fn:
                cells[t["gid"]] = 0.0 if t["hidden"] else (0.0 if visible == "zero" else None)
        return cells

    cases = {}

    def add(name, nb, expect, why, raw_text=None, **extra):
        target = out_root / name / aid / nb_name
        target.parent.mkdir(parents=True, exist_ok=True)
        if raw_text is not None:
            target.write_text(raw_text, encoding="utf-8")
        else:
            target.write_text(json.dumps(nb, indent=1) + "\n", encoding="utf-8")
        cases[name] = dict(why=why, status="graded", cells=expect, max_score=total, **extra)

    def answer_plus(fn, code):
        return _base(aid, nb_name, st, {fn: st["solution"][fn] + "\n" + code})

    add("correct", _base(aid, nb_name, st), full(), "the solution: full marks, graded like every other run")
    add("patch_numpy_tf", answer_plus(FL, WRONG.format(fn=FL) + PATCH_NUMPY), fn_only(FL),
        "a wrong answer that patches np.allclose, np.testing and tf.nn.conv2d: the hidden test is decided outside")
    add("patch_grading_helpers", answer_plus(FL, WRONG.format(fn=FL) + PATCH_GRADING), fn_only(FL),
        "a wrong answer that replaces course.grading's helpers and run_hidden_check: no outputs recorded, "
        "every later hidden test fails")
    add("patch_builtins", answer_plus(FL, WRONG.format(fn=FL) + PATCH_BUILTINS), fn_only(FL),
        "a wrong answer that patches builtins (all, any, AssertionError)")
    add("forged_outputs", answer_plus(FL, WRONG.format(fn=FL) + FORGE), fn_only(FL),
        "replaces the recorder with one that sends made-up outputs: they are verified outside and fail")
    add("lying_output", answer_plus(FL, LIAR.format(fn=FL)), fn_only(FL),
        "returns an object whose == is always True: the grader reads plain data only")

    # ----- the kernel lies about itself: FL is missing (a stub) or wrong, every error is hidden
    def fl_zero_others_unknown():
        return {t["gid"]: (0.0 if t["fn"] == FL else None) for t in tests}

    def hiding(fn_code, patch):
        """F1's answer carries the patch (so it holds for every later cell); FL's answer is ``fn_code``."""
        return _base(aid, nb_name, st, {F1: st["solution"][F1] + "\n" + patch, FL: fn_code.format(fn=FL)})

    untouched = json.loads(dumps(read_notebook(LAYOUT.release_notebook(aid, nb_name))))
    first_code = next(i for i, c in enumerate(untouched["cells"]) if c["cell_type"] == "code")
    untouched["cells"].insert(first_code + 1, {"cell_type": "code", "execution_count": None, "id": "student-patch",
                                               "metadata": {}, "outputs": [], "source": HIDE_TRACEBACK.strip()})
    add("hide_traceback_untouched", untouched, {t["gid"]: 0.0 for t in tests},
        "the issue's reproduction: an untouched notebook plus one cell that replaces showtraceback scores 0")

    for name, patch, others_full, what in (
            ("hide_traceback", HIDE_TRACEBACK, True, "get_ipython().showtraceback replaced (nbgrader#1324)"),
            ("custom_exc", CUSTOM_EXC, True, "set_custom_exc swallows every exception"),
            ("excepthook", EXCEPTHOOK, True, "sys.excepthook and showtraceback replaced"),
            ("shell_class", SHELL_CLASS, True, "IPython.core.interactiveshell.InteractiveShell patched"),
            ("run_cell", RUN_CELL, False, "run_cell and run_cell_async report success"),
            ("do_execute", DO_EXECUTE, False, "the kernel's do_execute replies status ok"),
            ("display_pub", DISPLAY_PUB, False, "the display publisher and the session drop errors")):
        for variant, code in (("missing", STUB), ("wrong", WRONG.lstrip("\n"))):
            expect = fn_only(FL) if others_full else fl_zero_others_unknown()
            add(f"{name}_{variant}", hiding(code, patch), expect,
                f"{what}; {FL} is {variant}: its visible and hidden tests score 0, since a visible test counts "
                "only for a function the grader confirmed outside the kernel")

    # ----- test cells edited, deleted, duplicated, reordered, retyped, renamed
    def with_stub(fn):
        return _base(aid, nb_name, st, {fn: STUB.format(fn=fn)})

    # The function left undone is the last one (FL): visible tests of later functions cannot depend on it.
    fl_tests = [t["gid"] for t in tests if t["fn"] == FL]
    f1_tests = [t["gid"] for t in tests if t["fn"] == F1]
    nb = with_stub(FL)
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") in fl_tests:
            cell["source"] = 'print("Visible test passed.")\nprint("Hidden test passed.")'
    add("edited_test_cells", nb, fn_only(FL),
        "FL not done, its test cells replaced by prints: the originals are graded")
    nb = with_stub(FL)
    nb["cells"] = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") not in fl_tests]
    add("deleted_test_cells", nb, fn_only(FL), "FL not done, its test cells deleted: restored and graded")
    nb = with_stub(FL)
    cells = []
    for cell in nb["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if gid in fl_tests:
            fake = json.loads(json.dumps(cell))
            fake["source"] = 'print("Hidden test passed.")'
            cells += [fake, cell, json.loads(json.dumps(fake))]
        elif gid in f1_tests:
            cells += [cell, json.loads(json.dumps(cell))]
        else:
            cells.append(cell)
    nb["cells"] = cells
    add("duplicated_test_cells", nb, fn_only(FL), "test cells duplicated (fakes first): each test counts once")
    nb = _base(aid, nb_name, st)
    test_ids = {t["gid"] for t in tests}
    moved = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") in test_ids]
    rest = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") not in test_ids]
    nb["cells"] = moved[::-1] + rest
    add("reordered_test_cells", nb, full(), "every test cell moved to the top, in reverse: they run in their places")
    nb = _base(aid, nb_name, st)
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") in f1_tests:
            src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            kind = "markdown" if is_hidden_test(src) else "raw"
            cell["cell_type"] = kind
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    add("retyped_test_cells", nb, full(), "F1's test cells turned into markdown: restored as code and graded")
    nb = with_stub(FL)
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("grade"):
            meta["points"] = 100
        if meta.get("grade_id") in fl_tests:
            meta["grade_id"] += "_mine"
            cell["source"] = 'print("Hidden test passed.")'
    add("changed_grade_ids", nb, fn_only(FL), "FL's test cells renamed and every test worth 100 points: the "
                                              "originals are restored, the source's points count")

    # ----- the process
    add("sys_exit", answer_plus(F1, SYS_EXIT), full(), "sys.exit() in an answer cell: IPython catches it")
    add("os_exit", answer_plus(FL, OS_EXIT), after(FL), "os._exit in the last answer cell: the kernel dies, the "
                                                        "tests that ran before count")
    add("kill_kernel", answer_plus(FL, KILL_SELF), after(FL), "SIGKILL to its own kernel in the last answer cell")
    add("infinite_loop", _base(aid, nb_name, st, {FL: INFINITE.format(fn=FL)}), fn_only(FL),
        "FL loops forever: each cell calling it is interrupted at the cell time limit, the rest is graded")
    fork_expect = full()
    for t in tests:
        if t["fn"] == FL:
            fork_expect[t["gid"]] = None
    add("fork_bomb", answer_plus(FL, FORK_BOMB), fork_expect,
        "a fork bomb in the last answer cell: the process limit stops it; earlier tests count", no_leftovers=True)
    add("big_allocation", answer_plus(F1, BIG_ALLOC), full(), "allocates 10 GB: MemoryError under the memory limit")
    add("fill_disk", answer_plus(F1, FILL_DISK), full(), "fills /tmp, the working folder, /ipc, /grader: "
                                                         "size limits and read-only folders stop it")
    add("read_secrets", answer_plus(F1, READ_SECRETS.format(paths=secrets)), full(),
        "tries to read the hidden checks, references, gradebook and other students' files", no_leak=True)
    add("write_secrets", answer_plus(F1, WRITE_SECRETS.format(paths=writable)), full(),
        "tries to write the gradebook and the checks", no_leak=True)
    add("network", answer_plus(F1, NETWORK.format(targets=network)), full(),
        "tries the network, the host's loopback and DNS", no_leak=True)
    add("stderr_spam", answer_plus(F1, STDERR_SPAM), full(), "20 MB of stderr: test cells are scored on errors")
    add("huge_output", answer_plus(F1, HUGE_OUTPUT), full(), "100 MB of output: truncated, feedback stays small",
        max_feedback_bytes=5 * 2**20)

    # ----- files that are not a notebook of this assignment
    text = json.dumps(_base(aid, nb_name, st), indent=1)
    broken = {
        "invalid_json": (text[: len(text) // 2], "not valid JSON"),
        "nbformat_3": (json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": []}]}),
                       "nbformat 3"),
        "empty_file": ("", "empty"),
    }
    other = _base(aid, nb_name, st)
    for cell in other["cells"]:
        meta = cell["metadata"].get("nbgrader")
        if meta:
            meta["grade_id"] = "other_assignment_" + meta["grade_id"]
    broken["other_assignment"] = (json.dumps(other, indent=1), "not the notebook of")
    for name, (raw, message) in broken.items():
        add(name, None, {}, f"a broken file ({name}): a clear error", raw_text=raw)
        cases[name].update(status="error", message=message)
    return cases


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignment")
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    cases = build_corpus(args.assignment, args.out)
    for name, case in cases.items():
        print(f"{name:24s} {case['why']}")
    (args.out / "expectations.json").write_text(json.dumps(cases, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

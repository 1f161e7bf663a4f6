"""Comparisons whose failure messages teach, and the runner of hidden checks.

Visible test cells call the ``assert_*`` helpers directly, e.g.::

    assert_close(dists, expected, what="dists[:2, :3]", compared_with="values worked out by hand",
                 tol=1e-10, hint="check that you take the square root")

Hidden test cells call ``run_hidden_check("01_knn", "compute_distances_two_loops",
compute_distances_two_loops)``. The check itself (inputs the student never saw and an independent
reference) lives in the instructor's ``autograder/checks/<assignment>.py`` as a ``FunctionCheck``:
``cases()`` chooses the inputs, the student's function is called on each, and ``verify(case,
output)`` compares its output with the reference. Keeping those three steps apart lets a grader
call the student's function in one process and verify the outputs in another.

Every failure is a ``CheckFailure`` (an ``AssertionError``) whose message says what was compared,
the error found, the target, and a hint where a common mistake is likely.
"""

import copy
import importlib.util
import inspect
import os
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from course.config import repo_root


class CheckFailure(AssertionError):
    """A test's verdict: what was compared, the error, the target and a hint."""


def describe(value) -> str:
    """Returns a short description of a value for messages: ``array (3, 7) float64``."""
    if isinstance(value, np.ndarray):
        return f"array {value.shape} {value.dtype}"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of length {len(value)}"
    return type(value).__name__


def _with_hint(message: str, hint: str | None) -> str:
    return f"{message}\nHint: {hint}" if hint else message


def as_array(got, what: str, dtype=np.float64) -> np.ndarray:
    """Converts a student's output to an array, or fails with a message saying what it was."""
    if got is None:
        raise CheckFailure(f"{what}: got None. Did you forget to return the result?")
    try:
        return np.asarray(got, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise CheckFailure(f"{what}: expected an array, got {describe(got)} ({exc})") from None


def assert_shape(got, shape: tuple, what: str, hint: str | None = None) -> None:
    """Fails unless ``got`` is array-like with exactly ``shape``."""
    arr = as_array(got, what, dtype=None)
    if arr.shape != tuple(shape):
        raise CheckFailure(_with_hint(f"{what}: expected shape {tuple(shape)}, got {arr.shape}", hint))


def assert_close(got, expected, *, what: str, compared_with: str, tol: float, atol: float = 0.0,
                 hint: str | None = None) -> float:
    """Fails unless ``rel_error(got, expected) <= tol``; returns the relative error.

    The relative error is ``max |g - e| / max(1e-8, |g| + |e|)``, as in ``course.gradcheck``.
    Entries that differ by at most ``atol`` count as equal (for values near zero, where round-off
    makes any relative error large).

    Args:
        got: the student's value (array-like or scalar).
        expected: the reference value, same shape.
        what: what the value is, e.g. ``"dists"`` or ``"dW"``.
        compared_with: where the reference comes from, e.g. ``"scipy.spatial.distance.cdist"``.
        tol: the largest relative error accepted (state why in the test cell).
        hint: what to look at when it fails.
    """
    expected = np.asarray(expected, dtype=np.float64)
    got = as_array(got, what)
    if got.shape != expected.shape:
        raise CheckFailure(_with_hint(
            f"{what}: expected shape {expected.shape}, got {got.shape} (compared with {compared_with})", hint))
    if not np.all(np.isfinite(got)):
        bad = int(np.sum(~np.isfinite(got)))
        raise CheckFailure(_with_hint(
            f"{what}: {bad} of {got.size} values are NaN or infinite (compared with {compared_with})",
            hint or "look for a division by zero, a log of 0, or exp of a large number"))
    if got.size == 0:
        return 0.0
    diff = np.array(np.abs(got - expected))  # an array also for scalars (0-d), so it can be masked
    diff[diff <= atol] = 0.0
    err_all = diff / np.maximum(1e-8, np.abs(got) + np.abs(expected))
    err = float(np.max(err_all))
    if err > tol:
        idx = np.unravel_index(int(np.argmax(err_all)), err_all.shape)
        where = f" at index {tuple(int(i) for i in idx)}" if got.ndim else ""
        raise CheckFailure(_with_hint(
            f"{what}: compared with {compared_with}, relative error {err:.2e} (target < {tol:.0e}); "
            f"worst{where}: got {got[idx]:.6g}, expected {expected[idx]:.6g}", hint))
    return err


def assert_equal(got, expected, *, what: str, compared_with: str, hint: str | None = None) -> None:
    """Fails unless ``got`` equals ``expected`` exactly (labels, counts, shapes of results)."""
    expected = np.asarray(expected)
    got = as_array(got, what, dtype=None)
    if got.shape != expected.shape:
        raise CheckFailure(_with_hint(
            f"{what}: expected shape {expected.shape}, got {got.shape} (compared with {compared_with})", hint))
    wrong = np.flatnonzero(np.asarray(got != expected).ravel())
    if wrong.size:
        first = wrong[:5]
        shown = ", ".join(f"[{i}] got {got.ravel()[i].tolist()!r} expected {expected.ravel()[i].tolist()!r}" for i in first)
        raise CheckFailure(_with_hint(
            f"{what}: {wrong.size} of {got.size} entries differ from {compared_with}; first: {shown}", hint))


def assert_true(condition: bool, message: str, hint: str | None = None) -> None:
    """Fails with ``message`` (and a hint) unless ``condition`` holds."""
    if not condition:
        raise CheckFailure(_with_hint(message, hint))


# --------------------------------------------------------------------------- hidden checks


@dataclass
class Case:
    """One call of a student's function on inputs the grader chose.

    Attributes:
        label: shown in feedback, e.g. ``"7 training x 3 test points, D=5"`` (never the values).
        args: positional arguments.
        kwargs: keyword arguments.
    """

    label: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


@dataclass
class FunctionCheck:
    """The hidden check of one graded function.

    Attributes:
        cases: returns the grader-chosen cases (deterministic).
        verify: ``verify(case, output)`` raises ``CheckFailure`` when ``output`` is wrong; it
            computes the reference independently (SciPy, scikit-learn, TensorFlow, float64).
        call: ``call(fn, case)`` runs the student's function; default ``fn(*args, **kwargs)``.
        source_rules: ``source_rules(source)`` raises ``CheckFailure`` when the function's source
            breaks a rule of the exercise (a loop in a "no loops" version, a library call that
            does the exercise).
    """

    cases: Callable[[], list]
    verify: Callable[[Case, Any], None]
    call: Callable[[Callable, Case], Any] | None = None
    source_rules: Callable[[str], None] | None = None


def call_student(fn: Callable, case: Case, name: str, call: Callable | None = None):
    """Calls the student's function on copies of a case's inputs; errors become ``CheckFailure``."""
    if not callable(fn):
        raise CheckFailure(f"{name} is not a function (got {describe(fn)}); run its cell first")
    case = copy.deepcopy(case)
    try:
        return call(fn, case) if call else fn(*case.args, **case.kwargs)
    except NotImplementedError:
        raise CheckFailure(f"{name} is not implemented yet (it raised NotImplementedError)") from None
    except CheckFailure:
        raise
    except Exception as exc:  # noqa: BLE001 - the student's error becomes the verdict
        where = _student_frame(exc)
        raise CheckFailure(
            f"{name} raised {type(exc).__name__}: {exc} on {case.label}{where}") from None


def _student_frame(exc: BaseException) -> str:
    """Returns ' (line N of your cell: <code>)' for the innermost notebook frame, if any."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if "ipykernel" in f.filename or f.filename.startswith("<ipython-input")]
    if not frames:
        return ""
    f = frames[-1]
    return f" (line {f.lineno} of your cell: {f.line.strip() if f.line else '?'})"


def run_check(check: FunctionCheck, fn: Callable, name: str) -> int:
    """Runs every case of ``check`` against ``fn``; returns the number of cases passed.

    Raises:
        CheckFailure: at the first failing case, with the case's label in the message.
    """
    if check.source_rules is not None:
        check.source_rules(function_source(fn, name))
    cases = check.cases()
    for case in cases:
        output = call_student(fn, case, name, check.call)
        try:
            check.verify(case, output)
        except CheckFailure as failure:
            raise CheckFailure(f"{name} on {case.label}: {failure}") from None
    return len(cases)


def function_source(fn: Callable, name: str) -> str:
    """Returns the source code of a student's function (IPython keeps each cell's source)."""
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        raise CheckFailure(f"the source of {name} could not be read; define it with `def` in its cell") from None


def checks_dir() -> Path | None:
    """Returns the folder of hidden checks: ``$COURSE_CHECKS`` or ``<repo>/autograder/checks``."""
    env = os.environ.get("COURSE_CHECKS")
    if env:
        return Path(env)
    root = repo_root()
    return root / "autograder" / "checks" if root else None


def load_checks(assignment_id: str) -> dict:
    """Loads ``CHECKS`` (function name -> ``FunctionCheck``) from the assignment's check file.

    Raises:
        FileNotFoundError: in a student copy, where the instructor's checks are not present.
    """
    folder = checks_dir()
    path = folder / f"{assignment_id}.py" if folder else None
    if path is None or not path.is_file():
        raise FileNotFoundError(
            f"The hidden checks of {assignment_id} are not here (looked for {path}). They run when "
            "your instructor autogrades; the visible tests above are what you can run yourself.")
    spec = importlib.util.spec_from_file_location(f"course_checks_{assignment_id}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CHECKS


def run_hidden_check(assignment_id: str, name: str, fn: Callable) -> None:
    """Runs the hidden check of graded function ``name`` against the student's ``fn``.

    Only the verdict leaves this function: the failure message names the case and what was
    wrong, never the check's code or reference values.
    """
    checks = load_checks(assignment_id)
    if name not in checks:
        raise KeyError(f"{assignment_id} has no hidden check named {name!r}; known: {sorted(checks)}")
    try:
        run_check(checks[name], fn, name)
    except CheckFailure as failure:
        raise CheckFailure(str(failure)) from None

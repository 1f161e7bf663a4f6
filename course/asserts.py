"""Comparisons whose failure messages teach: what was compared, the error, the target, a hint.

Visible test cells call them directly, e.g.::

    assert_close(dists, expected, what="dists[:2, :3]", compared_with="values worked out by hand",
                 tol=1e-10, hint="check that you take the square root")

and the hidden checks of ``autograder/checks/`` use the same helpers to compare a student's
outputs with independent references. Every failure is a ``CheckFailure`` (an ``AssertionError``).
Inside ``redacted()`` (where the grader verifies hidden outputs) no message shows a reference
value.
"""

import contextlib

import numpy as np


class CheckFailure(AssertionError):
    """A test's verdict: what was compared, the error, the target and a hint."""


_REDACT = [0]  # > 0 while the grader verifies hidden outputs: messages then never show reference values


def _redacting() -> bool:
    return _REDACT[0] > 0


@contextlib.contextmanager
def redacted():
    """Within this block the helpers leave reference values out of their messages.

    The grader verifies hidden outputs inside it: feedback names what was wrong, never the
    expected value.
    """
    _REDACT[0] += 1
    try:
        yield
    finally:
        _REDACT[0] -= 1


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
            f"worst{where}: got {got[idx]:.6g}" + ("" if _redacting() else f", expected {expected[idx]:.6g}"), hint))
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
        shown = ", ".join(f"[{i}] got {got.ravel()[i].tolist()!r}"
                          + ("" if _redacting() else f" expected {expected.ravel()[i].tolist()!r}") for i in first)
        raise CheckFailure(_with_hint(
            f"{what}: {wrong.size} of {got.size} entries differ from {compared_with}; first: {shown}", hint))


def assert_true(condition: bool, message: str, hint: str | None = None) -> None:
    """Fails with ``message`` (and a hint) unless ``condition`` holds."""
    if not condition:
        raise CheckFailure(_with_hint(message, hint))

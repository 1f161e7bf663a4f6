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

Tamper-proof grading (``course autograde``). When ``COURSE_GRADING_DIR`` is set (the autograder
sets it in the sandboxed kernel), ``run_hidden_check`` does not load the check module (which
holds the references) and compares nothing: it loads the grader-chosen cases from
``$COURSE_GRADING_DIR/<assignment>/<function>.pkl`` (written outside by
``export_check_inputs``), calls the student's function on each, turns each output into plain data
(``encode_plain``: numbers, strings, arrays of numbers, lists, tuples, dicts) and displays them
under the ``HIDDEN_MIME`` mimetype. The grader reads them from the kernel's messages, never
unpickles them, and runs ``verify`` outside the student's process (``verify_recorded``), so a
student who patches NumPy, TensorFlow, builtins or this module cannot change the verdict. The
source rules also run outside, on the ``def`` found in the notebook (``notebook_function_source``).

For assignment authors:
- ``cases()`` must be deterministic and its inputs picklable with plain ``pickle`` types or
  ``course`` classes (the check module itself is not visible in the sandbox);
- ``call`` and ``serialize`` run inside the student's kernel (they are shipped there by value with
  cloudpickle): they must not touch reference values or anything else a student must not see;
- an output that is not plain data (a Keras model from ``build_model``, a ``tf.Variable`` list,
  an object) needs ``serialize(output) -> plain data``, e.g.
  ``serialize=lambda model: {"weights": [w.numpy() for w in model.weights],
  "predictions": model(GRADER_INPUTS).numpy()}`` (the inputs come with the hook); ``verify``
  then always receives that plain data, in grading mode and when the check runs in the student's
  own kernel (``run_check`` applies the hook too). Without a hook, objects with ``__array__`` or
  ``.numpy()`` (``tf.Tensor``) become arrays in grading mode, and Keras models and ``History``
  objects travel as ``.keras`` files that the grader loads with ``safe_mode=True`` (a ``serialize``
  hook avoids loading a student's model outside the sandbox at all: prefer one).
- ``verify``'s own messages must not quote reference values: the assert helpers leave out the
  expected value while the grader verifies hidden outputs (feedback never shows references).
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


_REDACT = [0]  # > 0 while the grader verifies hidden outputs: messages then never show reference values


def _redacting() -> bool:
    return _REDACT[0] > 0


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
        serialize: ``serialize(output) -> plain data``, run in the student's kernel, for outputs
            that are not numbers, strings, arrays, lists, tuples or dicts (see the module
            docstring). ``verify`` then receives what it returns, in every mode.
    """

    cases: Callable[[], list]
    verify: Callable[[Case, Any], None]
    call: Callable[[Callable, Case], Any] | None = None
    source_rules: Callable[[str], None] | None = None
    serialize: Callable[[Any], Any] | None = None


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
        if check.serialize is not None:  # verify sees the same plain data as in grading mode
            output = check.serialize(output)
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
    if os.environ.get(GRADING_DIR_ENV):
        record_hidden_outputs(assignment_id, name, fn)
        return
    checks = load_checks(assignment_id)
    if name not in checks:
        raise KeyError(f"{assignment_id} has no hidden check named {name!r}; known: {sorted(checks)}")
    try:
        run_check(checks[name], fn, name)
    except CheckFailure as failure:
        raise CheckFailure(str(failure)) from None


# --------------------------------------------------------------------------- tamper-proof grading

GRADING_DIR_ENV = "COURSE_GRADING_DIR"
#: mimetype under which the sandboxed kernel sends a hidden check's recorded outputs.
HIDDEN_MIME = "application/x-course-hidden-outputs+json"
_PLAIN_ARRAY_KINDS = "biufc"
_MAX_DEPTH = 32


def export_check_inputs(check: FunctionCheck, assignment_id: str, name: str, folder: Path) -> list:
    """Writes what the sandboxed kernel needs to run a hidden check; returns the cases.

    ``folder/<assignment_id>/<name>.pkl`` holds the cases and the ``call``/``serialize`` hooks
    (cloudpickle, by value), never ``verify`` nor anything it references. Run by the grader,
    outside the sandbox; the same case objects must then be passed to ``verify_recorded``.
    """
    import cloudpickle

    cases = list(check.cases())
    target = Path(folder) / assignment_id / f"{name}.pkl"
    target.parent.mkdir(parents=True, exist_ok=True)
    for hook in (check.call, check.serialize):
        module = getattr(hook, "__module__", None)
        if module and module.startswith("course_checks_"):
            import sys

            if module in sys.modules:  # make cloudpickle ship it by value
                cloudpickle.register_pickle_by_value(sys.modules[module])
    target.write_bytes(cloudpickle.dumps({"assignment": assignment_id, "name": name, "cases": cases,
                                          "call": check.call, "serialize": check.serialize}))
    os.chmod(target, 0o644)
    return cases


def encode_plain(value, arrays: dict, depth: int = 0):
    """Turns an output into JSON-able plain data; arrays go into ``arrays`` (saved as ``.npz``).

    Raises:
        CheckFailure: for anything that is not numbers, strings, arrays of numbers, lists,
            tuples or dicts (objects with ``__array__`` or ``.numpy()`` become arrays).
    """
    if depth > _MAX_DEPTH:
        raise CheckFailure("the output is nested too deeply for the grader")
    kind = type(value)
    if value is None:
        return {"n": None}
    if kind is bool:
        return {"b": value}
    if kind is int:
        return {"i": str(value)}
    if kind is float:
        return {"f": value if np.isfinite(value) else repr(value)}
    if kind is str:
        return {"s": value}
    if kind in (list, tuple):
        return {"l" if kind is list else "t": [encode_plain(v, arrays, depth + 1) for v in value]}
    if kind is dict:
        return {"d": [[encode_plain(k, arrays, depth + 1), encode_plain(v, arrays, depth + 1)]
                      for k, v in value.items()]}
    if isinstance(value, (np.ndarray, np.generic)) or hasattr(value, "__array__") or hasattr(value, "numpy"):
        try:
            arr = value.numpy() if not isinstance(value, (np.ndarray, np.generic)) and hasattr(value, "numpy") \
                else value
            arr = np.array(arr, copy=True)
        except Exception as exc:  # noqa: BLE001 - a student's object
            raise CheckFailure(f"the output ({describe(value)}) could not be turned into an array: {exc}") from None
        if type(arr) is not np.ndarray or arr.dtype.kind not in _PLAIN_ARRAY_KINDS:
            raise CheckFailure(f"the output is an array of {arr.dtype} values; the grader reads numbers only")
        key = f"a{len(arrays)}"
        arrays[key] = arr
        return {"a": key, "scalar": isinstance(value, np.generic)}
    keras_tree = _encode_keras(value, arrays, depth)
    if keras_tree is not None:
        return keras_tree
    raise CheckFailure(
        f"the function returned a {kind.__name__}, which the grader cannot read: return NumPy arrays, "
        "numbers, strings, lists, tuples or dicts")


def _is_keras(value, names: tuple) -> bool:
    return any(c.__module__.split(".")[0] == "keras" and c.__name__ in names for c in type(value).__mro__)


def _encode_keras(value, arrays: dict, depth: int):
    """Keras models and History objects without a ``serialize`` hook: the ``.keras`` file's bytes.

    The grader loads them back with ``keras.saving.load_model(..., safe_mode=True)`` (no Lambda
    code, no unregistered classes); give the check a ``serialize`` hook to avoid loading a
    student's model outside the sandbox at all.
    """
    import tempfile

    if _is_keras(value, ("Model",)):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.keras"
            try:
                value.save(path)
            except Exception as exc:  # noqa: BLE001 - a student's model
                raise CheckFailure(f"the returned Keras model could not be saved for the grader: {exc}") from None
            data = np.frombuffer(path.read_bytes(), dtype=np.uint8)
        key = f"a{len(arrays)}"
        arrays[key] = data
        return {"keras_model": key}
    if _is_keras(value, ("History",)):
        model = getattr(value, "model", None)
        return {"keras_history": encode_plain({"history": getattr(value, "history", {}),
                                               "params": getattr(value, "params", {}) or {}}, arrays, depth + 1),
                "model": encode_plain(model, arrays, depth + 1) if model is not None else {"n": None}}
    return None


def _decode_keras(tree: dict, arrays: dict, depth: int):
    import tempfile

    import keras

    if "keras_model" in tree:
        data = arrays.get(str(tree["keras_model"]))
        if data is None or data.dtype != np.uint8:
            raise CheckFailure("the recorded output is malformed (missing model)")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.keras"
            path.write_bytes(data.tobytes())
            try:
                return keras.saving.load_model(path, safe_mode=True)
            except Exception as exc:  # noqa: BLE001
                raise CheckFailure(f"the returned Keras model could not be loaded by the grader "
                                   f"({type(exc).__name__}: {str(exc)[:200]}); custom layers or Lambda layers "
                                   "need registered classes") from None
    history = keras.callbacks.History()
    plain = decode_plain(tree["keras_history"], arrays, depth + 1)
    history.history, history.params = dict(plain.get("history", {})), dict(plain.get("params", {}))
    model = decode_plain(tree.get("model", {"n": None}), arrays, depth + 1)
    if model is not None:
        history.set_model(model)
    return history


def decode_plain(tree, arrays: dict, depth: int = 0):
    """Inverse of ``encode_plain`` (run by the grader on data a student's kernel sent)."""
    if depth > _MAX_DEPTH or not isinstance(tree, dict) or len(tree) not in (1, 2):
        raise CheckFailure("the recorded output is malformed")
    if "keras_model" in tree or "keras_history" in tree:
        return _decode_keras(tree, arrays, depth)
    if "n" in tree:
        return None
    if "b" in tree:
        return bool(tree["b"])
    if "i" in tree:
        text = str(tree["i"])
        if len(text) > 4000:
            raise CheckFailure("the recorded output holds an integer too large to read")
        return int(text)
    if "f" in tree:
        return float(tree["f"])
    if "s" in tree:
        return str(tree["s"])
    if "l" in tree or "t" in tree:
        items = [decode_plain(v, arrays, depth + 1) for v in tree.get("l", tree.get("t", []))]
        return items if "l" in tree else tuple(items)
    if "d" in tree:
        out = {}
        for pair in tree["d"]:
            key = decode_plain(pair[0], arrays, depth + 1)
            if isinstance(key, np.ndarray) and key.ndim == 0:
                key = key[()]
            try:
                out[key] = decode_plain(pair[1], arrays, depth + 1)
            except TypeError:
                raise CheckFailure("the output is a dict whose keys are not numbers or strings") from None
        return out
    if "a" in tree:
        arr = arrays.get(str(tree["a"]))
        if arr is None:
            raise CheckFailure("the recorded output is malformed (missing array)")
        return arr[()] if tree.get("scalar") else arr
    raise CheckFailure("the recorded output is malformed")


def record_hidden_outputs(assignment_id: str, name: str, fn: Callable) -> None:
    """Grading mode of ``run_hidden_check``: calls ``fn`` on the grader's cases, sends plain outputs.

    Runs in the sandboxed kernel. It never sees a reference, and it decides nothing: a student
    who patches it only loses the verdict's evidence (no recorded outputs = failed test).
    """
    import base64
    import io
    import pickle

    from IPython.display import display

    path = Path(os.environ[GRADING_DIR_ENV]) / assignment_id / f"{name}.pkl"
    payload = {"assignment": assignment_id, "check": name, "records": []}
    try:
        with open(path, "rb") as f:
            spec = pickle.load(f)
    except FileNotFoundError:
        payload["error"] = f"the grader has no inputs for {assignment_id}/{name}"
        display({HIDDEN_MIME: payload}, raw=True)
        return
    arrays: dict = {}
    for i, case in enumerate(spec["cases"]):
        try:
            out = call_student(fn, case, name, spec.get("call"))
            if spec.get("serialize") is not None:
                out = spec["serialize"](out)
            payload["records"].append({"ok": True, "output": encode_plain(out, arrays)})
        except CheckFailure as failure:
            payload["records"].append({"ok": False, "error": str(failure)[:4000]})
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    payload["npz"] = base64.b64encode(buffer.getvalue()).decode("ascii")
    display({HIDDEN_MIME: payload}, raw=True)
    print(f"Hidden test of {name}: outputs recorded on {len(spec['cases'])} grader-chosen inputs; "
          "the grader checks them outside this notebook.")


def verify_recorded(check: FunctionCheck, cases: list, name: str, payload: dict | None,
                    source: str | None = None) -> tuple:
    """Verifies a hidden check's outputs recorded in the sandbox; runs outside it.

    Args:
        check: the check (with its references).
        cases: the very cases given to ``export_check_inputs``.
        name: the graded function's name.
        payload: the ``HIDDEN_MIME`` data the test cell sent, or ``None`` when it sent none.
        source: the function's source found in the notebook (for ``source_rules``), or
            ``None`` when the notebook has no ``def`` of it.

    Returns:
        ``(passed, message)``; the message names the failing case and why, never a reference value.
    """
    from course.sandbox import decode_payload_npz

    try:
        if check.source_rules is not None:
            if source is None:
                raise CheckFailure(f"no `def {name}(...)` found in your notebook: the grader checks the rules of "
                                   f"the exercise on the function's source, so define it with def in its cell")
            check.source_rules(source)
        if payload is None:
            raise CheckFailure("the hidden test recorded no outputs: its cell did not run to the end (see its "
                               "error), or run_hidden_check was replaced by your code")
        if payload.get("error"):
            raise CheckFailure(str(payload["error"]))
        records = payload.get("records") or []
        if payload.get("check") != name or len(records) != len(cases):
            raise CheckFailure(f"the hidden test recorded {len(records)} outputs for {payload.get('check')!r}, "
                               f"expected {len(cases)} for {name!r}")
        try:
            arrays = decode_payload_npz(payload.get("npz") or "")
        except Exception as exc:  # noqa: BLE001
            raise CheckFailure(f"the recorded outputs could not be read ({type(exc).__name__})") from None
        for case, record in zip(cases, records):
            if not record.get("ok"):
                message = str(record.get("error", "failed"))
                if case.label not in message:
                    message = f"{message} (on {case.label})"
                raise CheckFailure(message)
            output = decode_plain(record.get("output"), arrays)
            _REDACT[0] += 1
            try:
                check.verify(case, output)
            except CheckFailure as failure:
                raise CheckFailure(f"{name} on {case.label}: {failure}") from None
            except Exception as exc:  # noqa: BLE001 - an output verify could not handle is wrong
                raise CheckFailure(f"{name} on {case.label}: the output could not be checked "
                                   f"({type(exc).__name__})") from None
            finally:
                _REDACT[0] -= 1
    except CheckFailure as failure:
        return False, str(failure)
    return True, f"{name}: passed on {len(cases)} grader-chosen inputs"


def _python_source(cell_source: str) -> str:
    """A cell's code as plain Python (IPython magics and shell escapes turned into calls)."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(cell_source)
    except Exception:  # noqa: BLE001
        return cell_source


def notebook_function_source(cell_sources: list, name: str) -> str | None:
    """The source of the ``def name`` in force after running ``cell_sources`` in order.

    Raises:
        CheckFailure: when the last top-level binding of ``name`` is not a ``def`` (an assignment
            or import would let a student show the grader one function and run another).
    """
    import ast

    found = None
    for source in cell_sources:
        code = _python_source(source)
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
                found = ast.get_source_segment(code, node)
                if node.decorator_list:
                    found = ("@" + "\n@".join(ast.get_source_segment(code, d) for d in node.decorator_list)
                             + "\n" + found)
                continue
            targets = []
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                targets = [n for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
                names = {t.id for t in targets}
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = {(a.asname or a.name).split(".")[0] for a in node.names}
            elif isinstance(node, ast.ClassDef):
                names = {node.name}
            else:
                names = set()
            if name in names:
                raise CheckFailure(f"{name} is bound by a {type(node).__name__} statement in your notebook; the "
                                   f"grader checks the source of a `def {name}(...)` only: define it with def")
    return found

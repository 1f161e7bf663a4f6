"""What a notebook's test cells import: the assert helpers and the hidden-check call.

Visible test cells call the ``assert_*`` helpers of ``course.asserts``. A hidden test cell calls
``run_hidden_check("01_knn", "predict_labels", predict_labels)``, which does one of two things:

- **in a grading kernel** (the grader set ``course.protocol.GRADING_DIR_ENV``): it loads the
  grader-chosen inputs, calls the student's function on each, and sends the outputs back as plain
  data (``course.protocol``). It compares nothing and decides nothing: the grader verifies the
  outputs outside this process (``grader.verify``), so patching this module, NumPy or anything
  else in the kernel cannot change a verdict; it can only lose the evidence (no outputs = failed);
- **anywhere else** (an instructor running a source notebook, ``nbgrader autograde``): it runs the
  check here, with the grader's code (``grader.verify.run_local_check``), which needs the course
  repository; a student copy has only the visible tests.
"""

import copy
import os
import pickle
import traceback
from collections.abc import Callable
from pathlib import Path

from course import protocol
from course.asserts import CheckFailure, assert_close, assert_equal, assert_shape, assert_true, describe

__all__ = ["CheckFailure", "assert_close", "assert_equal", "assert_shape", "assert_true", "call_student",
           "run_hidden_check"]


def run_hidden_check(assignment_id: str, name: str, fn: Callable) -> None:
    """Runs the hidden check of graded function ``name`` against the student's ``fn``.

    Raises:
        CheckFailure: outside a grading kernel, when ``fn`` fails the check (the message names the
            case and what was wrong, never a reference value).
        FileNotFoundError: outside a grading kernel, when the hidden checks are not here.
    """
    grading_dir = os.environ.get(protocol.GRADING_DIR_ENV)
    if grading_dir:
        record_hidden_outputs(Path(grading_dir), assignment_id, name, fn)
        return
    try:
        from grader.verify import run_local_check
    except ImportError:
        raise FileNotFoundError(
            f"The hidden checks of {assignment_id} are not here. They run when your instructor grades; "
            "the visible tests above are what you can run yourself.") from None
    run_local_check(assignment_id, name, fn)


def call_student(fn: Callable, case: protocol.Case, name: str, call: Callable | None = None):
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
        raise CheckFailure(f"{name} raised {type(exc).__name__}: {exc} on {case.label}{_student_frame(exc)}") from None


def _student_frame(exc: BaseException) -> str:
    """Returns ' (line N of your cell: <code>)' for the innermost notebook frame, if any."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if "ipykernel" in f.filename or f.filename.startswith("<ipython-input")]
    if not frames:
        return ""
    f = frames[-1]
    return f" (line {f.lineno} of your cell: {f.line.strip() if f.line else '?'})"


def record_hidden_outputs(folder: Path, assignment_id: str, name: str, fn: Callable) -> None:
    """Grading mode: calls ``fn`` on the grader's cases and sends the outputs, as plain data.

    Runs in the grading kernel. It never sees a reference, and it decides nothing.
    """
    from IPython.display import display

    payload = {"assignment": assignment_id, "check": name, "records": []}
    try:
        with open(protocol.inputs_path(folder, assignment_id, name), "rb") as f:
            spec = pickle.load(f)
    except FileNotFoundError:
        payload["error"] = f"the grader has no inputs for {assignment_id}/{name}"
        display({protocol.HIDDEN_MIME: payload}, raw=True)
        return
    arrays: dict = {}
    for case in spec["cases"]:
        try:
            out = call_student(fn, case, name, spec.get("call"))
            if spec.get("serialize") is not None:
                out = spec["serialize"](out)
            payload["records"].append({"ok": True, "output": protocol.encode_plain(out, arrays)})
        except CheckFailure as failure:
            payload["records"].append({"ok": False, "error": str(failure)[:4000]})
    payload["npz"] = protocol.pack_arrays(arrays)
    display({protocol.HIDDEN_MIME: payload}, raw=True)
    print(f"Hidden test of {name}: outputs recorded on {len(spec['cases'])} grader-chosen inputs; "
          "the grader checks them outside this notebook.")

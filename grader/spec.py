"""How a hidden check is written, and where the checks of an assignment are found.

A check file ``autograder/checks/<id>.py`` defines ``CHECKS``: graded function name ->
``FunctionCheck``. It is declarative: ``cases()`` chooses the inputs, ``verify(case, output)``
compares one output with an independent reference, and optional hooks say how to call the
function, what to send back of its output, and which rules its source must follow. Keeping the
steps apart lets the grader call the student's function in a sandboxed kernel and verify the
outputs in its own process (``grader.verify``).

For check authors:

- ``cases()`` must be deterministic, and its inputs picklable with plain ``pickle`` types or
  ``course`` classes (the check module itself is not visible in the sandbox). It may read
  ``course.config.profile()``: the grader runs it inside ``using_profile`` of the profile it grades;
- ``call`` and ``serialize`` run inside the student's kernel (shipped there by value with
  cloudpickle): they must not touch reference values or anything else a student must not see;
- an output that is not plain data (a Keras model, a ``tf.Variable`` list, an object) needs
  ``serialize(output) -> plain data``, e.g. ``serialize=lambda model: {"weights": [w.numpy() for w
  in model.weights], "predictions": model(GRADER_INPUTS).numpy()}``; ``verify`` then receives that
  plain data in every mode. Without a hook, objects with ``__array__`` or ``.numpy()`` become arrays,
  and Keras models and ``History`` objects travel as ``.keras`` files that the grader loads with
  ``safe_mode=True`` (prefer a hook: then no student model is loaded outside the sandbox);
- ``verify``'s own messages must not quote reference values: the assert helpers leave out the
  expected value while the grader verifies (``course.asserts.redacted``).
"""

import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course.paths import course_layout
from course.protocol import CHECKS_ENV, Case

__all__ = ["Case", "FunctionCheck", "checks_file", "load_checks"]


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
            that are not numbers, strings, arrays, lists, tuples or dicts. ``verify`` then receives
            what it returns, in every mode.
    """

    cases: Callable[[], list]
    verify: Callable[[Case, Any], None]
    call: Callable[[Callable, Case], Any] | None = None
    source_rules: Callable[[str], None] | None = None
    serialize: Callable[[Any], Any] | None = None


def checks_file(assignment_id: str, checks_dir: Path | None = None) -> Path:
    """The check file of an assignment: in ``checks_dir`` (the grader passes the repository's), else
    ``$COURSE_CHECKS`` (how a kernel outside the grader is told, e.g. nowhere in a sandbox), else the
    repository's."""
    folder = checks_dir or os.environ.get(CHECKS_ENV)
    if folder:
        return Path(folder) / f"{assignment_id}.py"
    return course_layout().checks_file(assignment_id)


#: module names of loaded check files start with this (cloudpickle ships their hooks by value)
MODULE_PREFIX = "course_checks_"


def load_checks(assignment_id: str, checks_dir: Path | None = None) -> dict:
    """Loads ``CHECKS`` (function name -> ``FunctionCheck``) from the assignment's check file.

    Raises:
        FileNotFoundError: where the instructor's checks are not present (a student copy).
    """
    try:
        path = checks_file(assignment_id, checks_dir)
    except FileNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise FileNotFoundError(
            f"The hidden checks of {assignment_id} are not here (looked for {path}). They run when "
            "your instructor autogrades; the visible tests above are what you can run yourself.")
    spec = importlib.util.spec_from_file_location(f"{MODULE_PREFIX}{assignment_id}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CHECKS

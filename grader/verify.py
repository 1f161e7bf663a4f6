"""Verifying a student's functions: outside the kernel when grading, in-process for tools.

- ``export_check_inputs`` (grader, before the run): writes a check's cases and its
  ``call``/``serialize`` hooks where the grading kernel finds them (``course.protocol.inputs_path``);
- ``verify_recorded`` (grader, after the run): checks the outputs the kernel sent against the
  references, in the grader's process; the kernel decides nothing;
- ``notebook_function_source``: the ``def`` of a graded function as the notebook's cells define it,
  for the checks' source rules (read from the notebook, not from the kernel);
- ``run_check`` / ``run_local_check``: the whole check in one process (mutation testing, the
  instructor running a source notebook, ``nbgrader autograde``).
"""

import ast
import inspect
import sys
from collections.abc import Callable
from pathlib import Path

from course import protocol
from course.asserts import CheckFailure, redacted
from course.grading import call_student
from grader.spec import MODULE_PREFIX, FunctionCheck, load_checks


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


def run_local_check(assignment_id: str, name: str, fn: Callable) -> None:
    """Runs the hidden check of graded function ``name`` against ``fn`` in this process.

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


def export_check_inputs(check: FunctionCheck, assignment_id: str, name: str, folder: Path) -> list:
    """Writes what the sandboxed kernel needs to run a hidden check; returns the cases.

    ``folder/<assignment_id>/<name>.pkl`` holds the cases and the ``call``/``serialize`` hooks
    (cloudpickle, by value), never ``verify`` nor anything it references. Run by the grader,
    outside the sandbox; the same case objects must then be passed to ``verify_recorded``.
    """
    import cloudpickle

    cases = list(check.cases())
    target = protocol.inputs_path(folder, assignment_id, name)
    target.parent.mkdir(parents=True, exist_ok=True)
    for hook in (check.call, check.serialize):
        module = getattr(hook, "__module__", None)
        if module and module.startswith(MODULE_PREFIX) and module in sys.modules:
            cloudpickle.register_pickle_by_value(sys.modules[module])  # the sandbox cannot import it
    target.write_bytes(cloudpickle.dumps({"assignment": assignment_id, "name": name, "cases": cases,
                                          "call": check.call, "serialize": check.serialize}))
    target.chmod(0o644)
    return cases


def verify_recorded(check: FunctionCheck, cases: list, name: str, payload: dict | None,
                    source: str | None = None) -> tuple:
    """Verifies a hidden check's outputs recorded in the sandbox; runs outside it.

    Args:
        check: the check (with its references).
        cases: the very cases given to ``export_check_inputs``.
        name: the graded function's name.
        payload: the ``course.protocol.HIDDEN_MIME`` data the test cell sent, or ``None`` when it sent none.
        source: the function's source found in the notebook (for ``source_rules``), or
            ``None`` when the notebook has no ``def`` of it.

    Returns:
        ``(passed, message)``; the message names the failing case and why, never a reference value.
    """
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
            arrays = protocol.unpack_arrays(payload.get("npz") or "")
        except Exception as exc:  # noqa: BLE001 - any malformed payload a kernel sent is a failed test
            raise CheckFailure(f"the recorded outputs could not be read ({type(exc).__name__})") from None
        for case, record in zip(cases, records):
            if not record.get("ok"):
                message = str(record.get("error", "failed"))
                if case.label not in message:
                    message = f"{message} (on {case.label})"
                raise CheckFailure(message)
            output = protocol.decode_plain(record.get("output"), arrays)
            try:
                with redacted():
                    check.verify(case, output)
            except CheckFailure as failure:
                raise CheckFailure(f"{name} on {case.label}: {failure}") from None
            except Exception as exc:  # noqa: BLE001 - an output verify could not handle is wrong
                raise CheckFailure(f"{name} on {case.label}: the output could not be checked "
                                   f"({type(exc).__name__})") from None
    except CheckFailure as failure:
        return False, str(failure)
    return True, f"{name}: passed on {len(cases)} grader-chosen inputs"


def _python_source(cell_source: str) -> str:
    """A cell's code as plain Python (IPython magics and shell escapes turned into calls)."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(cell_source)
    except Exception:  # noqa: BLE001 - a cell IPython cannot transform is read as plain Python
        return cell_source


def notebook_function_source(cell_sources: list, name: str) -> str | None:
    """The source of the ``def name`` in force after running ``cell_sources`` in order.

    Raises:
        CheckFailure: when the last top-level binding of ``name`` is not a ``def`` (an assignment
            or import would let a student show the grader one function and run another).
    """
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

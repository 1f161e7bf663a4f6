"""Running a notebook top to bottom in a fresh kernel (tests, reference builder, self-checks)."""

import os
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import nbformat

from course.notebooks import read_notebook


@contextmanager
def _environment(values: dict):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update({k: str(v) for k, v in values.items()})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def execute_notebook(path: Path, profile: str = "quick", results_file: Path | None = None,
                     timeout: int = 1800, allow_errors: bool = False, workdir: Path | None = None,
                     on_cell_executed=None, quiet_kernel: bool = False) -> tuple[nbformat.NotebookNode, float]:
    """Executes a notebook in its own folder with ``COURSE_PROFILE=profile``.

    Args:
        path: the notebook (not modified: the executed copy is returned).
        profile: ``quick`` or ``full``.
        results_file: where ``course.results.record`` writes (``COURSE_RESULTS_FILE``).
        timeout: seconds per cell.
        allow_errors: keep going after a failing cell (as nbgrader does) instead of raising.
        workdir: the kernel's working folder (default: the notebook's folder).
        on_cell_executed: called after each code cell as ``on_cell_executed(cell=, cell_index=,
            execute_reply=)`` (nbclient's hook; e.g. to update a progress bar).
        quiet_kernel: discard the kernel process's own log lines (its stderr); what the cells
            print still reaches the notebook.

    Returns:
        ``(executed_notebook, seconds)``.
    """
    from nbclient import NotebookClient

    path = Path(path).resolve()
    nb = read_notebook(path)
    env = {"COURSE_PROFILE": profile, "TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg"}
    if results_file is not None:
        env["COURSE_RESULTS_FILE"] = str(Path(results_file).resolve())
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(Path(workdir or path.parent).resolve())}})
    if on_cell_executed is not None:
        client.on_cell_executed = on_cell_executed
    start = time.monotonic()
    with _environment(env):
        client.execute(**({"stderr": subprocess.DEVNULL} if quiet_kernel else {}))
    return nb, time.monotonic() - start

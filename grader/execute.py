"""Running a notebook top to bottom in a fresh kernel (the reference builder, tests, self-checks)."""

import os
import subprocess
import time
from pathlib import Path

import nbformat

from course.protocol import PROFILE_ENV, RESULTS_FILE_ENV
from grader.notebooks import read_notebook


def execute_notebook(path: Path, profile: str = "quick", results_file: Path | None = None,
                     timeout: int = 1800, allow_errors: bool = False, workdir: Path | None = None,
                     on_cell_executed=None, quiet_kernel: bool = False,
                     extra_env: dict | None = None) -> tuple[nbformat.NotebookNode, float]:
    """Executes a notebook in its own folder with ``COURSE_PROFILE=profile`` (in the kernel's environment).

    Args:
        path: the notebook (not modified: the executed copy is returned).
        profile: ``quick`` or ``full``.
        results_file: where ``course.results.record`` writes (``COURSE_RESULTS_FILE``).
        timeout: seconds per cell.
        allow_errors: keep going after a failing cell (as nbgrader does) instead of raising.
        workdir: the kernel's working folder (default: the notebook's folder).
        on_cell_executed: called after each code cell as ``on_cell_executed(cell=, cell_index=,
            execute_reply=)`` (nbclient's hook; e.g. to update a progress bar).
        extra_env: more environment variables for the kernel.
        quiet_kernel: discard the kernel process's own log lines (its stderr); what the cells
            print still reaches the notebook.

    Returns:
        ``(executed_notebook, seconds)``.
    """
    from nbclient import NotebookClient

    path = Path(path).resolve()
    nb = read_notebook(path)
    env = {**os.environ, PROFILE_ENV: profile, "TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg", **(extra_env or {})}
    if results_file is not None:
        env[RESULTS_FILE_ENV] = str(Path(results_file).resolve())
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(Path(workdir or path.parent).resolve())}})
    if on_cell_executed is not None:
        client.on_cell_executed = on_cell_executed
    start = time.monotonic()
    client.execute(env=env, **({"stderr": subprocess.DEVNULL} if quiet_kernel else {}))
    return nb, time.monotonic() - start

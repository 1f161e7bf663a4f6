"""Shared helpers of the test suite."""

import os
import socket
import sys
import warnings
from pathlib import Path

import pytest

from autograder import solutions
from course.paths import course_layout
from grader.notebooks import grade_cells, read_notebook

ROOT = Path(__file__).resolve().parents[1]
LAYOUT = course_layout(ROOT)


def solution_namespace(assignment: str, extra: dict | None = None) -> dict:
    """Executes every answer cell of a solution notebook (markers removed) and returns the namespace.

    Only the answer cells run, so this is fast and needs no kernel.
    """
    return solutions.solution_namespace(assignment, extra, imports=False)[0]


def solution_cells(assignment: str) -> dict:
    """Returns grade_id -> cell of a solution notebook."""
    return grade_cells(read_notebook(LAYOUT.source_notebook(assignment, f"{assignment}.ipynb")))


def skip_loudly(what: str, reason: str):
    """Skips a test with a banner on stderr and a warning, so that a skip is never silent (what: the test's name)."""
    message = f"{what} SKIPPED: {reason}"
    print("\n" + "!" * len(message) + "\n" + message + "\n" + "!" * len(message), file=sys.stderr)
    warnings.warn(message, stacklevel=2)
    pytest.skip(message)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: Debian's Chromium, which Playwright drives (its own browser download is not used); COURSE_CHROMIUM overrides it
CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def chromium_page(playwright, profile: Path, height: int, timeout_ms: int):
    """``(context, page)``: headless Chromium with its own profile folder, 1400 pixels wide."""
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
        viewport={"width": 1400, "height": height})
    context.set_default_timeout(timeout_ms)
    return context, context.pages[0] if context.pages else context.new_page()

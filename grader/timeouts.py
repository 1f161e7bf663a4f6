"""Time limits that follow the measured time: per cell and per notebook, from the reference run.

A reference run (``autograder/references/<id>.json``) records how long the solution notebook took
in each profile (``run_seconds``), hidden checks included. A correct submission may be slower than
the solution, but not by an order of magnitude, while an infinite loop runs until a limit stops it.
So the default limits are a generous multiple of the reference time with a floor:

- per cell: ``max(CELL_FLOOR, CELL_FACTOR * run_seconds)`` (no cell of the reference takes longer
  than the whole notebook);
- per notebook: ``max(NOTEBOOK_FLOOR, NOTEBOOK_FACTOR * run_seconds)``.

Without a reference for the profile the limits fall back to ``FALLBACK`` (nbgrader's 30-minute cell).
``course autograde --cell-timeout/--notebook-timeout`` override them, and its summary prints them.
"""

import json
from dataclasses import dataclass

from course.paths import Layout

CELL_FACTOR, CELL_FLOOR = 3.0, 120.0
NOTEBOOK_FACTOR, NOTEBOOK_FLOOR = 5.0, 600.0
FALLBACK = {"cell_seconds": 1800.0, "notebook_seconds": 4 * 3600.0}


@dataclass(frozen=True)
class TimeLimits:
    """The default limits of one assignment and profile, and what they come from."""

    cell_seconds: float
    notebook_seconds: float
    reference_seconds: float | None

    def describe(self) -> str:
        basis = (f"from the reference run's {self.reference_seconds:g} s" if self.reference_seconds is not None
                 else "no reference time recorded")
        return f"{self.cell_seconds:g} s per cell, {self.notebook_seconds:g} s per notebook ({basis})"


def reference_seconds(layout: Layout | None, assignment: str, profile: str) -> float | None:
    """The recorded ``run_seconds`` of an assignment's reference run in a profile, or ``None``."""
    if layout is None:
        return None
    path = layout.references_file(assignment)
    try:
        entry = json.loads(path.read_text()).get("profiles", {}).get(profile) or {}
        seconds = float(entry.get("provenance", {}).get("run_seconds"))
    except (OSError, ValueError, TypeError):
        return None
    return seconds if seconds > 0 else None


def default_limits(layout: Layout | None, assignment: str, profile: str) -> TimeLimits:
    """The default time limits for grading ``assignment`` in ``profile``."""
    seconds = reference_seconds(layout, assignment, profile)
    if seconds is None:
        return TimeLimits(FALLBACK["cell_seconds"], FALLBACK["notebook_seconds"], None)
    return TimeLimits(round(max(CELL_FLOOR, CELL_FACTOR * seconds)),
                      round(max(NOTEBOOK_FLOOR, NOTEBOOK_FACTOR * seconds)), seconds)


def limits_for(layout: Layout | None, assignment: str, profile: str, overrides: dict) -> tuple:
    """``(limits, description)``: the reference-based default time limits, then ``overrides``.

    Used by ``course autograde`` and ``course check`` alike; ``layout`` is ``None`` without the repository.
    """
    default = default_limits(layout, assignment, profile)
    limits = {"cell_seconds": default.cell_seconds, "notebook_seconds": default.notebook_seconds, **overrides}
    if "cell_seconds" in overrides or "notebook_seconds" in overrides:
        text = (f"{limits['cell_seconds']:g} s per cell, {limits['notebook_seconds']:g} s per notebook "
                f"(given; the default would be {default.describe()})")
    else:
        text = default.describe()
    return limits, text

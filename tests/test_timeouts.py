"""Time limits follow the measured time: a multiple of the reference run, with a floor, overridable."""

import json

from course.paths import Layout
from grader.timeouts import (
    CELL_FACTOR,
    CELL_FLOOR,
    FALLBACK,
    NOTEBOOK_FACTOR,
    NOTEBOOK_FLOOR,
    default_limits,
    limits_for,
)
from helpers import LAYOUT


def _layout_with(tmp_path, seconds) -> Layout:
    layout = Layout(tmp_path)
    layout.references_dir.mkdir(parents=True)
    entry = {"provenance": {"run_seconds": seconds}} if seconds is not None else {}
    layout.references_file("xx").write_text(json.dumps({"profiles": {"quick": entry}}))
    return layout


def test_a_quick_notebook_gets_the_floors(tmp_path):
    limits = default_limits(_layout_with(tmp_path, 6.4), "xx", "quick")
    assert (limits.cell_seconds, limits.notebook_seconds) == (CELL_FLOOR, NOTEBOOK_FLOOR)
    assert "6.4 s" in limits.describe()


def test_a_long_notebook_gets_a_multiple_of_its_reference_time(tmp_path):
    limits = default_limits(_layout_with(tmp_path, 1000.0), "xx", "quick")
    assert limits.cell_seconds == CELL_FACTOR * 1000 and limits.notebook_seconds == NOTEBOOK_FACTOR * 1000


def test_the_floor_and_the_multiple_meet_at_the_threshold(tmp_path):
    at = CELL_FLOOR / CELL_FACTOR  # 40 s: both rules give the floor
    for seconds, cell in ((at - 0.5, CELL_FLOOR), (at, CELL_FLOOR), (at + 1, round(CELL_FACTOR * (at + 1)))):
        assert default_limits(_layout_with(tmp_path / str(seconds), seconds), "xx", "quick").cell_seconds == cell


def test_without_a_reference_the_fallback_holds(tmp_path):
    layout = _layout_with(tmp_path, None)
    for aid, profile in (("xx", "quick"), ("xx", "full"), ("nothing", "quick")):
        limits = default_limits(layout, aid, profile)
        assert (limits.cell_seconds, limits.notebook_seconds) == tuple(FALLBACK.values())
        assert limits.reference_seconds is None and "no reference" in limits.describe()


def test_overrides_win_and_the_summary_says_so(tmp_path):
    layout = _layout_with(tmp_path, 100.0)
    limits, text = limits_for(layout, "xx", "quick", {})
    assert limits["cell_seconds"] == 300 and "from the reference run's 100 s" in text
    limits, text = limits_for(layout, "xx", "quick", {"cell_seconds": 7.0})
    assert limits["cell_seconds"] == 7.0 and limits["notebook_seconds"] == 600 and "given" in text


def test_every_assignment_has_reference_times_for_both_profiles():
    for aid in LAYOUT.assignment_ids():
        for profile in ("quick", "full"):
            assert default_limits(LAYOUT, aid, profile).reference_seconds, f"{aid} {profile}: no run_seconds"

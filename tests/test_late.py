"""grader.late: deadlines, the penalty rule at its boundaries, the course config, and autograde's report."""

import csv
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from grader.late import LateConfigError, LatePolicy, PenaltyRule, days_late, lateness, load_policy, parse_time
from helpers import LAYOUT, ROOT

DEADLINE = datetime(2027, 1, 22, 22, 59, tzinfo=timezone.utc)
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)


def stamp(when: datetime) -> str:
    """A timestamp as nbgrader submit writes it."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")


@pytest.mark.parametrize("text", ["2027-01-22 23:59:00 Europe/Zurich", "2027-01-22T23:59:00+01:00",
                                  "2027-01-22 22:59:00.000000 UTC", "2027-01-22 23:59:00 +0100",
                                  "2027-01-22T22:59:00Z"])
def test_parse_time_reads_nbgrader_timestamps_and_iso_times_with_their_zone(text):
    assert parse_time(text) == DEADLINE


@pytest.mark.parametrize("text, words", [("2027-01-22 23:59:00", "no time zone"), ("", "empty"),
                                         ("2027-01-22 23:59:00 Mars/Base", "unknown time zone 'Mars/Base'"),
                                         ("next friday", "'next friday' is not a time"),
                                         ("2027-13-22 23:59:00 UTC", "month must be in 1..12")])
def test_parse_time_rejects_what_is_not_a_time_with_a_zone_and_says_why(text, words):
    with pytest.raises(ValueError, match=words):
        parse_time(text)


@pytest.mark.parametrize("late, days", [
    (-DAY, 0), (-SECOND, 0), (timedelta(0), 0),  # before, a second before, exactly at the deadline
    (SECOND, 1), (DAY - SECOND, 1), (DAY, 1),  # a started day is a day; exactly 24 hours is one day
    (DAY + SECOND, 2), (2 * DAY, 2), (2 * DAY + timedelta(microseconds=1), 3), (30 * DAY, 30)])
def test_a_started_day_counts_as_one(late, days):
    assert days_late(DEADLINE + late, DEADLINE) == days


@pytest.mark.parametrize("late, days", [(timedelta(minutes=15), 0), (timedelta(minutes=15) + SECOND, 1),
                                        (DAY, 1), (DAY + SECOND, 2)])
def test_the_grace_period_is_on_time_and_days_count_from_the_deadline(late, days):
    assert days_late(DEADLINE + late, DEADLINE, grace=timedelta(minutes=15)) == days


POLICY = LatePolicy({"01_knn": DEADLINE}, PenaltyRule(per_day=0.1, max_fraction=0.5))


@pytest.mark.parametrize("late, fraction", [(timedelta(0), 0.0), (SECOND, 0.1), (DAY, 0.1), (DAY + SECOND, 0.2),
                                            (4 * DAY + SECOND, 0.5), (5 * DAY, 0.5), (5 * DAY + SECOND, 0.5),
                                            (100 * DAY, 0.5)])
def test_the_deduction_grows_per_day_and_stops_at_the_cap(late, fraction):
    result = lateness(POLICY, "01_knn", stamp(DEADLINE + late))
    assert result.fraction == pytest.approx(fraction)
    assert result.apply(21.0, 21.0) == pytest.approx(21.0 * (1 - fraction))


def test_the_deduction_is_of_the_points_and_never_below_zero():
    result = lateness(POLICY, "01_knn", stamp(DEADLINE + 3 * DAY))
    assert (result.days_late, result.note) == (3, "3 days late: -30% of the points")
    assert result.apply(10.0, 21.0) == pytest.approx(10.0 - 0.3 * 21.0)
    assert result.apply(5.0, 21.0) == 0.0


def test_no_deadline_no_timestamp_and_an_unreadable_timestamp():
    assert lateness(POLICY, "02_linear_classifiers", stamp(DEADLINE + 9 * DAY)).fraction == 0.0
    missing = lateness(POLICY, "01_knn", None)
    assert (missing.fraction, missing.note) == (0.0, "no timestamp.txt: no penalty")
    # the student writes timestamp.txt: breaking it must not be a way out of the penalty
    broken = lateness(POLICY, "01_knn", "yesterday, honest")
    assert broken.fraction == 0.5 and "unreadable" in broken.note and "checked by hand" in broken.note


def test_load_policy_reads_the_course_config(tmp_path):
    path = tmp_path / "course.toml"
    path.write_text('[deadlines]\n01_knn = "2027-01-22 23:59:00 Europe/Zurich"\n'
                    "02_linear_classifiers = 2027-01-29T23:59:00+01:00\n"  # a TOML datetime
                    "[late_penalty]\nper_day = 0.1\nmax = 0.5\ngrace_minutes = 10\n")
    policy = load_policy(path)
    assert policy.deadlines == {"01_knn": DEADLINE, "02_linear_classifiers": DEADLINE + 7 * DAY}
    assert policy.rule == PenaltyRule(0.1, 0.5, timedelta(minutes=10))
    assert load_policy(tmp_path / "absent.toml") == LatePolicy.none()


def test_the_shipped_course_config_is_valid_and_sets_no_deadline():
    policy = load_policy(ROOT / "course.toml")
    assert policy.deadlines == {} and policy.rule.per_day == 0.1


@pytest.mark.parametrize("text, words", [
    ('[deadlines]\n01_knn = "2027-01-22 23:59"\n', "deadlines.01_knn: '2027-01-22 23:59' has no time zone"),
    ("[deadlines]\n01_knn = 2027-01-22T23:59:00\n", "deadlines.01_knn = 2027-01-22T23:59:00 has no time zone"),
    ("[deadlines]\n01_knn = 3\n", "deadlines.01_knn = 3 is not a date"),
    ("[late_penalty]\nper_day = 10\n", r"late_penalty.per_day = 10 must be a number from 0 to 1"),
    ("[late_penalty]\nmax = -0.1\n", r"late_penalty.max = -0.1 must be"),
    ('[late_penalty]\nper_day = "10%"\n', r"late_penalty.per_day = '10%'"),
    ("[late_penalty]\ngrace_minutes = -5\n", "grace_minutes = -5"),
    ("[late_penalty]\nper_dya = 0.1\n", r"unknown keys \['per_dya'\]"),
    ("[deadlines\n", "cannot be read as TOML")])
def test_a_bad_config_is_refused_with_the_bad_value(tmp_path, text, words):
    path = tmp_path / "course.toml"
    path.write_text(text)
    with pytest.raises(LateConfigError, match=words):
        load_policy(path)


def test_autograde_refuses_a_bad_config_before_grading(tmp_path):
    bad = tmp_path / "course.toml"
    bad.write_text("[late_penalty]\nper_day = 2\n")
    run = subprocess.run([sys.executable, "-m", "course.cli", "autograde", str(tmp_path), "--config", str(bad)],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 2 and "late_penalty.per_day = 2 must be a number from 0 to 1" in run.stderr


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox")
def test_autograde_reports_the_penalty_beside_the_raw_score(tmp_path):
    """Three correct 01_knn submissions: on time, 25 hours late, unreadable timestamp; one without a timestamp."""
    subs = tmp_path / "subs"
    correct = LAYOUT.samples_dir() / "01_knn" / "correct" / "01_knn"
    stamps = {"ontime": stamp(DEADLINE - SECOND), "late": stamp(DEADLINE + DAY + timedelta(hours=1)),
              "broken": "not a time", "nostamp": None}
    for student, text in stamps.items():
        shutil.copytree(correct, subs / student / "01_knn")
        if text is not None:
            (subs / student / "01_knn" / "timestamp.txt").write_text(text)
    config = tmp_path / "course.toml"
    config.write_text('[deadlines]\n01_knn = "2027-01-22 23:59:00 Europe/Zurich"\n'
                      "[late_penalty]\nper_day = 0.1\nmax = 0.5\n")
    run = subprocess.run([sys.executable, "-m", "course.cli", "autograde", str(subs), "--out", str(tmp_path / "out"),
                          "--profile", "quick", "--no-progress", "--config", str(config)],
                         cwd=ROOT, capture_output=True, text=True)
    print(run.stdout[-3000:], run.stderr[-2000:])
    assert run.returncode == 0
    rows = {r["student"]: r for r in csv.DictReader(open(tmp_path / "out" / "grades.csv"))}
    got = {s: (r["score"], r["days_late"], r["late_penalty"], r["final_score"]) for s, r in rows.items()}
    assert got == {"ontime": ("21", "0", "0", "21"), "late": ("21", "2", "4.2", "16.8"),
                   "broken": ("21", "0", "10.5", "10.5"), "nostamp": ("21", "0", "0", "21")}
    assert rows["late"]["submitted_at"] == "2027-01-23T23:59:00+00:00"
    assert rows["late"]["late_note"] == "2 days late: -20% of the points"
    assert "unreadable" in rows["broken"]["late_note"]
    assert "2 days late: -20% of the points: 16.8 after the penalty" in run.stdout

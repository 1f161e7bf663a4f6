"""`course check NOTEBOOK`: per-test verdicts, points, failure messages and exit codes.

The three 01_knn sample submissions (autograder/samples/01_knn/) are checked as a learner would:
the correct one passes everything, the untouched one fails everything, and the one that passes
every visible test ("visible_only") is caught with --hidden by two hidden tests, which also take
the points of the visible tests of the same two functions (a visible test counts only for a
function the grader confirms outside the kernel).
"""

import os
import re
import subprocess
import sys

import pytest

from grader.merge import is_released_hidden_test, merge_with_source
from grader.notebooks import grade_cells, read_notebook
from helpers import LAYOUT, ROOT

SAMPLES = LAYOUT.samples_dir("01_knn")
VISIBLE = ["compute_distances_two_loops_by_hand", "compute_distances_one_loop_agrees_with_two_loops",
           "compute_distances_no_loops_agrees_with_two_loops", "compute_distances_l1_by_hand",
           "predict_labels_small_vote", "cross_validate_k_structure"]
HIDDEN = ["compute_distances_two_loops_matches_scipy", "compute_distances_one_loop_matches_scipy",
          "compute_distances_no_loops_matches_scipy", "compute_distances_l1_matches_scipy",
          "predict_labels_matches_reference", "cross_validate_k_matches_reference"]
LINE = re.compile(r"^  (PASS|FAIL|hidden)\s+(\S+)\s+(-|[\d.]+) / ([\d.]+)$", re.MULTILINE)


def course_check(*args):
    run = subprocess.run([sys.executable, "-m", "course.cli", "check", *map(str, args)], cwd=ROOT,
                         capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    print(run.stdout, run.stderr)
    verdicts = {m.group(2): (m.group(1), m.group(3), float(m.group(4))) for m in LINE.finditer(run.stdout)}
    return run, verdicts


def sample(name):
    return SAMPLES / name / "01_knn" / "01_knn.ipynb"


@pytest.mark.slow
def test_correct_submission_passes_every_test_hidden_included():
    run, verdicts = course_check("--hidden", sample("correct"))
    assert run.returncode == 0
    assert set(verdicts) == set(VISIBLE + HIDDEN)
    assert all(v[0] == "PASS" for v in verdicts.values())
    assert "score: 21 / 21 points; 12 of 12 tests passed" in run.stdout
    assert "all tests passed" in run.stdout


@pytest.mark.slow
def test_untouched_submission_fails_every_visible_test_and_lists_the_hidden_ones():
    run, verdicts = course_check(sample("untouched"))
    assert run.returncode == 1
    assert {g for g, v in verdicts.items() if v[0] == "FAIL"} == set(VISIBLE)
    assert {g for g, v in verdicts.items() if v[0] == "hidden"} == set(HIDDEN)
    assert "score: 0 / 6 points; 0 of 6 tests passed" in run.stdout
    assert "not implemented yet" in run.stdout
    assert "6 hidden tests (15 points) run when your instructor grades" in run.stdout


@pytest.mark.slow
def test_untouched_submission_with_hidden_fails_everything():
    run, verdicts = course_check("--hidden", sample("untouched"))
    assert run.returncode == 1
    assert set(verdicts) == set(VISIBLE + HIDDEN)
    assert all(v[0] == "FAIL" and v[1] == "0" for v in verdicts.values())
    assert "score: 0 / 21 points" in run.stdout


@pytest.mark.slow
def test_partly_wrong_submission_passes_visible_tests_and_fails_two_hidden_ones():
    run, verdicts = course_check(sample("visible_only"))
    assert run.returncode == 0, "every visible test passes"
    assert "score: 6 / 6 points; 6 of 6 tests passed" in run.stdout

    run, verdicts = course_check("--hidden", sample("visible_only"))
    assert run.returncode == 1
    failed = {g for g, v in verdicts.items() if v[0] == "FAIL"}
    assert failed == {"compute_distances_no_loops_matches_scipy", "cross_validate_k_matches_reference",
                      "compute_distances_no_loops_agrees_with_two_loops", "cross_validate_k_structure"}
    assert verdicts["compute_distances_no_loops_matches_scipy"] == ("FAIL", "0", 3.0)
    assert "score: 13 / 21 points; 8 of 12 tests passed" in run.stdout
    assert "failed its hidden test (compute_distances_no_loops_matches_scipy)" in run.stdout
    # The failure messages teach: what was compared, and a hint; never the check's code.
    assert "contains a loop or comprehension" in run.stdout
    assert "Hint: expand ||x - x'||^2" in run.stdout
    assert "cdist(" not in run.stdout and "reference_cross_validation" not in run.stdout


def test_check_reports_a_broken_notebook_with_exit_code_2(tmp_path):
    broken = tmp_path / "01_knn.ipynb"
    broken.write_text('{"cells": [')
    run, _ = course_check(broken)
    assert run.returncode == 2 and "not valid JSON" in run.stderr


def test_hidden_needs_the_instructor_notebook(tmp_path):
    nb = tmp_path / "99_nothing" / "99_nothing.ipynb"
    nb.parent.mkdir()
    nb.write_text((LAYOUT.release_notebook("01_knn", "01_knn.ipynb")).read_text())
    run, _ = course_check("--hidden", nb)
    assert run.returncode == 2 and "--assignment" in run.stderr


def test_instructor_tests_replace_edited_and_restore_deleted_test_cells():
    student = read_notebook(LAYOUT.release_notebook("01_knn", "01_knn.ipynb"))
    source = read_notebook(LAYOUT.source_notebook("01_knn", "01_knn.ipynb"))
    cells = grade_cells(student)
    cells["predict_labels_small_vote"].source = "pass  # the student made the test trivial"
    student.cells.remove(cells["cross_validate_k_matches_reference"])
    cells, notes = merge_with_source(student, source)
    merged = {c.metadata["nbgrader"]["grade_id"]: c for c in cells if "nbgrader" in c.metadata}
    for gid in VISIBLE + HIDDEN:
        assert merged[gid].source == grade_cells(source)[gid].source
    order = [c.metadata["nbgrader"]["grade_id"] for c in cells if c.metadata.get("nbgrader", {}).get("grade_id")]
    assert order == [c.metadata["nbgrader"]["grade_id"] for c in source.cells
                     if c.metadata.get("nbgrader", {}).get("grade_id")], "restored in the source's place"
    assert any("predict_labels_small_vote was edited" in n for n in notes)
    assert any("cross_validate_k_matches_reference was missing" in n for n in notes)


def test_released_hidden_tests_are_recognised_as_docstring_only():
    student = grade_cells(read_notebook(LAYOUT.release_notebook("01_knn", "01_knn.ipynb")))
    assert {g for g in VISIBLE + HIDDEN if is_released_hidden_test(student[g].source)} == set(HIDDEN)


def test_check_help_explains_options_and_exit_codes():
    out = subprocess.run([sys.executable, "-m", "course.cli", "check", "--help"], cwd=ROOT, capture_output=True,
                         text=True)
    assert out.returncode == 0
    for word in ["--hidden", "--assignment", "--profile", "--timeout", "exit status", "solutions/<id>"]:
        assert word in out.stdout
    top = subprocess.run([sys.executable, "-m", "course.cli", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert "check" in top.stdout and "Exit status" in top.stdout

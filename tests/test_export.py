"""course export: Canvas's gradebook import and the points per test, from what course autograde writes."""

import csv
import subprocess
import sys

import pytest

from grader.autograde import Submission
from grader.export import ExportError, read_grades, write_canvas, write_questions
from grader.late import Lateness
from grader.reports import write_reports
from helpers import ROOT


def graded(student, assignment, cells, late=None, status="graded"):
    sub = Submission(student=student, assignment=assignment, folder=ROOT, status=status)
    sub.cells = [(f"{assignment}.ipynb", gid, s, m, "" if s == m else "wrong") for gid, s, m in cells]
    sub.score, sub.max_score = sum(c[2] for c in sub.cells), sum(c[3] for c in sub.cells)
    if late:
        sub.late = late
    if status != "graded":
        sub.message, sub.cells, sub.score, sub.max_score = "invalid JSON", [], 0.0, 0.0
    return sub


@pytest.fixture
def results(tmp_path):
    """grades.csv and cells.csv as course autograde writes them: 3 students, 2 assignments, one late, one broken."""
    late = Lateness("2027-01-24T10:00:00+00:00", 2, 0.2, "2 days late: -20% of the points")
    knn = [("compute_distances_two_loops_test", 3, 3), ("predict_labels_test", 2, 2)]
    subs = [graded("ada", "01_knn", knn), graded("ada", "02_linear_classifiers", [("svm_loss_test", 4, 4)]),
            graded("bob", "01_knn", [("compute_distances_two_loops_test", 3, 3), ("predict_labels_test", 0, 2)],
                   late=late),
            graded("cyd", "01_knn", [], status="error")]
    write_reports(subs, tmp_path, tmp_path / "no-feedback")
    return tmp_path


def read_rows(path):
    return list(csv.reader(open(path, newline="")))


def test_canvas_csv_has_canvas_columns_points_possible_and_final_scores(results):
    write_canvas(read_grades(results / "grades.csv"), results / "canvas.csv")
    rows = read_rows(results / "canvas.csv")
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "01_knn", "02_linear_classifiers"]
    assert rows[1] == ["    Points Possible", "", "", "", "", "5", "4"]
    # bob: 3 of 5, two days late: 3 - 0.2 * 5 = 2; cyd's submission could not be graded: 0
    assert rows[2:] == [["ada", "", "", "ada", "", "5", "4"], ["bob", "", "", "bob", "", "2", ""],
                        ["cyd", "", "", "cyd", "", "0", ""]]


def test_with_a_roster_rows_names_and_assignment_columns_come_from_canvas(results):
    roster = results / "roster.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section,01_knn (4321),Current Score\n"
                      "    Points Possible,,,,,5,(read only)\n"
                      '"Lovelace, Ada",101,S-1,ada,A,,\n"Babbage, Bob",102,S-2,bob,B,1,\n"Dee, Eve",103,S-3,eve,A,,\n')
    warnings = write_canvas(read_grades(results / "grades.csv"), results / "canvas.csv", roster)
    rows = read_rows(results / "canvas.csv")
    assert rows[0][5:] == ["01_knn (4321)", "02_linear_classifiers"]
    assert rows[2:] == [["Lovelace, Ada", "101", "S-1", "ada", "A", "5", "4"],
                        ["Babbage, Bob", "102", "S-2", "bob", "B", "2", ""],
                        ["Dee, Eve", "103", "S-3", "eve", "A", "", ""]]
    assert warnings == ["cyd: graded but not in the roster " + str(roster) + " (SIS Login ID); not written",
                        "eve: in the roster, no grade (left empty: Canvas keeps what it has)"]


def test_questions_csv_has_a_column_per_test_and_its_points(results):
    write_questions(read_grades(results / "grades.csv"), results / "questions.csv")
    rows = read_rows(results / "questions.csv")
    assert rows[0] == ["student", "01_knn:compute_distances_two_loops_test", "01_knn:predict_labels_test",
                       "02_linear_classifiers:svm_loss_test"]
    assert rows[1] == ["points possible", "3", "2", "4"]
    assert rows[2:] == [["ada", "3", "2", "4"], ["bob", "3", "0", ""], ["cyd", "", "", ""]]


def test_course_export_writes_both_files(results, tmp_path):
    run = subprocess.run([sys.executable, "-m", "course.cli", "export", "--to", "canvas", str(results / "grades.csv"),
                          "--out", str(tmp_path / "lms")], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "2 assignment column(s)" in run.stdout and "3 test(s)" in run.stdout
    assert (tmp_path / "lms" / "canvas.csv").is_file() and (tmp_path / "lms" / "questions.csv").is_file()


@pytest.mark.parametrize("content, words", [
    (None, "no such file"),
    ("student,assignment,score\nada,01_knn,3\n", "no column 'max_score', 'status'"),
    ("student,assignment,score,max_score,status\nada,01_knn,three,5,graded\n",
     "the score of ada/01_knn is 'three', not a number")])
def test_a_bad_grades_file_is_refused_with_what_is_wrong(tmp_path, content, words):
    path = tmp_path / "grades.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ExportError, match=words):
        read_grades(path)
    run = subprocess.run([sys.executable, "-m", "course.cli", "export", str(path)], cwd=ROOT, capture_output=True,
                         text=True)
    assert run.returncode == 2 and words in run.stderr


def test_the_late_fields_do_not_change_the_raw_score(results):
    rows = {(r["student"], r["assignment"]): r for r in csv.DictReader(open(results / "grades.csv"))}
    bob = rows[("bob", "01_knn")]
    assert (bob["score"], bob["late_penalty"], bob["final_score"], bob["days_late"]) == ("3", "1", "2", "2")

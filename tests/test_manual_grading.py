"""Inline questions: graded by hand, with model answers and rubrics in the instructor's notebook only."""

import csv
import re
import shutil
import subprocess
import sys

import pytest

from grader.answers import answers_differences, model_answer
from grader.merge import manual_cells, nbgrader_meta
from grader.notebooks import read_notebook
from helpers import LAYOUT, ROOT

IDS = LAYOUT.assignment_ids()
QUESTION = re.compile(r"\*\*Inline question (\d+)\.\*\*")


def _sentences(text: str) -> list[str]:
    """The distinctive pieces of a model answer: runs of 40+ characters between punctuation."""
    flat = " ".join(text.split())
    return [p.strip() for p in re.split(r"[.;:()]", flat) if len(p.strip()) >= 40]


@pytest.mark.parametrize("aid", IDS)
def test_every_inline_question_is_followed_by_a_manually_graded_answer_cell(aid):
    for path in LAYOUT.source_notebooks(aid):
        cells = read_notebook(path).cells
        questions = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and QUESTION.search(c.source)]
        assert questions, f"{path}: no inline question"
        for i in questions:
            answer = cells[i + 1]
            meta = nbgrader_meta(answer)
            assert answer.cell_type == "markdown" and meta.get("solution") and meta.get("grade"), (path, i)
            assert float(meta.get("points", 0)) > 0
            number = QUESTION.search(cells[i].source).group(1)
            assert meta["grade_id"] == f"inline_question_{number}"
            assert "**Model answer.**" in answer.source and "**Rubric (" in answer.source
        assert len(manual_cells(read_notebook(path))) == len(questions)


@pytest.mark.parametrize("aid", IDS)
def test_the_student_copy_holds_no_model_answer(aid):
    for source in LAYOUT.source_notebooks(aid):
        student = LAYOUT.release_notebook(aid, source.name).read_text()
        student_nb = read_notebook(LAYOUT.release_notebook(aid, source.name))
        flat = " ".join(" ".join(c.source.split()) for c in student_nb.cells)
        assert "<details" not in student and "A model answer" not in student
        for cell in manual_cells(read_notebook(source)):
            answer = model_answer(cell.source)
            assert answer
            leaked = [s for s in _sentences(answer) if s in flat]
            assert not leaked, f"{aid}: the student copy contains the model answer of {cell.metadata.nbgrader.grade_id}"
        student_cells = {nbgrader_meta(c).get("grade_id"): c for c in student_nb.cells}
        for cell in manual_cells(read_notebook(source)):
            assert student_cells[nbgrader_meta(cell)["grade_id"]].source == "*Your answer:*\n\nYOUR ANSWER HERE"


def test_the_leak_check_finds_a_model_answer():
    answer = model_answer(manual_cells(read_notebook(LAYOUT.source_notebook("01_knn", "01_knn.ipynb")))[0].source)
    pieces = _sentences(answer)
    assert pieces and all(p in " ".join(answer.split()) for p in pieces)


def test_the_self_study_answers_are_generated_and_current():
    assert answers_differences(LAYOUT, IDS) == []
    text = LAYOUT.answers_file("02_linear_classifiers").read_text()
    assert "## `inline_question_3` (2 points)" in text and "**Rubric (2 points).**" in text
    assert not (LAYOUT.notebooks / "answers").exists()


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox")
def test_autograde_leaves_the_inline_questions_to_the_instructor_with_their_points(tmp_path):
    """A correct 01_knn with one inline question answered: 21 autograded points, 4 waiting for the instructor."""
    import nbformat

    subs = tmp_path / "subs" / "ada" / "01_knn"
    shutil.copytree(LAYOUT.samples_dir("01_knn") / "correct" / "01_knn", subs)
    path = subs / "01_knn.ipynb"
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade_id") == "inline_question_1":
            cell.source = "*Your answer:*\n\nA bright row is an unusual test image, far from every training image."
    nbformat.write(nb, path)
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "course.cli", "autograde", str(tmp_path / "subs"), "--out", str(out),
                          "--profile", "quick", "--no-progress"], cwd=ROOT, capture_output=True, text=True)
    print(run.stdout[-2000:], run.stderr[-2000:])
    assert run.returncode == 0
    (row,) = csv.DictReader(open(out / "grades.csv"))
    assert (row["score"], row["max_score"], row["manual_max_score"]) == ("21", "21", "4")
    manual = {r["grade_id"]: r for r in csv.DictReader(open(out / "cells.csv")) if r["grade_id"].startswith("inline")}
    assert {g: (r["score"], r["max_score"], r["message"]) for g, r in manual.items()} == {
        "inline_question_1": ("", "2", "needs manual grading"),
        "inline_question_2": ("", "2", "needs manual grading (no answer written)")}
    assert "21 / 21 +4 by hand" in run.stdout
    feedback = (out / "feedback" / "ada" / "01_knn" / "01_knn.html").read_text()
    assert "4 more points are graded by hand" in feedback and "needs manual grading" in feedback

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'work' / 'gradebook.db'}") as gb:
        grades = {g: gb.find_grade(g, "01_knn", "01_knn", "ada") for g in manual}
        assert all(g.needs_manual_grade and g.auto_score is None and g.max_score == 2 for g in grades.values())
        assert gb.find_submission("01_knn", "ada").needs_manual_grade

"""course release leaves the outcome claims (autograder.outcomes) out of the student's copy (grader/claims.py)."""

import nbformat
import pytest

from course.paths import course_layout
from grader.claims import CLAIM, strip_claims
from grader.notebooks import read_notebook

LAYOUT = course_layout()


@pytest.mark.parametrize("source, expected", [
    ('Helps.\n<!-- outcome[full]: results["a"] > 0 -->\nNext line.', "Helps.\nNext line."),
    ('Helps. <!-- outcome[*]: results["a"] > 0 --> More.', "Helps.  More."),
    ('- item\n  <!-- outcome[quick]: results["a"]\n  > 0 -->\n- next', "- item\n- next"),
    ('Ends here.\n<!-- outcome[full]: 1 == 1 -->', "Ends here."),
    ('<!-- a plain comment stays -->', "<!-- a plain comment stays -->"),
])
def test_claims_are_stripped_and_other_text_kept(source, expected):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(source),
                                         nbformat.v4.new_code_cell('s = "<!-- outcome[full]: x -->"')])
    strip_claims(nb)
    assert nb.cells[0].source == expected
    assert nb.cells[1].source == 's = "<!-- outcome[full]: x -->"'  # code is never touched


@pytest.mark.parametrize("aid", LAYOUT.assignment_ids())
def test_no_student_copy_or_answers_file_holds_a_claim(aid):
    for path in LAYOUT.source_notebooks(aid):
        student = LAYOUT.release_notebook(aid, path.name)
        for cell in read_notebook(student).cells:
            assert not CLAIM.search(cell.source) or cell.cell_type == "code", f"{student}: a claim is left in"
    answers = LAYOUT.answers_file(aid)
    if answers.is_file():
        assert not CLAIM.search(answers.read_text(encoding="utf-8")), f"{answers}: a claim is left in"

"""The student notebooks are generated from solutions/ and must match what release produces."""

import subprocess
import sys

import pytest

from course.notebooks import read_notebook
from course.release import assignment_ids, release_differences
from helpers import ROOT


def test_every_assignment_has_a_student_notebook():
    for aid in assignment_ids():
        assert (ROOT / "notebooks" / aid / f"{aid}.ipynb").is_file(), f"run `course release {aid}`"


def test_student_notebooks_match_release():
    problems = release_differences()
    assert not problems, "\n".join(problems) + "\nRun `course release` and commit notebooks/."


def test_student_notebooks_hold_no_solutions_or_hidden_tests():
    for path in sorted((ROOT / "notebooks").glob("*/*.ipynb")):
        text = "\n".join(c.source for c in read_notebook(path).cells)
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "run_hidden_check("):
            assert marker not in text, f"{path} contains {marker!r}"


@pytest.mark.parametrize("aid", assignment_ids())
def test_contract_wiring(aid):
    checker = ROOT.parent / "shared" / "tools" / "contract_check.py"
    if not checker.is_file():
        pytest.skip(f"{checker} is not beside this checkout")
    out = subprocess.run([sys.executable, str(checker), aid], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr

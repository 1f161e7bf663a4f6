"""The student notebooks are generated from solutions/ and must match what release produces."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from course.paths import course_layout
from grader.notebooks import read_notebook
from grader.release import release_differences
from helpers import LAYOUT, ROOT


def test_every_assignment_has_a_student_notebook():
    for aid in course_layout().assignment_ids():
        assert (LAYOUT.release_notebook(aid, f"{aid}.ipynb")).is_file(), f"run `course release {aid}`"


def test_student_notebooks_match_release():
    problems = release_differences()
    assert not problems, "\n".join(problems) + "\nRun `course release` and commit notebooks/."


def test_student_notebooks_hold_no_solutions_or_hidden_tests():
    for path in sorted(LAYOUT.notebooks.glob("*/*.ipynb")):
        text = "\n".join(c.source for c in read_notebook(path).cells)
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "run_hidden_check("):
            assert marker not in text, f"{path} contains {marker!r}"


@pytest.mark.parametrize("aid", course_layout().assignment_ids())
def test_contract_wiring(aid):
    checker = ROOT.parent / "shared" / "tools" / "contract_check.py"
    if not checker.is_file():
        pytest.skip(f"{checker} is not beside this checkout")
    out = subprocess.run([sys.executable, str(checker), aid], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


# --------------------------------------------------------------------------- no lost work


def _course_copy(tmp_path, git: bool = False):
    """A copy of the course with 01_knn only (its source, student copy, answers and nbgrader config)."""
    root = tmp_path / "course"
    for rel in ("solutions/01_knn", "notebooks/01_knn"):
        shutil.copytree(ROOT / rel, root / rel)
    (root / "answers").mkdir()
    shutil.copy(LAYOUT.answers_file("01_knn"), root / "answers" / "01_knn.md")
    shutil.copy(LAYOUT.nbgrader_config, root / "nbgrader_config.py")
    if git:
        commit = ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]
        for args in (["init", "-q"], ["add", "-A"], commit):
            subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    return root


def _course_release(root):
    return subprocess.run([sys.executable, "-m", "course.cli", "release", "01_knn"], cwd=root,
                          env={**os.environ, "COURSE_ROOT": str(root)}, capture_output=True, text=True)


def _work_in(path, text="# my answer: 42"):
    nb = json.loads(path.read_text())
    nb["cells"].append({"cell_type": "markdown", "id": "mine", "metadata": {}, "source": text})
    path.write_text(json.dumps(nb))
    return path.read_bytes()


def _source_changes(root):
    """What a `git pull` with a new version of the source does."""
    path = root / "solutions" / "01_knn" / "01_knn.ipynb"
    nb = json.loads(path.read_text())
    nb["cells"][0]["source"] = "# 01 kNN (revised)\n" + "".join(nb["cells"][0]["source"])
    path.write_text(json.dumps(nb, indent=1))


@pytest.mark.parametrize("git", [False, True], ids=["after_a_release", "fresh_clone"])
def test_release_keeps_a_student_notebook_it_did_not_write(tmp_path, git):
    root = _course_copy(tmp_path, git=git)
    student = root / "notebooks" / "01_knn" / "01_knn.ipynb"
    if not git:  # the manifest knows what the last release wrote
        assert _course_release(root).returncode == 0
    mine = _work_in(student)
    _source_changes(root)
    run = _course_release(root)
    assert run.returncode == 0, run.stderr
    kept = sorted(student.parent.glob("01_knn.mine-*.ipynb"))
    assert len(kept) == 1 and kept[0].read_bytes() == mine, "the student's notebook was not kept"
    assert "KEPT YOUR WORK" in run.stdout and str(kept[0]) in run.stdout
    assert "(revised)" in student.read_text() and "my answer: 42" not in student.read_text()

    # A notebook nobody worked in is simply replaced, without a copy.
    _source_changes(root)
    assert _course_release(root).returncode == 0
    assert sorted(student.parent.glob("01_knn.mine-*.ipynb")) == kept


def test_release_check_ignores_kept_copies(tmp_path):
    root = _course_copy(tmp_path)
    layout = course_layout(root)
    assert release_differences(["01_knn"], layout) == []
    (root / "notebooks" / "01_knn" / "01_knn.mine-20261201-120000.ipynb").write_text("{}")
    assert release_differences(["01_knn"], layout) == []

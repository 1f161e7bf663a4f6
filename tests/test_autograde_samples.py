"""The sample submissions are graded with the scores their specs promise, through `course autograde`."""

import csv
import hashlib
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from autograder import build_samples
from grader.check import check_notebook
from grader.merge import manual_cells
from grader.notebooks import read_notebook
from helpers import LAYOUT, ROOT

# Grading tests check that no sandbox process outlives a run: they share one pytest-xdist
# worker (make test runs --dist loadgroup), so no other grading runs beside them.
pytestmark = pytest.mark.xdist_group("sandbox")

SPEC_IDS = build_samples.spec_ids()


def _digest(folder):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_samples_match_their_builder():
    assert build_samples.main(["--check"]) == 0, "run `make samples` and commit autograder/samples/"


@pytest.mark.slow
@pytest.mark.parametrize("aid", SPEC_IDS)
def test_autograde_gives_each_sample_its_expected_score(aid, tmp_path):
    samples = LAYOUT.samples_dir(aid)
    before = _digest(samples)
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "course.cli", "autograde", str(samples), "--out", str(out),
                          "--profile", "quick", "--no-progress", "--workers", "2"], cwd=ROOT, capture_output=True,
                         text=True)
    print(run.stdout)
    spec = build_samples.load_spec(aid)
    rows = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    assert set(rows) == set(spec)
    for student, sample in spec.items():
        row = rows[student]
        if sample["score"] is None:
            assert row["status"] == "error" and row["message"], f"{student}: expected a clear error, got {row}"
        else:
            assert row["status"] == "graded", f"{student}: {row['message']}"
            assert float(row["score"]) == sample["score"], f"{student}: {row['score']} != {sample['score']}"
            assert (out / "feedback" / student / aid / f"{aid}.html").is_file()
    assert run.returncode == (1 if any(s["score"] is None for s in spec.values()) else 0)
    assert "could not be graded" in run.stdout
    assert _digest(samples) == before, "autograde must never modify a submission"
    rows_ = list(csv.DictReader(open(out / "cells.csv")))
    cells = [c for c in rows_ if c["score"] != ""]
    # the inline questions: one row each per graded sample, its score left to the instructor
    manual = [c for c in rows_ if c["score"] == ""]
    graded_samples = [s for s, sample in spec.items() if sample["score"] is not None]
    assert len(manual) == len(graded_samples) * len(manual_cells(read_notebook(LAYOUT.source_notebook(
        aid, f"{aid}.ipynb"))))
    assert all(c["message"].startswith("needs manual grading") for c in manual)
    failed = [c for c in cells if float(c["score"]) < float(c["max_score"])]
    assert all(c["message"] for c in failed), "every failed test cell must carry its failure message"

    # One engine: `course check --hidden` gives every sample the very cell scores `course autograde` gave.
    def check_scores(student):
        work = tmp_path / "check" / student
        shutil.copytree(samples / student, work)  # check runs in the notebook's folder: not in the repository
        return {(nb.name, t.grade_id): t.score for nb in sorted((work / aid).glob("*.ipynb"))
                for t in check_notebook(nb, hidden=True, profile="quick", assignment=aid).tests}

    students = [s for s, sample in spec.items() if sample["score"] is not None]
    with ThreadPoolExecutor(max_workers=2) as pool:  # two kernels at a time, as autograde's two workers
        checked = dict(zip(students, pool.map(check_scores, students)))
    for student in students:
        graded = {(c["notebook"], c["grade_id"]): float(c["score"]) for c in cells if c["student"] == student}
        assert checked[student] == graded, f"{student}: course check --hidden {checked[student]} != autograde {graded}"

"""The red-team corpus (autograder/redteam.py) is graded as promised, and nothing outside the sandbox changes.

One batch holds the correct solution and every hostile or broken submission; it is graded in
parallel (2 Dask workers) through ``course autograde``. Each case's status, every hidden test's
score (exactly) and every visible test's score (exactly, except where a student's own patches may
fool or break a visible test) are asserted, along with: no ``LEAK`` printed by the cases that try
to read, write or reach what they must not; no file of the repository or of the submissions
changed; no sandbox process left behind; feedback that names each failed hidden test and why,
without its code, its inputs' generator or reference values.

Set COURSE_REDTEAM_ASSIGNMENT to run it on another assignment (default 01_knn).
"""

import csv
import hashlib
import html
import json
import os
import re
import subprocess
import sys

import pytest

from autograder import redteam
from helpers import LAYOUT, ROOT

# Grading tests check that no sandbox process outlives a run: they share one pytest-xdist
# worker (make test runs --dist loadgroup), so no other grading runs beside them.
pytestmark = pytest.mark.xdist_group("sandbox")

AID = os.environ.get("COURSE_REDTEAM_ASSIGNMENT", "01_knn")
SANDBOX_UIDS = range(60000, 65000)


def digest(folder):
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def sandbox_processes():
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                status = open(f"/proc/{entry}/status").read()
            except OSError:
                continue
            uid = int(re.search(r"^Uid:\s+(\d+)", status, re.M).group(1))
            if uid in SANDBOX_UIDS:
                found.append(entry)
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("redteam")
    corpus, out = tmp / "submissions", tmp / "out"
    secrets = [str(LAYOUT.checks_file(AID)), str(LAYOUT.references_dir),
               str(LAYOUT.solutions), str(LAYOUT.nbgrader_config), str(out / "work" / "gradebook.db"),
               str(out), str(corpus / "correct"), str(corpus) + "/*/*/*.ipynb", str(LAYOUT.samples_dir())]
    writable = [str(out / "work" / "gradebook.db"), str(out / "grades.csv"),
                str(LAYOUT.checks_file(AID)), str(corpus / "correct" / AID / "x.txt")]
    cases = redteam.build_corpus(AID, corpus, secrets=secrets, writable=writable)
    watched = [ROOT / d for d in ("autograder", "solutions", "notebooks", "course", "grader")] + [corpus]
    before = {str(d): digest(d) for d in watched}
    run = subprocess.run([sys.executable, "-m", "course.cli", "autograde", str(corpus), "--out", str(out),
                          "--profile", "quick", "--no-progress", "--workers", "2", "--cell-timeout", "20"],
                         cwd=ROOT, capture_output=True, text=True, timeout=3000)
    print(run.stdout[-5000:], run.stderr[-3000:])
    after = {str(d): digest(d) for d in watched}
    rows = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    cells = {}
    for r in csv.DictReader(open(out / "cells.csv")):
        cells.setdefault(r["student"], {})[r["grade_id"]] = r
    return dict(cases=cases, out=out, run=run, rows=rows, cells=cells, before=before, after=after)


@pytest.mark.slow
def test_every_case_gets_its_status_and_scores(graded):
    problems = []
    for name, case in graded["cases"].items():
        row = graded["rows"].get(name)
        if row is None:
            problems.append(f"{name}: no row in grades.csv")
            continue
        if row["status"] != case["status"]:
            problems.append(f"{name}: status {row['status']} ({row['message']}), expected {case['status']}")
            continue
        if case["status"] == "error":
            if case["message"] not in row["message"]:
                problems.append(f"{name}: message {row['message']!r} lacks {case['message']!r}")
            continue
        assert float(row["max_score"]) == case["max_score"], f"{name}: max score {row['max_score']}"
        got = graded["cells"].get(name, {})
        for gid, want in case["cells"].items():
            score = float(got[gid]["score"]) if gid in got else None
            if want is not None and score != want:
                problems.append(f"{name}: {gid} scored {score}, expected {want} ({got.get(gid, {}).get('message')})")
            if score is not None and score < float(got[gid]["max_score"]) and not got[gid]["message"]:
                problems.append(f"{name}: {gid} failed without a reason")
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_nothing_leaks_and_nothing_outside_changes(graded):
    assert graded["before"] == graded["after"], "a file of the repository or of a submission changed"
    for name, case in graded["cases"].items():
        if case.get("no_leak"):
            nb = json.loads((graded["out"] / "work" / "autograded" / name / AID / f"{AID}.ipynb").read_text())
            texts = [o.get("text", "") for c in nb["cells"] for o in c.get("outputs", [])]
            printed = "".join(t if isinstance(t, str) else "".join(t) for t in texts)
            assert "LEAK" not in printed, f"{name}: {[line for line in printed.splitlines() if 'LEAK' in line]}"
            assert "cannot" in printed or "no connection" in printed, f"{name}: the attack did not run"
        if case.get("max_feedback_bytes"):
            html_file = graded["out"] / "feedback" / name / AID / f"{AID}.html"
            assert html_file.stat().st_size < case["max_feedback_bytes"]
    assert not sandbox_processes(), "sandbox processes are still running after grading"
    assert sorted(p.name for p in graded["out"].iterdir()) == ["cells.csv", "feedback", "grades.csv", "work"]


@pytest.mark.slow
def test_feedback_names_failed_hidden_tests_and_keeps_the_secrets(graded):
    check_source = LAYOUT.checks_file(AID).read_text()
    secret_lines = [line.strip() for line in check_source.splitlines() if len(line.strip()) > 25 and not
                    line.strip().startswith(("#", '"', "'", "hint=", "raise", "f\"", "Case(")) and "hint" not in line]
    checked = 0
    for name, case in graded["cases"].items():
        if case["status"] != "graded":
            continue
        text = html.unescape((graded["out"] / "feedback" / name / AID / f"{AID}.html").read_text())
        assert "BEGIN HIDDEN TESTS" not in text and "run_hidden_check(" not in text, name
        leaked = [line for line in secret_lines if line in text]
        assert not leaked, f"{name}: feedback shows the check's code: {leaked[:3]}"
        for gid, row in graded["cells"].get(name, {}).items():
            if row["score"] == "":  # an inline question: graded by hand, not a failed test
                assert row["message"].startswith("needs manual grading"), f"{name}/{gid}: {row['message']}"
                continue
            if float(row["score"]) < float(row["max_score"]):
                checked += 1
                assert gid in text and "FAILED" in text
                assert not re.search(r"expected -?\d+\.\d{3,}", row["message"]), f"{name}/{gid}: {row['message']}"
    assert checked > 0

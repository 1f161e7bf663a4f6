"""course autograde in parallel (Dask) gives the grades of a serial run, and resumes after kill -9."""

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import LAYOUT, ROOT, free_port

# Grading tests check that no sandbox process outlives a run: they share one pytest-xdist
# worker (make test runs --dist loadgroup), so no other grading runs beside them.
pytestmark = pytest.mark.xdist_group("sandbox")

SAMPLES = LAYOUT.samples_dir()


def grade(subs, out, *extra, check=True):
    run = subprocess.run([sys.executable, "-m", "course.cli", "autograde", str(subs), "--out", str(out),
                          "--profile", "quick", "--no-progress", *extra], cwd=ROOT, capture_output=True, text=True)
    print(run.stdout[-3000:], run.stderr[-2000:])
    return run


def rows(out, name):
    return sorted(tuple(r[k] for k in r if k not in ("seconds",)) for r in csv.DictReader(open(out / name)))


# Grading every assignment's samples twice would take most of CI's time (the Keras assignments train
# models in each submission): by default the comparison uses 01_knn's samples; set
# COURSE_PARALLEL_ASSIGNMENTS=all (or a comma-separated list) to compare more.
PARALLEL_ASSIGNMENTS = os.environ.get("COURSE_PARALLEL_ASSIGNMENTS", "01_knn")


def all_samples(tmp):
    """The samples of the chosen assignments in one folder of submissions (student = <id>-<sample>)."""
    subs = tmp / "subs"
    chosen = None if PARALLEL_ASSIGNMENTS == "all" else set(PARALLEL_ASSIGNMENTS.split(","))
    for aid_dir in sorted(p for p in SAMPLES.iterdir() if chosen is None or p.name in chosen):
        for student in sorted(aid_dir.iterdir()):
            shutil.copytree(student, subs / f"{aid_dir.name}-{student.name}")
    return subs


@pytest.mark.slow
def test_parallel_grades_equal_serial_grades(tmp_path):
    subs = all_samples(tmp_path)
    grade(subs, tmp_path / "serial", "--workers", "1")
    grade(subs, tmp_path / "parallel", "--workers", "2")
    assert rows(tmp_path / "serial", "grades.csv") == rows(tmp_path / "parallel", "grades.csv")
    assert rows(tmp_path / "serial", "cells.csv") == rows(tmp_path / "parallel", "cells.csv")


@pytest.mark.slow
def test_resume_after_kill_grades_only_what_is_missing_or_changed(tmp_path):
    subs = tmp_path / "subs"
    for name in ("correct", "untouched", "visible_only"):
        shutil.copytree(SAMPLES / "01_knn" / name, subs / name)
    out = tmp_path / "out"
    results = out / "work" / "results"
    proc = subprocess.Popen([sys.executable, "-m", "course.cli", "autograde", str(subs), "--out", str(out),
                             "--profile", "quick", "--no-progress"], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 900
    while not list(results.glob("*/*.json")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first = {p: p.stat().st_mtime_ns for p in results.glob("*/*.json")}
    assert 1 <= len(first) < 3, f"kill -9 came too late or too early: {sorted(first)}"
    def sandbox_processes():
        return [uid for uid in subprocess.run(["ps", "-eo", "uid"], capture_output=True, text=True).stdout.split()
                if uid.isdigit() and 60000 <= int(uid) < 65000]

    # The kernel's pid namespace dies with bwrap; under load the teardown takes a few seconds.
    deadline = time.monotonic() + 30
    while sandbox_processes() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not sandbox_processes(), "sandbox processes outlived the killed grader by more than 30 s"

    run = grade(subs, out)
    assert f"resuming: {len(first)} submission(s) already graded" in run.stdout
    assert all(p.stat().st_mtime_ns == t for p, t in first.items()), "a finished submission was graded again"
    scores = {r["student"]: float(r["score"]) for r in csv.DictReader(open(out / "grades.csv"))}
    assert scores == {"correct": 21.0, "untouched": 0.0, "visible_only": 13.0}

    # change one submission: only it is graded again
    nb = subs / "untouched" / "01_knn" / "01_knn.ipynb"
    nb.write_text(nb.read_text().replace('"cells": [', '"cells": [\n  {"cell_type": "markdown", "id": "my-notes", '
                                                      '"metadata": {}, "source": "my notes"},', 1))
    run = grade(subs, out)
    assert "resuming: 2 submission(s) already graded" in run.stdout
    rows = {r["student"]: r for r in csv.DictReader(open(out / "grades.csv"))}
    assert rows["untouched"]["status"] == "graded" and float(rows["untouched"]["score"]) == 0.0
    untouched = [line for line in run.stdout.splitlines() if line.startswith("untouched")][0]
    assert "(unchanged, not regraded)" not in untouched


def _dask(*args, log):
    """Starts ``dask ARGS`` as its own process (as a cluster's admin would), its output in ``log``."""
    dask = Path(sys.executable).with_name("dask")
    return subprocess.Popen([str(dask), *args], stdout=log, stderr=subprocess.STDOUT, cwd="/",
                            start_new_session=True)


@pytest.mark.slow
def test_grading_on_an_existing_dask_cluster(tmp_path):
    """A real ``dask scheduler`` and ``dask worker``, separate processes as on a cluster, not a LocalCluster."""
    from dask.distributed import Client

    subs = tmp_path / "subs"
    shutil.copytree(SAMPLES / "01_knn" / "untouched", subs / "untouched")
    shutil.copytree(SAMPLES / "01_knn" / "correct", subs / "correct")
    address = f"tcp://127.0.0.1:{free_port()}"
    log = open(tmp_path / "dask.log", "w")
    procs = [_dask("scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1], "--no-dashboard",
                   log=log)]
    try:
        procs.append(_dask("worker", address, "--nthreads", "1", "--nworkers", "1", "--memory-limit", "0",
                           "--no-dashboard", "--name", "grader-1", log=log))
        with Client(address, timeout=120) as client:
            client.wait_for_workers(1, timeout=180)
            client.get_task_stream()  # the scheduler records, from now on, which worker runs each task
            run = grade(subs, tmp_path / "out", "--scheduler", address)
            (worker_address, worker), = client.scheduler_info()["workers"].items()
            # the scheduler's task stream: which worker ran each task (submitted by course autograde's own client)
            graded_by = {t["key"].split("-")[1]: t["worker"] for t in client.get_task_stream()
                         if str(t["key"]).startswith("grade-")}
    finally:
        for proc in procs[::-1]:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        log.close()
    print((tmp_path / "dask.log").read_text()[-3000:])
    assert run.returncode == 0
    rows = {r["student"]: r for r in csv.DictReader(open(tmp_path / "out" / "grades.csv"))}
    assert {s: (r["status"], float(r["score"]), float(r["max_score"])) for s, r in rows.items()} == {
        "untouched": ("graded", 0.0, 21.0), "correct": ("graded", 21.0, 21.0)}
    assert worker["name"] == "grader-1"
    assert graded_by == {"untouched": worker_address, "correct": worker_address}

"""Benchmark of ``course autograde``: seconds per submission, serial and on 2 Dask workers.

    $ python -m autograder.benchmarks.bench_autograde                 # every assignment's samples, quick profile
    $ python -m autograder.benchmarks.bench_autograde --copies 2 --workers 2
    $ python -m autograder.benchmarks.bench_autograde --assignments 01_knn 02_linear_classifiers
    $ python -m autograder.benchmarks.bench_autograde --samples correct   # one student's eight notebooks

One student's eight correct notebooks (``--samples correct``) is the number the course promises
(issue 16: at most 90 s on 2 cores); every sample of every assignment takes several minutes on
2 cores; ``--assignments`` times a part of it.

The submissions are the sample submissions of every assignment (``autograder/samples/<id>/``),
optionally repeated (``--copies``); the broken ones (invalid JSON) are skipped. Each run starts
from an empty output folder (no resumed results). Prints seconds per submission for the serial
run and for the parallel run, and the speed-up ratio; the grades of both runs must be identical. Per
assignment it prints where the serial run's time went: the sandboxed kernel's start, the setup cell
(the imports, TensorFlow's among them), all the notebook's cells, the export of the hidden checks' inputs
and their verification outside the kernel.
"""

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from course.paths import course_layout

LAYOUT = course_layout()


def collect(target: Path, copies: int, assignments: list | None = None, samples: list | None = None) -> int:
    n = 0
    for aid_dir in sorted(LAYOUT.samples_dir().iterdir()):
        if assignments and aid_dir.name not in assignments:
            continue
        for student in sorted(aid_dir.iterdir()):
            if samples and student.name not in samples:
                continue
            notebooks = list(student.rglob("*.ipynb"))
            if not notebooks or any(not nb.read_text().rstrip().endswith("}") for nb in notebooks):
                continue  # broken on purpose: not a grading benchmark
            for c in range(copies):
                shutil.copytree(student, target / f"{aid_dir.name}-{student.name}-{c}")
                n += 1
    return n


def run(subs: Path, out: Path, workers: int, profile: str) -> float:
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "course.cli", "autograde", str(subs), "--out", str(out),
                           "--profile", profile, "--no-progress", "--workers", str(workers)],
                          cwd=LAYOUT.root, capture_output=True, text=True)
    seconds = time.monotonic() - start
    if not (out / "grades.csv").is_file():
        raise RuntimeError(f"autograde failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds


PHASES = ("kernel_start", "setup_cell", "cells", "export", "verify")


def seconds_by_assignment(out: Path) -> dict:
    """Per assignment, summed over its submissions: the grading seconds and where they went.

    ``{aid: {"total": s, "kernel_start": s, "setup_cell": s, "cells": s, "export": s, "verify": s, "other": s}}``,
    from each submission's stored result (``work/results/<student>/<aid>.json``); ``setup_cell`` (the first
    code cell, the imports: TensorFlow's among them) is part of ``cells``; ``other`` is the rest (merging,
    feedback, the sandbox's shutdown).
    """
    totals: dict = {}
    for path in sorted((out / "work" / "results").glob("*/*.json")):
        result = json.loads(path.read_text())
        row = totals.setdefault(result["assignment"], dict.fromkeys(("total", *PHASES, "other"), 0.0))
        row["total"] += result.get("seconds", 0.0)
        timings = result.get("timings", {})
        for phase in PHASES:
            row[phase] += timings.get(phase, 0.0)
        row["other"] = row["total"] - sum(row[p] for p in PHASES if p != "setup_cell")
    return dict(sorted(totals.items()))


def grades(out: Path) -> list:
    return sorted((r["student"], r["score"], r["status"]) for r in csv.DictReader(open(out / "grades.csv")))


def errors(out: Path) -> list:
    """``student: message`` of each submission that could not be graded (a benchmark of those would time nothing)."""
    rows = csv.DictReader(open(out / "grades.csv"))
    return [f"{r['student']}: {r['message']}" for r in rows if r["status"] != "graded"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--copies", type=int, default=1, help="grade each sample this many times")
    parser.add_argument("--profile", default="quick", choices=["quick", "full"])
    parser.add_argument("--assignments", nargs="+", metavar="ID", help="only these assignments' samples")
    parser.add_argument("--samples", nargs="+", metavar="NAME",
                        help="only these samples (e.g. correct: one student's notebooks of every assignment)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp:
        tmp = Path(tmp)
        n = collect(tmp / "subs", args.copies, args.assignments, args.samples)
        if not n:
            parser.error(f"no sample submissions for {args.assignments}")
        serial = run(tmp / "subs", tmp / "serial", 1, args.profile)
        failed = errors(tmp / "serial")
        if failed:
            print("not graded, so not timed:\n  " + "\n  ".join(failed), file=sys.stderr)
            return 2
        parallel = run(tmp / "subs", tmp / "parallel", args.workers, args.profile)
        same = grades(tmp / "serial") == grades(tmp / "parallel")
        per_assignment = seconds_by_assignment(tmp / "serial")
    print(f"{n} submissions ({', '.join(args.assignments) if args.assignments else 'every assignment'}), "
          f"{args.profile} profile")
    print(f"serial:    {serial / n:6.1f} s per submission ({serial:.0f} s in all)")
    print(f"  {'assignment':24s} {'total':>6s} " + " ".join(f"{p:>12s}" for p in (*PHASES, "other")))
    for aid, row in per_assignment.items():
        print(f"  {aid:24s} {row['total']:6.1f} " + " ".join(f"{row[p]:12.1f}" for p in (*PHASES, "other")))
    print("  (seconds, serial, summed over the assignment's submissions; setup_cell, the imports, is part of cells)")
    print(f"{args.workers} workers: {parallel / n:6.1f} s per submission ({parallel:.0f} s in all)")
    print(f"speed-up:  {serial / parallel:.2f}x; identical grades: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

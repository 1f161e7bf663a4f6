"""Benchmark of ``course autograde``: seconds per submission, serial and on 2 Dask workers.

    $ python -m autograder.benchmarks.bench_autograde                 # every assignment's samples, quick profile
    $ python -m autograder.benchmarks.bench_autograde --copies 2 --workers 2
    $ python -m autograder.benchmarks.bench_autograde --assignments 01_knn 02_linear_classifiers
    $ python -m autograder.benchmarks.bench_autograde --samples correct   # one student's eight notebooks

The whole course takes long on 2 cores (each 05-08 submission trains models: minutes per
submission in the quick profile); ``--assignments`` times a part of it.

The submissions are the sample submissions of every assignment (``autograder/samples/<id>/``),
optionally repeated (``--copies``); the broken ones (invalid JSON) are skipped. Each run starts
from an empty output folder (no resumed results). Prints seconds per submission for the serial
run and for the parallel run, and the speed-up ratio; the grades of both runs must be identical.
"""

import argparse
import csv
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


def seconds_by_assignment(out: Path) -> dict:
    """Grading seconds per assignment, summed over its submissions (grades.csv's ``seconds``)."""
    totals: dict = {}
    for row in csv.DictReader(open(out / "grades.csv")):
        totals[row["assignment"]] = totals.get(row["assignment"], 0.0) + float(row["seconds"] or 0)
    return dict(sorted(totals.items()))


def grades(out: Path) -> list:
    return sorted((r["student"], r["score"], r["status"]) for r in csv.DictReader(open(out / "grades.csv")))


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
        parallel = run(tmp / "subs", tmp / "parallel", args.workers, args.profile)
        same = grades(tmp / "serial") == grades(tmp / "parallel")
        per_assignment = seconds_by_assignment(tmp / "serial")
    print(f"{n} submissions ({', '.join(args.assignments) if args.assignments else 'every assignment'}), "
          f"{args.profile} profile")
    print(f"serial:    {serial / n:6.1f} s per submission ({serial:.0f} s in all)")
    for aid, seconds in per_assignment.items():
        print(f"  {aid:24s} {seconds:6.1f} s (serial, as grades.csv records it)")
    print(f"{args.workers} workers: {parallel / n:6.1f} s per submission ({parallel:.0f} s in all)")
    print(f"speed-up:  {serial / parallel:.2f}x; identical grades: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

"""Where the grader's own time goes: each hidden check of an assignment, run on the reference solution.

    $ python -m autograder.benchmarks.bench_checks 08_transfer_learning --profile quick
    $ python -m autograder.benchmarks.bench_checks            # every assignment, quick profile

Runs each check in this process (no kernel, no sandbox) and prints its seconds: the part of
``course autograde`` that the grader spends outside the student's notebook.
"""

import argparse
import os
import sys
import time

from autograder.solutions import solution_namespace
from course.config import using_profile
from course.paths import course_layout
from grader.spec import load_checks
from grader.verify import run_check


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*")
    parser.add_argument("--profile", choices=["quick", "full"], default="quick")
    args = parser.parse_args(argv)
    layout = course_layout()
    total = 0.0
    for aid in args.assignments or layout.assignment_ids():
        namespace, _ = solution_namespace(aid)
        checks = load_checks(aid, layout.checks_dir)
        seconds = {}
        with using_profile(args.profile):
            for name, check in checks.items():
                start = time.perf_counter()
                run_check(check, namespace[name], name)
                seconds[name] = time.perf_counter() - start
        subtotal = sum(seconds.values())
        total += subtotal
        print(f"{aid} [{args.profile}]: {subtotal:.1f} s of hidden checks")
        for name, secs in sorted(seconds.items(), key=lambda kv: -kv[1]):
            print(f"  {secs:7.2f} s  {name}")
    print(f"all: {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Where a solution notebook's time goes: runs it in a profile and prints the slowest code cells.

    $ python -m autograder.benchmarks.bench_notebook 07_keras_convnets --profile full
    $ python -m autograder.benchmarks.bench_notebook 08_transfer_learning --profile quick --top 5

Prints the load average before and after (a run on a loaded machine says so), the total, and for each
of the slowest cells its seconds and its first line.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from course.paths import course_layout
from grader.execute import execute_notebook


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignment")
    parser.add_argument("--profile", choices=["quick", "full"], default="full")
    parser.add_argument("--top", type=int, default=8, help="how many cells to list")
    parser.add_argument("--results", action="store_true", help="also print what the notebook recorded")
    args = parser.parse_args(argv)
    notebook = course_layout().source_notebook(args.assignment, f"{args.assignment}.ipynb")
    cells: list[tuple[float, int, str]] = []
    started = [time.monotonic()]

    def on_cell_executed(cell, cell_index, execute_reply):
        now = time.monotonic()
        first_line = next((line for line in cell.source.splitlines() if line.strip()), "")
        cells.append((now - started[0], cell_index, first_line[:70]))
        started[0] = now

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        started[0] = time.monotonic()
        _, seconds = execute_notebook(notebook, profile=args.profile, results_file=Path(tmp) / "results.json",
                                      on_cell_executed=on_cell_executed, quiet_kernel=True)
        recorded = (Path(tmp) / "results.json").read_text() if args.results else ""
    load_after = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    print(f"{args.assignment} [{args.profile}]: {seconds:.1f} s; load average {load_before:.2f} before, "
          f"{load_after:.2f} after ({cores} cores{', LOADED' if max(load_before, load_after) > cores else ''})")
    for secs, index, line in sorted(cells, reverse=True)[: args.top]:
        print(f"  {secs:7.1f} s  cell {index:3d}  {line}")
    if recorded:
        print(recorded)
    return 0


if __name__ == "__main__":
    sys.exit(main())

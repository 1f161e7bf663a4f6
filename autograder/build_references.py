"""Builds the reference results: runs each solution notebook and records what it reports.

    $ python -m autograder.build_references --profile quick            # all assignments
    $ python -m autograder.build_references --profile full 01_knn

Each solution notebook records its results with ``course.results.record``. They are written to
``autograder/references/<id>.json`` under ``profiles.<profile>``, with their provenance: profile,
seed policy, data, library versions, device, date, git commit and run time. Other profiles'
entries in the file are kept.
"""

import argparse
import datetime
import json
import sys
import tempfile
from pathlib import Path

from autograder.provenance import device, git_commit, versions
from course.paths import course_layout
from grader.execute import execute_notebook

LAYOUT = course_layout()


def build(assignment: str, profile: str) -> dict:
    """Executes ``solutions/<id>/<id>.ipynb`` in ``profile`` and returns the entry to record."""
    notebook = LAYOUT.source_notebook(assignment, f"{assignment}.ipynb")
    with tempfile.TemporaryDirectory() as tmp:
        results_file = Path(tmp) / "results.json"
        _, seconds = execute_notebook(notebook, profile=profile, results_file=results_file)
        results = json.loads(results_file.read_text()) if results_file.is_file() else {}
    return {
        "results": results,
        "provenance": {
            "notebook": str(notebook.relative_to(LAYOUT.root)),
            "profile": profile,
            "seeds": "fixed in the notebook's setup cell (SEED = 0)",
            "data": "Fashion-MNIST, class-balanced subsets from course.data.fashion_mnist_split(seed=0)",
            "libraries": versions(),
            "device": device(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "git_commit": git_commit(LAYOUT.root),
            "run_seconds": round(seconds, 1),
            "command": f"python -m autograder.build_references --profile {profile} {assignment}",
        },
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*", help="assignment ids (default: every solution notebook)")
    parser.add_argument("--profile", choices=["quick", "full"], required=True)
    args = parser.parse_args(argv)
    ids = args.assignments or LAYOUT.assignment_ids()
    for aid in ids:
        path = LAYOUT.references_file(aid)
        existing = json.loads(path.read_text()) if path.is_file() else {"assignment": aid, "profiles": {}}
        existing["profiles"][args.profile] = build(aid, args.profile)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(existing, indent=1, sort_keys=True) + "\n")
        print(f"{aid} [{args.profile}]: {existing['profiles'][args.profile]['results']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

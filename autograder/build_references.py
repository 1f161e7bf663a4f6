"""Builds the reference results: runs each solution notebook and records what it reports.

    $ python autograder/build_references.py --profile quick            # all assignments
    $ python autograder/build_references.py --profile full 01_knn

Each solution notebook records its results with ``course.results.record``. They are written to
``autograder/references/<id>.json`` under ``profiles.<profile>``, with their provenance: profile,
seed policy, data, library versions, device, date, git commit and run time. Other profiles'
entries in the file are kept.
"""

import argparse
import datetime
import json
import platform
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course.execute import execute_notebook  # noqa: E402

LIBRARIES = ("numpy", "scipy", "scikit-learn", "tensorflow", "keras", "nbgrader")


def device() -> str:
    """Describes where the numbers were computed: GPU name when TensorFlow sees one, else the CPU."""
    cpu = platform.processor() or platform.machine()
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10)
        if out.returncode == 0 and out.stdout.strip():
            return f"GPU: {out.stdout.strip().splitlines()[0]}"
    except (OSError, subprocess.TimeoutExpired):
        pass
    import os

    return f"CPU: {cpu}, {os.cpu_count()} cores (no GPU)"


def versions() -> dict:
    found = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def build(assignment: str, profile: str) -> dict:
    """Executes ``solutions/<id>/<id>.ipynb`` in ``profile`` and returns the entry to record."""
    notebook = ROOT / "solutions" / assignment / f"{assignment}.ipynb"
    with tempfile.TemporaryDirectory() as tmp:
        results_file = Path(tmp) / "results.json"
        _, seconds = execute_notebook(notebook, profile=profile, results_file=results_file)
        results = json.loads(results_file.read_text()) if results_file.is_file() else {}
    return {
        "results": results,
        "provenance": {
            "notebook": str(notebook.relative_to(ROOT)),
            "profile": profile,
            "seeds": "fixed in the notebook's setup cell (SEED = 0)",
            "data": "Fashion-MNIST, class-balanced subsets from course.data.fashion_mnist_split(seed=0)",
            "libraries": versions(),
            "device": device(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "git_commit": git_commit(),
            "run_seconds": round(seconds, 1),
            "command": f"python autograder/build_references.py --profile {profile} {assignment}",
        },
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*", help="assignment ids (default: every solution notebook)")
    parser.add_argument("--profile", choices=["quick", "full"], required=True)
    args = parser.parse_args(argv)
    ids = args.assignments or sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
    for aid in ids:
        path = ROOT / "autograder" / "references" / f"{aid}.json"
        existing = json.loads(path.read_text()) if path.is_file() else {"assignment": aid, "profiles": {}}
        existing["profiles"][args.profile] = build(aid, args.profile)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(existing, indent=1, sort_keys=True) + "\n")
        print(f"{aid} [{args.profile}]: {existing['profiles'][args.profile]['results']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

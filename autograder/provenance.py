"""Provenance of every generated artifact (references, base models): one format, written once.

Where and with what a number was computed: library versions, the device, the commit.
"""

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

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
    return f"CPU: {cpu}, {os.cpu_count()} cores (no GPU)"


def versions() -> dict:
    """Python's and the course's libraries' versions."""
    found = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def git_commit(root: Path) -> str:
    """The short commit of the repository at ``root``, ``+changes`` when what a reference depends on
    (solutions, the course package, the checks, the base models) differs from it: a changed file, or a
    new one not yet committed (a new assignment's first references).

    ``unknown`` without git. A reference built from uncommitted solutions says so: its numbers come
    from the commit that records them, not from the one named.
    """
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--", "solutions",
                                "course", "autograder/checks", "data/models"], cwd=root, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{sha}+changes" if dirty else sha

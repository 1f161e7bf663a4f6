import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

# Tests that grade in the sandbox check that no sandbox process outlives a grading run, so under
# pytest-xdist (`make test` runs two workers) they all run on one worker, one after the other.
SANDBOX_FILES = {"test_autograde_samples.py", "test_autograde_parallel.py", "test_redteam.py",
                 "test_feedback.py", "test_sandbox.py"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.fspath.basename in SANDBOX_FILES:
            item.add_marker(pytest.mark.xdist_group("sandbox"))

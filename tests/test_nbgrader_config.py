"""nbgrader's stderr filter: TensorFlow logs, warnings and progress bars must not zero a correct answer."""

import re

import pytest
from traitlets.config.loader import PyFileConfigLoader

from helpers import ROOT

CONFIG = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()


@pytest.mark.parametrize("line", [
    "2026-11-23 16:55:00.123456: I tensorflow/core/platform/cpu_feature_guard.cc:210] This TensorFlow binary",
    "E0000 00:00:1795453135.630174   12345 cuda_executor.cc:1228] failed call to cuInit",
    "W1123 16:55:00.123456 140 foo.cc:12] something",
    "/venv/lib/python3.11/site-packages/keras/src/layers/core/dense.py:93: UserWarning: Do not pass",
    " 40%|####      | 4/10 [00:01<00:02,  3.00it/s]",
])
def test_noise_on_stderr_is_ignored(line):
    assert CONFIG.IgnorePattern.enabled and re.search(CONFIG.IgnorePattern.pattern, line)


@pytest.mark.parametrize("line", ["AssertionError: dW differs", "my own message", "Traceback (most recent call last):"])
def test_other_stderr_still_counts(line):
    assert not re.search(CONFIG.IgnorePattern.pattern, line)


def test_timeouts_are_set_for_both_executors():
    assert CONFIG.Execute.timeout == CONFIG.ExecutePreprocessor.timeout >= 600
    assert CONFIG.OverwriteCells.add_missing_cells

"""TensorFlow without stderr noise, for grading code that runs inside a graded cell.

nbgrader gives a test cell 0 points when it writes anything to stderr, and TensorFlow logs to
stderr (its C++ logs on file descriptor 2) on import and first use, whatever
``TF_CPP_MIN_LOG_LEVEL`` says.
"""

import contextlib
import io
import os
import sys


@contextlib.contextmanager
def silenced_stderr():
    """Sends stderr, file descriptor 2 included, to /dev/null for the duration of the block."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_tensorflow():
    """Imports and returns TensorFlow with its start-up logs silenced."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with silenced_stderr():
        import tensorflow as tf
    return tf

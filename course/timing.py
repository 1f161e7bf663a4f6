"""Timing helpers for the notebooks' speed comparisons."""

import time


def time_function(f, *args, repeat: int = 1, **kwargs) -> float:
    """Returns the best wall-clock time in seconds of ``repeat`` calls of ``f(*args, **kwargs)``."""
    best = float("inf")
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        f(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best

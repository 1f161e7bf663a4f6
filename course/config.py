"""Profiles (and, for the notebooks, the course's folders: ``repo_root``, ``data_dir``).

``COURSE_PROFILE`` selects how much data and training every notebook uses:

- ``full`` (default): the sizes the notebook text describes, for students and reference results;
- ``quick``: small subsets and few epochs, so CI runs every notebook end to end in minutes.

A notebook's kernel reads the variable. The grader, which serves several profiles in one process,
passes the profile as a parameter and runs a check's code inside ``using_profile(name)`` instead:
``profile()`` returns that name there, whatever the environment says.
"""

import contextlib
import contextvars
import os

from course.paths import data_dir, repo_root
from course.protocol import PROFILE_ENV, RETRAIN_ENV

__all__ = ["PROFILES", "by_profile", "check_profile", "data_dir", "profile", "repo_root", "retrain", "using_profile"]

PROFILES = ("quick", "full")
DEFAULT_PROFILE = "full"

_OVERRIDE: contextvars.ContextVar = contextvars.ContextVar("course_profile", default=None)


def check_profile(value: str) -> str:
    """Returns ``value`` as a profile name (stripped, lower case).

    Raises:
        ValueError: when it names no known profile.
    """
    name = str(value).strip().lower() or DEFAULT_PROFILE
    if name not in PROFILES:
        raise ValueError(f"{PROFILE_ENV}={value!r} is not a profile; expected one of {', '.join(PROFILES)}")
    return name


def profile() -> str:
    """Returns the active profile: ``using_profile``'s, else ``COURSE_PROFILE`` (default ``"full"``).

    Raises:
        ValueError: when ``COURSE_PROFILE`` names no known profile.
    """
    override = _OVERRIDE.get()
    if override is not None:
        return override
    return check_profile(os.environ.get(PROFILE_ENV, DEFAULT_PROFILE))


@contextlib.contextmanager
def using_profile(name: str):
    """Within this block ``profile()`` returns ``name`` (the grader's way to pass the profile)."""
    token = _OVERRIDE.set(check_profile(name))
    try:
        yield
    finally:
        _OVERRIDE.reset(token)


def by_profile(*, quick, full):
    """Returns ``quick`` or ``full`` depending on the active profile.

    Example: ``num_train = by_profile(quick=1000, full=5000)``.
    """
    return quick if profile() == "quick" else full


def retrain() -> bool:
    """Whether a notebook should train again although it finds a saved model (``COURSE_RETRAIN=1``).

    The reference builder sets it: a recorded time or result always comes from a training run.
    """
    return os.environ.get(RETRAIN_ENV, "").strip().lower() in ("1", "true", "yes")

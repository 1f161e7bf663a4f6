"""Profiles and folders.

``COURSE_PROFILE`` selects how much data and training every notebook uses:

- ``full`` (default): the sizes the notebook text describes, for students and reference results;
- ``quick``: small subsets and few epochs, so CI runs every notebook end to end in minutes.
"""

import os
from pathlib import Path

PROFILES = ("quick", "full")
DEFAULT_PROFILE = "full"


def profile() -> str:
    """Returns the active profile, from ``COURSE_PROFILE`` (default ``"full"``).

    Raises:
        ValueError: when ``COURSE_PROFILE`` names no known profile.
    """
    value = os.environ.get("COURSE_PROFILE", DEFAULT_PROFILE).strip().lower() or DEFAULT_PROFILE
    if value not in PROFILES:
        raise ValueError(
            f"COURSE_PROFILE={value!r} is not a profile; expected one of {', '.join(PROFILES)}"
        )
    return value


def by_profile(*, quick, full):
    """Returns ``quick`` or ``full`` depending on the active profile.

    Example: ``num_train = by_profile(quick=1000, full=5000)``.
    """
    return quick if profile() == "quick" else full


def repo_root() -> Path | None:
    """Returns the course repository's root, or ``None`` for an installed copy without one.

    ``COURSE_ROOT`` wins; otherwise the folder above this package, when it holds
    ``nbgrader_config.py`` (an editable install or a clone).
    """
    env = os.environ.get("COURSE_ROOT")
    if env:
        return Path(env).expanduser().resolve()
    candidate = Path(__file__).resolve().parents[1]
    if (candidate / "nbgrader_config.py").is_file():
        return candidate
    return None


def data_dir() -> Path:
    """Returns the course data cache: ``$COURSE_DATA``, else ``<repo>/data``, else ``~/.cache/dl-course``."""
    env = os.environ.get("COURSE_DATA")
    if env:
        return Path(env).expanduser().resolve()
    root = repo_root()
    if root is not None:
        return root / "data"
    return Path.home() / ".cache" / "dl-course"

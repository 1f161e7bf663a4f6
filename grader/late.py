"""Late penalties: deadlines per assignment from the course config, applied from nbgrader's ``timestamp.txt``.

The course config is ``course.toml`` at the repository's root (or the file ``course autograde
--config`` names)::

    [deadlines]                      # assignment = due date and time, with its time zone
    01_knn = "2027-01-22 23:59:00 Europe/Zurich"
    02_linear_classifiers = "2027-01-29T23:59:00+01:00"

    [late_penalty]
    per_day = 0.10                   # fraction of the assignment's points deducted per day late, or part of one
    max = 0.50                       # the deduction never exceeds this fraction of the points
    grace_minutes = 0                # submissions within this many minutes after the deadline are on time

A submission ``d`` days late (a day started counts: one second late is one day, exactly 24 hours is
one day, 24 hours and one second is two) loses ``min(max, per_day * d)`` of the assignment's points,
and never goes below 0. The time of a submission is the ``timestamp.txt`` that ``nbgrader submit``
writes and ``nbgrader collect`` copies (``2027-01-22 23:59:59.123456 UTC``).

A submission without ``timestamp.txt``, or whose assignment has no deadline, has no penalty. A
``timestamp.txt`` that cannot be read gets the maximum deduction, with the reason, for the
instructor to look at (the student writes that file: an unreadable one must not be a way out).
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

TIMESTAMP_FILE = "timestamp.txt"
CONFIG_FILE = "course.toml"


class LateConfigError(ValueError):
    """Raised when the deadlines or the penalty rule of the course config cannot be used."""


@dataclass(frozen=True)
class PenaltyRule:
    """How much a late submission loses: ``min(max_fraction, per_day * days_late)`` of its points."""

    per_day: float = 0.0
    max_fraction: float = 1.0
    grace: timedelta = timedelta(0)


@dataclass(frozen=True)
class LatePolicy:
    """Deadlines (assignment -> aware UTC datetime) and the penalty rule."""

    deadlines: dict
    rule: PenaltyRule

    @classmethod
    def none(cls) -> "LatePolicy":
        """No deadlines: nothing is ever late."""
        return cls({}, PenaltyRule())


@dataclass(frozen=True)
class Lateness:
    """What the policy makes of one submission.

    Attributes:
        submitted_at: the submission's time in UTC (ISO 8601), or "" when unknown.
        days_late: whole days late, a started day counting as one (0 when on time or unknown).
        fraction: the fraction of the assignment's points deducted.
        note: why, in words ("on time", "2 days late", "no deadline for 01_knn", ...).
    """

    submitted_at: str
    days_late: int
    fraction: float
    note: str

    def apply(self, score: float, max_score: float) -> float:
        """The score after the deduction: ``max(0, score - fraction * max_score)``."""
        return max(0.0, score - self.fraction * max_score)


def parse_time(text: str) -> datetime:
    """Parses a deadline or an nbgrader timestamp into an aware UTC datetime.

    Accepts ISO 8601 with an offset (``2027-01-22T23:59:00+01:00``) and nbgrader's
    ``%Y-%m-%d %H:%M:%S.%f %Z`` with a zone name (``UTC``, ``Europe/Zurich``) or an offset.

    Raises:
        ValueError: the text has no time zone, or is not a time.
    """
    import dateutil.tz
    from nbgrader.utils import parse_utc

    text = text.strip()
    if not text:
        raise ValueError("an empty time")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is not None:
        if parsed.tzinfo is None:
            raise ValueError(f"{text!r} has no time zone (write e.g. '{text}+00:00' or '{text} UTC')")
        return parsed.astimezone(timezone.utc)
    parts = text.split(" ")
    if len(parts) != 3:
        raise ValueError(f"{text!r} is not a time with a time zone, such as '2027-01-22 23:59:00 UTC'")
    zone = parts[2]
    if not zone.lstrip("+-").isdigit() and dateutil.tz.gettz(zone) is None:
        raise ValueError(f"{text!r}: unknown time zone {zone!r}")
    try:
        return parse_utc(text).replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError, TypeError) as exc:
        raise ValueError(f"{text!r} is not a time with a time zone ({exc})") from None


def _load_toml(path: Path) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LateConfigError(f"{path}: cannot be read as TOML ({exc})") from None


def _fraction(table: dict, key: str, default: float, path: Path) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise LateConfigError(f"{path}: late_penalty.{key} = {value!r} must be a number from 0 to 1")
    return float(value)


def load_policy(path: Path) -> LatePolicy:
    """Reads the deadlines and the penalty rule of a course config (``course.toml``).

    Args:
        path: the config file; a missing file means no deadlines.

    Returns:
        the policy.

    Raises:
        LateConfigError: a deadline or a field of the rule is not valid; the message names it.
    """
    path = Path(path)
    if not path.is_file():
        return LatePolicy.none()
    config = _load_toml(path)
    deadlines = {}
    for aid, when in config.get("deadlines", {}).items():
        if not isinstance(when, str | datetime):
            raise LateConfigError(f"{path}: deadlines.{aid} = {when!r} is not a date and time")
        if isinstance(when, datetime):
            if when.tzinfo is None:
                raise LateConfigError(f"{path}: deadlines.{aid} = {when.isoformat()} has no time zone")
            deadlines[aid] = when.astimezone(timezone.utc)
            continue
        try:
            deadlines[aid] = parse_time(when)
        except ValueError as exc:
            raise LateConfigError(f"{path}: deadlines.{aid}: {exc}") from None
    table = config.get("late_penalty", {})
    unknown = sorted(set(table) - {"per_day", "max", "grace_minutes"})
    if unknown:
        raise LateConfigError(f"{path}: late_penalty has unknown keys {unknown} (known: per_day, max, grace_minutes)")
    grace = table.get("grace_minutes", 0)
    if isinstance(grace, bool) or not isinstance(grace, int | float) or grace < 0:
        raise LateConfigError(f"{path}: late_penalty.grace_minutes = {grace!r} must be a number of minutes >= 0")
    rule = PenaltyRule(per_day=_fraction(table, "per_day", 0.0, path), max_fraction=_fraction(table, "max", 1.0, path),
                       grace=timedelta(minutes=grace))
    return LatePolicy(deadlines, rule)


def days_late(submitted: datetime, deadline: datetime, grace: timedelta = timedelta(0)) -> int:
    """Days after the deadline, a started day counting as one; 0 up to the deadline plus the grace period."""
    late = submitted - deadline
    if late <= grace:
        return 0
    return math.ceil(late / timedelta(days=1))


def lateness(policy: LatePolicy, assignment: str, timestamp_text: str | None) -> Lateness:
    """What the policy makes of one submission.

    Args:
        assignment: the assignment's id.
        timestamp_text: the content of the submission's ``timestamp.txt``, or None when it has none.
    """
    deadline = policy.deadlines.get(assignment)
    if timestamp_text is None:
        return Lateness("", 0, 0.0, "no timestamp.txt: no penalty" if deadline else "")
    try:
        submitted = parse_time(timestamp_text)
    except ValueError as exc:
        if deadline is None:
            return Lateness("", 0, 0.0, f"timestamp.txt unreadable ({exc})")
        return Lateness("", 0, policy.rule.max_fraction,
                        f"timestamp.txt unreadable ({exc}): the maximum deduction, to be checked by hand")
    stamp = submitted.isoformat(timespec="seconds")
    if deadline is None:
        return Lateness(stamp, 0, 0.0, "")
    days = days_late(submitted, deadline, policy.rule.grace)
    if days == 0:
        return Lateness(stamp, 0, 0.0, "on time")
    fraction = min(policy.rule.max_fraction, policy.rule.per_day * days)
    return Lateness(stamp, days, fraction, f"{days} day{'s' if days > 1 else ''} late: -{fraction:.0%} of the points")


def read_timestamp(folder: Path) -> str | None:
    """The text of ``folder/timestamp.txt`` (at most 200 characters), or None when there is none."""
    path = Path(folder) / TIMESTAMP_FILE
    if not path.is_file():
        return None
    try:
        return path.read_bytes()[:200].decode("utf-8", errors="replace")
    except OSError:
        return None

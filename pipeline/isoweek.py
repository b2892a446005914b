"""ISO-8601 week helpers ("YYYY-Www").

Weekly series are indexed by consecutive ISO weeks. Years have 52 or 53 ISO weeks, so week
arithmetic goes through the Monday of each week (``date.fromisocalendar``) instead of
``year * 52 + week``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta

__all__ = [
    "ISO_WEEK_PATTERN",
    "add_weeks",
    "format_iso_week",
    "is_iso_week",
    "iso_week_monday",
    "parse_iso_week",
    "week_from_ordinal",
    "week_ordinal",
    "week_range",
    "weeks_between",
    "weeks_in_year",
]

ISO_WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")

# Ordinal of the Monday 0001-01-01 is 1, so (ordinal - 1) // 7 numbers ISO weeks consecutively.
_EPOCH_OFFSET = 1


def parse_iso_week(text: str) -> tuple[int, int]:
    """Parse ``"YYYY-Www"`` into ``(iso_year, iso_week)``.

    Raises ``ValueError`` for malformed text or a week that does not exist (e.g. ``2021-W53``).
    """
    if not isinstance(text, str):
        raise ValueError(f"ISO week must be a string like '2024-W05', got {text!r}")
    m = ISO_WEEK_PATTERN.match(text.strip())
    if m is None:
        raise ValueError(f"not an ISO week 'YYYY-Www': {text!r}")
    year, week = int(m.group(1)), int(m.group(2))
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError as exc:  # week 00, week 53 in a 52-week year, ...
        raise ValueError(f"ISO week does not exist: {text!r} ({exc})") from None
    return year, week


def is_iso_week(text: object) -> bool:
    """True if ``text`` is a valid, existing ISO week string."""
    try:
        parse_iso_week(text)  # type: ignore[arg-type]
    except ValueError:
        return False
    return True


def iso_week_monday(text: str) -> date:
    """Monday of the ISO week ``text``."""
    year, week = parse_iso_week(text)
    return date.fromisocalendar(year, week, 1)


def format_iso_week(day: date) -> str:
    """ISO week (``"YYYY-Www"``) containing ``day``."""
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def week_ordinal(text: str) -> int:
    """Consecutive week number: ``week_ordinal(add_weeks(w, n)) == week_ordinal(w) + n``."""
    return (iso_week_monday(text).toordinal() - _EPOCH_OFFSET) // 7


def week_from_ordinal(ordinal: int) -> str:
    """Inverse of :func:`week_ordinal`."""
    return format_iso_week(date.fromordinal(int(ordinal) * 7 + _EPOCH_OFFSET))


def add_weeks(text: str, n: int) -> str:
    """The ISO week ``n`` weeks after (``n < 0``: before) ``text``."""
    return format_iso_week(iso_week_monday(text) + timedelta(weeks=int(n)))


def weeks_between(start: str, end: str) -> int:
    """Number of weeks from ``start`` to ``end`` (0 if equal, negative if ``end`` is earlier)."""
    return week_ordinal(end) - week_ordinal(start)


def week_range(start: str, end: str) -> list[str]:
    """All ISO weeks from ``start`` to ``end`` inclusive (empty if ``end < start``)."""
    first = week_ordinal(start)
    return [week_from_ordinal(o) for o in range(first, week_ordinal(end) + 1)]


def weeks_in_year(year: int) -> int:
    """52 or 53: the number of ISO weeks in ``year`` (28 December is always in the last week)."""
    return date(year, 12, 28).isocalendar()[1]


def ordinals(weeks: Iterable[str]) -> list[int]:
    """Vector form of :func:`week_ordinal`."""
    return [week_ordinal(w) for w in weeks]

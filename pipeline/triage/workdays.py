"""Working days in mainland China: Monday to Friday, minus official public holidays, plus the
weekend days worked in exchange (调休上班).

The calendar is a small versioned data file (``holidays_cn.csv``, sources in its header).
Outside the years it covers only weekends are skipped; ``covered_years`` tells callers which
years are known so they can say so.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

HOLIDAY_FILE = Path(__file__).with_name("holidays_cn.csv")
FOLLOWUP_WORKING_DAYS = 10  # BRIEF: follow-up calls within 10 working days of selection


@lru_cache(maxsize=1)
def _calendar() -> tuple[frozenset[date], frozenset[date]]:
    holidays: set[date] = set()
    workdays: set[date] = set()
    with HOLIDAY_FILE.open(encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        for row in rows:
            day = date.fromisoformat(row["date"])
            if row["kind"] == "holiday":
                holidays.add(day)
            elif row["kind"] == "workday":
                workdays.add(day)
            else:  # a typo in the data file must not silently change due dates
                raise ValueError(f"{HOLIDAY_FILE.name}: unknown kind {row['kind']!r}")
    return frozenset(holidays), frozenset(workdays)


def covered_years() -> tuple[int, ...]:
    holidays, _ = _calendar()
    return tuple(sorted({d.year for d in holidays}))


def is_working_day(day: date) -> bool:
    holidays, workdays = _calendar()
    if day in workdays:
        return True
    return day.weekday() < 5 and day not in holidays


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself is not counted, so a
    request on Monday with days=1 is due on Tuesday)."""
    if days < 0:
        raise ValueError("days must be >= 0")
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def followup_due_date(requested_on: date) -> date:
    return add_working_days(requested_on, FOLLOWUP_WORKING_DAYS)

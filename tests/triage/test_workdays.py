"""Working-day arithmetic for follow-up due dates: weekends, official holidays, make-up days."""

from __future__ import annotations

from datetime import date, timedelta

from pipeline.triage.workdays import (
    add_working_days,
    covered_years,
    followup_due_date,
    is_working_day,
)


def test_plain_weeks_skip_weekends_only() -> None:
    # 2026-03-02 is a Monday with no holiday in the next three weeks.
    assert add_working_days(date(2026, 3, 2), 1) == date(2026, 3, 3)
    assert add_working_days(date(2026, 3, 2), 5) == date(2026, 3, 9)
    assert followup_due_date(date(2026, 3, 2)) == date(2026, 3, 16)
    # A request on Friday or Saturday: the count starts on the next working day.
    assert add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)
    assert add_working_days(date(2026, 3, 7), 1) == date(2026, 3, 9)
    assert add_working_days(date(2026, 3, 2), 0) == date(2026, 3, 2)


def test_national_day_week_and_make_up_saturday_2026() -> None:
    # 2026: Oct 1-7 off, Sunday Sep 20 and Saturday Oct 10 worked (State Council notice).
    assert not is_working_day(date(2026, 10, 1))
    assert not is_working_day(date(2026, 10, 5))  # a Monday inside the holiday
    assert is_working_day(date(2026, 9, 20))  # a Sunday worked in exchange
    assert is_working_day(date(2026, 10, 10))  # a Saturday worked in exchange
    # Requested Monday 2026-09-28: working days Sep 29, 30, Oct 8, 9, 10(Sat), 12..16.
    assert followup_due_date(date(2026, 9, 28)) == date(2026, 10, 16)


def test_spring_festival_2026_and_2025() -> None:
    # Feb 15-23 2026 off; Feb 14 and Feb 28 (Saturdays) worked.
    days = [date(2026, 2, 12) + timedelta(days=i) for i in range(20)]
    working = [d for d in days if is_working_day(d)]
    assert working[:3] == [date(2026, 2, 12), date(2026, 2, 13), date(2026, 2, 14)]
    assert date(2026, 2, 23) not in working and date(2026, 2, 24) in working
    # Feb 14(Sat), 24, 25, 26, 27, 28(Sat), Mar 2, 3, 4, 5.
    assert followup_due_date(date(2026, 2, 13)) == date(2026, 3, 5)
    assert not is_working_day(date(2025, 1, 28)) and is_working_day(date(2025, 1, 26))


def test_calendar_covers_2025_to_2027() -> None:
    assert covered_years() == (2025, 2026, 2027)
    # Outside the covered years only weekends are skipped.
    assert add_working_days(date(2030, 1, 4), 1) == date(2030, 1, 7)


def test_due_date_is_always_a_working_day_after_ten_of_them() -> None:
    start = date(2025, 1, 1)
    for offset in range(0, 3 * 365, 3):
        requested = start + timedelta(days=offset)
        due = followup_due_date(requested)
        assert is_working_day(due)
        between = [requested + timedelta(days=i) for i in range(1, (due - requested).days + 1)]
        assert sum(is_working_day(d) for d in between) == 10

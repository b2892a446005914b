from datetime import date

import pytest

from pipeline.isoweek import (
    add_weeks,
    format_iso_week,
    is_iso_week,
    parse_iso_week,
    week_from_ordinal,
    week_ordinal,
    week_range,
    weeks_between,
    weeks_in_year,
)


def test_parse_and_format_round_trip() -> None:
    assert parse_iso_week("2024-W05") == (2024, 5)
    assert format_iso_week(date(2024, 1, 31)) == "2024-W05"
    # 1 January 2021 belongs to ISO week 53 of 2020.
    assert format_iso_week(date(2021, 1, 1)) == "2020-W53"


@pytest.mark.parametrize("bad", ["2021-W53", "2024-W00", "2024-W54", "2024W05", "24-W05", "", "x"])
def test_invalid_weeks_rejected(bad: str) -> None:
    assert not is_iso_week(bad)
    with pytest.raises(ValueError):
        parse_iso_week(bad)


def test_53_week_years() -> None:
    assert weeks_in_year(2020) == 53
    assert weeks_in_year(2015) == 53
    assert weeks_in_year(2021) == 52
    assert is_iso_week("2020-W53")


def test_consecutive_week_arithmetic_across_53_week_year() -> None:
    assert add_weeks("2020-W52", 1) == "2020-W53"
    assert add_weeks("2020-W53", 1) == "2021-W01"
    assert add_weeks("2021-W01", -1) == "2020-W53"
    assert add_weeks("2021-W52", 1) == "2022-W01"
    assert weeks_between("2020-W01", "2021-W01") == 53
    assert weeks_between("2021-W01", "2022-W01") == 52
    assert week_ordinal("2021-W01") - week_ordinal("2020-W53") == 1
    assert week_from_ordinal(week_ordinal("2019-W17")) == "2019-W17"
    assert week_range("2020-W52", "2021-W02") == ["2020-W52", "2020-W53", "2021-W01", "2021-W02"]
    assert week_range("2021-W02", "2021-W01") == []

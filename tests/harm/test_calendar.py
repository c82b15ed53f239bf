"""The deadline calendar: England and Wales bank holidays (GOV.UK list) and working-day arithmetic.

§10 (see docs/harm-routing.md): working days exclude Saturdays, Sundays and England & Wales bank holidays;
months keep the day of the month, clamped to the month end.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from matneo.harm.calendar import (
    COVERED_FROM,
    COVERED_TO,
    CalendarRangeError,
    add_calendar_days,
    add_calendar_months,
    add_working_days,
    bank_holidays,
    is_working_day,
)

D = dt.date


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (D(2015, 12, 28), "Boxing Day (substitute day)"),  # Boxing Day 2015 was a Saturday
        (D(2016, 12, 27), "Christmas Day (substitute day)"),  # Christmas 2016 was a Sunday
        (D(2017, 1, 2), "New Year's Day (substitute day)"),  # 1 Jan 2017 was a Sunday
        (D(2019, 4, 19), "Good Friday"),
        (D(2020, 5, 8), "Early May bank holiday (VE day)"),  # moved from Monday 4 May
        (D(2020, 12, 28), "Boxing Day (substitute day)"),
        (D(2021, 12, 27), "Christmas Day (substitute day)"),  # Christmas 2021 was a Saturday
        (D(2021, 12, 28), "Boxing Day (substitute day)"),
        (D(2022, 1, 3), "New Year's Day (substitute day)"),
        (D(2022, 6, 2), "Spring bank holiday"),  # moved from Monday 30 May
        (D(2022, 6, 3), "Platinum Jubilee bank holiday"),
        (D(2022, 9, 19), "Bank holiday for the State Funeral of Queen Elizabeth II"),
        (D(2022, 12, 27), "Christmas Day (substitute day)"),
        (D(2023, 5, 8), "Bank holiday for the coronation of King Charles III"),
        (D(2024, 3, 29), "Good Friday"),
        (D(2025, 4, 21), "Easter Monday"),
        (D(2026, 4, 3), "Good Friday"),  # Easter Sunday 5 April 2026
        (D(2026, 12, 28), "Boxing Day (substitute day)"),
        (D(2027, 3, 29), "Easter Monday"),  # Easter Sunday 28 March 2027
        (D(2027, 12, 27), "Christmas Day (substitute day)"),
        (D(2028, 1, 3), "New Year's Day (substitute day)"),  # 1 Jan 2028 is a Saturday
        (D(2030, 4, 19), "Good Friday"),  # Easter Sunday 21 April 2030
    ],
)
def test_known_bank_holidays(day: dt.date, name: str) -> None:
    assert bank_holidays()[day] == name
    assert not is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        D(2020, 5, 4),  # the usual early May Monday, moved to 8 May in 2020
        D(2022, 5, 30),  # the usual spring Monday, moved to 2 June in 2022
        D(2021, 12, 24),
        D(2026, 4, 7),
    ],
)
def test_moved_or_ordinary_days_are_working_days(day: dt.date) -> None:
    assert is_working_day(day)


def test_the_calendar_is_complete_and_every_date_is_a_weekday() -> None:
    holidays = bank_holidays()
    assert all(day.weekday() < 5 for day in holidays)
    assert list(holidays) == sorted(holidays)
    per_year = Counter(day.year for day in holidays)
    assert set(per_year) == set(range(2015, 2031))
    # 8 a year, plus the one-offs: 2022 jubilee and state funeral, 2023 coronation.
    assert {year: n for year, n in per_year.items() if n != 8} == {2022: 10, 2023: 9}
    assert D(2015, 1, 1) == COVERED_FROM
    assert D(2030, 12, 31) == COVERED_TO


def test_weekends_are_not_working_days() -> None:
    assert not is_working_day(D(2026, 3, 7))  # Saturday
    assert not is_working_day(D(2026, 3, 8))  # Sunday
    assert is_working_day(D(2026, 3, 9))  # Monday


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        (D(2026, 3, 6), 0, D(2026, 3, 6)),  # day 0 is the start itself
        (D(2026, 3, 6), 1, D(2026, 3, 9)),  # Friday + 1 working day = Monday
        (D(2026, 3, 7), 1, D(2026, 3, 9)),  # a Saturday start is day 0, not counted
        # Easter 2026 (Good Friday 3 Apr, Easter Monday 6 Apr). From Wed 1 Apr:
        # Thu 2 (1), [Fri 3 BH, Sat 4, Sun 5, Mon 6 BH], Tue 7 (2), Wed 8 (3), Thu 9 (4), Fri 10 (5),
        # Mon 13 (6), Tue 14 (7).
        (D(2026, 4, 1), 7, D(2026, 4, 14)),
        # Christmas 2026 (Fri 25 Dec; Boxing Day Sat → substitute Mon 28; New Year Fri 1 Jan 2027).
        # From Wed 23 Dec: Thu 24 (1), [Fri 25, Sat 26, Sun 27, Mon 28], Tue 29 (2), Wed 30 (3), Thu 31 (4),
        # [Fri 1 Jan, Sat 2, Sun 3], Mon 4 (5), Tue 5 (6), Wed 6 (7), Thu 7 (8), Fri 8 (9), Mon 11 (10).
        (D(2026, 12, 23), 7, D(2027, 1, 6)),
        (D(2026, 12, 23), 10, D(2027, 1, 11)),
        # 2022 jubilee week: from Wed 1 Jun, [Thu 2, Fri 3 BH, Sat, Sun], Mon 6 Jun (1).
        (D(2022, 6, 1), 1, D(2022, 6, 6)),
    ],
)
def test_add_working_days(start: dt.date, n: int, due: dt.date) -> None:
    assert add_working_days(start, n) == due


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        (D(2027, 1, 31), 1, D(2027, 2, 28)),  # clamped to the month end
        (D(2028, 1, 31), 1, D(2028, 2, 29)),  # leap year
        (D(2026, 12, 31), 2, D(2027, 2, 28)),
        (D(2026, 8, 31), 6, D(2027, 2, 28)),
        (D(2026, 3, 15), 6, D(2026, 9, 15)),
        (D(2026, 3, 15), 0, D(2026, 3, 15)),
    ],
)
def test_add_calendar_months_clamps_to_the_month_end(start: dt.date, n: int, due: dt.date) -> None:
    assert add_calendar_months(start, n) == due


def test_add_calendar_days_counts_weekends_and_holidays() -> None:
    assert add_calendar_days(D(2026, 12, 23), 3) == D(2026, 12, 26)


def test_dates_outside_the_calendar_are_an_error() -> None:
    with pytest.raises(CalendarRangeError, match=r"2014-12-31 is outside the bank-holiday calendar"):
        is_working_day(D(2014, 12, 31))
    with pytest.raises(CalendarRangeError, match=r"2031-01-01"):
        add_working_days(D(2030, 12, 31), 1)
    assert add_working_days(D(2030, 12, 30), 1) == D(2030, 12, 31)


@pytest.mark.parametrize("n", [-1, 1.5, True])
def test_bad_counts_are_rejected(n: object) -> None:
    with pytest.raises(ValueError, match="non-negative whole number"):
        add_working_days(D(2026, 1, 5), n)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-negative whole number"):
        add_calendar_months(D(2026, 1, 5), n)  # type: ignore[arg-type]

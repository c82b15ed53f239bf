"""Deadline calendar: working days (England and Wales) and calendar-month arithmetic.

Working days exclude Saturdays, Sundays and England and Wales bank holidays (the working days
of the CNST Maternity Incentive Scheme and MBRRACE-UK notification standards); a month keeps
the same day of the month, clamped to the month end.

The bank holidays are packaged data (``data/bank_holidays_england_wales.csv``, from the GOV.UK
bank holidays list; see ``data/README.md``). They cover 2015–2030 only: any date outside that
range raises :class:`CalendarRangeError`, because silently treating an unknown year as having
no bank holidays would move deadlines.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType

from matneo.dates import add_months, month_end

__all__ = [
    "COVERED_FROM",
    "COVERED_TO",
    "CalendarRangeError",
    "add_calendar_days",
    "add_calendar_months",
    "add_working_days",
    "bank_holidays",
    "is_working_day",
]

#: First and last dates the packaged bank-holiday list covers (whole years 2015–2030).
COVERED_FROM = dt.date(2015, 1, 1)
COVERED_TO = dt.date(2030, 12, 31)

_DATA_FILE = "bank_holidays_england_wales.csv"


class CalendarRangeError(ValueError):
    """A working-day calculation needed a date outside the packaged bank-holiday list."""


@functools.cache
def bank_holidays() -> Mapping[dt.date, str]:
    """England and Wales bank holidays, 2015–2030, as a read-only ``{date: name}`` mapping.

    Source: GOV.UK "UK bank holidays" (england-and-wales); see ``harm/data/README.md``.
    """
    text = resources.files("matneo.harm").joinpath("data", _DATA_FILE).read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    return MappingProxyType({dt.date.fromisoformat(row["date"]): row["name"] for row in rows})


def _check_covered(day: dt.date) -> None:
    if not COVERED_FROM <= day <= COVERED_TO:
        raise CalendarRangeError(
            f"{day.isoformat()} is outside the bank-holiday calendar "
            f"({COVERED_FROM.isoformat()} to {COVERED_TO.isoformat()}); "
            "add the year to harm/data/bank_holidays_england_wales.csv"
        )


def is_working_day(day: dt.date) -> bool:
    """True for Monday–Friday that is not an England and Wales bank holiday."""
    _check_covered(day)
    return day.weekday() < 5 and day not in bank_holidays()


def add_working_days(day: dt.date, n: int) -> dt.date:
    """The ``n``-th working day after ``day`` ("within n working days of day").

    ``day`` itself is day 0 and is not counted, whether or not it is a working day: an event on
    Friday with a 1-working-day deadline is due the following Monday (or Tuesday if that Monday is
    a bank holiday). ``n == 0`` returns ``day`` unchanged.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative whole number of working days, got {n!r}")
    _check_covered(day)
    current = day
    remaining = n
    while remaining:
        current += dt.timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def add_calendar_days(day: dt.date, n: int) -> dt.date:
    """``day`` plus ``n`` calendar days (weekends and bank holidays count)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative whole number of days, got {n!r}")
    return day + dt.timedelta(days=n)


def add_calendar_months(day: dt.date, n: int) -> dt.date:
    """The same day-of-month ``n`` months later, clamped to the month end (31 Jan + 1 = 28/29 Feb).

    The same day of the month, clamped to the month end (31 January + 1 month = 28 or 29 February).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative whole number of months, got {n!r}")
    first = add_months(day, n)
    return first.replace(day=min(day.day, month_end(first).day))

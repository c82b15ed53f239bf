"""Calendar-month arithmetic shared by the loader, measures, signals and the CLI, and dates as people read them."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after (negative: before) ``day``'s month."""
    total = day.year * 12 + day.month - 1 + months
    return dt.date(total // 12, total % 12 + 1, 1)


def month_end(day: dt.date) -> dt.date:
    """The last day of ``day``'s month."""
    return add_months(day, 1) - dt.timedelta(days=1)


def months_after(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, or the last day of that month if it is shorter (31 Jan + 1 = 28/29 Feb)."""
    last = month_end(add_months(day, months))
    return last.replace(day=min(day.day, last.day))


def day_text(day: dt.date) -> str:
    """A date as pages and messages show it: "2 Dec 2026" (no leading zero, short month, whatever the locale)."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def month_text(day: dt.date) -> str:
    """The month of ``day`` as people read it: "Sep 2019"."""
    return f"{_MONTHS[day.month - 1]} {day.year}"


def moment_text(moment: dt.datetime) -> str:
    """A stored time (naive UTC, as the app store keeps it) as people read it: "2 Dec 2026, 17:46", London time."""
    aware = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment
    local = aware.astimezone(LONDON)
    return f"{day_text(local.date())}, {local:%H:%M}"

"""Calendar-month arithmetic shared by the loader, measures, signals and the CLI; times for people."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after (negative: before) ``day``'s month."""
    total = day.year * 12 + day.month - 1 + months
    return dt.date(total // 12, total % 12 + 1, 1)


def month_end(day: dt.date) -> dt.date:
    """The last day of ``day``'s month."""
    return add_months(day, 1) - dt.timedelta(days=1)


def london_time(moment: dt.datetime) -> str:
    """A time for people: '2 Dec 2026, 17:46' in UK time. Naive times are UTC (the app store's)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    local = aware.astimezone(LONDON)
    return f"{local.day} {local:%b %Y, %H:%M}"

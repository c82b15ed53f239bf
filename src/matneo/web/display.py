"""Dates and times as people read them: "2 Dec 2026, 17:46" in UK time, "2 Dec 2026" for a day.

The one place the web layer turns stored dates and times into words (registered as the Jinja
filters ``when`` and ``day``). Stored times are naive UTC (:func:`matneo.db.models.utcnow`) or ISO
text; they are shown in Europe/London, so a time in summer reads in BST. ``zoneinfo`` needs the
IANA time-zone database: the ``tzdata`` package is a dependency so a machine without the system
database still has it.
"""

from __future__ import annotations

import datetime as dt

from matneo.dates import LONDON, day_text, moment_text

__all__ = ["LONDON", "day", "when"]

NOTHING = "–"


def when(value: dt.datetime | str | None) -> str:
    """A moment as "2 Dec 2026, 17:46" (Europe/London); naive values are UTC; "–" for none."""
    if value is None or value == "":
        return NOTHING
    return moment_text(dt.datetime.fromisoformat(value.removesuffix("Z")) if isinstance(value, str) else value)


def day(value: dt.date | str | None) -> str:
    """A calendar day as "2 Dec 2026"; "–" for none. A date has no time zone: it is shown as it is."""
    if value is None or value == "":
        return NOTHING
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    elif isinstance(value, dt.datetime):
        value = value.date()
    return day_text(value)

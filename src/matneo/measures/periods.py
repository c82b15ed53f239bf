"""What a period is called and where it is drawn: one rule for pages, the API, CSVs and the CLI.

A rolling or multi-year figure describes the window that *ends* at its last month, so it is
named and plotted by that end: "12 months to Dec 2024" is drawn at Dec 2024, not at Jan 2024
(drawn at its start, a rise would appear up to 11 months before it began). Calendar years are
named by the year alone, and MBRRACE-UK-style triennia by their years ("2022–24", as in
MBRRACE-UK's *Saving Lives, Improving Mothers' Care* reports). Financial years use the NHS
form "2023/24". No ISO dates or codes: these are the words people read.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

PeriodType = Literal["month", "quarter", "year", "financial_year", "rolling_12m", "rolling_3y"]
#: Period types whose figures are drawn on a yearly time axis (one point per year).
YEARLY: frozenset[str] = frozenset({"year", "financial_year", "rolling_3y"})


def period_label(period_type: str, start: dt.date, end: dt.date) -> str:
    """The plain-English name of the period from ``start`` to ``end`` (inclusive dates).

    * ``month``: "Mar 2024"
    * ``quarter``: "Jan to Mar 2024"
    * ``year``: "2024"
    * ``financial_year`` (April to March): "2023/24"
    * ``rolling_12m``: "12 months to Dec 2024" (named by its last month)
    * ``rolling_3y``: "2022–24" (a triennium, named by its years; it ends in the last one)

    Raises:
        ValueError: an unknown period type, or ``end`` before ``start``.
    """
    if end < start:
        raise ValueError(f"a period cannot end ({end}) before it starts ({start})")
    if period_type == "month":
        return f"{start:%b %Y}"
    if period_type == "quarter":
        return f"{start:%b} to {end:%b %Y}"
    if period_type == "year":
        return f"{start.year}"
    if period_type == "financial_year":
        return f"{start.year}/{end.year % 100:02d}"
    if period_type == "rolling_12m":
        return f"12 months to {end:%b %Y}"
    if period_type == "rolling_3y":
        return f"{start.year}–{end.year % 100:02d}"
    raise ValueError(f"unknown period type {period_type!r}")


def plot_date(period_type: str, end: dt.date) -> dt.date:
    """Where a period's point goes on a time axis: at the end of its window.

    On a monthly axis, the first day of the window's last month (so "12 months to Dec 2024"
    sits on the Dec 2024 tick); on a yearly axis (:data:`YEARLY`), 1 January of the year the
    window ends in (a triennium 2022–24 sits on the 2024 tick).
    """
    if period_type in YEARLY:
        return dt.date(end.year, 1, 1)
    return dt.date(end.year, end.month, 1)

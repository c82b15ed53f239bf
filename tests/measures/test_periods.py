"""Period names and plot positions: one rule for every page, CSV, API answer and the CLI."""

from __future__ import annotations

import datetime as dt

import pytest

from matneo.measures.periods import period_label, plot_date

D = dt.date


@pytest.mark.parametrize(
    ("period_type", "start", "end", "label"),
    [
        ("month", D(2024, 3, 1), D(2024, 3, 31), "Mar 2024"),
        ("quarter", D(2024, 1, 1), D(2024, 3, 31), "Jan to Mar 2024"),
        ("year", D(2024, 1, 1), D(2024, 12, 31), "2024"),
        ("financial_year", D(2023, 4, 1), D(2024, 3, 31), "2023/24"),
        ("financial_year", D(1999, 4, 1), D(2000, 3, 31), "1999/00"),
        ("rolling_12m", D(2024, 1, 1), D(2024, 12, 31), "12 months to Dec 2024"),
        ("rolling_12m", D(2023, 4, 1), D(2024, 3, 31), "12 months to Mar 2024"),
        ("rolling_3y", D(2022, 1, 1), D(2024, 12, 31), "2022–24"),
        ("rolling_3y", D(2009, 1, 1), D(2011, 12, 31), "2009–11"),
    ],
)
def test_period_label(period_type: str, start: dt.date, end: dt.date, label: str) -> None:
    assert period_label(period_type, start, end) == label


def test_period_label_rejects_unknown_types_and_reversed_periods() -> None:
    with pytest.raises(ValueError, match="unknown period type"):
        period_label("fortnight", D(2024, 1, 1), D(2024, 1, 14))
    with pytest.raises(ValueError, match="before it starts"):
        period_label("month", D(2024, 2, 1), D(2024, 1, 31))


@pytest.mark.parametrize(
    ("period_type", "end", "plotted"),
    [
        ("month", D(2024, 3, 31), D(2024, 3, 1)),
        ("rolling_12m", D(2024, 12, 31), D(2024, 12, 1)),  # at its last month, not its first (Jan 2024)
        ("year", D(2024, 12, 31), D(2024, 1, 1)),  # the 2024 tick of a yearly axis
        ("rolling_3y", D(2024, 12, 31), D(2024, 1, 1)),  # 2022–24 at 2024, not 2022
    ],
)
def test_points_are_plotted_at_the_end_of_their_window(period_type: str, end: dt.date, plotted: dt.date) -> None:
    assert plot_date(period_type, end) == plotted

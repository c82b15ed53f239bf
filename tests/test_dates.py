"""Month arithmetic, by hand."""

import datetime as dt

from matneo.dates import add_months, london_time, month_end


def test_add_months_and_month_end() -> None:
    assert add_months(dt.date(2019, 11, 20), 2) == dt.date(2020, 1, 1)
    assert add_months(dt.date(2020, 3, 31), -11) == dt.date(2019, 4, 1)
    assert month_end(dt.date(2020, 2, 10)) == dt.date(2020, 2, 29)  # leap year
    assert month_end(dt.date(2019, 12, 1)) == dt.date(2019, 12, 31)


def test_london_time_for_people() -> None:
    assert london_time(dt.datetime(2026, 12, 2, 17, 46)) == "2 Dec 2026, 17:46"  # GMT in winter
    assert london_time(dt.datetime(2026, 7, 2, 17, 46)) == "2 Jul 2026, 18:46"  # BST in summer

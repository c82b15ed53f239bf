"""Month arithmetic, by hand."""

import datetime as dt

from matneo.dates import add_months, day_text, moment_text, month_end, months_after


def test_add_months_and_month_end() -> None:
    assert add_months(dt.date(2019, 11, 20), 2) == dt.date(2020, 1, 1)
    assert add_months(dt.date(2020, 3, 31), -11) == dt.date(2019, 4, 1)
    assert month_end(dt.date(2020, 2, 10)) == dt.date(2020, 2, 29)  # leap year
    assert month_end(dt.date(2019, 12, 1)) == dt.date(2019, 12, 31)


def test_months_after_keeps_the_day_or_the_month_end() -> None:
    assert months_after(dt.date(2019, 8, 1), 12) == dt.date(2020, 8, 1)
    assert months_after(dt.date(2019, 1, 31), 1) == dt.date(2019, 2, 28)
    assert months_after(dt.date(2019, 12, 31), 12) == dt.date(2020, 12, 31)


def test_dates_as_people_read_them() -> None:
    assert day_text(dt.date(2026, 12, 2)) == "2 Dec 2026"
    assert moment_text(dt.datetime(2026, 12, 2, 17, 46)) == "2 Dec 2026, 17:46"  # GMT in winter
    assert moment_text(dt.datetime(2026, 7, 1, 8, 5)) == "1 Jul 2026, 09:05"  # stored UTC, shown in BST
    assert moment_text(dt.datetime(2026, 7, 2, 17, 46, tzinfo=dt.UTC)) == "2 Jul 2026, 18:46"

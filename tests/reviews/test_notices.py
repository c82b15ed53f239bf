"""Overdue review stages become notices to the owning trust: once per stage and deadline, no identifiers."""

from __future__ import annotations

import datetime as dt

from matneo.auth.access import Access
from matneo.config import Settings
from matneo.reviews import actions
from matneo.reviews.notices import mark_read, notices_for, overdue_check


def test_overdue_stages_are_notified_once(with_deaths: Settings, people: dict[str, Access]) -> None:
    s, trust = with_deaths, people["trust"]
    review_id = actions.open_from_record(s, trust, "SB-TERM")  # died 2 Oct 2026
    url = s.database_url
    assert overdue_check(url, dt.date(2026, 10, 5)) == 0  # nothing due yet
    made = overdue_check(url, dt.date(2026, 10, 20))  # notification (7 working days) missed
    assert made == 1 and overdue_check(url, dt.date(2026, 10, 21)) == 0
    actions.update_stages(s, trust, review_id, {"notified": "2026-10-21"}, today=dt.date(2026, 10, 21))
    assert overdue_check(url, dt.date(2026, 12, 3)) == 1  # review not started within 2 months
    notices = notices_for(url, trust)
    assert [n["stage"] for n in notices] == ["started", "notified"]
    assert all("SB-TERM" not in n["message"] for n in notices)
    assert "was due by 2 Dec 2026" in notices[0]["message"]
    assert notices_for(url, people["other"]) == []
    assert mark_read(url, trust) == 2 and all(n["read"] for n in notices_for(url, trust))

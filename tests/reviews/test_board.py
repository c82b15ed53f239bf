"""The reviews section of the board pack: counts at the month's end from the hand-built deaths, stage dates
after the month's end counted as not reached, and the section in the rendered pack."""

from __future__ import annotations

import datetime as dt

from matneo.auth.access import Access
from matneo.config import Settings
from matneo.reviews import actions
from matneo.reviews.board import pack_reviews

from .conftest import DEATHS, OWN


def test_the_pack_counts_waiting_deaths_overdue_stages_grades_and_actions(
    with_deaths: Settings, people: dict[str, Access]
) -> None:
    s, trust = with_deaths, people["trust"]
    eligible = sum(1 for _, t, _, needs in DEATHS if t == OWN and needs)  # counted by hand in the table
    before = pack_reviews(s, [OWN], dt.date(2026, 11, 30))
    assert before.waiting == eligible and before.open == 0 and before.overdue_by_stage == []

    review = actions.open_from_record(s, trust, "NND-22")  # died 15 Jun 2019
    actions.update_stages(s, trust, review, {"notified": "2019-06-18", "started": "2019-07-01"})
    actions.set_grade(s, trust, review, area="up_to_birth", grade="C")
    actions.add_action(s, trust, review, description="Later", owner="Lead", due_on="2027-01-31")
    actions.add_action(s, trust, review, description="Earlier", owner="Lead", due_on="2026-01-01")
    now = pack_reviews(s, [OWN], dt.date(2026, 11, 30))
    assert now.waiting == eligible - 1 and now.open == 1
    late = dict(now.overdue_by_stage)
    assert late.get("Draft report written") == 1 and "Review started" not in late and "Death notified" not in late
    assert dict(now.grades)["Care up to the birth"] == [0, 0, 1, 0] and now.grade_letters == ["A", "B", "C", "D"]
    assert (now.actions_open, now.actions_overdue, now.actions_done) == (1, 1, 0)

    then = pack_reviews(s, [OWN], dt.date(2019, 9, 30))  # started on 1 Jul 2019: reached by then
    assert "Review started" not in dict(then.overdue_by_stage)
    early = pack_reviews(s, [OWN], dt.date(2019, 6, 30))  # not yet started, but not yet due either
    assert early.open == 1 and "Review started" not in dict(early.overdue_by_stage)
    assert (early.actions_open, early.actions_overdue) == (2, 0)


def test_mis_safety_action_1_shows_pmrt_timeliness_as_a_live_figure(
    with_deaths: Settings, people: dict[str, Access]
) -> None:
    from matneo.assurance.figures import live_figure
    from matneo.assurance.frameworks import item

    s, trust = with_deaths, people["trust"]
    sa1 = item("cnst_mis_y2:SA1")
    assert sa1.figure == "pmrt_timeliness"

    def figure() -> str:
        found = live_figure(sa1, results=None, scope=None, url=s.database_url, trust=OWN, today=dt.date(2026, 12, 3))  # type: ignore[arg-type]
        assert found is not None and found.link == "/reviews"
        return found.text

    assert figure() == "No perinatal mortality reviews recorded in MatNeo yet."
    review = actions.open_from_record(s, trust, "NND-22")  # died 15 Jun 2019
    actions.update_stages(s, trust, review, {"notified": "2019-06-18", "started": "2019-09-01"})
    text = figure()
    assert text.startswith("Of 1 perinatal mortality review: 1 notified, 0 started and 0 with a draft report")
    assert "1 stage overdue now" in text and "need local confirmation" in text  # the draft report

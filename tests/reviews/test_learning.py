"""Learning across reviews: measures summed up the hierarchy, shown in full in scope and suppressed outside it."""

from __future__ import annotations

import datetime as dt

import polars as pl

from matneo.auth.access import Access
from matneo.config import Settings
from matneo.reviews import actions
from matneo.reviews.learning import learning, learning_table

from .conftest import OTHER, OWN

TODAY = dt.date(2026, 12, 3)


def cell(table: pl.DataFrame, measure: str, org: str) -> dict:
    (row,) = table.filter((pl.col("measure") == measure) & (pl.col("org_code") == org)).to_dicts()
    return row


def test_measures_by_organisation_with_suppression_outside_scope(
    with_deaths: Settings, people: dict[str, Access]
) -> None:
    s, trust = with_deaths, people["trust"]
    ids = [actions.open_from_record(s, trust, rid) for rid in ("SB-24", "NND-22", "LFL-22")]
    actions.add_member(s, trust, ids[0], role="chair", name="A", external="yes")
    actions.add_member(s, trust, ids[1], role="neonatologist", name="B")
    actions.set_grade(s, trust, ids[0], area="up_to_birth", grade="C")
    actions.set_grade(s, trust, ids[1], area="up_to_birth", grade="A")
    actions.add_parent_item(s, trust, ids[2], kind="question", text="Why?")
    other = actions.open_from_record(s, people["other"], "SB-OTHER")
    actions.add_member(s, people["other"], other, role="midwife", name="C", external="yes")

    national = learning_table(s.database_url, people["national"], TODAY)
    own = cell(national, "external_member", OWN)
    assert (own["numerator"], own["denominator"], own["suppressed"]) == (1, 3, False)
    assert (cell(national, "neonatologist", OWN)["numerator"], cell(national, "neonatologist", OWN)["denominator"]) == (
        1,
        1,
    )
    assert cell(national, "grade_up_to_birth_C", OWN)["denominator"] == 2
    assert cell(national, "parents_questions", OWN)["numerator"] == 1
    assert cell(national, "external_member", "ENG")["numerator"] == 2
    assert cell(national, "external_member", "ENG")["denominator"] == 4

    actions.add_member(s, trust, ids[2], role="midwife", name="D", external="yes")  # a change: not the kept table
    again = learning_table(s.database_url, people["national"], TODAY)
    assert cell(again, "external_member", OWN)["numerator"] == 2

    seen_by_trust = learning_table(s.database_url, trust, TODAY)
    assert cell(seen_by_trust, "external_member", OWN)["numerator"] == 2  # own: as it is
    theirs = cell(seen_by_trust, "external_member", OTHER)
    assert theirs["suppressed"] and theirs["numerator"] is None  # one review: a small count
    page = learning(s.database_url, people["lmns"], today=TODAY)
    assert page["columns"][0]["code"] == people["lmns"].user.org_code and page["children"]
    measure = next(m for m in page["measures"] if m["id"] == "external_member")
    assert measure["cells"][OWN]["numerator"] == 2


def test_charts_of_timeliness_grades_factors_and_actions_follow_the_suppressed_figures(
    with_deaths: Settings, people: dict[str, Access]
) -> None:
    from matneo.reviews.svg import Bar, Stack, bars_svg, stacked_svg

    s, trust = with_deaths, people["trust"]
    ids = [actions.open_from_record(s, trust, rid) for rid in ("SB-24", "NND-22")]
    actions.set_grade(s, trust, ids[0], area="up_to_birth", grade="C")
    actions.set_grade(s, trust, ids[1], area="up_to_birth", grade="A")
    actions.add_issue(s, trust, ids[0], area="up_to_birth", description="x", relevant="yes", factors=["task"])
    actions.add_action(s, trust, ids[0], description="Do it", owner="Lead", due_on="2027-01-31")
    own = {c["id"]: c for c in learning(s.database_url, trust, OWN, TODAY)["charts"]}
    assert [r["label"] for r in own["timeliness"]["rows"]] == [
        "Deaths notified by the deadline",
        "Reviews started by the deadline",
        "Draft report written by the deadline",
    ]
    area = next(r for r in own["grades"]["rows"] if r["label"] == "Care up to the birth")
    assert [p["numerator"] for p in area["parts"]] == [1, 0, 1, 0] and not area["suppressed"]
    assert own["factors"]["rows"][0]["numerator"] == 1 and len(own["factors"]["rows"]) == 1
    done, overdue, still_open = own["actions"]["rows"]
    assert (done["numerator"], overdue["numerator"], still_open["numerator"]) == (0, 0, 1)

    theirs = {c["id"]: c for c in learning(s.database_url, people["other"], OWN, TODAY)["charts"]}
    assert all(r["suppressed"] and r["numerator"] is None for r in theirs["timeliness"]["rows"])
    assert theirs["factors"]["rows"] == [] and theirs["factors"]["hidden"]
    assert theirs["actions"]["rows"][2]["suppressed"], "open actions are not worked out from hidden counts"

    svg = bars_svg([Bar("Started <on time>", 50.0), Bar("Hidden one", None, hidden=True)], title="T & U")
    assert svg.startswith("<svg") and "Started &lt;on time&gt;: 50%" in svg and "hidden (small numbers)" in svg
    assert "T &amp; U" in svg and svg.count("<rect") == 1
    stacked = stacked_svg([Stack("Area", (50.0, 50.0, 0.0, 0.0))], ["A", "B", "C", "D"], title="Grades")
    assert "Area: A 50%, B 50%, C 0%, D 0%" in stacked

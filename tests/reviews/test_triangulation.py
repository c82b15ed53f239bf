"""Reviews as a source of concern for triangulation: overdue review stages and care graded C or D, in
aggregate words only, firing the two-sources rule with another source."""

from __future__ import annotations

import datetime as dt

from matneo.auth.access import Access
from matneo.config import Settings
from matneo.measures.results import ResultCache
from matneo.reference.organisations import OrgHierarchy
from matneo.reviews import actions
from matneo.triangulation.rules import Concern, evaluate, load_rules
from matneo.triangulation.sources import concerns

from .conftest import OTHER, OWN

TODAY = dt.date.today()


def test_overdue_stages_and_c_or_d_grades_are_concerns_without_patient_details(
    with_deaths: Settings, people: dict[str, Access], hierarchy: OrgHierarchy
) -> None:
    s, trust = with_deaths, people["trust"]
    results = ResultCache(s, hierarchy)

    def reviews(code: str) -> list[Concern]:
        return [c for c in concerns(s.database_url, results, [OWN, OTHER], TODAY)[code] if c.source == "reviews"]

    assert reviews(OWN) == []
    first = actions.open_from_record(s, trust, "NND-22")  # died 2019: every deadline long past
    second = actions.open_from_record(s, trust, "SB-24")
    actions.set_grade(s, trust, first, area="up_to_birth", grade="D")
    actions.set_grade(s, trust, second, area="up_to_birth", grade="A")
    found = reviews(OWN)
    texts = [c.text for c in found]
    late = next(t for t in texts if "past a stage's deadline" in t)
    assert late.startswith("2 perinatal mortality reviews past a stage's deadline, the oldest due ")
    graded = next(c for c in found if "C or D" in c.text)
    assert graded.text.startswith("1 perinatal mortality review graded an area of care C or D since ")
    assert graded.day == TODAY  # graded today
    assert all("NND-22" not in t and "SB-24" not in t and "Review " not in t for t in texts)  # counts only
    assert reviews(OTHER) == []

    other_source = Concern(OWN, "assurance", TODAY, "1 assurance requirement red (Safety action 1)")
    fired = evaluate(load_rules(), [*found, other_source], TODAY)
    assert any(f.rule.id == "two_sources" and "reviews" in f.sources for f in fired)

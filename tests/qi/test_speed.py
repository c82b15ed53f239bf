"""Speed (issue 13): a collaborative dashboard of 50 projects (with the MatNeoSIP stage grid) and
the England overview of the same 50 projects each build in under a second.

The dashboard reads every project's measures and custom values in one query each (not one per
project); this test fails if that regresses into per-project queries on a slow machine. The
best of three builds is timed, so a busy shared machine does not make it flaky.
"""

from __future__ import annotations

import datetime as dt
import time
from types import SimpleNamespace

from matneo.auth.access import Access
from matneo.auth.signin import SignedInUser
from matneo.config import Settings
from matneo.dates import add_months
from matneo.db.models import QiMeasureValue
from matneo.db.session import transaction, upgrade
from matneo.qi import actions
from matneo.reference.organisations import OrgHierarchy, load_hierarchy
from matneo.web.pages import qi as pages


def test_dashboard_of_50_projects_under_a_second(sqlite_settings: Settings, hierarchy: OrgHierarchy) -> None:
    url = sqlite_settings.database_url
    sqlite_settings.ensure_dirs()
    upgrade(url, load_hierarchy())
    national = Access(SignedInUser(1, "analyst@eng.test", "national_analyst", "ENG", ""), hierarchy)
    cid = actions.create_collaborative(url, national, {"name": "Fifty", "kind": "national", "org_code": "ENG"})
    trusts = [t.code for t in hierarchy.trusts()][:50]
    for code in trusts:
        actions.add_member(url, national, cid, code)
        team = Access(SignedInUser(2, f"staff@{code}.test", "trust_staff", code, ""), hierarchy)
        pid = actions.create_project(
            url, team, {"trust_code": code, "title": f"Project {code}", "priority": "normothermia"}, [cid]
        )
        actions.set_progress(url, team, pid, "1.0")
        actions.set_progress(url, team, pid, "2.0")
        mid = actions.add_measure(
            url,
            team,
            pid,
            {"kind": "outcome", "source": "custom", "title": "M", "unit": "percent", "direction": "increase"},
        )
        with transaction(url) as session:
            for i in range(36):
                period = add_months(dt.date(2023, 1, 1), i)
                session.add(
                    QiMeasureValue(
                        measure_id=mid, period_start=period, numerator=3 + i % 7, denominator=20, entered_by="t"
                    )
                )
        actions.save_pdsa(url, team, pid, {"title": "c", "question": "q", "prediction": "p", "starts_on": "2024-01-01"})
    services = SimpleNamespace(settings=sqlite_settings, results=None, hierarchy=hierarchy)
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        page = pages.collaborative_page(services, national, cid)  # type: ignore[arg-type]
        timings.append(time.perf_counter() - start)
    assert len(page.view.projects) == 50 and len(page.charts) == 50
    assert page.view.stages is not None and len(page.view.stages.rows) == 50
    assert min(timings) < 1.0, timings
    overview = []
    for _ in range(3):
        start = time.perf_counter()
        area = pages.overview_page(services, national, "ENG")  # type: ignore[arg-type]
        overview.append(time.perf_counter() - start)
    assert len(area.view.projects) == 50 and area.view.by_priority[0]["projects"] == 50
    assert min(overview) < 1.0, overview
    print(f"dashboard {min(timings):.3f} s, overview {min(overview):.3f} s")

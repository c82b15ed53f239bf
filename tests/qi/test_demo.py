"""The demonstration collaborative: seeded once, several projects across trusts, one motivated by the planted trust."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from matneo.auth.access import Access
from matneo.config import Settings
from matneo.db.models import AuditEvent, Signal
from matneo.db.session import transaction
from matneo.qi import queries
from matneo.qi.demo import DEMO_NAME, ensure_demo_collaborative
from matneo.reference.organisations import OrgHierarchy

TODAY = dt.date(2026, 12, 3)


def test_demo_collaborative_is_seeded_once(
    app_store: Settings, hierarchy: OrgHierarchy, people: dict[str, Access]
) -> None:
    url = app_store.database_url
    with transaction(url) as session:  # what the signals register finds in the demo's planted data
        session.add(
            Signal(
                trust_code="R0A",
                measure="stillbirth_rate",
                method="cusum",
                status="open",
                first_signal_date=dt.date(2023, 9, 30),
                last_signal_date=dt.date(2024, 12, 31),
                summary="Stillbirths above expected (CUSUM)",
            )
        )
    cid = ensure_demo_collaborative(url, hierarchy, "R0A", TODAY)
    assert cid is not None
    assert ensure_demo_collaborative(url, hierarchy, "R0A", TODAY) is None
    view = queries.collaborative_view(url, people["national"], None, cid)
    assert view.name == DEMO_NAME
    assert len({p.trust_code for p in view.projects}) >= 4
    planted = next(p for p in view.projects if p.trust_code == "R0A")
    project = queries.project_view(url, people["trust"], None, planted.id)
    assert "signal" in project.motivation
    assert project.signal is not None and project.signal["summary"] == "Stillbirths above expected (CUSUM)"
    assert project.key_measure is not None and project.key_measure.matneo_measure == "stillbirth_rate"
    custom = next(m for m in project.measures if m.source == "custom")
    assert len(custom.points) == 18 and custom.improved  # the made-up process measure shows the change
    assert custom.points[-1].period_start == dt.date(2026, 11, 1)
    assert any(i["tested_by"] for i in view.library)
    # The stage-per-quarter grid has a history on first run: three trusts on three MatNeoSIP priorities.
    dated = queries.collaborative_view(url, people["national"], None, cid, today=TODAY)
    assert dated.stages is not None
    assert {r.priority for r in dated.stages.rows} == {"magnesium_sulphate", "normothermia", "smoke_free"}
    magnesium = next(r for r in dated.stages.rows if r.priority == "magnesium_sulphate")
    # Made-up scores 21, 15, 9 and 4 months before "today": one per quarter, rising.
    assert magnesium.stages[:7] == [1.0, 1.0, 2.0, 2.0, 2.5, 2.5, 3.0]
    found = queries.collaborative_view(url, people["national"], None, cid, "GRAB box").library
    assert [i["title"] for i in found] == ["Magnesium sulphate grab box"]
    assert [t["decisions"] for t in found[0]["tested_by"]] == [["adopt"]]
    with transaction(url) as session:
        actors = set(session.scalars(select(AuditEvent.actor).where(AuditEvent.action.like("qi.%"))))
        assert actors == {"matneo demo"}
        assert (
            session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "qi.project_created")
            )
            == 4
        )

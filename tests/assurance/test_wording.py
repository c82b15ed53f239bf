"""A trust's own wording for a requirement that needs local confirmation (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from matneo.assurance.tracker import FieldProblem, history
from matneo.assurance.wording import record, wordings
from matneo.config import Settings
from matneo.db.models import AuditEvent
from matneo.db.session import transaction

KEY = "cnst_mis_y7:SA1"  # packaged title names its subject only: needs local confirmation


def test_a_trust_records_its_wording_checked_trailed_and_audited(settings: Settings) -> None:
    url = settings.database_url

    def save(text: str, key: str = KEY, actor_org: str = "R0A") -> str | None:
        return record(url, "R0A", key, text, actor="lead@r0a", actor_org=actor_org)

    assert wordings(url, ["R0A"]) == {}
    assert save("  Use the  National Perinatal Mortality Review Tool\nfor every eligible death ") == (
        "Use the National Perinatal Mortality Review Tool for every eligible death"
    )
    assert save("Use the National Perinatal Mortality Review Tool for every eligible death") is not None  # no change
    with pytest.raises(FieldProblem, match="confirmed from its source") as problem:
        save("Our words", key="cnst_mis_y2:SA10")  # NHS Resolution's own words: not editable
    assert problem.value.field == "wording"
    with pytest.raises(FieldProblem, match="1000 characters"):
        save("x" * 1001)
    with pytest.raises(PermissionError):
        save("Another trust's words", actor_org="RJ1")
    with pytest.raises(KeyError):
        save("Nothing", key="cnst_mis_y7:SA99")
    assert wordings(url, ["R0A", "RJ1"]) == {
        ("R0A", KEY): "Use the National Perinatal Mortality Review Tool for every eligible death"
    }
    assert save("Reviews to the standard in the year's technical guidance") is not None
    assert save("") is None  # back to the packaged wording
    assert wordings(url, ["R0A"]) == {}
    trail = history(url, "R0A", KEY)
    assert [h["field"] for h in trail] == ["wording"] * 3
    assert trail[0]["after"] is None and trail[0]["before"].startswith("Reviews to the standard")
    with transaction(url) as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "assurance.wording")).all()
    assert len(events) == 3 and {e.target_id for e in events} == {f"R0A/{KEY}"}

"""A route's reference is seen beyond the trust, so it must be a reference, never free text.

The attack: a trust user types the baby's name or NHS number as the "reference" of a done route;
before, it was stored as typed and shown to the LMNS, region and England (and in the route's
export and the case trail), bypassing the rule that free text is the owning trust's only.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from matneo.auth.access import Access
from matneo.config import Settings
from matneo.db.models import HarmChange, HarmRoute
from matneo.db.session import transaction
from matneo.harm import portal
from matneo.harm.portal import CaseError, is_reference, queries
from matneo.harm.portal.exports import export_route

from .test_cases import LATER, NHS, SUBMITTED, stillbirth

FREE_TEXT = [
    "Baby of Jane Smith",
    "Jane-Smith",  # no digit: a name, not a reference
    NHS,
    "943-476-5919",
    "REF-9434765919",  # an NHS number inside a reference
    "MNSI 2026 0042",
    "=HYPERLINK(1)",
    "M" * 40 + "1",
]


@pytest.mark.parametrize("text", FREE_TEXT)
def test_free_text_is_refused_as_a_reference(app_store: Settings, people: dict[str, Access], text: str) -> None:
    case_id = portal.submit(app_store, people["trust"], stillbirth(), today=SUBMITTED).id
    with pytest.raises(CaseError, match="reference number the body gave"):
        portal.update_route(
            app_store, people["trust"], case_id, "MNSI", "done", reference=text, done_on="2026-03-03", today=LATER
        )
    lmns = queries.case_detail(app_store.database_url, people["lmns"], case_id, today=LATER)
    assert text not in json.dumps(lmns)


@pytest.mark.parametrize("text", ["M1", "MNSI/26/001", "MNSI-2026-0042", "PMRT-77", "W12345", "MI2026004211"])
def test_references_pass(text: str) -> None:
    assert is_reference(text)


def test_free_text_stored_before_the_check_is_the_trusts_only(app_store: Settings, people: dict[str, Access]) -> None:
    url = app_store.database_url
    case_id = portal.submit(app_store, people["trust"], stillbirth(), today=SUBMITTED).id
    portal.update_route(
        app_store, people["trust"], case_id, "MNSI", "done", reference="MNSI-1", done_on="2026-03-03", today=LATER
    )
    with transaction(url) as session:  # as an earlier version let it be stored
        route = session.scalars(select(HarmRoute).where(HarmRoute.route_id == "MNSI")).one()
        route.reference = "Baby of Jane Smith"
        change = session.scalars(select(HarmChange).where(HarmChange.action == "route.done")).one()
        change.after = change.after.replace("MNSI-1", "Baby of Jane Smith")

    own = queries.case_detail(url, people["trust"], case_id, today=LATER)
    assert "Baby of Jane Smith" in json.dumps(own)
    for viewer in ("lmns", "national"):
        seen = queries.case_detail(url, people[viewer], case_id, today=LATER)
        assert "Baby of Jane Smith" not in json.dumps(seen)
        mnsi = next(r for r in seen["routes"] if r["route_id"] == "MNSI")
        assert mnsi["status"] == "done" and mnsi["reference"] is None
        payload = export_route(url, people[viewer], case_id, "MNSI", today=LATER)
        assert "Baby of Jane Smith" not in json.dumps(payload)

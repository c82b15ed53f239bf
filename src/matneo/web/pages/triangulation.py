"""Triangulation pages: a trust's safety picture, and the trusts an LMNS or region needs to talk to.

Everything shown is the concern lines of :mod:`matneo.triangulation.sources` — aggregate words,
no patient detail — so the LMNS and region see the same evidence the trust does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from matneo.auth.access import Access
from matneo.triangulation.decisions import DECISIONS, Decision, record_decision
from matneo.triangulation.picture import TrustPicture, pictures
from matneo.triangulation.rules import SOURCE_NAMES
from matneo.triangulation.sources import NOT_YET_AVAILABLE
from matneo.web.pages.funnel import FUNNEL_LEVELS
from matneo.web.services import NotFound, Services

__all__ = ["DECIDING_ROLES", "SafetyPage", "build", "decide"]

#: Who records decisions about trusts: the LMNS and regional leads over them.
DECIDING_ROLES = ("lmns_lead", "regional_lead")


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@dataclass
class SafetyPage:
    code: str
    name: str
    level: str
    trusts: list[TrustPicture]
    can_decide: bool
    source_names = SOURCE_NAMES
    decisions = DECISIONS
    not_yet_available = NOT_YET_AVAILABLE

    @property
    def title(self) -> str:
        return (
            f"Safety picture: {self.name}" if self.level == "trust" else f"Trusts needing a conversation: {self.name}"
        )

    @property
    def needing(self) -> list[TrustPicture]:
        return [t for t in self.trusts if t.needs_conversation]

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "trusts": [t.to_dict() for t in self.trusts]}


def _organisation(services: Services, access: Access, code: str):  # type: ignore[no-untyped-def]
    org = services.organisation(code)
    if org.level not in FUNNEL_LEVELS or not access.in_scope(org.code):
        raise NotFound(f"There is no organisation with code {code!r} in your area.")
    return org


def build(services: Services, access: Access, code: str) -> SafetyPage:
    org = _organisation(services, access, code)
    settings = services.settings
    found = pictures(
        settings.database_url, services.results, services.hierarchy, org.code, _today(), settings.concern_rules,
        settings.voice_layouts,
    )  # fmt: skip
    can_decide = access.user.role in DECIDING_ROLES and org.level != "trust"
    return SafetyPage(org.code, org.name, org.level, found, can_decide)


def decide(services: Services, access: Access, code: str, trust: str, form: dict[str, str]) -> Decision:
    """Record a decision about ``trust`` from the page of LMNS or region ``code``."""
    org = _organisation(services, access, code)
    under = {t.code for t in services.hierarchy.trusts_under(org.code)}
    if trust not in under:
        raise NotFound(f"There is no trust {trust!r} in {org.name}.")
    return record_decision(
        services.settings.database_url,
        trust,
        decision=form.get("decision", ""),
        note=form.get("note", ""),
        review_on=form.get("review_on", ""),
        actor=access.user.email,
        actor_org=access.user.org_code,
        may_decide=access.user.role in DECIDING_ROLES and access.in_scope(trust) and org.level != "trust",
        today=_today(),
    )

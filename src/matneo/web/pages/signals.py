"""Signals register: active and past signals for the trusts in the user's scope, with their
evidence and history, and the acknowledge action.

Signals are unpublished surveillance about named trusts, so a user sees only the signals of
trusts in their scope (a trust its own; an LMNS or region its trusts; national analysts all).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from matneo.auth.access import ACKNOWLEDGE_ROLES, Access
from matneo.measures.definitions import MEASURES_BY_ID
from matneo.signals import register
from matneo.web.services import NotFound, Services

METHOD_LABELS = {
    "funnel": "Case-mix adjusted funnel plot",
    "cusum": "Risk-adjusted CUSUM",
    "spc": "SPC chart",
}
STATUS_LABELS = {"open": "Open", "acknowledged": "Acknowledged", "closed": "Closed"}


@dataclass
class SignalRow:
    id: int
    trust_code: str
    trust_name: str
    measure: str
    measure_title: str
    method: str
    method_label: str
    status: str
    since: str
    last_signal: str
    summary: str
    statistic: float | None
    history: list[dict[str, Any]]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "trust_code": self.trust_code,
            "trust_name": self.trust_name,
            "measure": self.measure,
            "measure_title": self.measure_title,
            "method": self.method,
            "status": self.status,
            "since": self.since,
            "last_signal": self.last_signal,
            "summary": self.summary,
            "statistic": self.statistic,
            "history": self.history,
        }


@dataclass
class SignalsPage:
    title: str
    scope_name: str
    show: str
    signals: list[SignalRow]
    can_acknowledge: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "scope": self.scope_name,
            "show": self.show,
            "can_acknowledge": self.can_acknowledge,
            "signals": [s.to_dict() for s in self.signals],
        }


def signal_rows(
    services: Services, access: Access, include_closed: bool, org_code: str | None = None
) -> list[SignalRow]:
    """Signals of the trusts in scope (and under ``org_code`` if given), newest first."""
    trusts = access.trusts_in_scope()
    if org_code is not None:
        under = {t.code for t in services.hierarchy.trusts_under(org_code)}
        trusts = [t for t in trusts if t in under]
    if not trusts:
        return []
    entries = register.current(services.settings.database_url, trusts=trusts, include_closed=include_closed)
    rows = []
    for s in entries:
        measure = MEASURES_BY_ID.get(s["measure"])
        rows.append(
            SignalRow(
                id=s["id"],
                trust_code=s["trust_code"],
                trust_name=services.hierarchy.get(s["trust_code"]).name,
                measure=s["measure"],
                measure_title=measure.title if measure else s["measure"],
                method=s["method"],
                method_label=METHOD_LABELS.get(s["method"], s["method"]),
                status=s["status"],
                since=s["since"],
                last_signal=s["last_signal"],
                summary=s["summary"],
                statistic=s["statistic"],
                history=s["history"],
            )
        )
    return rows


def build(services: Services, access: Access, show: str = "active") -> SignalsPage:
    rows = signal_rows(services, access, include_closed=show == "all")
    return SignalsPage(
        title="Signals register",
        scope_name=access.org_name,
        show="all" if show == "all" else "active",
        signals=rows,
        can_acknowledge=access.user.role in ACKNOWLEDGE_ROLES,
    )


def acknowledge(services: Services, access: Access, signal_id: int, comment: str) -> SignalRow:
    """Acknowledge a signal in the user's scope (audited in the same transaction)."""
    access.require_role(ACKNOWLEDGE_ROLES, "acknowledge signals")
    found = [s for s in signal_rows(services, access, include_closed=True) if s.id == signal_id]
    if not found:  # unknown, or not in scope: the same answer, so ids reveal nothing
        raise NotFound(f"There is no signal {signal_id} in your organisation's register.")
    comment = comment.strip()
    if not comment:
        raise ValueError("Enter a comment saying what has been done or decided.")
    if len(comment) > 2000:
        raise ValueError("The comment must be 2,000 characters or fewer.")
    register.acknowledge(services.settings.database_url, signal_id, access.user.email, comment)
    return next(s for s in signal_rows(services, access, include_closed=True) if s.id == signal_id)

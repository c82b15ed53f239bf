"""Signals register: active and past signals for the trusts in the user's scope, with their
evidence and history, and the acknowledge action.

Signals are unpublished surveillance about named trusts, so a user sees only the signals of
trusts in their scope (a trust its own; an LMNS or region its trusts; national analysts all).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from matneo.auth.access import ACKNOWLEDGE_ROLES, Access
from matneo.dates import day_text, moment_text
from matneo.measures.definitions import MEASURES_BY_ID
from matneo.qi.queries import projects_for_signals
from matneo.quality import cached_cube
from matneo.quality.caveat import signal_caveats
from matneo.quality.rules import rules_from
from matneo.signals import register
from matneo.signals.detect import METHOD_LABELS, SignalSettings, stream_title
from matneo.web.services import NotFound, Services

STATUS_LABELS = {"open": "Open", "acknowledged": "Acknowledged", "closed": "Closed"}
ACTION_LABELS = {
    "raised": "Raised",
    "updated": "Evidence updated",
    "stopped": "Stopped signalling",
    "resumed": "Signalling again",
    "acknowledged": "Acknowledged",
    "closed": "Closed",
}


@dataclass
class SignalRow:
    """One register entry. Dates are kept as dates: the page shows them in words, the API as ISO."""

    id: int
    trust_code: str
    trust_name: str
    measure: str
    measure_title: str
    method: str
    method_label: str
    status: str
    signalling: bool
    since_date: dt.date
    last_signal_date: dt.date
    closes_on_date: dt.date | None
    summary: str
    statistic: float | None
    history: list[dict[str, Any]]
    #: Data-quality caveats: the measure's inputs at the trust over the 12 months to the latest signal.
    caveats: list[str] = field(default_factory=list)

    @property
    def page_measure(self) -> str | None:
        """The measure the organisation page can show for this signal (a composite has none of its own)."""
        return self.measure if self.measure in MEASURES_BY_ID else None

    #: Improvement projects this signal prompted (issue 13), as far as the user can see them.
    qi_projects: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def since(self) -> str:
        return day_text(self.since_date)

    @property
    def last_signal(self) -> str:
        return day_text(self.last_signal_date)

    @property
    def signalling_text(self) -> str:
        """Whether the method still signals, in words: since when, or since when it has not."""
        if self.status == "closed":
            return f"No longer signalling: signalled from {self.since} to {self.last_signal}."
        if self.signalling:
            return f"Signalling since {self.since}; latest signal {self.last_signal}."
        text = f"Stopped signalling: signalled from {self.since} to {self.last_signal}, none since."
        if self.closes_on_date is not None:
            text += f" Closes with the data to {day_text(self.closes_on_date)} if there is no further signal."
        return text

    @property
    def history_lines(self) -> list[dict[str, str]]:
        """The history as shown: when (London time), what happened, by whom, and the comment."""
        return [
            {
                "at": moment_text(dt.datetime.fromisoformat(h["at"])),
                "action": ACTION_LABELS.get(h["action"], h["action"].capitalize()),
                "by": h["by"],
                "comment": h["comment"],
            }
            for h in self.history
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "trust_code": self.trust_code,
            "trust_name": self.trust_name,
            "measure": self.measure,
            "measure_title": self.measure_title,
            "method": self.method,
            "method_label": self.method_label,
            "status": self.status,
            "signalling": self.signalling,
            "since": self.since_date.isoformat(),
            "last_signal": self.last_signal_date.isoformat(),
            "closes_on": self.closes_on_date.isoformat() if self.closes_on_date else None,
            "summary": self.summary,
            "statistic": self.statistic,
            "history": self.history,
            "caveats": self.caveats,
            "qi_projects": self.qi_projects,
        }


@dataclass
class SignalsPage:
    title: str
    scope_name: str
    show: str
    signals: list[SignalRow]
    can_acknowledge: bool
    quiet_months: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "scope": self.scope_name,
            "show": self.show,
            "can_acknowledge": self.can_acknowledge,
            "signals": [s.to_dict() for s in self.signals],
        }


def _caveats(services: Services, trust: str, measure: str, last_signal: dt.date) -> list[str]:
    """A signal's data-quality caveats, worked out once per store version (pages list signals on
    every request: the overview, the register, organisation pages)."""
    return services.results.memo(
        ("signal-caveats", trust, measure, last_signal),
        lambda: signal_caveats(
            cached_cube(services.settings, services.results), trust, measure, last_signal, rules_from(services.settings)
        ),
    )


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
    entries = register.current(
        services.settings.database_url,
        # Everyone's signals: no list of every trust in the query (a third of the page's time, issue 10).
        trusts=None if access.sees_everything and org_code is None else trusts,
        include_closed=include_closed,
        quiet_months=SignalSettings.of(services.settings).quiet_months,
    )
    rows = []
    known = set(trusts)
    for s in entries:
        if s["trust_code"] not in known:
            continue
        rows.append(
            SignalRow(
                id=s["id"],
                trust_code=s["trust_code"],
                trust_name=services.hierarchy.get(s["trust_code"]).name,
                measure=s["measure"],
                measure_title=stream_title(s["measure"]),
                method=s["method"],
                method_label=METHOD_LABELS.get(s["method"], s["method"]),
                status=s["status"],
                signalling=s["signalling"],
                since_date=dt.date.fromisoformat(s["since"]),
                last_signal_date=dt.date.fromisoformat(s["last_signal"]),
                closes_on_date=dt.date.fromisoformat(s["closes_on"]) if s["closes_on"] else None,
                summary=s["summary"],
                statistic=s["statistic"],
                history=s["history"],
                caveats=_caveats(services, s["trust_code"], s["measure"], dt.date.fromisoformat(s["last_signal"])),
            )
        )
    prompted = projects_for_signals(services.settings.database_url, access, [r.id for r in rows])
    for row in rows:
        row.qi_projects = prompted.get(row.id, [])
    return rows


def build(services: Services, access: Access, show: str = "active") -> SignalsPage:
    rows = signal_rows(services, access, include_closed=show == "all")
    return SignalsPage(
        title="Signals register",
        scope_name=access.org_name,
        show="all" if show == "all" else "active",
        signals=rows,
        can_acknowledge=access.user.role in ACKNOWLEDGE_ROLES,
        quiet_months=SignalSettings.of(services.settings).quiet_months,
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

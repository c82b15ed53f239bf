"""Decisions about trusts that need a conversation: monitor, enhanced surveillance, escalate, national support.

Recorded by an LMNS or region lead for a trust under them, with a note and a review date; each
decision is a new row written with its audit event in one transaction, so the history is kept.
The decision words follow the escalation steps of NHS England's perinatal quality surveillance
model (Dec 2020) as far as they could be confirmed here — the exact step names need local
confirmation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select

from matneo.auth.users import audit
from matneo.dates import day_text
from matneo.db.models import TriangulationDecision
from matneo.db.session import transaction

__all__ = ["DECISIONS", "Decision", "DecisionProblem", "decisions", "record_decision"]

DECISIONS = {
    "monitor": "Monitor (routine oversight)",
    "enhanced_surveillance": "Enhanced surveillance by the LMNS",
    "escalate_to_region": "Escalate to the region",
    "national_support": "Refer for national support",
}
MAX_NOTE = 4000


class DecisionProblem(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Decision:
    id: int
    trust_code: str
    decided_by_org: str
    decision: str
    note: str
    review_on: dt.date
    decided_by: str
    decided_at: dt.datetime

    @property
    def label(self) -> str:
        return DECISIONS.get(self.decision, self.decision)


def _view(row: TriangulationDecision) -> Decision:
    return Decision(row.id, row.trust_code, row.decided_by_org, row.decision, row.note, row.review_on,
                    row.decided_by, row.decided_at)  # fmt: skip


def record_decision(
    url: str,
    trust: str,
    *,
    decision: str,
    note: str,
    review_on: str | dt.date,
    actor: str,
    actor_org: str,
    may_decide: bool,
    today: dt.date,
) -> Decision:
    """Record a decision. ``may_decide``: the caller's scope check (an LMNS or region lead over the trust)."""
    if not may_decide:
        raise PermissionError("Only the LMNS or region over this trust can record a decision about it.")
    if decision not in DECISIONS:
        raise DecisionProblem("decision", "Choose what was decided.")
    text = (note or "").strip()
    if not text:
        raise DecisionProblem("note", "Say why: what the conversation found and what happens next.")
    if len(text) > MAX_NOTE:
        raise DecisionProblem("note", f"Keep the note to {MAX_NOTE} characters or fewer.")
    try:
        review = review_on if isinstance(review_on, dt.date) else dt.date.fromisoformat(str(review_on).strip())
    except ValueError:
        raise DecisionProblem("review_on", "Enter the review date, for example 2027-03-31.") from None
    if review <= today:
        raise DecisionProblem("review_on", "The review date must be in the future.")
    with transaction(url) as session:
        row = TriangulationDecision(trust_code=trust, decided_by_org=actor_org, decision=decision, note=text,
                                    review_on=review, decided_by=actor)  # fmt: skip
        session.add(row)
        session.flush()
        audit(session, actor, "triangulation.decide", "trust", trust, decision=DECISIONS[decision],
              review_on=day_text(review))  # fmt: skip
        return _view(row)


def decisions(url: str, trusts: Collection[str]) -> dict[str, list[Decision]]:
    """Each trust's decisions, newest first."""
    with transaction(url) as session:
        rows = session.scalars(
            select(TriangulationDecision)
            .where(TriangulationDecision.trust_code.in_(list(trusts)))
            .order_by(TriangulationDecision.id.desc())
        ).all()
        found: dict[str, list[Decision]] = {t: [] for t in trusts}
        for r in rows:
            found[r.trust_code].append(_view(r))
        return found

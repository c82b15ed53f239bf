"""The signals register: detected concerns kept with their history in the app store.

Every write here — raising, updating, acknowledging and closing a signal — happens in one
transaction together with its history event, so the register and its audit trail never
disagree (house style: writes in an actions layer).

A (trust, measure, method) is *active* when the method signalled within the look-back
window (12 months by default) before the latest data. An active concern with no open entry
raises one; an open or acknowledged entry that is no longer active is closed. Signals are
about trusts; LMNS and region users see the entries of the trusts under them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import select

from matneo.auth.users import audit
from matneo.config import Settings
from matneo.dates import add_months, month_end
from matneo.db.models import Signal, SignalEvent, utcnow
from matneo.db.session import transaction
from matneo.measures.counts import load_cube
from matneo.records.store import RecordStore
from matneo.signals.detect import SignalSettings, detect

SYSTEM_ACTOR = "matneo (automatic)"
LOOK_BACK_MONTHS = 12


@dataclass(frozen=True)
class RefreshSummary:
    raised: int
    updated: int
    closed: int
    as_of: dt.date | None


def refresh(
    url: str, detected: pl.DataFrame, as_of: dt.date, look_back_months: int = LOOK_BACK_MONTHS
) -> RefreshSummary:
    """Bring the register in line with ``detected`` signals as of ``as_of`` (one transaction)."""
    window_start = add_months(as_of, 1 - look_back_months)
    recent = detected.filter((pl.col("signal_date") >= window_start) & (pl.col("signal_date") <= as_of))
    active = {}
    for (trust, measure, method), rows in recent.group_by(["trust_code", "measure", "method"]):
        latest = rows.sort("signal_date").row(-1, named=True)
        active[(trust, measure, method)] = (rows.get_column("signal_date").min(), latest)
    raised = updated = closed = 0
    now = utcnow()
    with transaction(url) as session:
        open_entries = session.scalars(select(Signal).where(Signal.status != "closed")).all()
        by_key = {(s.trust_code, s.measure, s.method): s for s in open_entries}
        for key, entry in by_key.items():
            if key not in active:
                entry.status, entry.updated_at = "closed", now
                session.add(
                    SignalEvent(
                        signal=entry,
                        action="closed",
                        actor=SYSTEM_ACTOR,
                        comment=f"no {entry.method} signal in the {look_back_months} months to {as_of.isoformat()}",
                        at=now,
                    )
                )
                closed += 1
        for key, (first, latest) in sorted(active.items()):
            entry = by_key.get(key)
            if entry is None:
                entry = Signal(
                    trust_code=key[0],
                    measure=key[1],
                    method=key[2],
                    status="open",
                    first_signal_date=first,
                    last_signal_date=latest["signal_date"],
                    summary=latest["summary"],
                    statistic=latest["statistic"],
                    created_at=now,
                    updated_at=now,
                )
                session.add(entry)
                session.add(
                    SignalEvent(signal=entry, action="raised", actor=SYSTEM_ACTOR, comment=latest["summary"], at=now)
                )
                raised += 1
            elif latest["signal_date"] > entry.last_signal_date:
                entry.last_signal_date, entry.summary, entry.statistic = (
                    latest["signal_date"],
                    latest["summary"],
                    latest["statistic"],
                )
                entry.updated_at = now
                session.add(
                    SignalEvent(signal=entry, action="updated", actor=SYSTEM_ACTOR, comment=latest["summary"], at=now)
                )
                updated += 1
    return RefreshSummary(raised, updated, closed, as_of)


def refresh_from_store(settings: Settings, signal_settings: SignalSettings | None = None) -> RefreshSummary:
    """Detect on the live records store and refresh the register, as of its latest month."""
    store = RecordStore(settings.records_dir)
    files = store.partition_files()
    months = store.manifest().months
    if not files or not months:
        return RefreshSummary(0, 0, 0, None)
    year, month = (int(part) for part in months[-1].split("-"))
    as_of = month_end(dt.date(year, month, 1))
    detected = detect(files, load_cube(store, settings.home / "cache"), signal_settings)
    return refresh(settings.database_url, detected, as_of)


def acknowledge(url: str, signal_id: int, actor: str, comment: str) -> None:
    """Record that ``actor`` has seen signal ``signal_id``, and why it is being handled as it is."""
    if not actor.strip():
        raise ValueError("say who is acknowledging the signal")
    if not comment.strip():
        raise ValueError("a comment is required: say what is being done about the signal")
    with transaction(url) as session:
        entry = session.get(Signal, signal_id)
        if entry is None:
            raise LookupError(f"there is no signal {signal_id}")
        if entry.status == "closed":
            raise ValueError(f"signal {signal_id} is closed; it cannot be acknowledged")
        entry.status, entry.updated_at = "acknowledged", utcnow()
        session.add(SignalEvent(signal=entry, action="acknowledged", actor=actor.strip(), comment=comment.strip()))
        audit(session, actor.strip(), "signal.acknowledge", "signal", str(signal_id), trust_code=entry.trust_code)


def current(
    url: str, trusts: list[str] | None = None, since: dt.date | None = None, include_closed: bool = False
) -> list[dict[str, Any]]:
    """Open and acknowledged signals (optionally closed too), newest first, with their history."""
    with transaction(url) as session:
        query = select(Signal)
        if not include_closed:
            query = query.where(Signal.status != "closed")
        if trusts is not None:
            query = query.where(Signal.trust_code.in_(trusts))
        if since is not None:
            query = query.where(Signal.last_signal_date >= since)
        entries = session.scalars(query.order_by(Signal.last_signal_date.desc(), Signal.id)).all()
        return [
            {
                "id": s.id,
                "trust_code": s.trust_code,
                "measure": s.measure,
                "method": s.method,
                "status": s.status,
                "since": s.first_signal_date.isoformat(),
                "last_signal": s.last_signal_date.isoformat(),
                "summary": s.summary,
                "statistic": s.statistic,
                "history": [
                    {"action": e.action, "by": e.actor, "comment": e.comment, "at": e.at.isoformat(timespec="seconds")}
                    for e in s.events
                ],
            }
            for s in entries
        ]

"""The signals register: detected concerns kept with their history in the app store.

Every write here — raising, updating, acknowledging and closing a signal — happens in one
transaction together with its history event, so the register and its audit trail never
disagree (house style: writes in an actions layer).

One entry follows one *episode* of a (trust, measure, method): signals that each come within
the quiet period (:data:`QUIET_MONTHS`, configurable) of the one before. At each refresh, on
the data to the end of the latest month loaded:

* an episode with no open entry **raises** one; "since" is the episode's first signal, however
  long ago (not clipped to the quiet period);
* an open entry whose evidence changed (since, latest signal or the figures of its summary —
  data for an earlier month can be corrected or arrive late) is **updated**;
* an entry whose method did not signal in the latest period it judged (the latest month for
  CUSUM and SPC, the latest complete calendar year for the funnel) has **stopped signalling**,
  and says so; it is **signalling again** when a new signal comes;
* an entry with no signal for the quiet period is **closed**.

Each of these is a history event (``SignalEvent``) shown in the register. Signals are about
trusts; LMNS and region users see the entries of the trusts under them.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from matneo.auth.users import audit
from matneo.config import Settings
from matneo.dates import day_text, month_end, month_text, months_after
from matneo.db.models import Signal, SignalEvent, utcnow
from matneo.db.session import get_engine, transaction
from matneo.measures.counts import load_cube
from matneo.records.store import RecordStore
from matneo.signals.detect import METHOD_LABELS, QUIET_MONTHS, SignalSettings, detect

SYSTEM_ACTOR = "matneo (automatic)"
#: History events that change whether the entry's method is signalling.
_SIGNALLING_EVENTS = {"raised": True, "resumed": True, "stopped": False}


@dataclass(frozen=True)
class RefreshSummary:
    """How many entries each kind of change touched in one refresh (an entry can be in two)."""

    raised: int
    updated: int
    stopped: int
    resumed: int
    closed: int
    as_of: dt.date | None

    def text(self) -> str:
        """One line for the CLI and the job log: "Detection on data to 30 Sep 2019: 1 raised, ..."."""
        if self.as_of is None:
            return "No records loaded: nothing to detect."
        return (
            f"Detection on data to {day_text(self.as_of)}: {self.raised} raised, {self.updated} updated, "
            f"{self.stopped} stopped signalling, {self.resumed} signalling again, {self.closed} closed."
        )


def closes_on(last_signal: dt.date, quiet_months: int = QUIET_MONTHS) -> dt.date:
    """The data date from which an entry whose latest signal is ``last_signal`` is closed.

    The register is refreshed on data to a month end, so an entry closes with the first month
    of data that ends on or after ``quiet_months`` after its latest signal.
    """
    return month_end(months_after(last_signal, quiet_months))


def episode_start(dates: list[dt.date], quiet_months: int = QUIET_MONTHS) -> dt.date:
    """First signal of the episode that ends with the latest of ``dates`` (sorted, not empty).

    Signals belong to one episode while each comes before the entry of the one before would
    have closed (:func:`closes_on`).
    """
    start = len(dates) - 1
    while start > 0 and dates[start] <= closes_on(dates[start - 1], quiet_months):
        start -= 1
    return dates[start]


def latest_period_start(method: str, as_of: dt.date) -> dt.date:
    """First day of the latest period that ``method`` has judged on data to ``as_of``.

    The funnel judges complete calendar years (its signals are dated 31 December); CUSUM and
    SPC are judged on every month of data.
    """
    if method == "funnel":
        year = as_of.year if as_of >= dt.date(as_of.year, 12, 31) else as_of.year - 1
        return dt.date(year, 1, 1)
    return as_of.replace(day=1)


def _period_text(method: str, as_of: dt.date) -> str:
    start = latest_period_start(method, as_of)
    return str(start.year) if method == "funnel" else month_text(start)


def _signalling(entry: Signal) -> bool:
    """Whether the entry's method is signalling, from its latest raised / stopped / resumed event."""
    state = True
    for event in entry.events:
        state = _SIGNALLING_EVENTS.get(event.action, state)
    return state


def refresh(url: str, detected: pl.DataFrame, as_of: dt.date, quiet_months: int = QUIET_MONTHS) -> RefreshSummary:
    """Bring the register in line with ``detected`` signals on data to ``as_of`` (one transaction)."""
    if quiet_months < 1:
        raise ValueError(f"the quiet period must be at least one month, not {quiet_months}")
    known = detected.filter(pl.col("signal_date") <= as_of)
    episodes: dict[tuple[str, str, str], tuple[dt.date, dict[str, Any]]] = {}
    ever: set[tuple[str, str, str]] = set()
    for (trust, measure, method), rows in known.group_by(["trust_code", "measure", "method"]):
        key = (str(trust), str(measure), str(method))
        ever.add(key)
        rows = rows.sort("signal_date")
        latest = rows.row(-1, named=True)
        if as_of < closes_on(latest["signal_date"], quiet_months):
            dates = rows.get_column("signal_date").unique(maintain_order=True).to_list()
            episodes[key] = (episode_start(dates, quiet_months), latest)
    counts = dict.fromkeys(("raised", "updated", "stopped", "resumed", "closed"), 0)
    now = utcnow()
    with transaction(url) as session:

        def record(entry: Signal, action: str, comment: str) -> None:
            session.add(SignalEvent(signal=entry, action=action, actor=SYSTEM_ACTOR, comment=comment, at=now))
            entry.updated_at = now
            counts[action] += 1

        open_entries = session.scalars(select(Signal).where(Signal.status != "closed")).all()
        by_key = {(s.trust_code, s.measure, s.method): s for s in open_entries}
        entry: Signal | None
        for key, entry in by_key.items():
            if key in episodes:
                continue
            entry.status = "closed"
            label = METHOD_LABELS.get(entry.method, entry.method)
            record(
                entry,
                "closed",
                f"No {label} signal for {quiet_months} months after the latest, on "
                f"{day_text(entry.last_signal_date)} (data to {day_text(as_of)})."
                if key in ever
                else f"The {label} no longer signals on the data to {day_text(as_of)}.",
            )
        for key, (first, latest) in sorted(episodes.items()):
            firing = latest["signal_date"] >= latest_period_start(key[2], as_of)
            entry = (
                by_key.get(key)
                or session.scalars(
                    select(Signal).where(
                        Signal.trust_code == key[0],
                        Signal.measure == key[1],
                        Signal.method == key[2],
                        Signal.first_signal_date == first,
                    )
                ).one_or_none()
            )  # a closed entry for the same episode, back after corrected data
            evidence = (first, latest["signal_date"], latest["summary"])
            if entry is None or entry.status == "closed":
                if entry is None:
                    entry = Signal(trust_code=key[0], measure=key[1], method=key[2], created_at=now)
                    session.add(entry)
                entry.status = "open"
                entry.first_signal_date, entry.last_signal_date, entry.summary = evidence
                entry.statistic = latest["statistic"]
                record(entry, "raised", latest["summary"])
                was_firing = True
            else:
                was_firing = _signalling(entry)
                changed = (entry.first_signal_date, entry.last_signal_date, entry.summary) != evidence
                if changed:
                    entry.first_signal_date, entry.last_signal_date, entry.summary = evidence
                    entry.statistic = latest["statistic"]
                if firing and not was_firing:
                    record(entry, "resumed", latest["summary"])
                elif changed:
                    record(entry, "updated", latest["summary"])
            if was_firing and not firing:
                label = METHOD_LABELS.get(key[2], key[2])
                record(
                    entry,
                    "stopped",
                    f"No {label} signal in {_period_text(key[2], as_of)} (data to {day_text(as_of)}); the latest "
                    f"was on {day_text(latest['signal_date'])}. Closes with the data to "
                    f"{day_text(closes_on(latest['signal_date'], quiet_months))} if there is no further signal.",
                )
    return RefreshSummary(as_of=as_of, **counts)


def refresh_from_store(settings: Settings, signal_settings: SignalSettings | None = None) -> RefreshSummary:
    """Detect on the live records store and refresh the register, as of its latest month."""
    signal_settings = signal_settings or SignalSettings.of(settings)
    store = RecordStore(settings.records_dir)
    files = store.partition_files()
    months = store.manifest().months
    if not files or not months:
        return RefreshSummary(0, 0, 0, 0, 0, None)
    year, month = (int(part) for part in months[-1].split("-"))
    as_of = month_end(dt.date(year, month, 1))
    # Only the SPC methods read the count cube; the default methods need only the records.
    wants_cube = any(m in signal_settings.methods for m in ("spc", "rare_spc"))
    cube = load_cube(store, settings.home / "cache") if wants_cube else pl.DataFrame()
    detected = detect(files, cube, signal_settings)
    return refresh(settings.database_url, detected, as_of, signal_settings.quiet_months)


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
    url: str,
    trusts: list[str] | None = None,
    since: dt.date | None = None,
    include_closed: bool = False,
    quiet_months: int = QUIET_MONTHS,
) -> list[dict[str, Any]]:
    """Open and acknowledged signals (optionally closed too), newest first, with their history.

    Dates are ISO (``YYYY-MM-DD``) and times ISO in UTC, for the JSON outputs; pages and the
    CLI table turn them into words. ``signalling`` says whether the method still signals;
    ``closes_on`` is when an open entry closes if no further signal comes.

    The register is read once per change to it and kept (:class:`_Held`): pages show it on
    every visit, and reading it with its histories through the ORM took more time than the rest
    of the overview page (issue 10). Every change adds a history event in the same transaction
    (raised, updated, stopped, resumed, closed, acknowledged) and stamps the entry's
    ``updated_at``, so the newest ids, counts and times of entries and events
    (:data:`_CHANGE_MARKS`) tell whether the register changed, whichever process changed it —
    the times as well, so that a database emptied and refilled (a restore, a test) is never
    mistaken for the one read before: one small aggregate query per call.
    """
    entries = _HELD.entries(url, include_closed, quiet_months)
    wanted = None if trusts is None else set(trusts)
    after = None if since is None else since.isoformat()
    return [
        dict(e)
        for e in entries
        if (wanted is None or e["trust_code"] in wanted) and (after is None or e["last_signal"] >= after)
    ]


class _Held:
    """The register as read at its newest history event, per database and view (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[tuple[str, bool, int], tuple[Any, list[dict[str, Any]]]] = {}

    def entries(self, url: str, include_closed: bool, quiet_months: int) -> list[dict[str, Any]]:
        key = (url, include_closed, quiet_months)
        with get_engine(url).connect() as connection:
            newest = connection.execute(_CHANGE_MARKS).one()
        if not newest[1]:  # no entries: the register is empty
            return []
        with self._lock:
            held = self._held.get(key)
        if held is not None and held[0] == newest:
            return held[1]
        entries = _read(url, include_closed, quiet_months)  # a change after `newest` is seen next call
        with self._lock:
            self._held[key] = (newest, entries)
        return entries


#: What changes when the register does: each table's newest id, row count and latest time (one
#: query; the times catch an entry or event changed in place, the counts a refilled database).
_CHANGE_MARKS = select(
    *(
        select(aggregate).scalar_subquery()
        for aggregate in (
            func.max(Signal.id),
            func.count(Signal.id),
            func.max(Signal.updated_at),
            func.max(SignalEvent.id),
            func.count(SignalEvent.id),
            func.max(SignalEvent.at),
        )
    )
)
_HELD = _Held()


def _read(url: str, include_closed: bool, quiet_months: int) -> list[dict[str, Any]]:
    with transaction(url) as session:
        query = select(Signal).options(selectinload(Signal.events))  # the histories in one query, not one each
        if not include_closed:
            query = query.where(Signal.status != "closed")
        entries = session.scalars(query.order_by(Signal.last_signal_date.desc(), Signal.id)).all()
        return [
            {
                "id": s.id,
                "trust_code": s.trust_code,
                "measure": s.measure,
                "method": s.method,
                "status": s.status,
                "signalling": s.status != "closed" and _signalling(s),
                "since": s.first_signal_date.isoformat(),
                "last_signal": s.last_signal_date.isoformat(),
                "closes_on": None if s.status == "closed" else closes_on(s.last_signal_date, quiet_months).isoformat(),
                "summary": s.summary,
                "statistic": s.statistic,
                "history": [
                    {"action": e.action, "by": e.actor, "comment": e.comment, "at": e.at.isoformat(timespec="seconds")}
                    for e in s.events
                ],
            }
            for s in entries
        ]

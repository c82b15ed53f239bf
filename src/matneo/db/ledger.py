"""The load ledger: which files were loaded, what they supplied, what they replaced.

Writes happen in one transaction per batch. The records store's manifest carries the same
batch description, so if a process dies between swapping the store and writing the ledger,
:func:`reconcile` restores the missing ledger rows from the manifest on the next run.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, tuple_

from matneo.auth.users import audit
from matneo.db.models import Load, LoadTrustMonth
from matneo.db.session import transaction

#: Batch ids made before times were kept in UTC start with the loader's local wall-clock time.
_LEGACY_BATCH = re.compile(r"(\d{8}T\d{6})-")


def batch_time(moment: dt.datetime) -> str:
    """A naive UTC time as a batch record (and a store manifest) keeps it: ISO 8601 with ``+00:00``.

    The offset makes the record unambiguous for :func:`stored_time`, whenever it is read.
    """
    return moment.replace(tzinfo=dt.UTC).isoformat(timespec="seconds")


def stored_time(text: str, batch_id: str) -> dt.datetime:
    """A batch record's time as the app store keeps times: naive UTC.

    Records with an offset are converted. Records without one are UTC, except those written
    before times were kept in UTC: their batch id starts with the same local wall-clock time
    (``YYYYmmddTHHMMSS-``, no ``Z``), and they are converted from this machine's time zone, as
    migration 0011 does for the ledger rows they made.
    """
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        legacy = _LEGACY_BATCH.match(batch_id)
        if legacy is None or dt.datetime.strptime(legacy.group(1), "%Y%m%dT%H%M%S") != moment:
            return moment
        moment = moment.astimezone()  # a naive time taken as local: this machine's zone, with DST
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def find_loaded(url: str, sha256: str) -> Load | None:
    """The live load of a file with this content hash, if any (a reverted one may be loaded again)."""
    with transaction(url) as session:
        return session.scalars(
            select(Load).where(Load.file_sha256 == sha256, Load.status == "loaded").order_by(Load.id).limit(1)
        ).first()


def batch_recorded(url: str, batch_id: str) -> bool:
    with transaction(url) as session:
        return session.scalars(select(Load.id).where(Load.batch_id == batch_id).limit(1)).first() is not None


def _months(item: dict[str, Any]) -> list[dict[str, Any]]:
    """The trust-months of a batch file record; older records (a list per month) have fewer counts."""
    if "months" in item:
        return item["months"]
    return [
        {"trust_code": trust, "month": month, "supplied": rows, "replaced": replaced}
        for trust, month, rows, replaced in item.get("trust_months", [])
    ]


def record_batch(url: str, batch: dict[str, Any], store_version: int | None) -> list[int]:
    """Write one ledger row per file of a batch, with its trust-months, and audit each load.

    A failed file with an ``actor`` (an upload through the web) is audited as
    ``records.upload_failed`` in the same transaction as its ledger row, so neither is kept
    without the other.

    A revert's batch names the load it undid (``revert_of``), which is marked ``reverted`` in
    the same transaction. Returns the load ids.
    """
    started = stored_time(batch["started_at"], batch["batch_id"])
    finished = stored_time(batch["finished_at"], batch["batch_id"])
    ids = []
    with transaction(url) as session:
        for item in batch["files"]:
            months = _months(item)
            counts = {
                "rows_added": sum(m.get("added", 0) for m in months),
                "rows_replaced": sum(m.get("replaced", 0) for m in months),
                "rows_removed": sum(m.get("removed", 0) for m in months),
            }
            load = Load(
                batch_id=batch["batch_id"],
                file_name=item["file_name"],
                file_sha256=item["sha256"],
                file_format=item["format"],
                file_bytes=item["bytes"],
                status=item["status"],
                error=item.get("error"),
                rows_read=item["rows_read"],
                rows_loaded=item["rows_loaded"],
                rows_rejected=item["rows_rejected"],
                rejection_file=item.get("rejection_file"),
                store_version=store_version if item["status"] in ("loaded", "revert") else None,
                started_at=started,
                finished_at=finished,
                actor=item.get("actor"),
                mode=item.get("mode"),
                reverts_load_id=batch.get("revert_of"),
                **counts,
            )
            session.add(load)
            session.flush()
            ids.append(load.id)
            rows = [
                {
                    "load_id": load.id,
                    "trust_code": m["trust_code"],
                    "month": dt.date.fromisoformat(m["month"] + "-01"),
                    "rows": m.get("supplied", 0),
                    "replaced_rows": m.get("replaced", 0),
                    "existing_rows": m.get("existing_rows", 0),
                    "new_rows": m.get("new_rows", 0),
                    "added_rows": m.get("added", 0),
                    "removed_rows": m.get("removed", 0),
                    "moved_rows": m.get("moved_out", 0),
                }
                for m in months
            ]
            if rows:  # one executemany: a national file supplies thousands of trust-months
                session.execute(insert(LoadTrustMonth), rows)
            if batch.get("revert_of") is not None:
                reverted = session.get(Load, batch["revert_of"])
                if reverted is not None:
                    reverted.status = "reverted"
            if item["status"] in ("loaded", "revert"):  # the outcome, with the change, in one transaction
                reverting = item["status"] == "revert"
                audit(
                    session,
                    item.get("actor") or "cli",
                    "records.load_reverted" if reverting else "records.load",
                    "load",
                    str(load.id),
                    file=Path(item["file_name"]).name[:100],
                    mode=item.get("mode"),
                    reverts_load=batch.get("revert_of"),
                    rows_rejected=item["rows_rejected"],
                    moved_records=item.get("moved_records", 0),
                    **counts,
                    months=[[m["trust_code"], m["month"], m.get("existing_rows"), m.get("new_rows")] for m in months],
                )
            elif item["status"] == "failed" and item.get("actor"):  # an upload that could not be read
                audit(
                    session,
                    item["actor"],
                    "records.upload_failed",
                    "upload",
                    Path(item["file_name"]).name[:64],
                    problem=item.get("error"),
                )
    return ids


def reconcile(url: str, batch: dict[str, Any] | None, store_version: int) -> bool:
    """Record the live version's batch if a crash kept it out of the ledger. True if it did."""
    if not batch or batch_recorded(url, batch["batch_id"]):
        return False
    record_batch(url, batch, store_version)
    return True


def recent_loads(url: str, limit: int = 10) -> list[Load]:
    with transaction(url) as session:
        return list(session.scalars(select(Load).order_by(Load.id.desc()).limit(limit)))


def rejection_totals(url: str) -> tuple[int, int]:
    """(rows rejected over all loads, number of loads with a rejection report)."""
    with transaction(url) as session:
        loads = session.scalars(select(Load).where(Load.status == "loaded")).all()
        return sum(load.rows_rejected for load in loads), sum(1 for load in loads if load.rejection_file)


def loads_with_trusts(url: str, limit: int = 50, within: Collection[str] | None = None) -> list[tuple[Load, set[str]]]:
    """Recent loads, newest first, each with the trusts whose records it supplied.

    With ``within``, only loads that supplied records and supplied them only for those trusts:
    the filter runs in SQL before the limit, so a busy country cannot push a trust's own older
    loads out of its list.
    """
    with transaction(url) as session:
        query = select(Load)
        if within is not None:
            outside = select(LoadTrustMonth.load_id).where(LoadTrustMonth.trust_code.not_in(list(within)))
            query = query.where(Load.id.in_(select(LoadTrustMonth.load_id)), Load.id.not_in(outside))
        loads = list(session.scalars(query.order_by(Load.id.desc()).limit(limit)))
        ids = [load.id for load in loads]
        trusts: dict[int, set[str]] = {i: set() for i in ids}
        if ids:
            for load_id, trust in session.execute(
                select(LoadTrustMonth.load_id, LoadTrustMonth.trust_code)
                .where(LoadTrustMonth.load_id.in_(ids))
                .distinct()
            ):
                trusts[load_id].add(trust)
        return [(load, trusts[load.id]) for load in loads]


def get_load(url: str, load_id: int) -> tuple[Load, set[str]] | None:
    with transaction(url) as session:
        load = session.get(Load, load_id)
        if load is None:
            return None
        codes = set(
            session.scalars(select(LoadTrustMonth.trust_code).where(LoadTrustMonth.load_id == load_id).distinct())
        )
        return load, codes


def record_refusal(url: str, actor: str, file_name: str, trusts: list[str], unknown_rows: int) -> None:
    """Audit a load refused because it had rows outside the loader's scope (codes and counts, no rows)."""
    with transaction(url) as session:
        audit(
            session,
            actor,
            "records.load_refused",
            "load",
            file_name[:64],
            reason="rows outside the organisation",
            trusts_outside_scope=trusts[:20],
            rows_with_other_codes=unknown_rows,
        )


def load_months(url: str, load_id: int) -> list[LoadTrustMonth]:
    """The trust-months a load changed, in order."""
    with transaction(url) as session:
        return list(
            session.scalars(
                select(LoadTrustMonth)
                .where(LoadTrustMonth.load_id == load_id)
                .order_by(LoadTrustMonth.trust_code, LoadTrustMonth.month)
            )
        )


def loads_in_place(url: str) -> list[tuple[str, dt.datetime | None]]:
    """(batch id, finished at) of every load still in place (not reverted), oldest first: what the
    undo retention (:meth:`matneo.records.store.RecordStore.apply_undo_retention`) chooses from."""
    with transaction(url) as session:
        rows = session.execute(select(Load.batch_id, Load.finished_at).where(Load.status == "loaded").order_by(Load.id))
        return [(batch, finished) for batch, finished in rows]


def later_loads_touching(url: str, load_id: int) -> list[Load]:
    """Live loads after this one that changed any of its trust-months (they block its revert).

    Reverted loads and reverts do not count: a reverted later load left those months as this
    load made them.
    """
    with transaction(url) as session:
        own = select(LoadTrustMonth.trust_code, LoadTrustMonth.month).where(LoadTrustMonth.load_id == load_id)
        later = (
            select(Load)
            .join(LoadTrustMonth, LoadTrustMonth.load_id == Load.id)
            .where(
                Load.id > load_id,
                Load.status == "loaded",
                tuple_(LoadTrustMonth.trust_code, LoadTrustMonth.month).in_(own),
            )
            .distinct()
            .order_by(Load.id)
        )
        return list(session.scalars(later))


def list_loads(url: str, limit: int = 50) -> list[tuple[Load, list[LoadTrustMonth]]]:
    """Loads newest first, each with the trust-months it changed."""
    with transaction(url) as session:
        loads = list(session.scalars(select(Load).order_by(Load.id.desc()).limit(limit)))
        months: dict[int, list[LoadTrustMonth]] = {load.id: [] for load in loads}
        if loads:
            for month in session.scalars(
                select(LoadTrustMonth)
                .where(LoadTrustMonth.load_id.in_(list(months)))
                .order_by(LoadTrustMonth.trust_code, LoadTrustMonth.month)
            ):
                months[month.load_id].append(month)
        return [(load, months[load.id]) for load in loads]

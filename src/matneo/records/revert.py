"""Reverting a load: put the trust-months it changed back as they were, atomically.

Every load keeps aside, in ``records/undo/<batch>.parquet``, the rows its trust-months held
before it. Reverting restores exactly those trust-months from that file and leaves every
other row alone, as one new store version (built aside and swapped in, like a load), then
records the revert in the ledger and the audit log in one transaction and marks the load
``reverted`` (its file may then be loaded again).

A revert is refused, with nothing changed, when a later load still in place changed any of
the same trust-months (revert that one first), or when a record the revert would restore
has since been stored in another month (restoring it would store it twice).
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from matneo.config import Settings
from matneo.dates import moment_text
from matneo.db import ledger
from matneo.db.models import Load
from matneo.db.session import check_schema
from matneo.records.changes import IDS, KEY_SCHEMA, KEYS, MonthChange, plan_changes
from matneo.records.faults import fault_point
from matneo.records.load import (
    live_keys,
    next_manifest,
    stage_partitions,
    sweep_staging,
    touched_months,
    utcnow,
)
from matneo.records.status import plural
from matneo.records.store import RecordStore


class RevertRefused(Exception):
    """The load cannot be reverted (the message says why); nothing changed.

    ``reason``: not_found | not_revertable | blocked.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class RevertResult:
    reverted_load_id: int
    load_id: int  # the revert's own ledger row
    store_version: int | None
    months: list[MonthChange] = field(default_factory=list)


def revert_load(
    settings: Settings, load_id: int, actor: str = "cli", scope: Collection[str] | None = None
) -> RevertResult:
    """Revert load ``load_id``. ``scope``: organisation codes the person may write (None: any).

    Raises :class:`RevertRefused` with a plain reason when it cannot be done.
    """
    settings.ensure_dirs()
    check_schema(settings.database_url)
    url = settings.database_url
    store = RecordStore(settings.records_dir)
    with store.write_lock():
        sweep_staging(settings)
        ledger.reconcile(url, store.manifest().batch, store.current_version() or 0)
        found = ledger.get_load(url, load_id)
        if found is None or (scope is not None and not found[1] <= set(scope)):
            raise RevertRefused(f"There is no load {load_id} of your organisation's records.", "not_found")
        load = found[0]
        if load.status == "reverted":
            raise RevertRefused(f"Load {load_id} has already been reverted.", "not_revertable")
        if load.status != "loaded":
            message = f"Load {load_id} did not load any records, so there is nothing to revert."
            raise RevertRefused(message, "not_revertable")
        undo = store.undo_file(load.batch_id)
        changed = [(m.trust_code, m.month.strftime("%Y-%m")) for m in ledger.load_months(url, load_id)]
        pruned = store.pruned_note(load.batch_id) if changed and not undo.is_file() else None
        if pruned is not None:  # before any blocker: reverting later loads first would not help
            raise RevertRefused(
                f"Load {load_id} can no longer be undone: its undo copy was removed on {pruned['pruned_at']} UTC "
                f"under the undo retention (the last {pruned['keep_loads']} loads, and loads of the last "
                f"{pruned['keep_days']} days, keep theirs). Load a corrected file instead.",
                "not_revertable",
            )
        blockers = ledger.later_loads_touching(url, load_id)
        if blockers:
            named = "; ".join(f"load {b.id} ({_when(b.finished_at)})" for b in blockers[:3])
            raise RevertRefused(
                f"Load {load_id} cannot be reverted: {plural(len(blockers), 'later load')} changed the same "
                f"trust-months ({named}{'…' if len(blockers) > 3 else ''}). Revert the later loads first, "
                "newest first.",
                "blocked",
            )
        if changed and not undo.is_file():
            raise RevertRefused(
                f"Load {load_id} was made before loads could be reverted; load a corrected file instead.",
                "not_revertable",
            )
        months = touched_months([MonthChange(trust, month, 0, 0) for trust, month in changed])
        before = pl.read_parquet(undo) if changed else pl.DataFrame(schema=KEY_SCHEMA)
        restored = before.select(list(KEY_SCHEMA))
        live = live_keys(store, restored, months)
        elsewhere = live.join(months, on=list(KEYS), how="anti").join(restored, on=list(IDS), how="semi")
        if not elsewhere.is_empty():
            raise RevertRefused(
                f"Load {load_id} cannot be reverted: {plural(elsewhere.height, 'record')} it replaced "
                "have since been loaded in other months.",
                "blocked",
            )
        changes, _, gone = plan_changes(restored, live, store.manifest().counts(), "resubmit", months)
        staging = settings.staging_dir / f"revert-{load_id}-{uuid.uuid4().hex[:8]}"
        staging.mkdir(parents=True)
        try:
            out = staging / "out"
            replaced, _ = stage_partitions(store, before, gone, changes, out)
            batch = _batch_record(staging.name, load, changes, actor)
            version = store.current_version()
            if changes:
                manifest = next_manifest(store, out, replaced)
                manifest.batch = batch
                version = store.commit(out, replaced, manifest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        fault_point("after_swap")
        (revert_id,) = ledger.record_batch(url, batch, version)
        undo.unlink(missing_ok=True)  # the load is undone: its undo file has done its work
    return RevertResult(load_id, revert_id, version, changes)


def _when(moment: dt.datetime | None) -> str:
    return moment_text(moment) if moment is not None else "unfinished"


def _batch_record(batch_id: str, load: Load, changes: list[MonthChange], actor: str) -> dict[str, Any]:
    now = ledger.batch_time(utcnow())
    return {
        "batch_id": batch_id[:40],
        "started_at": now,
        "finished_at": now,
        "revert_of": load.id,
        "files": [
            {
                "file_name": load.file_name,
                "sha256": load.file_sha256,
                "format": load.file_format,
                "bytes": load.file_bytes,
                "status": "revert",
                "actor": actor,
                "mode": "revert",
                "rows_read": 0,
                "rows_loaded": sum(c.supplied for c in changes),
                "rows_rejected": 0,
                "months": [c.to_dict() for c in changes],
            }
        ],
    }

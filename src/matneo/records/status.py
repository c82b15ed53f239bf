"""What is loaded: one summary shared by ``matneo status`` and the web app."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from matneo.config import Settings
from matneo.dates import moment_text
from matneo.db import ledger
from matneo.db.models import Load, LoadTrustMonth
from matneo.records.store import RecordStore


@dataclass
class LoadSummary:
    id: int
    file_name: str
    status: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    rejection_file: str | None
    error: str | None
    finished_at: str | None  # UTC, ISO 8601 with Z
    finished: str | None = None  # London time, as people read it


@dataclass
class StoreStatus:
    """Counts only: no row-level data, so it is safe to show to any signed-in user."""

    home: str
    store_version: int
    rows: int
    trusts: int
    months: int
    first_month: str | None
    last_month: str | None
    rows_rejected: int
    rejection_reports: int
    last_loads: list[LoadSummary] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """One plain-English sentence, used by both the CLI and the web page."""
        if not self.rows:
            return "No birth records are loaded yet."
        return (
            f"{plural(self.rows, 'birth record')} from {plural(self.trusts, 'trust')} over "
            f"{plural(self.months, 'month')} ({self.first_month} to {self.last_month})."
        )


def plural(n: int, noun: str) -> str:
    """'1 trust', '2 trusts', '12,345 birth records'."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def store_status(settings: Settings, last: int = 10) -> StoreStatus:
    """Summarise the live store version and the most recent ledger entries.

    Expects a prepared app store (``matneo.db.session.prepare``), as the CLI and web app do.
    """
    store = RecordStore(settings.records_dir)
    manifest = store.manifest()
    months = manifest.months
    rejected, reports = ledger.rejection_totals(settings.database_url)
    loads = [
        LoadSummary(
            id=load.id,
            file_name=load.file_name,
            status=load.status,
            rows_read=load.rows_read,
            rows_loaded=load.rows_loaded,
            rows_rejected=load.rows_rejected,
            rejection_file=load.rejection_file,
            error=load.error,
            finished_at=load.finished_at.isoformat(timespec="seconds") + "Z" if load.finished_at else None,
            finished=moment_text(load.finished_at) if load.finished_at else None,
        )
        for load in ledger.recent_loads(settings.database_url, last)
    ]
    return StoreStatus(
        home=str(settings.home),
        store_version=manifest.version,
        rows=manifest.total_rows,
        trusts=len(manifest.trusts),
        months=len(months),
        first_month=months[0] if months else None,
        last_month=months[-1] if months else None,
        rows_rejected=rejected,
        rejection_reports=reports,
        last_loads=loads,
    )


def load_summary(load: Load, months: list[LoadTrustMonth]) -> dict[str, Any]:
    """One load as ``matneo loads list --format json`` gives it: its file, mode and outcome."""
    return {
        "id": load.id,
        "files": [Path(load.file_name).name],
        "mode": load.mode,
        "status": load.status,
        "rows_added": load.rows_added,
        "rows_replaced": load.rows_replaced,
        "rows_removed": load.rows_removed,
        "rows_loaded": load.rows_loaded,
        "rows_rejected": load.rows_rejected,
        "reverts_load_id": load.reverts_load_id,
        "actor": load.actor,
        "store_version": load.store_version,
        "finished_at": load.finished_at.isoformat(timespec="seconds") + "Z" if load.finished_at else None,
        "finished": moment_text(load.finished_at) if load.finished_at else None,
        "months": [
            {
                "trust_code": m.trust_code,
                "month": m.month.strftime("%Y-%m"),
                "existing_rows": m.existing_rows,
                "new_rows": m.new_rows,
            }
            for m in months
        ],
    }

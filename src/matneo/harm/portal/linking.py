"""Linking a harm report to its birth record in the records store (by trust, birth date and gestation).

Used by submission and amendment; tests replace :func:`link_record` here to fake a link.
"""

from __future__ import annotations

import logging
from typing import Any

from matneo.config import Settings
from matneo.harm.report import HarmReport

log = logging.getLogger(__name__)


def link_record(settings: Settings, trust_code: str, report: HarmReport) -> tuple[str | None, str]:
    """The birth record matching (trust, birth date, gestation), if exactly one does.

    Returns ``(record_id, status)`` with status ``linked``, ``none``, ``ambiguous`` (twins, or
    gestation unknown) or ``unavailable`` (no baby, or the records store cannot be read). Read
    before the save transaction: linking never blocks or fails a submission.
    """
    baby = report.baby
    if baby is None:
        return None, "unavailable"
    try:
        from matneo.records.store import RecordStore

        store = RecordStore(settings.records_dir)
        day = baby.birth_date
        files = store.partition_files({(day.year, day.month)})
        if not files:
            return None, "none"
        import duckdb

        with duckdb.connect() as con:
            con.execute(f"CREATE VIEW births AS {store.births_sql({(day.year, day.month)})}")
            sql = "SELECT record_id FROM births WHERE trust_code = ? AND CAST(birth_datetime AS DATE) = ?"
            params: list[Any] = [trust_code, day]
            if report.gestation is not None:
                sql += " AND gestation_weeks = ? AND gestation_days = ?"
                params += [report.gestation.weeks, report.gestation.days]
            rows = con.execute(sql + " LIMIT 2", params).fetchall()
    except Exception:  # the records store is optional here; never log the report's values
        log.warning("harm report linking: the records store could not be read", exc_info=False)
        return None, "unavailable"
    if len(rows) == 1:
        return str(rows[0][0]), "linked"
    return None, "ambiguous" if rows else "none"

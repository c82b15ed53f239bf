"""The load list a trust sees is filtered in SQL before the limit (noticed in issue 10's review).

Before: the Data page fetched the newest 200 loads of the whole country and then kept those
in scope, so a trust with one load older than 200 national ones saw "No loads".
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert

from matneo.config import Settings
from matneo.db import ledger
from matneo.db.models import Load, LoadTrustMonth
from matneo.db.session import transaction


def _add(url: str, load_id: int, trusts: list[str]) -> None:
    started = dt.datetime(2026, 1, 1) + dt.timedelta(minutes=load_id)
    with transaction(url) as session:
        session.execute(
            insert(Load),
            [
                {
                    "id": load_id,
                    "batch_id": f"b{load_id}",
                    "file_name": f"f{load_id}.csv",
                    "file_sha256": f"{load_id:064d}",
                    "file_format": "csv",
                    "file_bytes": 1,
                    "status": "loaded",
                    "rows_read": 1,
                    "rows_loaded": 1,
                    "rows_rejected": 0,
                    "started_at": started,
                    "finished_at": started,
                }
            ],
        )
        rows = [{"load_id": load_id, "trust_code": t, "month": dt.date(2024, 1, 1), "rows": 1} for t in trusts]
        if rows:
            session.execute(insert(LoadTrustMonth), rows)


def test_a_trusts_old_load_is_listed_behind_many_newer_loads_elsewhere(settings: Settings) -> None:
    url = settings.database_url
    _add(url, 1, ["RWP"])  # the trust's own load, oldest
    _add(url, 2, ["RWP", "RX1"])  # spans another trust: not the trust's to see
    _add(url, 3, [])  # failed before it supplied any records
    for load_id in range(4, 260):
        _add(url, load_id, ["RX1"])

    mine = ledger.loads_with_trusts(url, limit=50, within={"RWP"})
    assert [(load.id, trusts) for load, trusts in mine] == [(1, {"RWP"})]

    everyone = ledger.loads_with_trusts(url, limit=50)
    assert len(everyone) == 50 and everyone[0][0].id == 259

"""Uploading birth records through the real web app (the session instance, real HTTP).

The scope attack first: a trust's user uploads Parquet files whose ``trust_code`` column names
another trust in an unusual physical type. Every one is refused with 403, the reason is in the
page's NHS.UK error summary, and the store and ledger are exactly as they were.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from attackfiles import KINDS, attack_file
from matneo.db.models import AuditEvent, Load
from matneo.db.session import transaction
from matneo.records.store import RecordStore

from .conftest import OTHER_TRUST, WebInstance

ATTACKED_MONTH = "2021-03"  # a month of the other trust's records in the session dataset


def store_state(web: WebInstance) -> tuple:
    store = RecordStore(web.settings.records_dir)
    counts = store.connect().execute("SELECT trust_code, count(*) FROM births GROUP BY 1 ORDER BY 1").fetchall()
    with transaction(web.settings.database_url) as session:
        loads = session.scalar(select(func.count(Load.id)))
    return store.current_version(), counts, loads


def post_file(client: httpx.Client, path: Path, **form: str) -> httpx.Response:
    return client.post(
        "/data/upload",
        data={"csrf_token": client.headers["X-CSRF-Token"], **form},
        files={"file": (path.name, path.read_bytes(), "application/octet-stream")},
    )


@pytest.mark.parametrize("kind", KINDS)
def test_another_trusts_rows_are_refused_whatever_the_column_type(kind: str, web: WebInstance, tmp_path: Path) -> None:
    path = attack_file(tmp_path / f"births-{kind}.parquet", web.hierarchy, kind, month=ATTACKED_MONTH)
    before = store_state(web)
    with transaction(web.settings.database_url) as session:
        refusals = session.scalar(select(func.count()).where(AuditEvent.action == "records.load_refused"))
    response = post_file(web.client("trust"), path)
    assert response.status_code == 403, response.text
    assert 'class="nhsuk-error-summary"' in response.text
    assert "outside your organisation" in response.text or "not a trust in your organisation" in response.text
    assert "Nothing was loaded" in response.text
    if kind in ("binary", "dictionary", "large_string", "whitespace"):
        assert OTHER_TRUST in response.text
    assert "ATTACK-" not in response.text
    assert store_state(web) == before
    with transaction(web.settings.database_url) as session:
        after = session.scalar(select(func.count()).where(AuditEvent.action == "records.load_refused"))
    assert after == refusals + 1
    assert list((web.settings.home / "uploads").glob(f"*{path.name}")) == []

"""Reports are never lost: 1,000 concurrent API submissions against the real PostgreSQL backend.

800 distinct idempotency keys plus 200 repeats (sent at the same moment as the first submission
of their key), 50 requests in flight, through uvicorn. Every distinct key must persist exactly
once, with all its routes; every repeat must answer with the first submission's id.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from harm.reports import report, stillborn
from matneo.auth.users import add_user
from matneo.config import Settings
from matneo.db.models import HarmCase, HarmRoute
from matneo.db.session import transaction, upgrade
from matneo.reference.organisations import load_hierarchy

from .conftest import OWN_TRUST, PASSWORD, serve, sign_in

DISTINCT, REPEATS, IN_FLIGHT = 800, 200, 50
ROUTES_PER_REPORT = 5  # MNSI, MBRRACE_PERINATAL, PMRT, DUTY_OF_CANDOUR, LFPSE


@pytest.mark.postgres
@pytest.mark.slow
def test_concurrent_submissions_persist_exactly_once(postgres_url: str, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", database_url=postgres_url)
    settings.ensure_dirs()
    upgrade(postgres_url, load_hierarchy())
    add_user(postgres_url, "reporter@test.invalid", "trust_staff", OWN_TRUST, PASSWORD, actor="tests")
    base_url, stop = serve(settings)
    try:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            assert sign_in(client, "reporter@test.invalid", PASSWORD).status_code == 303
            csrf = client.get("/api/v1/me").json()["csrf_token"]
            cookies = dict(client.cookies)
        keys = [f"key-{i:04d}" for i in range(DISTINCT)]
        # The repeats arrive together with their first submission (6 copies of 40 keys side by side, so
        # they are in flight at the same moment and race on the unique key); the other keys shuffled.
        burst = [key for key in keys[: REPEATS // 5] for _ in range(6)]
        rest = keys[REPEATS // 5 :]
        random.Random(7).shuffle(rest)
        plan = burst + rest
        data = report(baby=stillborn("intrapartum"), notifiable_safety_incident=True)
        results = asyncio.run(_fire(base_url, cookies, csrf, plan, data))
    finally:
        stop()

    assert len(results) == DISTINCT + REPEATS
    statuses = Counter(status for _, status, _ in results)
    assert set(statuses) <= {200, 201}, statuses
    ids: dict[str, set[int]] = defaultdict(set)
    created = Counter()
    for key, status, case_id in results:
        ids[key].add(case_id)
        created[key] += status == 201
    assert all(len(found) == 1 for found in ids.values()), "a key answered with two different reports"
    assert set(created.values()) == {1}, "each key must be created exactly once"
    assert statuses[201] == DISTINCT and statuses[200] == REPEATS
    with transaction(postgres_url) as session:
        rows = session.execute(select(HarmCase.idempotency_key, HarmCase.id, HarmCase.status)).all()
        routes = session.scalar(select(func.count()).select_from(HarmRoute))
    assert len(rows) == DISTINCT
    assert {key: {case_id} for key, case_id, _ in rows} == dict(ids)
    assert {status for _, _, status in rows} == {"submitted"}
    assert routes == DISTINCT * ROUTES_PER_REPORT


async def _fire(
    base_url: str, cookies: dict[str, str], csrf: str, plan: list[str], data: dict
) -> list[tuple[str, int, int]]:
    limit = asyncio.Semaphore(IN_FLIGHT)
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
    async with httpx.AsyncClient(
        base_url=base_url, cookies=cookies, headers={"X-CSRF-Token": csrf}, timeout=120, limits=limits
    ) as client:

        async def one(key: str) -> tuple[str, int, int]:
            async with limit:
                response = await client.post("/api/v1/harm-reports", json={"report": data, "idempotency_key": key})
            assert response.status_code in (200, 201), response.text
            return key, response.status_code, response.json()["id"]

        return await asyncio.gather(*(one(key) for key in plan))

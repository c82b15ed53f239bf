"""`matneo reviews due` and the due list agree with an independent count of eligible deaths."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

from matneo.auth.access import Access
from matneo.config import Settings
from matneo.db.models import HarmCase
from matneo.db.session import transaction
from matneo.reviews.due import due, due_for_trusts
from matneo.reviews.models import Review

from .conftest import DEATHS, OTHER, OWN

TODAY = dt.date(2026, 12, 3)


def expected(trusts: set[str], without: set[str] = frozenset()) -> set[str]:
    """The independent count: the table's hand-marked eligible deaths at these trusts."""
    return {rid for rid, trust, _, eligible in DEATHS if eligible and trust in trusts and rid not in without}


def matneo(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, MATNEO_HOME=str(settings.home), MATNEO_DATABASE_URL=settings.database_url, COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "matneo.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def test_every_eligible_death_without_a_review_is_due(with_deaths: Settings) -> None:
    listed = due_for_trusts(with_deaths, [OWN, OTHER], TODAY)
    assert {d["record_id"] for d in listed} == expected({OWN, OTHER})
    term = next(d for d in listed if d["record_id"] == "SB-TERM")
    assert term == {
        "record_id": "SB-TERM",
        "trust_code": OWN,
        "outcome": "stillbirth",
        "outcome_label": "Stillbirth",
        "gestation": "39+2",
        "gestation_weeks": 39,
        "gestation_days": 2,
        "birth_date": "2026-10-02",
        "death_date": "2026-10-02",
        "days_since_death": 62,
    }
    nnd = next(d for d in listed if d["record_id"] == "NND-27D")
    assert (nnd["outcome"], nnd["death_date"]) == ("neonatal_death", "2019-07-12")


def test_a_review_or_a_linked_harm_report_takes_a_death_off_the_list(with_deaths: Settings) -> None:
    with transaction(with_deaths.database_url) as session:
        session.add(
            Review(
                trust_code=OWN,
                category="stillbirth",
                record_id="SB-REVIEWED",
                death_date=dt.date(2019, 6, 15),
                created_by="t",
            )
        )
        session.add(
            HarmCase(trust_code=OWN, status="submitted", report="{}", created_by="t", linked_record_id="LFL-22")
        )
        # A draft harm report does not count: it has not been sent anywhere.
        session.add(HarmCase(trust_code=OWN, status="draft", report="{}", created_by="t", linked_record_id="LFL-23"))
    listed = {d["record_id"] for d in due_for_trusts(with_deaths, [OWN], TODAY)}
    assert listed == expected({OWN}, without={"SB-REVIEWED", "LFL-22"})


def test_the_owning_trust_sees_its_deaths_and_others_only_counts(
    with_deaths: Settings, people: dict[str, Access]
) -> None:
    own = due(with_deaths, people["trust"], TODAY)
    assert {d["record_id"] for d in own["deaths"]} == expected({OWN})
    other = due(with_deaths, people["other"], TODAY)
    assert {d["record_id"] for d in other["deaths"]} == {"SB-OTHER"}
    national = due(with_deaths, people["national"], TODAY)
    assert national["deaths"] == []
    assert {r["trust_code"]: r["due"] for r in national["per_trust"]} == {OWN: len(expected({OWN})), OTHER: 1}
    lmns = due(with_deaths, people["lmns"], TODAY)
    assert lmns["deaths"] == [] and "SB-OTHER" not in json.dumps(lmns)


def test_the_command_lists_the_same_deaths(with_deaths: Settings) -> None:
    result = matneo(with_deaths, "reviews", "due", "--org", OWN, "--format", "json", "--today", TODAY.isoformat())
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {r["record_id"] for r in rows} == expected({OWN})
    assert set(rows[0]) == {
        "record_id",
        "trust_code",
        "outcome",
        "gestation",
        "birth_date",
        "death_date",
        "days_since_death",
    }
    everyone = json.loads(matneo(with_deaths, "reviews", "due", "--format", "json").stdout)
    assert {r["record_id"] for r in everyone} == expected({OWN, OTHER})
    table = matneo(with_deaths, "reviews", "due", "--org", OTHER)
    assert "SB-OTHER" in table.stdout and "1 death waiting for a review." in table.stdout
    bad = matneo(with_deaths, "reviews", "due", "--org", "NOPE")
    assert bad.returncode == 2 and "no organisation" in bad.stderr

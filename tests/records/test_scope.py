"""A load with a scope refuses any row of a trust outside it, judged on the values it would store.

The attack (security probe): a Parquet file whose ``trust_code`` column is not plain text —
binary, dictionary-encoded, large string, padded with spaces — got past a check on the raw
file and the loader then stored it as another trust's code, replacing that trust's month.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from attackfiles import BECOMES_OTHER, KINDS, OTHER, OWN, attack_file
from matneo.config import Settings
from matneo.db.models import AuditEvent, Load
from matneo.db.session import transaction
from matneo.records.load import OutsideScope, load_files
from matneo.records.store import RecordStore
from matneo.reference.organisations import OrgHierarchy
from rowbuilder import valid_row


def state(settings: Settings) -> tuple:
    store = RecordStore(settings.records_dir)
    rows = store.connect().execute("SELECT trust_code, record_id FROM births ORDER BY 1, 2").fetchall()
    with transaction(settings.database_url) as session:
        loads = session.scalars(select(Load.id)).all()
    return store.current_version(), rows, loads


@pytest.fixture
def base(settings: Settings, hierarchy: OrgHierarchy, write_csv, tmp_path: Path) -> Settings:
    """A store holding one month of the other trust, which the attack tries to replace."""
    site = hierarchy.sites_of(OTHER)[0].code
    rows = [valid_row([(OTHER, site)], n, record_id=f"THEIRS-{n}") for n in range(5)]
    load_files([write_csv(tmp_path / "theirs.csv", rows)], settings)
    return settings


@pytest.mark.parametrize("kind", KINDS)
def test_rows_of_another_trust_are_refused_whatever_the_column_type(
    kind: str, base: Settings, hierarchy: OrgHierarchy, tmp_path: Path
) -> None:
    before = state(base)
    path = attack_file(tmp_path / f"{kind}.parquet", hierarchy, kind)
    with pytest.raises(OutsideScope) as refused:
        load_files([path], base, hierarchy, scope={OWN}, actor="attacker@test.invalid")
    assert "Nothing was loaded" in str(refused.value)
    assert ("RJ1" in refused.value.trusts) == (kind in BECOMES_OTHER)
    assert "ATTACK" not in str(refused.value)  # never a cell's contents
    assert state(base) == before
    assert list(base.staging_dir.iterdir()) == []
    with transaction(base.database_url) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "records.load_refused")).one()
        assert event.actor == "attacker@test.invalid"
        assert "ATTACK" not in event.details and "M0000" not in event.details


@pytest.mark.parametrize("kind", sorted(BECOMES_OTHER))
def test_without_a_scope_the_same_file_would_replace_the_other_trusts_month(
    kind: str, base: Settings, hierarchy: OrgHierarchy, tmp_path: Path
) -> None:
    """The attack is real: unrestricted, the loader stores these cells as the other trust's code."""
    load_files([attack_file(tmp_path / f"{kind}.parquet", hierarchy, kind)], base, hierarchy)
    _, rows, _ = state(base)
    assert rows == [(OTHER, f"ATTACK-{n}") for n in range(3)]


def test_one_foreign_row_refuses_the_whole_batch(
    base: Settings, hierarchy: OrgHierarchy, make_row, write_csv, tmp_path: Path
) -> None:
    """Own rows in the same file, and an earlier good file of the batch, are not loaded either."""
    before = state(base)
    site = hierarchy.sites_of(OWN)[0].code
    good = write_csv(tmp_path / "own.csv", [valid_row([(OWN, site)], 900, record_id="MINE-1")])
    mixed = attack_file(tmp_path / "mixed.parquet", hierarchy, "binary", own_rows=2)
    with pytest.raises(OutsideScope):
        load_files([good, mixed], base, hierarchy, scope={OWN})
    assert state(base) == before


def test_rows_in_scope_load(base: Settings, hierarchy: OrgHierarchy, write_csv, tmp_path: Path) -> None:
    lmns = hierarchy.ancestor_at(OWN, "lmns").code
    site = hierarchy.sites_of(OWN)[0].code
    path = write_csv(tmp_path / "own.csv", [valid_row([(OWN, site)], 1, record_id="MINE-1")])
    scope = {lmns, *(t.code for t in hierarchy.trusts_under(lmns))}
    assert load_files([path], base, hierarchy, scope=scope).rows_loaded == 1

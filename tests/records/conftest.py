"""Builders for small birth-record files: one valid row, then change what a test is about."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from matneo.records.schema import FIELD_NAMES
from matneo.reference.organisations import OrgHierarchy, load_hierarchy


@pytest.fixture(scope="session")
def hierarchy() -> OrgHierarchy:
    return load_hierarchy()


@pytest.fixture(scope="session")
def trusts(hierarchy: OrgHierarchy) -> list[tuple[str, str]]:
    """(trust_code, one of its site codes) for a few trusts of the packaged reference."""
    return [(t.code, hierarchy.sites_of(t.code)[0].code) for t in hierarchy.trusts()[:3]]


@pytest.fixture
def make_row(trusts: list[tuple[str, str]]) -> Callable[..., dict[str, str]]:
    """A valid term singleton live birth as CSV text; keyword arguments override fields."""
    counter = iter(range(1, 1_000_000))

    def build(**changes: str) -> dict[str, str]:
        n = next(counter)
        trust, site = trusts[0]
        row = {
            "record_id": f"REC{n:06d}",
            "trust_code": trust,
            "site_code": site,
            "lmns_code": "",
            "region_code": "",
            "birth_datetime": "2019-06-15 10:30:00",
            "gestation_weeks": "39",
            "gestation_days": "2",
            "birth_weight_g": "3400",
            "plurality": "1",
            "birth_order": "1",
            "sex": "female",
            "outcome": "live_birth",
            "stillbirth_timing": "",
            "onset_of_labour": "spontaneous",
            "mode_of_delivery": "spontaneous_vertex",
            "neonatal_death_datetime": "",
            "brain_injury": "false",
            "hie_grade": "",
            "therapeutic_cooling": "false",
            "maternal_age": "31",
            "ethnic_category": "A",
            "imd_decile": "5",
            "smoking_at_delivery": "false",
            "parity": "1",
            "booking_gestation_weeks": "10",
            "continuity_of_carer": "false",
            "mother_id": f"M{n:06d}",
            "maternal_death_datetime": "",
            "maternal_death_cause_class": "",
            "mgso4_within_24h": "",
            "antenatal_steroids": "",
            "birth_site_level": "LNU",
            "nnu_admission": "false",
            "apgar_5min": "9",
            "pph_ml": "350",
            "perineal_tear_degree": "1",
        }
        unknown = set(changes) - set(row)
        assert not unknown, f"unknown fields {unknown}"
        row.update(changes)
        return row

    return build


def _write_csv(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    columns = columns or list(FIELD_NAMES)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def write_csv() -> Callable[..., Path]:
    """Write rows (dicts of text) to a UTF-8 CSV with the birth-record header (or ``columns``)."""
    return _write_csv

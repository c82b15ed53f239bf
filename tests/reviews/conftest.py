"""Fixtures for reviews: an app store with birth records holding a hand-built table of deaths, and people."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from casework import OTHER, OWN, trust_people
from matneo.auth.access import Access
from matneo.config import Settings
from matneo.records.load import load_files
from matneo.reference.organisations import OrgHierarchy
from rowbuilder import valid_row

NOT_LIVE = {"nnu_admission": "", "brain_injury": "", "therapeutic_cooling": "", "apgar_5min": ""}

#: The hand-built table: (record id, trust, changes, needs a review?). Counted by hand from the PMRT
#: FAQs' rule, independently of the code under test.
DEATHS: list[tuple[str, str, dict[str, str], bool]] = [
    ("ALIVE-1", OWN, {}, False),
    (
        "SB-24",
        OWN,
        {
            "outcome": "stillbirth",
            "stillbirth_timing": "antepartum",
            "gestation_weeks": "24",
            "gestation_days": "0",
            "birth_weight_g": "650",
            **NOT_LIVE,
        },
        True,
    ),
    (
        "SB-TERM",
        OWN,
        {
            "outcome": "stillbirth",
            "stillbirth_timing": "intrapartum",
            "birth_datetime": "2026-10-02 04:00:00",
            **NOT_LIVE,
        },
        True,
    ),
    (
        "LFL-22",
        OWN,
        {
            "outcome": "late_fetal_loss",
            "gestation_weeks": "22",
            "gestation_days": "0",
            "birth_weight_g": "480",
            **NOT_LIVE,
        },
        True,
    ),
    (
        "LFL-23",
        OWN,
        {
            "outcome": "late_fetal_loss",
            "gestation_weeks": "23",
            "gestation_days": "6",
            "birth_weight_g": "600",
            **NOT_LIVE,
        },
        True,
    ),
    (
        "NND-21",
        OWN,
        {
            "gestation_weeks": "21",
            "gestation_days": "6",
            "birth_weight_g": "450",
            "neonatal_death_datetime": "2019-06-15 12:00:00",
        },
        False,
    ),
    (
        "NND-22",
        OWN,
        {
            "gestation_weeks": "22",
            "gestation_days": "0",
            "birth_weight_g": "520",
            "neonatal_death_datetime": "2019-06-15 11:00:00",
            "nnu_admission": "true",
        },
        True,
    ),
    ("NND-27D", OWN, {"neonatal_death_datetime": "2019-07-12 09:00:00", "nnu_admission": "true"}, True),
    ("ALIVE-2", OWN, {"gestation_weeks": "30", "gestation_days": "1", "birth_weight_g": "1400"}, False),
    ("SB-REVIEWED", OWN, {"outcome": "stillbirth", "stillbirth_timing": "unknown", **NOT_LIVE}, True),
    ("SB-OTHER", OTHER, {"outcome": "stillbirth", "stillbirth_timing": "antepartum", **NOT_LIVE}, True),
]


@pytest.fixture
def with_deaths(
    app_store: Settings, hierarchy: OrgHierarchy, write_csv: Callable[..., Path], tmp_path: Path
) -> Settings:
    """The app store with the hand-built table loaded into the birth records."""
    rows = []
    for n, (record_id, trust, changes, _) in enumerate(DEATHS):
        site = hierarchy.sites_of(trust)[0].code
        rows.append(valid_row([(trust, site)], n, record_id=record_id, **changes))
    outcome = load_files([write_csv(tmp_path / "deaths.csv", rows)], app_store)
    assert outcome  # loaded
    return app_store


@pytest.fixture(scope="module")
def people(hierarchy: OrgHierarchy) -> dict[str, Access]:
    return trust_people(hierarchy)

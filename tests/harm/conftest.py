"""Fixtures shared by the harm portal tests: an app store on both backends, and users by role."""

from __future__ import annotations

import pytest

from matneo.auth.access import Access
from matneo.auth.signin import SignedInUser
from matneo.config import Settings
from matneo.db.session import upgrade
from matneo.reference.organisations import OrgHierarchy, load_hierarchy

OWN, OTHER = "R0A", "RJ1"


@pytest.fixture
def app_store(settings: Settings) -> Settings:
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    return settings


@pytest.fixture(scope="module")
def people(hierarchy: OrgHierarchy) -> dict[str, Access]:
    def make(i: int, email: str, role: str, org: str) -> Access:
        return Access(SignedInUser(i, email, role, org, "csrf"), hierarchy)

    return {
        "trust": make(1, "midwife@r0a.test", "trust_staff", OWN),
        "colleague": make(2, "obstetrician@r0a.test", "trust_staff", OWN),
        "other": make(3, "staff@rj1.test", "trust_staff", OTHER),
        "lmns": make(4, "lead@lmns.test", "lmns_lead", hierarchy.ancestor_at(OWN, "lmns").code),
        "national": make(5, "analyst@eng.test", "national_analyst", "ENG"),
        "trust_admin": make(6, "admin@r0a.test", "administrator", OWN),
    }

"""QI fixtures: an app store on both backends, and people in and out of a collaborative."""

from __future__ import annotations

import pytest

from matneo.auth.access import Access
from matneo.auth.signin import SignedInUser
from matneo.config import Settings
from matneo.db.session import upgrade
from matneo.reference.organisations import OrgHierarchy, load_hierarchy

OWN, MEMBER, OUTSIDER = "R0A", "RJ1", "RM3"  # RM3 shares R0A's LMNS but is not in the collaborative


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
        "member": make(2, "staff@rj1.test", "trust_staff", MEMBER),
        "outsider": make(3, "staff@rm3.test", "trust_staff", OUTSIDER),
        "lmns": make(4, "lead@lmns.test", "lmns_lead", hierarchy.ancestor_at(OWN, "lmns").code),
        "national": make(5, "analyst@eng.test", "national_analyst", "ENG"),
        "admin": make(6, "admin@eng.test", "administrator", "ENG"),
    }

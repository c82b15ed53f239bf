"""QI fixtures: people in and out of a collaborative (the app store is tests/conftest.py's ``app_store``)."""

from __future__ import annotations

import pytest

from casework import leads, make_people
from matneo.auth.access import Access
from matneo.reference.organisations import OrgHierarchy

OWN, MEMBER, OUTSIDER = "R0A", "RJ1", "RM3"  # RM3 shares R0A's LMNS but is not in the collaborative


@pytest.fixture(scope="module")
def people(hierarchy: OrgHierarchy) -> dict[str, Access]:
    return make_people(
        hierarchy,
        [
            ("trust", "midwife@r0a.test", "trust_staff", OWN),
            ("member", "staff@rj1.test", "trust_staff", MEMBER),
            ("outsider", "staff@rm3.test", "trust_staff", OUTSIDER),
            *leads(hierarchy, OWN),
            ("admin", "admin@eng.test", "administrator", "ENG"),
        ],
    )

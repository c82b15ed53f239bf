"""Fixtures shared by the harm portal tests: users by role (the app store is tests/conftest.py's ``app_store``)."""

from __future__ import annotations

import pytest

from casework import OTHER, OWN, trust_people
from matneo.auth.access import Access
from matneo.reference.organisations import OrgHierarchy

__all__ = ["OTHER", "OWN"]


@pytest.fixture(scope="module")
def people(hierarchy: OrgHierarchy) -> dict[str, Access]:
    return trust_people(hierarchy)

"""The app store on both backends: migrations, organisations from reference data, users."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from matneo.config import Settings
from matneo.db.models import Organisation, User
from matneo.db.organisations import sync_organisations
from matneo.db.session import get_engine, migrate, transaction, upgrade
from matneo.reference.organisations import load_hierarchy


def test_migrations_create_every_table_and_are_idempotent(settings: Settings) -> None:
    settings.ensure_dirs()
    migrate(settings.database_url)
    migrate(settings.database_url)
    tables = set(inspect(get_engine(settings.database_url)).get_table_names())
    assert {
        "organisations",
        "users",
        "loads",
        "load_trust_months",
        "signals",
        "signal_events",
        "alembic_version",
    } <= tables


def test_organisations_follow_the_reference(settings: Settings) -> None:
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    hierarchy = load_hierarchy()
    with transaction(settings.database_url) as session:
        levels = {o.code: o.level for o in session.scalars(select(Organisation))}
    assert levels == {o.code: o.level for o in hierarchy.organisations.values()}
    assert sync_organisations(settings.database_url, hierarchy) == 0  # nothing to change the second time

    with transaction(settings.database_url) as session:
        session.add(Organisation(code="RXX", name="Merged Away NHS Trust", level="trust", parent_code=None))
    assert sync_organisations(settings.database_url, hierarchy) == 1
    with transaction(settings.database_url) as session:
        assert session.get(Organisation, "RXX").active is False


def test_a_user_belongs_to_a_known_organisation(settings: Settings) -> None:
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    trust = load_hierarchy().trusts()[0].code
    with transaction(settings.database_url) as session:
        session.add(User(email="champion@example.nhs.uk", role="trust_staff", org_code=trust))
    with transaction(settings.database_url) as session:
        assert session.scalars(select(User.org_code)).one() == trust
    with pytest.raises(IntegrityError), transaction(settings.database_url) as session:
        session.add(User(email="nobody@example.nhs.uk", role="trust_staff", org_code="NOPE"))
    with pytest.raises(IntegrityError), transaction(settings.database_url) as session:
        session.add(User(email="champion@example.nhs.uk", role="trust_staff", org_code=trust))

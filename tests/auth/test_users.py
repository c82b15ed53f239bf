"""Users and the audit log on both backends; Argon2 hashing."""

from __future__ import annotations

import pytest

from matneo.auth.passwords import WeakPassword, hash_password, verify_password
from matneo.auth.users import add_user, audit_trail, list_users
from matneo.config import Settings
from matneo.db.session import prepare
from matneo.reference.organisations import load_hierarchy

PASSWORD = "correct horse battery staple"


def test_hashes_verify_and_are_salted() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second and first.startswith("$argon2id$")
    assert verify_password(first, PASSWORD)
    assert not verify_password(first, PASSWORD + "!")
    assert not verify_password(None, PASSWORD)
    assert not verify_password("not a hash", PASSWORD)
    with pytest.raises(WeakPassword, match="at least 12"):
        hash_password("short")


def test_add_and_list_users_with_an_audit_event(settings: Settings) -> None:
    settings.ensure_dirs()
    prepare(settings.database_url)
    hierarchy = load_hierarchy()
    trust = hierarchy.trusts()[0].code
    lmns = hierarchy.ancestor_at(trust, "lmns").code
    user = add_user(settings.database_url, "Champion@Example.NHS.uk", "trust_staff", trust, PASSWORD, "admin@example")
    assert user.email == "champion@example.nhs.uk"
    add_user(settings.database_url, "lead@example.nhs.uk", "lmns_lead", lmns, PASSWORD, "admin@example")
    assert sorted(u.email for u in list_users(settings.database_url)) == [
        "champion@example.nhs.uk",
        "lead@example.nhs.uk",
    ]
    events = audit_trail(settings.database_url)
    assert [e["action"] for e in events] == ["user.add", "user.add"]
    assert events[-1]["actor"] == "admin@example" and events[-1]["details"] == {
        "org_code": trust,
        "role": "trust_staff",
    }
    for email, role, org, message in [
        ("champion@example.nhs.uk", "trust_staff", trust, "already exists"),
        ("x@example.nhs.uk", "trust_staff", lmns, "must belong to an organisation at trust level"),
        ("x@example.nhs.uk", "wizard", trust, "role must be one of"),
        ("x@example.nhs.uk", "trust_staff", "NOPE", "no active organisation"),
        ("not-an-email", "trust_staff", trust, "is not an e-mail address"),
    ]:
        with pytest.raises(ValueError, match=message):
            add_user(settings.database_url, email, role, org, PASSWORD, "admin@example")
    assert len(list_users(settings.database_url)) == 2


def test_the_audit_trail_pages_back_and_filters_by_actor_in_the_query(settings: Settings) -> None:
    """An organisation's older events stay reachable however many events other organisations add."""
    settings.ensure_dirs()
    prepare(settings.database_url)
    hierarchy = load_hierarchy()
    trust = hierarchy.trusts()[0].code
    url = settings.database_url
    first = add_user(url, "first@example.nhs.uk", "trust_staff", trust, PASSWORD, "ours@example")
    others = [  # five events by someone else, all newer than ours
        add_user(url, f"other{n}@example.nhs.uk", "trust_staff", trust, PASSWORD, "theirs@example").id for n in range(5)
    ]
    newest_two = audit_trail(url, limit=2)
    assert [int(e["target_id"]) for e in newest_two] == [others[4], others[3]]
    page_two = audit_trail(url, limit=2, before=newest_two[-1]["id"])
    assert [int(e["target_id"]) for e in page_two] == [others[2], others[1]]
    (ours,) = audit_trail(url, limit=2, actors={"ours@example"})
    assert int(ours["target_id"]) == first.id

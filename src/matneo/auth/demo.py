"""Demo users for `matneo demo`: one per role, around the trust the demo data plants a problem in.

Passwords are random per instance, kept in ``$MATNEO_HOME/demo-users.json`` (readable by the
owner only) and printed by `matneo demo`, so a demo never ships with a guessable password.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from matneo.auth.users import add_user, list_users
from matneo.reference.organisations import OrgHierarchy

DOMAIN = "demo.matneo.invalid"


def demo_accounts(hierarchy: OrgHierarchy, trust_code: str) -> list[tuple[str, str, str]]:
    """(e-mail, role, organisation code) for each demo user."""
    lmns = hierarchy.ancestor_at(trust_code, "lmns").code
    region = hierarchy.ancestor_at(trust_code, "region").code
    return [
        (f"analyst@{DOMAIN}", "national_analyst", "ENG"),
        (f"region@{DOMAIN}", "regional_lead", region),
        (f"lmns@{DOMAIN}", "lmns_lead", lmns),
        (f"trust@{DOMAIN}", "trust_staff", trust_code),
        (f"admin@{DOMAIN}", "administrator", "ENG"),
    ]


def ensure_demo_users(url: str, home: Path, hierarchy: OrgHierarchy, trust_code: str) -> list[dict[str, str]]:
    """Create any missing demo users; return every demo account with its password."""
    path = home / "demo-users.json"
    saved: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    existing = {u.email for u in list_users(url)}
    accounts = []
    for email, role, org in demo_accounts(hierarchy, trust_code):
        if email not in existing:
            saved[email] = secrets.token_urlsafe(12)
            add_user(url, email, role, org, saved[email], actor="matneo demo")
        accounts.append({"email": email, "role": role, "org_code": org, "password": saved.get(email, "(set earlier)")})
    path.write_text(json.dumps(saved, indent=2))
    os.chmod(path, 0o600)
    return accounts

"""Adding users on the admin page, over real HTTP (issue 11 finding 10): common passwords are
refused with a reason, and an address used in another organisation is not given away."""

from __future__ import annotations

import html
import re

import httpx

from matneo.auth.users import add_user, list_users
from matneo.config import Settings
from matneo.db.session import upgrade
from matneo.reference.organisations import load_hierarchy
from matneo.web.app import create_app

from .auth_servers import sign_in, start_thread
from .conftest import PASSWORD


def test_the_admin_page_refuses_common_passwords_and_keeps_other_organisations_private(
    sqlite_settings: Settings,
) -> None:
    settings = sqlite_settings
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    add_user(settings.database_url, "trust-admin@test.invalid", "administrator", "R0A", PASSWORD, actor="tests")
    add_user(settings.database_url, "elsewhere@test.invalid", "trust_staff", "RJ1", PASSWORD, actor="tests")
    base_url, stop = start_thread(create_app(settings))
    try:
        admin = httpx.Client(base_url=base_url, timeout=60)
        assert sign_in(admin, "trust-admin@test.invalid").status_code == 303
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', admin.get("/admin/users").text).group(1)  # type: ignore[union-attr]

        def add(email: str, password: str) -> httpx.Response:
            data = {"email": email, "role": "trust_staff", "org_code": "R0A", "password": password, "csrf_token": csrf}
            return admin.post("/admin/users", data=data)

        common = add("new.midwife@test.invalid", "Password123456")
        assert common.status_code == 400 and "common password" in html.unescape(common.text)
        taken = add("elsewhere@test.invalid", "tulip kettle harbour")
        words = html.unescape(taken.text)
        assert taken.status_code == 400 and "cannot add elsewhere@test.invalid here" in words
        assert "Guy" not in words and "already exists" not in words
        assert add("new.midwife@test.invalid", "tulip kettle harbour").status_code == 303
        assert "new.midwife@test.invalid" in {u.email for u in list_users(settings.database_url)}
    finally:
        stop()

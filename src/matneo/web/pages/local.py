"""Local requirements pages: the list a trust or an LMNS keeps of its own assurance requirements,
the form that adds one, and each one's page to change, retire or reinstate it.

The trust's (or LMNS's) own staff change the list; everyone else in scope reads it (an LMNS's
list is what it asks of its trusts; a trust's list is also what its LMNS and region count in the
matrix). A trust's page also shows the requirements its LMNS added, which apply to it.
The rules and the writes are :mod:`matneo.assurance.local`; scope is checked there again on the
organisation that will be stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from matneo.assurance import local
from matneo.assurance.frameworks import Framework, Item, frameworks
from matneo.assurance.tracker import history
from matneo.auth.access import Access, Forbidden
from matneo.dates import day_text, moment_text
from matneo.web.services import BadRequest, NotFound, Services

__all__ = ["LocalItemPage", "LocalPage", "add", "build", "build_item", "change", "reinstate", "retire"]


def _keeper(services: Services, access: Access, code: str):  # type: ignore[no-untyped-def]
    org = services.organisation(code)
    if not access.in_scope(org.code):
        raise NotFound(f"There is no organisation with code {code!r} in your area.")
    if org.level not in local.LEVELS:
        raise BadRequest("Local requirements are kept by a trust or an LMNS.")
    return org


@dataclass
class LocalPage:
    code: str
    name: str
    level: str
    can_edit: bool
    items: list[Item]  # the organisation's own, retired ones too
    inherited: list[Item] = field(default_factory=list)  # for a trust: its LMNS's, which apply to it
    inherited_from: str | None = None

    @property
    def title(self) -> str:
        return f"Local requirements: {self.name}"

    @property
    def frameworks(self) -> tuple[Framework, ...]:
        return frameworks()

    @property
    def framework_names(self) -> dict[str, str]:
        return {fw.id: fw.short for fw in frameworks()}

    @property
    def applies_words(self) -> str:
        return "every trust in the LMNS" if self.level == "lmns" else f"{self.name} only"

    def to_dict(self) -> dict[str, Any]:
        def one(i: Item) -> dict[str, Any]:
            return {"key": i.key, "title": i.title, "framework": i.under, "due": i.due.isoformat() if i.due else None,
                    "retired": i.retired, "owner": i.owner}  # fmt: skip

        return {"code": self.code, "items": [one(i) for i in self.items], "inherited": [one(i) for i in self.inherited]}


def build(services: Services, access: Access, code: str) -> LocalPage:
    org = _keeper(services, access, code)
    url = services.settings.database_url
    own = access.user.org_code == org.code
    page = LocalPage(org.code, org.name, org.level, own, local.kept_by(url, org.code))
    if org.level == "trust":
        lmns = services.hierarchy.ancestor_at(org.code, "lmns")
        page.inherited = [i for i in local.kept_by(url, lmns.code) if not i.retired]
        page.inherited_from = lmns.name
    return page


@dataclass
class LocalItemPage:
    code: str
    name: str
    level: str
    can_edit: bool
    item: Item
    history: list[dict[str, str]]

    @property
    def title(self) -> str:
        return f"{self.item.section}: {self.name}"

    @property
    def frameworks(self) -> tuple[Framework, ...]:
        return frameworks()

    @property
    def framework_names(self) -> dict[str, str]:
        return {fw.id: fw.short for fw in frameworks()}

    def to_dict(self) -> dict[str, Any]:
        i = self.item
        return {"code": self.code, "key": i.key, "title": i.title, "description": i.description,
                "framework": i.under, "source": i.source, "due": i.due.isoformat() if i.due else None,
                "retired": i.retired, "history": self.history}  # fmt: skip


def _words(name: str, raw: str | None) -> str:
    if raw is None:
        return "–"
    if name == "default_due":
        import datetime as dt

        return day_text(dt.date.fromisoformat(raw))
    if name == "listed_under":
        return {fw.id: fw.short for fw in frameworks()}.get(raw, raw)
    return raw


def build_item(services: Services, access: Access, code: str, local_id: int) -> LocalItemPage:
    org = _keeper(services, access, code)
    url = services.settings.database_url
    found = next((i for i in local.kept_by(url, org.code) if i.id == str(local_id)), None)
    if found is None:
        raise NotFound(f"There is no local requirement {local_id} of {org.name}.")
    trail = [
        {"at": moment_text(h["at"]), "actor": h["actor"], "field": h["field"].replace("_", " "),
         "before": _words(h["field"], h["before"]), "after": _words(h["field"], h["after"])}
        for h in history(url, org.code, found.key)
        if h["field"] in local.DEFINITION_FIELDS  # a trust's status and comments are on its assurance page
    ]  # fmt: skip
    return LocalItemPage(org.code, org.name, org.level, access.user.org_code == org.code, found, trail)


def _write(services: Services, access: Access, code: str):  # type: ignore[no-untyped-def]
    org = _keeper(services, access, code)
    if access.user.org_code != org.code:
        raise Forbidden(f"Only {org.name}'s own staff can change its local requirements.")
    return org


def _found(call: Any) -> Item:
    try:
        return call()  # type: ignore[no-any-return]
    except LookupError as error:
        raise NotFound(str(error)) from None


def add(services: Services, access: Access, code: str, form: dict[str, str]) -> Item:
    """Add one requirement; FieldProblem (shown in the page), 403 for anyone but the organisation's staff."""
    org = _write(services, access, code)
    return local.add(services.settings.database_url, org.code, form, actor=access.user.email,
                     actor_org=access.user.org_code)  # fmt: skip


def change(services: Services, access: Access, code: str, local_id: int, form: dict[str, str]) -> Item:
    org = _write(services, access, code)
    url = services.settings.database_url
    return _found(lambda: local.change(url, org.code, local_id, form, actor=access.user.email,
                                       actor_org=access.user.org_code))  # fmt: skip


def retire(services: Services, access: Access, code: str, local_id: int, reason: str) -> Item:
    org = _write(services, access, code)
    url = services.settings.database_url
    return _found(lambda: local.retire(url, org.code, local_id, reason, actor=access.user.email,
                                       actor_org=access.user.org_code))  # fmt: skip


def reinstate(services: Services, access: Access, code: str, local_id: int) -> Item:
    org = _write(services, access, code)
    url = services.settings.database_url
    return _found(lambda: local.reinstate(url, org.code, local_id, actor=access.user.email,
                                          actor_org=access.user.org_code))  # fmt: skip

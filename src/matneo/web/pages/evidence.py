"""Evidence pages: a trust's evidence library, one item with the requirements it supports, and
the upload that adds one (the store and its rules are :mod:`matneo.assurance.evidence`).

Only the trust's own staff see titles and files; its LMNS and region (in scope to read its
assurance) get counts only, and everyone else a 404 as for any organisation outside their area.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from matneo.assurance import evidence
from matneo.assurance.catalogue import LOCAL_FRAMEWORK, Catalogue, catalogue
from matneo.assurance.evidence import KINDS, MAX_BYTES, TYPES, EvidenceCounts, EvidenceProblem, EvidenceView, StoredFile
from matneo.assurance.frameworks import Framework, Item, frameworks
from matneo.assurance.tracker import requirement_of
from matneo.auth.access import Access, Forbidden
from matneo.web.services import BadRequest, NotFound, Services

__all__ = [
    "EvidenceItemPage",
    "EvidenceLibraryPage",
    "EvidenceRemovePage",
    "add",
    "build_item",
    "build_library",
    "build_remove",
    "change_mapping",
    "check_declared_size",
    "download",
    "receive",
    "remove",
]

#: Stands for the file being received while the form's other fields are checked.
PENDING_FILE = StoredFile("", 0, "pdf", "")
#: The multipart envelope and the form's other fields, on top of the file itself.
FORM_OVERHEAD_BYTES = 64 * 1024


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _trust(services: Services, access: Access, code: str):  # type: ignore[no-untyped-def]
    org = services.organisation(code)
    if not access.in_scope(org.code):
        raise NotFound(f"There is no organisation with code {code!r} in your area.")
    if org.level != "trust":
        raise BadRequest("Evidence is held by trusts: open one of the area's trusts.")
    return org


def _own(access: Access, code: str) -> bool:
    return access.user.org_code == code


def _label(requirement: Item) -> str:
    """ "MIS year 2 Safety action 8", or a local requirement's own name ("Local requirement 3")."""
    if requirement.local:
        return requirement.section
    short = next(fw.short for fw in (*frameworks(), LOCAL_FRAMEWORK) if fw.id == requirement.framework)
    return f"{short} {requirement.section}"


@dataclass
class EvidenceLibraryPage:
    code: str
    name: str
    own: bool
    items: list[EvidenceView] = field(default_factory=list)  # the trust's own staff only
    counts: EvidenceCounts | None = None  # everyone else in scope
    key: str | None = None  # the requirement the add form maps to first (from its page)
    known: Catalogue | None = None  # the requirements the trust works to, local ones too
    kinds = KINDS
    max_mb = MAX_BYTES // (1024 * 1024)

    @property
    def title(self) -> str:
        return f"Evidence library: {self.name}"

    @property
    def allowed(self) -> str:
        return ", ".join(t.label for t in TYPES.values())

    @property
    def frameworks(self) -> list[Framework]:
        assert self.known is not None
        return [replace(fw, items=tuple(items)) for fw, items in self.known.for_trust(self.code)]

    def label(self, requirement: Item) -> str:
        return _label(requirement)

    def to_dict(self) -> dict[str, Any]:
        if not self.own:
            assert self.counts is not None
            held = self.counts
            return {"code": self.code, "items": held.items, "requirements_with_evidence": held.requirements}
        return {
            "code": self.code,
            "items": [
                {"id": v.id, "kind": v.kind, "title": v.title, "dated": v.dated.isoformat() if v.dated else None,
                 "file_name": v.file_name, "link": v.link, "requirements": [i.key for i in v.requirements]}
                for v in self.items
            ],
        }  # fmt: skip


def build_library(services: Services, access: Access, code: str, key: str | None = None) -> EvidenceLibraryPage:
    org = _trust(services, access, code)
    url = services.settings.database_url
    if key is not None:
        try:
            key = requirement_of(url, org.code, key).key
        except KeyError:
            key = None
    if not _own(access, org.code):
        return EvidenceLibraryPage(org.code, org.name, False, counts=evidence.counts(url, [org.code])[org.code])
    return EvidenceLibraryPage(org.code, org.name, True, evidence.library(url, org.code, actor_org=org.code), key=key,
                               known=catalogue(url, [org.code]))  # fmt: skip


@dataclass
class EvidenceItemPage:
    code: str
    name: str
    view: EvidenceView
    suggestions: list[Item]
    known: Catalogue

    @property
    def title(self) -> str:
        return f"Evidence: {self.view.title}"

    def label(self, requirement: Item) -> str:
        return _label(requirement)

    def to_dict(self) -> dict[str, Any]:
        v = self.view
        return {
            "id": v.id, "trust_code": v.trust_code, "kind": v.kind, "title": v.title, "description": v.description,
            "dated": v.dated.isoformat() if v.dated else None, "link": v.link, "file_name": v.file_name,
            "size_bytes": v.size_bytes, "added_by": v.added_by, "added_at": v.added_at.isoformat(),
            "requirements": [i.key for i in v.requirements], "suggested": [i.key for i in self.suggestions],
        }  # fmt: skip

    @property
    def unmapped(self) -> list[tuple[Framework, list[Item]]]:
        mapped = {i.key for i in self.view.requirements}
        return [(fw, [i for i in items if i.key not in mapped]) for fw, items in self.known.for_trust(self.code)]


def _one(services: Services, access: Access, code: str, evidence_id: int) -> tuple[Any, EvidenceView]:
    org = _trust(services, access, code)
    if not _own(access, org.code):
        raise Forbidden(f"Only {org.name}'s own staff can open its evidence; its assurance page shows the counts.")
    try:
        view = evidence.one(services.settings.database_url, org.code, evidence_id, actor_org=access.user.org_code)
    except LookupError as error:
        raise NotFound(str(error)) from None
    return org, view


def build_item(services: Services, access: Access, code: str, evidence_id: int) -> EvidenceItemPage:
    org, view = _one(services, access, code, evidence_id)
    return EvidenceItemPage(org.code, org.name, view, evidence.suggestions(view),
                            catalogue(services.settings.database_url, [org.code]))  # fmt: skip


def check_declared_size(content_length: str | None) -> None:
    """Refuse an upload whose request says it is too large (or will not say), before a byte of it is read."""
    if content_length is None or not content_length.isdigit():
        raise EvidenceProblem("Your browser did not say how large the file is. Try again.", 411)
    if (content_length or "").isdigit() and int(content_length or 0) > MAX_BYTES + FORM_OVERHEAD_BYTES:
        raise EvidenceProblem(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.", 413)


async def receive(services: Services, access: Access, code: str, file: UploadFile, form: dict[str, str]) -> StoredFile:
    """Copy the upload into the evidence store's ``incoming/`` folder a chunk at a time (type and size
    checked as it comes); :func:`add` puts it in place with its item.

    The form's other fields are checked first, so a form that cannot be saved leaves no file behind."""
    org = _trust(services, access, code)
    if not _own(access, org.code):
        raise Forbidden(f"Only {org.name}'s own staff can add to its evidence.")
    evidence.clean(form, PENDING_FILE, _today())
    receiver = evidence.Receiver(evidence.store_dir(services.settings.home), file.filename or "")
    try:
        while chunk := await file.read(evidence.CHUNK_BYTES):
            await run_in_threadpool(receiver.feed, chunk)
    except BaseException:
        receiver.discard()
        raise
    return await run_in_threadpool(receiver.finish)


def add(services: Services, access: Access, code: str, form: dict[str, str], stored: StoredFile | None) -> int:
    """Attach the item (mapped to the form's requirement, if one was chosen); its id.

    A received file waits in the store's ``incoming/`` folder until :func:`evidence.add` puts it in
    place; refused here first, its bytes are dropped at once, not left there."""
    try:
        org = _trust(services, access, code)
        if not _own(access, org.code):
            raise Forbidden(f"Only {org.name}'s own staff can add to its evidence.")
        key = form.get("requirement") or ""
        if key:
            try:
                if requirement_of(services.settings.database_url, org.code, key).retired:
                    raise KeyError(key)
            except KeyError:
                raise BadRequest(f"There is no requirement {key!r}.") from None
    except BaseException:
        if stored is not None and stored.received is not None:
            stored.received.unlink(missing_ok=True)
        raise
    return evidence.add(services.settings.database_url, org.code, form, stored, maps_to=[key] if key else [],
                        actor=access.user.email, actor_org=access.user.org_code, today=_today())  # fmt: skip


def change_mapping(services: Services, access: Access, code: str, evidence_id: int, key: str, action: str) -> None:
    """Map (``action`` "map") or unmap the item to requirement ``key``; audited."""
    org, view = _one(services, access, code, evidence_id)
    try:
        requirement = requirement_of(services.settings.database_url, org.code, key)
    except KeyError:
        raise BadRequest("Choose a requirement from the list.") from None
    if requirement.retired and action == "map":
        raise BadRequest("That requirement is retired: nothing new can be mapped to it.")
    change = evidence.map_item if action == "map" else evidence.unmap_item
    change(services.settings.database_url, org.code, view.id, key, actor=access.user.email,
           actor_org=access.user.org_code)  # fmt: skip


def download(services: Services, access: Access, code: str, evidence_id: int) -> tuple[Any, str, str]:
    """(path, file name, content type) of the item's stored file; 404 if it has none or it is missing."""
    org, view = _one(services, access, code, evidence_id)
    try:
        path, name, content_type = evidence.download(
            services.settings.database_url, services.settings.home, org.code, view.id,
            actor=access.user.email, actor_org=access.user.org_code,
        )  # fmt: skip
    except LookupError as error:
        raise NotFound(str(error)) from None
    if not path.is_file():
        raise NotFound("The file of this evidence item is missing from the store; ask your administrator.")
    return path, name, content_type


@dataclass
class EvidenceRemovePage:
    """The confirmation asked for before a mistaken item is removed: what goes, and why."""

    code: str
    name: str
    view: EvidenceView

    @property
    def title(self) -> str:
        return f"Remove evidence: {self.view.title}"

    def label(self, requirement: Item) -> str:
        return _label(requirement)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "id": self.view.id, "title": self.view.title,
                "requirements": [i.key for i in self.view.requirements]}  # fmt: skip


def build_remove(services: Services, access: Access, code: str, evidence_id: int) -> EvidenceRemovePage:
    org, view = _one(services, access, code, evidence_id)
    return EvidenceRemovePage(org.code, org.name, view)


def remove(services: Services, access: Access, code: str, evidence_id: int, reason: str) -> bool:
    """Remove the item and its mappings (audited with the reason); whether its stored file went too."""
    org, view = _one(services, access, code, evidence_id)
    return evidence.remove(services.settings.database_url, services.settings.home, org.code, view.id, reason,
                           actor=access.user.email, actor_org=access.user.org_code)  # fmt: skip
